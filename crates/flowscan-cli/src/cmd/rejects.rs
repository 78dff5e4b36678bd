//! `flowscan rejects`: REJECT hotspots.

use anyhow::Result;
use flowscan::render;
use flowscan::{Rejects, RejectsConfig};

use crate::args::{OutputFormat, RejectsArgs};
use crate::{config, Exit};

/// Runs the command.
pub fn run(args: RejectsArgs) -> Result<Exit> {
    let setup = config::setup(&args.input, &args.filter)?;
    // Each worker thread has its own tables: the budget is shared among them.
    let rcfg = RejectsConfig {
        prefix4: args.prefix4,
        prefix6: args.prefix6,
        memory: Some((args.max_memory / setup.scanner.threads().max(1) as u64) as usize),
    };
    let (mut agg, scan) = super::scan(&setup, || Rejects::new(rcfg))?;
    let rep = agg.report(args.top);

    if let Some(a) = &rep.approximate {
        say!(
            "flowscan: {} (--max-memory)",
            flowscan::render::approximation_note(a)
        );
    }
    super::emit(
        args.format == OutputFormat::Table,
        args.input.quiet,
        &scan,
        |out| match args.format {
            OutputFormat::Table => render::rejects_table(out, &rep, &scan),
            OutputFormat::Json => render::rejects_json(out, &rep, &scan),
            OutputFormat::Csv => render::rejects_csv(out, &rep),
        },
    )
}
