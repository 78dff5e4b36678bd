//! Command-line flags (clap derive). Groups shared by several commands are
//! flattened into each.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Find what your VPC is rejecting, from flow log files, in seconds.
#[derive(Debug, Parser)]
#[command(name = "flowscan", version, about, long_about = None)]
#[command(after_help = TOP_LEVEL_HELP)]
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
    /// Write flow logs as Parquet for Athena, Trino, Spark and DuckDB: AWS's column
    /// names and types, Hive-style partitions, and the matching Athena table.
    #[command(after_long_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Print the Athena `CREATE EXTERNAL TABLE` for flowscan's Parquet layout
    /// (with partition projection, so no MSCK REPAIR is needed).
    #[command(name = "athena-ddl", after_long_help = DDL_EXAMPLES)]
    AthenaDdl(DdlArgs),
    /// Top groups by any fields, with counts, sums or distinct counts.
    #[command(after_long_help = TOP_EXAMPLES)]
    Top(TopArgs),
    /// Print the records a query matches, in input order.
    #[command(after_long_help = FILTER_EXAMPLES)]
    Filter(FilterCmdArgs),
    /// Explain the REJECTs: network ACL on the return path, blocked egress,
    /// inbound scanning, reject reasons; with confidence and evidence.
    #[command(after_long_help = DIAGNOSE_EXAMPLES)]
    Diagnose(DiagnoseArgs),
    /// Reject spikes against a learned baseline (median and MAD of the windows
    /// before, with daily seasonality), with sparklines and an optional SVG chart.
    #[command(after_long_help = ANOMALY_EXAMPLES)]
    Anomalies(AnomalyArgs),
    /// Why each REJECT was rejected, from the VPC's saved configuration: the
    /// security group or network ACL rule, and the AWS CLI command that fixes it.
    #[command(after_long_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Traffic per security group rule and network ACL entry; the rules nothing used.
    #[command(after_long_help = RULES_EXAMPLES)]
    Rules(RulesArgs),
    /// Addresses used per subnet, active in the logs, and subnets running out.
    #[command(after_long_help = SUBNETS_EXAMPLES)]
    Subnets(SubnetsArgs),
    /// Print a shell completion script: `flowscan completions bash > /etc/bash_completion.d/flowscan`.
    Completions(CompletionsArgs),
    /// Print the man page: `flowscan man > /usr/local/share/man/man1/flowscan.1`.
    Man(ManArgs),
}

/// Flags of `flowscan man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command whose own page to print (rejects, export, …).
    pub command: Option<String>,
}

/// Flags of `flowscan completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const TOP_LEVEL_HELP: &str = "\
Examples:
  flowscan rejects ./logs                         REJECT hotspots of a tree synced from S3
  flowscan top ./logs --by srcaddr/24,dstport --where 'action = REJECT'
  flowscan filter ./logs --where 'dstport = 22' --format csv > ssh.csv
  flowscan diagnose ./logs                        why the REJECTs happen
  flowscan anomalies ./logs                       reject spikes against a baseline
  flowscan explain ./logs --aws-config cfg/       which rule rejected it, and the fix
  flowscan export ./logs --out ./parquet          Parquet and an Athena table

`flowscan <command> --help` shows each command's flags and examples.
Sizes are in SI units everywhere (1 kB = 1000 bytes), as input to flags too
(KiB, MiB, GiB are accepted there).

Exit codes: 0 every input read; 1 error; 2 bad arguments; 3 some input could
not be read completely (results cover what was read); 4 nothing could be read
(every input skipped or unreadable); 130 interrupted.";

/// The query language's grammar, for the long help of the commands that
/// take `--where` (a macro, so that `concat!` can append it).
macro_rules! query_help {
    () => {
        "\n\nThe --where language:
  expr       := expr or expr | expr and expr | not expr | ( expr ) | comparison
  comparison := field op value | field [not] in ( value, ... ) | field [not] in cidr
  op         := =  !=  <  <=  >  >=
Fields are named as in a flow log header (dstport, interface-id; interface_id works
too). Values take the field's type: numbers (ports, counters; start and end also take
RFC 3339 times or Unix seconds), addresses and networks (srcaddr in 203.0.113.0/24),
text otherwise. action, log-status, flow-direction and type compare without regard
to case (action = reject). A missing value (-) matches no comparison; `not` then
makes it match. Parentheses and `not` nest at most 64 deep."
    };
}

