//! `flowscan rejects`: REJECT hotspots.

use std::io::{self, BufWriter, Write};

use anyhow::Result;
use flowscan::render;
use flowscan::{Rejects, RejectsConfig, Scanner};

use crate::args::{OutputFormat, RejectsArgs};
use crate::{config, progress, report, Exit};

/// Runs the command.
pub fn run(args: RejectsArgs) -> Result<Exit> {
    let inputs = config::inputs(&args.input)?;
    let opts = config::scan_options(&args.input, &args.filter)?;
    let pool = config::pool(args.input.threads)?;
    let found = config::discover(&inputs, &args.filter, &opts.filter);
    // Each worker thread has its own tables: the budget is shared among them.
    let rcfg = RejectsConfig {
        prefix4: args.prefix4,
        prefix6: args.prefix6,
        memory: Some((args.max_memory / pool.current_num_threads().max(1) as u64) as usize),
    };
    let bar = progress::Bar::new(
        report::total_size(&found),
        found.sources.len() as u64,
        args.input.quiet,
    );
    let mut scanner = Scanner::new(opts);
    if let Some(b) = &bar {
        scanner = scanner.with_progress(b);
    }
    let result = pool.install(|| scanner.run(&found, || Rejects::new(rcfg)));
    if let Some(b) = &bar {
        b.finish();
    }
    let (mut agg, scan) = result?;
    let rep = agg.report(args.top);

    report::warnings(&scan);
    if let Some(a) = &rep.approximate {
        say!(
            "flowscan: {} (--max-memory)",
            flowscan::render::approximation_note(a)
        );
    }
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    match args.format {
        OutputFormat::Table => render::rejects_table(&mut out, &rep, &scan)?,
        OutputFormat::Json => render::rejects_json(&mut out, &rep, &scan)?,
        OutputFormat::Csv => render::rejects_csv(&mut out, &rep)?,
    }
    out.flush()?;
    if args.format != OutputFormat::Table && !args.input.quiet {
        report::brief(&scan);
    }
    Ok(report::exit_code(&scan))
}
