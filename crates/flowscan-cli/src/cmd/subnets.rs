//! `flowscan subnets`: addresses used per subnet, active in the logs, and the
//! subnets running out.

use anyhow::Result;
use flowscan::render;
use flowscan::vpc::Subnets;

use super::vpc;
use crate::args::{SubnetsArgs, SummaryFormat};
use crate::{config, Exit};

/// Runs the command.
pub fn run(args: SubnetsArgs) -> Result<Exit> {
    let cfg = vpc::load(&args.aws, &args.input)?;
    let setup = config::setup(&args.input, &args.filter)?;
    let (agg, scan) = super::scan(&setup, || Subnets::new(cfg.clone()))?;
    let rep = agg.report(args.warn_at);
    let table = args.format == SummaryFormat::Table;
    super::emit(table, args.input.quiet, &scan, |out| {
        if table {
            render::subnets_table(out, &cfg, &rep)
        } else {
            render::subnets_json(out, &rep, &scan)
        }
    })
}