const DIAGNOSE_EXAMPLES: &str = "\
Examples:
  flowscan diagnose ./logs
  flowscan diagnose ./logs --eni eni-0a1b2c3d4e5f60001 --since 2h
  flowscan diagnose ./logs --format json | jq '.findings[] | select(.confidence == \"high\")'";

const ANOMALY_EXAMPLES: &str = "\
Examples:
  flowscan anomalies ./logs                                 REJECT records per interface in 5-minute windows
  flowscan anomalies ./logs --key dstport --bucket 15m
  flowscan anomalies ./logs --key srcaddr/24 --measure bytes --plot spikes.svg

A window is an anomaly when its value exceeds median + sensitivity x scale of
the baseline, scale = max(1.4826 x MAD, sqrt(median), 1), and is at least
--min-count. The baseline is the --window windows before it; when the data
spans two days or more, a window must also exceed the band of the same time on
up to seven earlier days (once three are known), so a daily burst is learned.";

const FILTER_EXAMPLES: &str = concat!(
    "\
Examples:
  flowscan filter ./logs --where 'action = REJECT and srcaddr in 203.0.113.0/24 and start >= 2026-11-24T10:00Z'
  flowscan filter ./logs --where 'dstport = 22' --format csv > ssh.csv
  flowscan filter ./logs --where 'action = REJECT' --format jsonl | jq .
  flowscan filter ./logs --where 'action = REJECT' --format parquet --out ./rejects

Text output repeats each input's header line (normalised to single spaces).
CSV has one column per field of the inputs' first headers (null or empty where a
record's format lacks it; every field AWS defines when standard input, a pipe or
S3 is read); a JSON line holds its record's own fields, in its header's order.
Records come out in input order, read on every thread.",
    query_help!()
);

const TOP_EXAMPLES: &str = concat!(
    "\
Examples:
  flowscan top ./logs --by srcaddr,dstport --where 'action = REJECT and dstport in (22, 3389)' --top 20
  flowscan top ./logs --by interface-id --sum bytes --where 'dstaddr in 10.0.0.0/16'
  flowscan top ./logs --by srcaddr/24 --distinct dstport --where 'action = REJECT'
  flowscan top ./logs --by start/5m,action

--by takes field names as in a flow log header, addresses rolled up to networks
(srcaddr/24, or srcaddr/24/48 for the IPv6 prefix; src-cidr/24 is an alias), and
time buckets (start/5m, end/1h).",
    query_help!()
);

const EXPORT_EXAMPLES: &str = "\
Examples:
  flowscan export ./logs --out ./parquet
  flowscan export ./logs --out ./parquet --partition day --compression zstd
  flowscan export ./logs --out ./parquet --location s3://my-bucket/flowlogs/
  aws s3 sync ./parquet s3://my-bucket/flowlogs/    then run _athena_vpc_flow_logs.sql in Athena

Layout: OUT/AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=YYYY/month=MM/day=DD[/hour=HH]/part-RUN-N.parquet
(OUT/AWSLogs/part-RUN-N.parquet with --partition none; Transit Gateway flow logs the same under
OUT/transit-gateway/). The partition is the record's start time
(UTC); account and region come from the input's S3 path when it has one, else from the record,
else from --default-account/--default-region; records with neither go to aws-account-id=unknown
or aws-region=unknown, and stderr says how many. OUT also receives _athena_vpc_flow_logs.sql
(and _athena_tgw_flow_logs.sql) and _flowscan_export.json, the manifest of what was written.
The output folder must be empty (or a previous flowscan export, with --overwrite) and outside
the input; it is locked while the export runs.";

const DDL_EXAMPLES: &str = "\
Examples:
  flowscan athena-ddl --location s3://my-bucket/flowlogs/ --table vpc_flow_logs
  flowscan athena-ddl --location s3://my-bucket/flowlogs/ --account 123456789012 --region us-east-1
  flowscan athena-ddl --location s3://my-bucket/flowlogs/transit-gateway/ --tgw --table tgw_flow_logs

