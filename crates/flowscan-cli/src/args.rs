//! Command-line flags (clap derive). Groups shared by several commands are
//! flattened into each.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Find what your VPC is rejecting, from flow log files, in seconds.
#[derive(Debug, Parser)]
#[command(name = "flowscan", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 every input read; 1 error; 2 bad arguments; \
3 some input could not be read completely (results cover what was read)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show where traffic is rejected: top interfaces, destination ports and source networks.
    #[command(after_long_help = REJECTS_EXAMPLES)]
    Rejects(RejectsArgs),
}

const REJECTS_EXAMPLES: &str = "\
Examples:
  flowscan rejects ./logs                      a tree synced from S3 (.log, .log.gz)
  flowscan rejects a.log b.log.gz              files
  zcat x.log.gz | flowscan rejects -           standard input
  flowscan rejects ./logs --format json        or csv
  flowscan rejects ./logs --since 2h --port 22 --src-cidr 203.0.113.0/24
  flowscan rejects export.txt --fields default headerless records (CloudWatch)

Exit codes: 0 every input read; 1 error; 2 bad arguments; 3 some input could not
be read completely (results cover what was read).";

/// Where records come from and how to read them.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Files or directories to read (directories are walked recursively; `-` is
    /// standard input, also read when no path is given and input is piped).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Field list for files without a header line, e.g. "version account-id
    /// interface-id ..." or "default" for the version 2 default format.
    #[arg(long, value_name = "LIST")]
    pub fields: Option<String>,

    /// Threads to use (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Stop at the first malformed line (exit code 1).
    #[arg(long)]
    pub strict: bool,

    /// No progress bar and no summary on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Which records to look at. Conditions combine with AND; repeated values (or
/// comma-separated ones) of one flag are alternatives.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only records whose start is at or after this: RFC 3339
    /// (2026-11-24T10:00:00Z), a date, Unix seconds, or a duration back from now (2h, 30m, 7d).
    #[arg(long, value_name = "TIME", help_heading = "Filters")]
    pub since: Option<String>,

    /// Only records whose start is before this (same forms as --since).
    #[arg(long, value_name = "TIME", help_heading = "Filters")]
    pub until: Option<String>,

    /// Only these interfaces (interface-id).
    #[arg(
        long,
        value_name = "ENI",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub eni: Vec<String>,

    /// Only these destination ports.
    #[arg(
        long,
        value_name = "PORT",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub port: Vec<u16>,

    /// Only sources in these networks (203.0.113.0/24, 2001:db8::/32).
    #[arg(
        long,
        value_name = "CIDR",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub src_cidr: Vec<ipnetwork::IpNetwork>,

    /// Only destinations in these networks.
    #[arg(
        long,
        value_name = "CIDR",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub dst_cidr: Vec<ipnetwork::IpNetwork>,

    /// Only these accounts (account-id).
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub account: Vec<String>,

    /// Only these VPCs (vpc-id; files without that field are skipped).
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub vpc: Vec<String>,

    /// Only these subnets (subnet-id; files without that field are skipped).
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub subnet: Vec<String>,
}

/// How results are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned tables and a summary.
    Table,
    /// One JSON document.
    Json,
    /// CSV rows, one table column naming the hotspot table.
    Csv,
}

/// Flags of `flowscan rejects`.
#[derive(Debug, Args)]
pub struct RejectsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Rows per table.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Prefix length IPv4 sources are rolled up to.
    #[arg(long, value_name = "BITS", default_value_t = 24, value_parser = clap::value_parser!(u8).range(0..=32))]
    pub prefix4: u8,

    /// Prefix length IPv6 sources are rolled up to.
    #[arg(long, value_name = "BITS", default_value_t = 64, value_parser = clap::value_parser!(u8).range(0..=128))]
    pub prefix6: u8,
}
