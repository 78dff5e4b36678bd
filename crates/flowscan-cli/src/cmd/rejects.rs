//! `flowscan rejects`: REJECT hotspots.

use anyhow::Result;
use flowscan::render;
use flowscan::{MemoryBudget, Rejects, RejectsConfig};

use crate::args::{OutputFormat, RejectsArgs};
use crate::{config, Exit};

/// Runs the command.
pub fn run(args: RejectsArgs) -> Result<Exit> {
    let setup = config::setup(&args.input, &args.filter)?;
    // One budget for the tables of every thread.
    let rcfg = RejectsConfig {
        prefix4: args.prefix4,
        prefix6: args.prefix6,
        dst_prefix4: args.dst_prefix4,
        dst_prefix6: args.dst_prefix6,
        memory: Some(MemoryBudget::new(super::budget_bytes(args.max_memory))),
    };
    let (mut agg, scan) = super::scan(&setup, || Rejects::new(rcfg.clone()))?;
    agg.prepare_report(args.top);
    let rep = setup.scanner.install(|| agg.report(args.top));

    if let Some(a) = &rep.approximate {
        say!(
            "flowscan: {} (--max-memory)",
            flowscan::render::approximation_note(a)
        );
    }
    if rep.saturated {
        say!("flowscan: warning: {}", flowscan::render::SATURATED);
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