Years are projected from 2015 to NOW. Without --account/--region, those partitions are
'injected': queries must name them in WHERE. An export prints this command with its values.";

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
    /// Files or directories to read (directories are walked recursively), S3
    /// prefixes (s3://bucket/prefix/, listed recursively), or `-` for standard
    /// input (also read when no path is given and input is piped).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Field list for files without a header line, e.g. "version account-id
    /// interface-id ..." or "default" for the version 2 default format.
    #[arg(long, value_name = "LIST")]
    pub fields: Option<String>,

    /// Read every input as this format instead of detecting it from content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// Threads to use, 1 to 1024 (default: all cores).
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,

    /// Read files at least this large in parallel blocks when there are few
    /// files (tuning and tests).
    #[arg(long, hide = true, alias = "pipeline-min", value_name = "BYTES")]
    pub split_min: Option<u64>,

    /// Size of those blocks (tuning and tests).
    #[arg(long, hide = true, value_name = "BYTES")]
    pub block_size: Option<usize>,

    /// Stop reading a compressed file (or standard input) after this much text,
    /// e.g. 10GB: a guard against decompression bombs (exit code 3 when hit).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_inflate: Option<u64>,

    /// Stop at the first malformed line (exit code 1).
    #[arg(long)]
    pub strict: bool,

    /// Read s3:// inputs with unsigned requests (public buckets), as the AWS
    /// CLI's flag of that name does.
    #[arg(long)]
    pub no_sign_request: bool,

    /// No progress bar, and no one-line summary on standard error after JSON or
    /// CSV output (warnings still show).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Input formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputFormatArg {
    /// Space-separated flow log text (plain or gzip).
    Text,
    /// CloudWatch Logs JSON: filter-log-events output, subscription envelopes (Firehose), {"message":…} lines.
    CloudwatchJson,
    /// The CloudWatch console's CSV export (timestamp,message).
    Csv,
    /// Parquet.
    Parquet,
}

/// Which records to look at. Conditions combine with AND; repeated values (or
/// comma-separated ones) of one flag are alternatives.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only records whose start is at or after this (files whose S3 names show
    /// they cannot hold such records are not opened): RFC 3339
    /// (2026-11-24T10:00:00Z), a date, Unix seconds, or a duration back from now (2h, 30m, 7d).
    /// A time without a zone is UTC.
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

    /// Only these accounts: the delivery account of an S3 path
    /// (AWSLogs/<account>/…), else the record's account-id.
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub account: Vec<String>,

    /// Only these regions: the region of an S3 path, else the record's region field.
    #[arg(
        long,
        value_name = "REGION",
        value_delimiter = ',',
        help_heading = "Filters"
    )]
    pub region: Vec<String>,

    /// Only records this query matches, e.g. 'action = REJECT and dstport in (22, 3389)'
    /// or 'srcaddr in 203.0.113.0/24 and start >= 2026-11-24T10:00Z' (the grammar is in
    /// `flowscan top --help` and `flowscan filter --help`).
    #[arg(long = "where", value_name = "QUERY", help_heading = "Filters")]
    pub query: Option<String>,

    /// Read every file, even those whose S3 path shows they cannot hold a record
    /// in --since/--until, --account or --region.
    #[arg(long, help_heading = "Filters")]
    pub no_prune: bool,

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
    /// CSV rows with a header row (for rejects, a first column names the hotspot table).
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

    /// Memory for the hotspot tables (e.g. 512MB, 2GiB), shared by the worker
    /// threads. Past it, the smallest groups are dropped and distinct peers are
    /// sampled, and the output says the result is approximate and by how much.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_memory: u64,

    /// Prefix length IPv6 sources are rolled up to.
    #[arg(long, value_name = "BITS", default_value_t = 64, value_parser = clap::value_parser!(u8).range(0..=128))]
    pub prefix6: u8,

    /// Prefix length IPv4 destinations are rolled up to (32: each address).
    #[arg(long, value_name = "BITS", default_value_t = 32, value_parser = clap::value_parser!(u8).range(0..=32))]
    pub dst_prefix4: u8,

    /// Prefix length IPv6 destinations are rolled up to (128: each address).
    #[arg(long, value_name = "BITS", default_value_t = 128, value_parser = clap::value_parser!(u8).range(0..=128))]
    pub dst_prefix6: u8,
}

