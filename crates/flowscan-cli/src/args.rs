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
    Diagnose(DiagnoseArgs),
    /// Reject spikes against a learned baseline (median and MAD of the windows
    /// before, with daily seasonality), with sparklines and an optional SVG chart.
    #[command(after_long_help = ANOMALY_EXAMPLES)]
    Anomalies(AnomalyArgs),
}

const ANOMALY_EXAMPLES: &str = "\
Examples:
  flowscan anomalies ./logs                                 REJECT records per interface in 5-minute windows
  flowscan anomalies ./logs --key dstport --bucket 15m
  flowscan anomalies ./logs --key srcaddr/24 --measure bytes --plot spikes.svg

A window is an anomaly when its value exceeds median + sensitivity x scale of
the baseline, scale = max(1.4826 x MAD, sqrt(median), 1), and is at least
--min-count. The baseline is the --window windows before it and, when the data
spans two days or more, the same time on up to seven earlier days.";

const FILTER_EXAMPLES: &str = "\
Examples:
  flowscan filter ./logs --where 'action = REJECT and srcaddr in 203.0.113.0/24 and start >= 2026-11-24T10:00Z'
  flowscan filter ./logs --where 'dstport = 22' --format csv > ssh.csv
  flowscan filter ./logs --where 'action = REJECT' --format jsonl | jq .
  flowscan filter ./logs --where 'action = REJECT' --format parquet --out ./rejects

Text output repeats each input's header line (normalised to single spaces).
CSV and JSON lines have one column per field of any input (null or empty where
a record's format lacks it). Records come out in input order (one thread).";

const TOP_EXAMPLES: &str = "\
Examples:
  flowscan top ./logs --by srcaddr,dstport --where 'action = REJECT and dstport in (22, 3389)' --top 20
  flowscan top ./logs --by interface-id --sum bytes --where 'dstaddr in 10.0.0.0/16'
  flowscan top ./logs --by srcaddr/24 --distinct dstport --where 'action = REJECT'
  flowscan top ./logs --by start/5m,action

--by takes field names as in a flow log header, addresses rolled up to networks
(srcaddr/24, or srcaddr/24/48 for the IPv6 prefix; src-cidr/24 is an alias), and
time buckets (start/5m, end/1h). The query language is described in docs/query.md.";

const EXPORT_EXAMPLES: &str = "\
Examples:
  flowscan export ./logs --out ./parquet
  flowscan export ./logs --out ./parquet --partition day --compression zstd
  flowscan export ./logs --out ./parquet --location s3://my-bucket/flowlogs/
  aws s3 sync ./parquet s3://my-bucket/flowlogs/    then run _athena_vpc_flow_logs.sql in Athena

Layout: OUT/AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=YYYY/month=MM/day=DD[/hour=HH]/part-N.parquet
(Transit Gateway flow logs under OUT/transit-gateway/). The partition is the record's start time
(UTC); account and region come from the input's S3 path when it has one, else from the record.
OUT also receives athena-*.sql and _flowscan_export.json (what was written).";

const DDL_EXAMPLES: &str = "\
Examples:
  flowscan athena-ddl --location s3://my-bucket/flowlogs/ --table vpc_flow_logs
  flowscan athena-ddl --location s3://my-bucket/flowlogs/ --account 123456789012 --region us-east-1
  flowscan athena-ddl --location s3://my-bucket/flowlogs/transit-gateway/ --tgw --table tgw_flow_logs

Without --account/--region, those partitions are 'injected': queries must name them in WHERE.";

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

    /// Read every input as this format instead of detecting it from content.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormatArg>,

    /// Threads to use (default: all cores).
    #[arg(long, value_name = "N")]
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

    /// No progress bar and no summary on standard error.
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
    /// or 'srcaddr in 203.0.113.0/24 and start >= 2026-11-24T10:00Z' (see docs/query.md).
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
    #[arg(long, value_name = "N", default_value_t = 131_072)]
    pub row_group_rows: usize,

    /// Replace a previous flowscan export in the output folder.
    #[arg(long)]
    pub overwrite: bool,

    /// S3 location the folder will be uploaded to, used in the Athena DDL written
    /// beside the data (without it, a placeholder location is written).
    #[arg(long, value_name = "S3URL")]
    pub location: Option<String>,

    /// Account id for records whose S3 path and record carry none (a flat
    /// download, a CloudWatch export, the default v2 format).
    #[arg(long, value_name = "ID")]
    pub default_account: Option<String>,

    /// Region for records whose S3 path and record carry none (the default v2
    /// format has no region field).
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,

    /// Format of the summary printed when the export is done.
    #[arg(long, short, value_enum, default_value_t = SummaryFormat::Table)]
    pub format: SummaryFormat,
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

    /// Table name.
    #[arg(long, default_value = "vpc_flow_logs")]
    pub table: String,

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

    /// Output folder for --format parquet.
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
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
    #[arg(long, value_name = "K", default_value_t = 5.0)]
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
