//! `explain`, `rules` and `subnets`: what the VPC's saved configuration says
//! about the logs. This file holds the heading they share: what the
//! configuration held, the period, and what it lacked.

use std::io::{self, Write};

use super::thousands;
use crate::vpc::config::Coverage;
use crate::vpc::{Period, VpcConfig};

mod explain;
mod rules;
mod subnets;

pub use explain::{explain_json, explain_table};
pub use rules::{rules_json, rules_table};
pub use subnets::{subnets_json, subnets_table};

/// [`super::plural`] for the `usize` counts a configuration has.
fn counted(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

/// `3 security groups (12 rules), 5 network interfaces, …, from 4 files`.
fn coverage_line(c: &Coverage, files: usize) -> String {
    let mut parts = vec![
        format!(
            "{} ({})",
            counted(c.security_groups, "security group", "security groups"),
            counted(c.security_group_rules, "rule", "rules")
        ),
        counted(c.interfaces, "network interface", "network interfaces"),
        format!(
            "{} ({})",
            counted(c.network_acls, "network ACL", "network ACLs"),
            counted(c.network_acl_entries, "entry", "entries")
        ),
        counted(c.subnets, "subnet", "subnets"),
    ];
    if c.prefix_lists > 0 {
        parts.push(counted(c.prefix_lists, "prefix list", "prefix lists"));
    }
    format!(
        "{}, from {}",
        parts.join(", "),
        counted(files, "file", "files")
    )
}

/// The heading lines: the configuration, the period, and the gaps.
fn heading(
    out: &mut dyn Write,
    cfg: &VpcConfig,
    period: Option<&Period>,
    notes: &[String],
) -> io::Result<()> {
    writeln!(
        out,
        "Configuration: {}",
        coverage_line(&cfg.coverage(), cfg.files.len())
    )?;
    if let Some(p) = period {
        writeln!(out, "Period:        {} to {}", p.from, p.to)?;
    }
    for n in notes {
        writeln!(out, "Note: {n}")?;
    }
    writeln!(out)
}

/// Pads `s` to `w` characters (left-aligned).
fn pad(s: &str, w: usize) -> String {
    format!("{s:<w$}")
}

/// A finding's port as the tables show it: `22/tcp` for TCP and UDP, the
/// protocol's name alone for the others (they have no ports).
fn port_label(port: u16, protocol: &str) -> String {
    if protocol == "tcp" || protocol == "udp" {
        format!("{port}/{protocol}")
    } else {
        protocol.to_string()
    }
}

/// A network ACL rule number, `*` for the default rule every ACL ends with.
fn acl_rule(n: u16) -> String {
    if n >= 32767 {
        "*".into()
    } else {
        n.to_string()
    }
}