/// Partition layouts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PartitionArg {
    /// No partition folders.
    None,
    /// year/month/day.
    Day,
    /// year/month/day/hour.
    Hour,
}

/// Parquet codecs.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum CodecArg {
    /// Snappy.
    Snappy,
    /// Zstandard.
    Zstd,
    /// Gzip (AWS's own choice).
    Gzip,
    /// None.
    None,
}

/// Flags of `flowscan export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Output folder (created; must be empty unless --overwrite).
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Partition folders by the record's start time.
    #[arg(long, value_enum, default_value_t = PartitionArg::Hour)]
    pub partition: PartitionArg,

    /// Compression codec.
    #[arg(long, value_enum, default_value_t = CodecArg::Snappy)]
    pub compression: CodecArg,

    /// Close a file once it reaches about this size (e.g. 128MB, 256MiB).
    #[arg(long, value_name = "SIZE", default_value = "128MB", value_parser = parse_size)]
    pub target_size: u64,

    /// Rows per row group.
    #[arg(long, value_name = "N", default_value_t = 131_072, value_parser = parse_rows)]
    pub row_group_rows: usize,

    /// Replace a previous flowscan export in the output folder.
    #[arg(long)]
    pub overwrite: bool,

    /// S3 location the folder will be uploaded to, used in the Athena DDL written
    /// beside the data (without it, a placeholder location is written).
    #[arg(long, value_name = "S3URL")]
    pub location: Option<String>,

    #[command(flatten)]
    pub defaults: DefaultsArgs,

    /// Format of the summary printed when the export is done.
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

/// The partition values of records that carry none (export, and filter
/// writing Parquet).
#[derive(Debug, Args)]
pub struct DefaultsArgs {
    /// Account id for records whose S3 path and record carry none (a flat
    /// download, a CloudWatch export, the default v2 format).
    #[arg(long, value_name = "ID")]
    pub default_account: Option<String>,

    /// Region for records whose S3 path and record carry none (the default v2
    /// format has no region field).
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
}

impl DefaultsArgs {
    /// Sets the export's defaults (checked when the export starts).
    pub fn apply(&self, opts: &mut flowscan::export::ExportOptions) {
        opts.default_account = self.default_account.clone();
        opts.default_region = self.default_region.clone();
    }

    /// The first flag given, by name.
    pub fn given(&self) -> Option<&'static str> {
        if self.default_account.is_some() {
            Some("--default-account")
        } else if self.default_region.is_some() {
            Some("--default-region")
        } else {
            None
        }
    }
}

/// How the export summary is written.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// For people.
    Table,
    /// One JSON document.
    Json,
}

/// Flags of `flowscan athena-ddl`.
#[derive(Debug, Args)]
pub struct DdlArgs {
    /// S3 location of the export (the folder that holds AWSLogs/).
    #[arg(long, value_name = "S3URL")]
    pub location: String,

    /// Table name (default: vpc_flow_logs, or tgw_flow_logs with --tgw, the
    /// names an export gives them).
    #[arg(long)]
    pub table: Option<String>,

    /// The Transit Gateway table instead of the VPC one.
    #[arg(long)]
    pub tgw: bool,

    /// Partition layout of the export.
    #[arg(long, value_enum, default_value_t = PartitionArg::Hour)]
    pub partition: PartitionArg,

    /// Account ids to project (repeat or comma-separate; include `unknown` when
    /// the export has that fallback partition); none: injected.
    #[arg(long, value_delimiter = ',')]
    pub account: Vec<String>,

    /// Regions to project (repeat or comma-separate); none: injected.
    #[arg(long, value_delimiter = ',')]
    pub region: Vec<String>,

    /// Columns: a field list (as in a header); default: every known field of the dataset.
    #[arg(long, value_name = "LIST")]
    pub fields: Option<String>,
}

