//! `subnets`: addresses used per subnet, active in the logs, and the subnets
//! running out.

use std::io::{self, Write};

use super::super::{scan_json_value, thousands, write_json};
use super::{heading, pad};
use crate::scan::ScanReport;
use crate::vpc::{SubnetsReport, VpcConfig};

/// Writes the subnets for people: the configuration heading (with what a
/// missing part of the configuration leaves out), then one line per subnet.
pub fn subnets_table(out: &mut dyn Write, cfg: &VpcConfig, rep: &SubnetsReport) -> io::Result<()> {
    let mut notes = Vec::new();
    if cfg.subnets.is_empty() {
        notes.push(
            "no subnets were saved (aws ec2 describe-subnets): nothing to report".to_string(),
        );
    }
    if cfg.interfaces.is_empty() {
        notes.push(
            "no network interfaces were saved: reclaimable addresses cannot be counted".to_string(),
        );
    }
    heading(out, cfg, rep.period.as_ref(), &notes)?;
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

/// Writes the subnets and the scan summary as one JSON document.
pub fn subnets_json(out: &mut dyn Write, rep: &SubnetsReport, scan: &ScanReport) -> io::Result<()> {
    let doc = serde_json::json!({
        "period": rep.period,
        "warn_at": rep.warn_at,
        "flagged": rep.flagged,
        "subnets": rep.subnets,
        "scan": scan_json_value(scan),
    });
    write_json(out, &doc)
}
