//! What `explain`, `rules` and `subnets` share: the saved configuration, and
//! the lines that say what it held and what it lacked.

use std::io::{self, Write};
use std::sync::Arc;

use anyhow::Result;
use flowscan::render::thousands;
use flowscan::vpc::config::Coverage;
use flowscan::vpc::{Period, VpcConfig};

use crate::args::{AwsConfigArgs, InputArgs};

/// Reads `--aws-config`. It takes every path after it: when no log path is
/// left and a configuration path does not read, the logs were probably
/// swallowed, and the error says so.
pub fn load(args: &AwsConfigArgs, input: &InputArgs) -> Result<Arc<VpcConfig>> {
    match flowscan::vpc::load(&args.aws_config) {
        Ok(cfg) => Ok(Arc::new(cfg)),
        Err(e) if input.paths.is_empty() && args.aws_config.len() > 1 => Err(anyhow::Error::new(e)
            .context("bad --aws-config (it takes every path after it: give the log paths first)")),
        Err(e) => Err(anyhow::Error::new(e).context("bad --aws-config")),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        thousands(n as u64),
        if n == 1 { one } else { many }
    )
}

/// `3 security groups (12 rules), 5 network interfaces, …, from 4 files`.
pub fn coverage_line(c: &Coverage, files: usize) -> String {
    let mut parts = vec![
        format!(
            "{} ({})",
            plural(c.security_groups, "security group", "security groups"),
            plural(c.security_group_rules, "rule", "rules")
        ),
        plural(c.interfaces, "network interface", "network interfaces"),
        format!(
            "{} ({})",
            plural(c.network_acls, "network ACL", "network ACLs"),
            plural(c.network_acl_entries, "entry", "entries")
        ),
        plural(c.subnets, "subnet", "subnets"),
    ];
    if c.prefix_lists > 0 {
        parts.push(plural(c.prefix_lists, "prefix list", "prefix lists"));
    }
    format!(
        "{}, from {}",
        parts.join(", "),
        plural(files, "file", "files")
    )
}

/// The heading lines: the configuration, the period, and the gaps.
pub fn heading(
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
pub fn pad(s: &str, w: usize) -> String {
    format!("{s:<w$}")
}