/// `128MB`, `256MiB`, `1G`, `1000000`.
/// A thread count: 1 to [`MAX_THREADS`]. More threads than that only cost
/// memory (each has a stack and its own tables) and, by the hundred
/// thousand, ran the process out of memory mappings.
pub fn parse_threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{s}` is not a thread count from 1 to {MAX_THREADS}"
        )),
    }
}

/// `--sensitivity`: a finite number of scales, 0 or more (NaN and infinity
/// would flag nothing, silently).
pub fn parse_sensitivity(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(k) if k.is_finite() && k >= 0.0 => Ok(k),
        _ => Err(format!("`{s}` is not a number of scales (0 or more)")),
    }
}

/// `--row-group-rows`: at least one.
pub fn parse_rows(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("`{s}` is not a number of rows (1 or more)")),
    }
}

/// The most threads `--threads` takes.
pub const MAX_THREADS: usize = 1024;

pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 128MB"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => {
            return Err(format!(
                "`{s}`: unknown unit (use B, KB, MB, GB, KiB, MiB, GiB)"
            ))
        }
    };
    let v = n * mult;
    if v < 1.0 {
        return Err(format!("`{s}` is too small"));
    }
    Ok(v as u64)
}

/// Flags of `flowscan top`.
#[derive(Debug, Args)]
pub struct TopArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// What to group by: fields, networks (srcaddr/24), time buckets (start/5m), comma-separated.
    #[arg(long, value_name = "KEYS", required = true, value_delimiter = ',')]
    pub by: Vec<String>,

    /// Rank by the sum of this field (bytes, packets, …) instead of records.
    #[arg(long, value_name = "FIELD", conflicts_with = "distinct")]
    pub sum: Option<String>,

    /// Rank by the number of distinct values of this field.
    #[arg(long, value_name = "FIELD")]
    pub distinct: Option<String>,

    /// Rows to show.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Memory for the groups and distinct values (e.g. 512MB, 2GiB), shared by the worker threads.
    /// Past it, the groups with the smallest measure are dropped and distinct values
    /// are sampled, and the output says the result is approximate and by
    /// how much.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_memory: u64,
}

/// Output formats of `flowscan filter`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum FilterFormat {
    /// Flow log text with header lines.
    Text,
    /// CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Parquet files in --out, as `flowscan export` writes them.
    Parquet,
}

/// Flags of `flowscan filter`.
#[derive(Debug, Args)]
pub struct FilterCmdArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = FilterFormat::Text)]
    pub format: FilterFormat,

    /// Output folder for --format parquet (the other formats go to standard output).
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// With --format parquet: replace a previous flowscan export in --out.
    #[arg(long)]
    pub overwrite: bool,

    /// With --format parquet, as export's.
    #[command(flatten)]
    pub defaults: DefaultsArgs,
}

/// Flags of `flowscan diagnose`.
#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// Output format (table or json).
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,

    /// Memory for the flows, groups and sources it keeps (e.g. 512MB, 2GiB), shared by the worker threads.
    /// Past it, flows and public sources are sampled and the smallest groups
    /// are dropped, and the output says the result is approximate and by
    /// how much.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_memory: u64,
}

/// What `anomalies` measures per window.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum AnomalyMeasure {
    /// REJECT records.
    Records,
    /// Bytes of REJECT records.
    Bytes,
}

/// Flags of `flowscan anomalies`.
#[derive(Debug, Args)]
pub struct AnomalyArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    /// What a series is kept per: a field (interface-id, dstport) or a network (srcaddr/24).
    #[arg(long, value_name = "KEY", default_value = "interface-id")]
    pub key: String,

    /// Window width (90s, 5m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub bucket: String,

    /// What is counted per window.
    #[arg(long, value_enum, default_value_t = AnomalyMeasure::Records)]
    pub measure: AnomalyMeasure,

    /// Windows the baseline learns from.
    #[arg(long, value_name = "N", default_value_t = 24)]
    pub window: usize,

    /// How many scales above the baseline a spike must be.
    #[arg(long, value_name = "K", default_value_t = 5.0, value_parser = parse_sensitivity)]
    pub sensitivity: f64,

    /// Smallest value that can be an anomaly.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub min_count: u64,

    /// Anomalies to show.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub top: usize,

    /// Write an SVG chart of the series with the most anomalous windows here.
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,

    /// Output format (table or json).
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,

    /// Memory for the (key, window) groups (e.g. 512MB, 2GiB), shared by the worker threads.
    /// Past it, the smallest groups are dropped, and the output says the result is approximate and by
    /// how much.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_memory: u64,
}

// `explain`, `rules`, `subnets`: the logs read beside the VPC's saved configuration.

/// Where the saved VPC configuration is.
#[derive(Debug, Args)]
pub struct AwsConfigArgs {
    /// Folders or files of `aws ec2 describe-…` JSON (security groups, network
    /// interfaces, network ACLs, subnets; security group rules and prefix lists
    /// optional), each file recognised by its content. Takes several paths:
    /// give it after the log paths.
    #[arg(long = "aws-config", value_name = "PATH", required = true, num_args = 1..)]
    pub aws_config: Vec<PathBuf>,
}

/// Flags of `flowscan explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsConfigArgs,

    /// Output format (table or json).
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,

    /// Findings the table shows in full (0: all; JSON always has all).
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub top: usize,
}

