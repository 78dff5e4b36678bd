//! `flowscan subnets`: addresses used per subnet, active in the logs, and the
//! subnets running out.

use std::io::{self, Write};

use anyhow::Result;
use flowscan::render::{scan_json_value, thousands};
use flowscan::vpc::{Subnets, SubnetsReport};

use super::vpc::{self, pad};
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
            let mut notes = Vec::new();
            if cfg.subnets.is_empty() {
                notes.push(
                    "no subnets were saved (aws ec2 describe-subnets): nothing to report"
                        .to_string(),
                );
            }
            if cfg.interfaces.is_empty() {
                notes.push(
                    "no network interfaces were saved: reclaimable addresses cannot be counted"
                        .to_string(),
                );
            }
            vpc::heading(out, &cfg, rep.period.as_ref(), &notes)?;
            write_table(out, &rep)
        } else {
            let doc = serde_json::json!({
                "period": rep.period,
                "warn_at": rep.warn_at,
                "flagged": rep.flagged,
                "subnets": rep.subnets,
                "scan": scan_json_value(&scan),
            });
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
    })
}

fn write_table(out: &mut dyn Write, rep: &SubnetsReport) -> io::Result<()> {
    writeln!(
        out,
        "{} subnet{}; {} at or above {}% used\n",
        rep.subnets.len(),
        if rep.subnets.len() == 1 { "" } else { "s" },
        rep.flagged,
        rep.warn_at
    )?;
    writeln!(
        out,
        "  {}  {}  {}  {:>7}  {:>9}  {:>6}  {:>6}  {:>9}  {:>11}",
        pad("subnet-id", 24),
        pad("cidr", 18),
        pad("zone", 11),
        "usable",
        "available",
        "used",
        "active",
        "allocated",
        "reclaimable"
    )?;
    let num = |v: Option<u64>| v.map_or_else(|| "-".to_string(), thousands);
    for s in &rep.subnets {
        let used = s
            .used_percent
            .map_or_else(|| "-".to_string(), |p| format!("{p:.1}%"));
        writeln!(
            out,
            "  {}  {}  {}  {:>7}  {:>9}  {:>6}  {:>6}  {:>9}  {:>11}{}",
            pad(&s.subnet_id, 24),
            pad(s.cidr.as_deref().unwrap_or("-"), 18),
            pad(s.zone.as_deref().unwrap_or("-"), 11),
            thousands(s.usable),
            num(s.available),
            used,
            thousands(s.active_addresses),
            thousands(s.allocated),
            thousands(s.reclaimable),
            if s.flagged { "  RUNNING OUT" } else { "" }
        )?;
    }
    Ok(())
}
