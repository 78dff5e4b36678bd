//! `explain`: which security group or network ACL rule rejected each REJECT
//! hotspot, and the command that fixes it.

use std::io::{self, Write};

use super::super::{human_bytes, scan_json_value, thousands, write_json};
use super::{acl_rule, heading, pad, port_label};
use crate::scan::ScanReport;
use crate::vpc::{Direction, ExplainReport, Finding, Layer, VpcConfig};

/// Blocked-as-intended lines listed before the rest are counted.
const BLOCKED_SHOWN: usize = 10;

/// Writes the findings for people: the configuration heading, the findings
/// to act on (the first `top` of them, or all when `top` is 0), then the
/// traffic blocked as intended. When findings are left out, the line that
/// counts them ends with `show_all`, the caller's word on how to see them
/// (the library knows no flags).
pub fn explain_table(
    out: &mut dyn Write,
    cfg: &VpcConfig,
    rep: &ExplainReport,
    top: usize,
    show_all: Option<&str>,
) -> io::Result<()> {
    heading(out, cfg, rep.period.as_ref(), &rep.notes)?;
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
            "… and {} more finding{} ({} records){}\n",
            act.len() - shown,
            if act.len() - shown == 1 { "" } else { "s" },
            thousands(records(&act[shown..])),
            show_all.map_or_else(String::new, |s| format!(": {s}"))
        )?;
    }
    if !intended.is_empty() {
        blocked(out, &intended)?;
    }
    Ok(())
}

/// Writes the findings and the scan summary as one JSON document.
pub fn explain_json(out: &mut dyn Write, rep: &ExplainReport, scan: &ScanReport) -> io::Result<()> {
    let doc = serde_json::json!({
        "rejects": rep.rejects,
        "unusable": rep.unusable,
        "period": rep.period,
        "configuration": rep.configuration,
        "notes": rep.notes,
        "findings": rep.findings,
        "scan": scan_json_value(scan),
    });
    write_json(out, &doc)
}

/// One finding: what was rejected, by which rule, and the fix.
fn finding(out: &mut dyn Write, n: usize, f: &Finding) -> io::Result<()> {
    let dir = f.direction.map_or("?".to_string(), |d| d.to_string());
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
        "{n}. {}{inst} {dir} {} {} {peer}: {} records, {} packets, {}, {} to {}",
        f.interface_id,
        port_label(f.port, &f.protocol),
        if f.direction == Some(Direction::Egress) {
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
            what += &format!(" rule {}", acl_rule(n));
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
        pad("interface-id", 22),
        pad("port", 10),
        "records",
        "sources"
    )?;
    for f in v.iter().take(BLOCKED_SHOWN) {
        let layer = match (&f.resource_id, f.rule_number) {
            (Some(r), Some(n)) if f.layer == Layer::NetworkAcl => {
                format!("network-acl {r} rule {}", acl_rule(n))
            }
            (Some(r), _) => format!("{} {r}", f.layer.name()),
            _ => f.layer.name().to_string(),
        };
        writeln!(
            out,
            "  {}  {}  {:>9}  {:>7}  {layer}",
            pad(&f.interface_id, 22),
            pad(&port_label(f.port, &f.protocol), 10),
            thousands(f.records),
            thousands(f.peers),
        )?;
    }
    if v.len() > BLOCKED_SHOWN {
        writeln!(out, "  … and {} more", v.len() - BLOCKED_SHOWN)?;
    }
    Ok(())
}
