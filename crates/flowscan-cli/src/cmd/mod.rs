//! One module per subcommand, each with `run(args) -> Result<Exit>`, and the
//! steps they share.

pub mod anomalies;
pub mod athena;
pub mod diagnose;
pub mod docs;
pub mod explain;
pub mod export;
pub mod filter;
pub mod rejects;
pub mod rules;
pub mod subnets;
pub mod top;
pub mod vpc;

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use flowscan::aggregate::Aggregate;
use flowscan::ScanReport;

use crate::config::Setup;
use crate::{report, Exit};

/// Scans the inputs into aggregates made by `make` (with the progress bar, if
/// any), and prints the warnings.
pub fn scan<A, F>(setup: &Setup, make: F) -> Result<(A, ScanReport)>
where
    A: Aggregate,
    F: Fn() -> A + Sync,
{
    return_large_allocations();
    let result = setup.scanner.aggregate(&setup.found, make);
    setup.done();
    let (agg, scan) = result?;
    report::warnings(&scan);
    if scan.read_nothing() {
        report::nothing_read(&scan);
    }
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
    if table && scan.read_nothing() {
        // An all-zero table would read as "nothing found"; the reason is on
        // stderr. Machine formats still get their (empty) document.
        return Ok(Exit::NothingRead);
    }
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    write(&mut out)?;
    out.flush()?;
    if !table && !quiet {
        report::brief(scan);
    }
    Ok(report::exit_code(scan))
}

pub use flowscan::render::plural;

/// `--max-memory` as the bytes of a budget (saturating on 32-bit targets).
pub fn budget_bytes(max_memory: u64) -> usize {
    usize::try_from(max_memory).unwrap_or(usize::MAX)
}

/// Makes the allocator give large blocks back to the system when they are
/// freed. glibc raises its threshold for mapping an allocation to the size of
/// the last one freed (up to 32 MiB), so the tables that aggregates grow,
/// drop and merge end up in per-thread heaps that keep their high-water mark:
/// measured, twice the memory budget. A fixed 1 MiB threshold keeps resident
/// memory near what the tables hold (docs/robustness.md, "Bounded memory").
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before the scan
    // starts its threads.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
