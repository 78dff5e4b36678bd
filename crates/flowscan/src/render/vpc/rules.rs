//! `rules`: traffic per security group rule and network ACL entry, and the
//! rules nothing used.

use std::io::{self, Write};

use super::super::{human_bytes, scan_json_value, thousands, write_json};
use super::{acl_rule, heading, pad};
use crate::scan::ScanReport;
use crate::vpc::{Direction, RuleUse, RulesReport, VpcConfig};

/// Writes the rule usage for people: the configuration heading, a table of
/// security group rules, one of network ACL entries, and the unused rules.
pub fn rules_table(out: &mut dyn Write, cfg: &VpcConfig, rep: &RulesReport) -> io::Result<()> {
    heading(out, cfg, rep.period.as_ref(), &[])?;
    writeln!(
        out,
        "{} ACCEPT records; {} rule{} admitted nothing in the period{}\n",
        thousands(rep.accepted),
        rep.unused,
        if rep.unused == 1 { "" } else { "s" },
        if rep.unattributed > 0 {
            format!(
                " ({} records of interfaces not saved or of unknown direction)",
                thousands(rep.unattributed)
            )
        } else {
            String::new()
        }
    )?;
    if rep.sg_unmatched + rep.acl_denied > 0 {
        writeln!(
            out,
            "Note: {} ACCEPT records no saved security group rule admits and {} a saved network ACL entry denies: the configuration changed since, or is another account's\n",
            thousands(rep.sg_unmatched),
            thousands(rep.acl_denied)
        )?;
    }
    let (sg, acl): (Vec<&RuleUse>, Vec<&RuleUse>) =
        rep.rules.iter().partition(|r| r.group_id.is_some());
    if !sg.is_empty() {
        group_rules(out, &sg)?;
    }
    if !acl.is_empty() {
        acl_entries(out, &acl)?;
    }
    unused(out, rep)
}

/// Writes the rule usage and the scan summary as one JSON document.
pub fn rules_json(out: &mut dyn Write, rep: &RulesReport, scan: &ScanReport) -> io::Result<()> {
    let doc = serde_json::json!({
        "period": rep.period,
        "accepted": rep.accepted,
        "unattributed": rep.unattributed,
        "sg_unmatched": rep.sg_unmatched,
        "acl_denied": rep.acl_denied,
        "unused": rep.unused,
        "rules": rep.rules,
        "scan": scan_json_value(scan),
    });
    write_json(out, &doc)
}

/// The usage columns both tables end with.
fn usage_head() -> String {
    format!(
        "{:>9}  {:>8}  {:>5}  last seen",
        "records", "bytes", "peers"
    )
}

fn group_rules(out: &mut dyn Write, sg: &[&RuleUse]) -> io::Result<()> {
    writeln!(out, "Security group rules")?;
    writeln!(
        out,
        "  {}  {}  {}  {}  {}  {}",
        pad("group", 20),
        pad("dir", 7),
        pad("proto", 6),
        pad("ports", 11),
        pad("peer", 20),
        usage_head()
    )?;
    for r in sg {
        writeln!(
            out,
            "  {}  {}  {}  {}  {}  {}",
            pad(r.group_id.as_deref().unwrap_or("-"), 20),
            pad(&r.direction.to_string(), 7),
            pad(&r.protocol, 6),
            pad(&ports(r), 11),
            pad(&peer(r), 20),
            usage(r)
        )?;
    }
    writeln!(out)
}

fn acl_entries(out: &mut dyn Write, acl: &[&RuleUse]) -> io::Result<()> {
    writeln!(out, "Network ACL entries")?;
    writeln!(
        out,
        "  {}  {}  {}  {}  {}  {}  {}  {}",
        pad("network-acl", 22),
        pad("dir", 7),
        pad("rule", 5),
        pad("action", 6),
        pad("proto", 5),
        pad("ports", 11),
        pad("cidr", 18),
        usage_head()
    )?;
    for r in acl {
        writeln!(
            out,
            "  {}  {}  {}  {}  {}  {}  {}  {}",
            pad(r.network_acl_id.as_deref().unwrap_or("-"), 22),
            pad(&r.direction.to_string(), 7),
            pad(&acl_rule(r.rule_number.unwrap_or(0)), 5),
            pad(r.action, 6),
            pad(&r.protocol, 5),
            pad(&ports(r), 11),
            pad(r.cidr.as_deref().unwrap_or("-"), 18),
            usage(r)
        )?;
    }
    writeln!(out)
}

/// A rule's port range: `443`, `1024-65535`, `all`, or an ICMP type and code.
fn ports(r: &RuleUse) -> String {
    match (r.from_port, r.to_port) {
        (Some(a), Some(b)) if r.protocol == "icmp" || r.protocol == "icmpv6" => {
            format!("type {a} code {b}")
        }
        (Some(a), Some(b)) if a == b => a.to_string(),
        (Some(-1), _) | (None, _) => "all".into(),
        (Some(a), Some(b)) => format!("{a}-{b}"),
        (Some(a), None) => a.to_string(),
    }
}

/// What a rule admits traffic from or to: a CIDR, a group or a prefix list.
fn peer(r: &RuleUse) -> String {
    r.cidr
        .clone()
        .or_else(|| r.group.clone())
        .or_else(|| r.prefix_list.clone())
        .unwrap_or_else(|| "-".into())
}

/// The usage cells: `UNUSED` for an allowing rule that admitted nothing in
/// the period, `-` for a deny entry that decided nothing (not a candidate to
/// remove: it may be what keeps traffic out).
fn usage(r: &RuleUse) -> String {
    if r.records == 0 {
        return if r.unused {
            "UNUSED".into()
        } else {
            "-".into()
        };
    }
    format!(
        "{:>9}  {:>8}  {:>5}  {}",
        thousands(r.records),
        human_bytes(r.bytes),
        thousands(r.peers),
        r.last_seen.as_deref().unwrap_or("-")
    )
}

/// The unused rules, one line each, as candidates to remove.
fn unused(out: &mut dyn Write, rep: &RulesReport) -> io::Result<()> {
    if rep.unused == 0 {
        return Ok(());
    }
    let period = rep
        .period
        .as_ref()
        .map_or_else(String::new, |p| format!(" from {} to {}", p.from, p.to));
    writeln!(
        out,
        "Unused: {} rule{} admitted no traffic{period} (candidates to remove):",
        rep.unused,
        if rep.unused == 1 { "" } else { "s" }
    )?;
    for r in rep.rules.iter().filter(|r| r.unused) {
        let what = match (&r.group_id, &r.network_acl_id) {
            (Some(g), _) => format!(
                "{g} {} {} {} {} {}{}",
                r.direction,
                r.protocol,
                ports(r),
                if r.direction == Direction::Ingress {
                    "from"
                } else {
                    "to"
                },
                peer(r),
                r.rule_id
                    .as_deref()
                    .map_or_else(String::new, |id| format!(" ({id})"))
            ),
            (None, Some(a)) => format!(
                "{a} {} rule {} allow {} {} {}",
                r.direction,
                r.rule_number.unwrap_or(0),
                r.protocol,
                ports(r),
                r.cidr.as_deref().unwrap_or("-")
            ),
            _ => continue,
        };
        writeln!(out, "  {what}")?;
    }
    Ok(())
}
