//! `flowscan explain`: which security group or network ACL rule rejected
//! each REJECT hotspot, and the command that fixes it.

use anyhow::Result;
use flowscan::render;
use flowscan::vpc::Explain;

use super::vpc;
use crate::args::{ExplainArgs, SummaryFormat};
use crate::{config, Exit};

/// Runs the command.
pub fn run(args: ExplainArgs) -> Result<Exit> {
    let cfg = vpc::load(&args.aws, &args.input)?;
    let setup = config::setup(&args.input, &args.filter)?;
    let (agg, scan) = super::scan(&setup, || Explain::new(cfg.clone()))?;
    let rep = agg.report();
    let table = args.format == SummaryFormat::Table;
    super::emit(table, args.input.quiet, &scan, |out| {
        if table {
            render::explain_table(out, &cfg, &rep, args.top, Some("--top 0 shows all"))
        } else {
            render::explain_json(out, &rep, &scan)
        }
    })
}
