//! `flowscan explain`: which security group or network ACL rule rejected
//! each REJECT hotspot, and the command that fixes it.

use std::io::{self, Write};

use anyhow::Result;
use flowscan::render::{human_bytes, scan_json_value, thousands};
use flowscan::vpc::{Explain, ExplainReport, Finding, Layer};

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
            vpc::heading(out, &cfg, rep.period.as_ref(), &rep.notes)?;
            write_table(out, &rep, args.top)
        } else {
            let doc = serde_json::json!({
                "rejects": rep.rejects,
                "unusable": rep.unusable,
                "period": rep.period,
                "configuration": rep.configuration,
                "notes": rep.notes,
                "findings": rep.findings,
                "scan": scan_json_value(&scan),
            });
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
    })
}

fn write_table(out: &mut dyn Write, rep: &ExplainReport, top: usize) -> io::Result<()> {
    let (intended, act): (Vec<&Finding>, Vec<&Finding>) =
        rep.findings.iter().partition(|f| f.intended);
    let records = |v: &[&Finding]| v.iter().map(|f| f.records).sum::<u64>();
    writeln!(
        out,
        "{} REJECT records: {} in {} finding{} to look at, {} blocked as intended (unsolicited, from the internet)\n",
        thousands(rep.rejects),
        thousands(records(&act)),
        act.len(),
        if act.len() == 1 { "" } else { "s" },
        thousands(records(&intended)),
    )?;
    let shown = if top == 0 {
        act.len()
    } else {
        top.min(act.len())
    };
    for (i, f) in act.iter().take(shown).enumerate() {
        finding(out, i + 1, f)?;
    }
    if shown < act.len() {
        writeln!(
            out,
            "… and {} more finding{} ({} records): --top 0 shows all\n",
            act.len() - shown,
            if act.len() - shown == 1 { "" } else { "s" },
            thousands(records(&act[shown..]))
        )?;
    }
    if !intended.is_empty() {
        blocked(out, &intended)?;
    }
    Ok(())
}

fn finding(out: &mut dyn Write, n: usize, f: &Finding) -> io::Result<()> {
    let dir = f.direction.map_or("?".to_string(), |d| d.to_string());
    let port = if f.protocol == "tcp" || f.protocol == "udp" {
        format!("{}/{}", f.port, f.protocol)
    } else {
        f.protocol.clone()
    };
    let inst = f
        .instance_id
        .as_deref()
        .map_or_else(String::new, |i| format!(" ({i})"));
    let peer = if f.peers > 1 {
        format!("{} ({} addresses)", f.peer, thousands(f.peers))
    } else {
        f.peer.clone()
    };
    writeln!(
        out,
        "{n}. {}{inst} {dir} {port} {} {peer}: {} records, {} packets, {}, {} to {}",
        f.interface_id,
        if f.direction == Some(flowscan::vpc::Direction::Egress) {
            "to"
        } else {
            "from"
        },
        thousands(f.records),
        thousands(f.packets),
        human_bytes(f.bytes),
        f.first_seen.as_deref().unwrap_or("-"),
        f.last_seen.as_deref().unwrap_or("-"),
    )?;
    let mut what = f.layer.name().to_string();
    if let Some(r) = &f.resource_id {
        what += &format!(" {r}");
    }
    if f.layer == Layer::NetworkAcl {
        if let Some(n) = f.rule_number {
            what += &if n >= 32767 {
                " rule *".to_string()
            } else {
                format!(" rule {n}")
            };
        }
        if f.return_path {
            what += " (return path)";
        }
    }
    writeln!(out, "   {what}: {}", f.summary)?;
    if let Some(fix) = &f.fix {
        for (i, line) in fix.lines().enumerate() {
            writeln!(out, "   {} {line}", if i == 0 { "fix:" } else { "    " })?;
        }
    }
    if let Some(note) = &f.note {
        writeln!(out, "   note: {note}")?;
    }
    writeln!(out)
}

/// Unsolicited internet traffic, one line per interface and port.
fn blocked(out: &mut dyn Write, v: &[&Finding]) -> io::Result<()> {
    writeln!(out, "Blocked as intended (no fix):")?;
    writeln!(
        out,
        "  {}  {}  {:>9}  {:>7}  layer",
        vpc::pad("interface-id", 22),
        vpc::pad("port", 10),
        "records",
        "sources"
    )?;
    for f in v.iter().take(10) {
        let port = if f.protocol == "tcp" || f.protocol == "udp" {
            format!("{}/{}", f.port, f.protocol)
        } else {
            f.protocol.clone()
        };
        let layer = match (&f.resource_id, f.rule_number) {
            (Some(r), Some(n)) if f.layer == Layer::NetworkAcl => {
                format!(
                    "network-acl {r} rule {}",
                    if n >= 32767 {
                        "*".into()
                    } else {
                        n.to_string()
                    }
                )
            }
            (Some(r), _) => format!("{} {r}", f.layer.name()),
            _ => f.layer.name().to_string(),
        };
        writeln!(
            out,
            "  {}  {}  {:>9}  {:>7}  {layer}",
            vpc::pad(&f.interface_id, 22),
            vpc::pad(&port, 10),
            thousands(f.records),
            thousands(f.peers),
        )?;
    }
    if v.len() > 10 {
        writeln!(out, "  … and {} more", v.len() - 10)?;
    }
    Ok(())
}