/// Flags of `flowscan rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsConfigArgs,

    /// Output format (table or json).
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

/// Flags of `flowscan subnets`.
#[derive(Debug, Args)]
pub struct SubnetsArgs {
    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub filter: FilterArgs,

    #[command(flatten)]
    pub aws: AwsConfigArgs,

    /// Flag subnets whose used addresses reach this share, in percent.
    #[arg(long, value_name = "PERCENT", default_value_t = 80.0, value_parser = parse_percent)]
    pub warn_at: f64,

    /// Output format (table or json).
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
}

/// `80`, `92.5`, `80%`: 0 to 100.
fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a percentage such as 80"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("`{s}`: a percentage is from 0 to 100"))
    }
}

/// How to save the configuration, for the long help of the three commands.
macro_rules! save_config {
    () => {
        "\
Save the configuration first (no AWS access is needed afterwards):
  aws ec2 describe-security-groups    > cfg/sgs.json
  aws ec2 describe-network-interfaces > cfg/enis.json
  aws ec2 describe-network-acls       > cfg/nacls.json
  aws ec2 describe-subnets            > cfg/subnets.json
Files are recognised by content: several pages or regions in one file, or one
file per call, in any folder. Missing pieces make answers less specific, never
wrong (without network ACLs, explain says it could not check them)."
    };
}

const EXPLAIN_EXAMPLES: &str = concat!(
    "\
Examples:
  flowscan explain ./logs --aws-config cfg/
  flowscan explain ./logs --since 2h --eni eni-0a1b2c3d4e5f60001 --aws-config cfg/
  flowscan explain ./logs --format json --aws-config cfg/*.json | jq '.findings[] | select(.fix != null) | .fix'

Each group of REJECT records (interface, direction, protocol, service port, peer
network) is evaluated as AWS does: security groups (stateful, the union of the
interface's groups, CIDR, group and prefix-list peers), then the subnet's network
ACL (stateless, lowest rule number first, the final * deny; responses need the
ephemeral ports the other way). The layer is security-group, network-acl (with
return_path when responses to accepted requests are denied), allowed-now (the saved
configuration allows it: it changed since), unknown-interface, or unknown (a piece
is missing; the note says which). Fixes are AWS CLI commands admitting the traffic
observed and no more; unsolicited traffic from the internet gets none (blocked as
intended). Routes, endpoint policies, network firewalls and transit gateways are
not evaluated.

",
    save_config!()
);

const RULES_EXAMPLES: &str = concat!(
    "\
Examples:
  flowscan rules ./logs --aws-config cfg/
  flowscan rules ./logs --format json --aws-config cfg/ | jq '.rules[] | select(.unused)'

An ACCEPT record counts for every rule of its interface's groups that admits its
connection (a response for the rule that admitted its request) and for the network
ACL entry that matched it first. Unused rules admitted nothing in the period the
logs cover: candidates to remove (least privilege).

",
    save_config!()
);

const SUBNETS_EXAMPLES: &str = concat!(
    "\
Examples:
  flowscan subnets ./logs --aws-config cfg/
  flowscan subnets ./logs --aws-config cfg/subnets.json cfg/enis.json --warn-at 90 --format json

usable = addresses in the CIDR less the 5 AWS reserves; used = usable less
AvailableIpAddressCount; active = addresses of the subnet seen in ACCEPT records;
reclaimable = addresses of saved interfaces never seen active.

",
    save_config!()
);
