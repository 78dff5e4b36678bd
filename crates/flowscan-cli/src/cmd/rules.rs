//! `flowscan rules`: traffic per security group rule and network ACL entry,
//! and the rules nothing used.

use anyhow::Result;
use flowscan::render;
use flowscan::vpc::Rules;

use super::vpc;
use crate::args::{RulesArgs, SummaryFormat};
use crate::{config, Exit};

/// Runs the command.
pub fn run(args: RulesArgs) -> Result<Exit> {
    let cfg = vpc::load(&args.aws, &args.input)?;
    let setup = config::setup(&args.input, &args.filter)?;
    let (agg, scan) = super::scan(&setup, || Rules::new(cfg.clone()))?;
    let rep = agg.report();
    let table = args.format == SummaryFormat::Table;
    super::emit(table, args.input.quiet, &scan, |out| {
        if table {
            render::rules_table(out, &cfg, &rep)
        } else {
            render::rules_json(out, &rep, &scan)
        }
    })
}
