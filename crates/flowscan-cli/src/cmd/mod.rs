//! One module per subcommand, each with `run(args) -> Result<Exit>`, and the
//! steps they share.

pub mod anomalies;
pub mod athena;
pub mod diagnose;
pub mod export;
pub mod filter;
pub mod rejects;
pub mod top;

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use flowscan::aggregate::Aggregate;
use flowscan::{Discovery, ScanOptions, ScanReport, Scanner};

use crate::{progress, report, Exit};

/// Scans `found` on `pool` into aggregates made by `make`, with a progress bar
/// on a terminal (unless `quiet`), and prints the warnings.
pub fn scan<A, F>(
    pool: &rayon::ThreadPool,
    found: &Discovery,
    opts: ScanOptions,
    quiet: bool,
    make: F,
) -> Result<(A, ScanReport)>
where
    A: Aggregate,
    F: Fn() -> A + Sync + Send,
{
    let bar = progress::Bar::new(report::total_size(found), found.sources.len() as u64, quiet);
    let mut scanner = Scanner::new(opts);
    if let Some(b) = &bar {
        scanner = scanner.with_progress(b);
    }
    let result = pool.install(|| scanner.run(found, make));
    if let Some(b) = &bar {
        b.finish();
    }
    let (agg, scan) = result?;
    report::warnings(&scan);
    Ok((agg, scan))
}

/// Writes a command's result to standard output (buffered); for machine
/// formats, a one-line summary goes to standard error unless `quiet`.
pub fn emit(
    table: bool,
    quiet: bool,
    scan: &ScanReport,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<Exit> {
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    write(&mut out)?;
    out.flush()?;
    if !table && !quiet {
        report::brief(scan);
    }
    Ok(report::exit_code(scan))
}
