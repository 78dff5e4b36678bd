//! `flowgen`: writes deterministic, realistic VPC Flow Log data for tests and benchmarks.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::Parser;
use flowgen::{Generator, Spec, DEFAULT_FIELDS, V5_FIELDS};

/// Generate VPC Flow Log records: a text file (to standard output or --out) or an
/// S3-style tree of gzip files (--tree).
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Number of records.
    #[arg(long, default_value_t = 100_000)]
    records: u64,
    /// Seed; the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// `default`, `v5`, or a space-separated field list in any order.
    #[arg(long, default_value = "default")]
    format: String,
    /// Hours the data covers.
    #[arg(long, default_value_t = 1)]
    hours: u64,
    /// Share of REJECT records.
    #[arg(long, default_value_t = 0.2)]
    reject_ratio: f64,
    /// Distinct scanner addresses that REJECT records come from.
    #[arg(long, default_value_t = 50_000)]
    scanners: usize,
    /// Share of IPv6 records.
    #[arg(long, default_value_t = 0.05)]
    ipv6_ratio: f64,
    /// Write a text file here instead of standard output.
    #[arg(long, conflicts_with = "tree")]
    out: Option<PathBuf>,
    /// Write an S3-style tree of gzip files under this directory.
    #[arg(long)]
    tree: Option<PathBuf>,
    /// Files in the tree.
    #[arg(long, default_value_t = 200)]
    files: usize,
    /// gzip level for the tree (0 to 9).
    #[arg(long, default_value_t = 6)]
    level: u32,
    /// Leave out the header line (as CloudWatch Logs delivers records).
    #[arg(long, conflicts_with = "tree")]
    no_header: bool,
    /// Also write the VPC configuration of the generated interfaces here, as
    /// `aws ec2 describe-…` prints it (for `flowscan explain --aws-config`).
    #[arg(long, value_name = "DIR")]
    aws_config: Option<PathBuf>,
}

fn main() -> io::Result<()> {
    let a = Args::parse();
    let fields: Vec<String> = match a.format.as_str() {
        "default" => DEFAULT_FIELDS.iter().map(|s| s.to_string()).collect(),
        "v5" => V5_FIELDS.iter().map(|s| s.to_string()).collect(),
        list => list.split_whitespace().map(str::to_string).collect(),
    };
    let spec = Spec {
        records: a.records,
        seed: a.seed,
        fields,
        span: a.hours.max(1) * 3600,
        reject_ratio: a.reject_ratio,
        ipv6_ratio: a.ipv6_ratio,
        scanners: a.scanners,
        ..Spec::default()
    };
    let mut g = Generator::new(spec);
    if let Some(dir) = &a.aws_config {
        g.write_aws_config(dir)?;
    }
    if let Some(root) = a.tree {
        let files = g.write_tree(&root, a.files, a.level)?;
        eprintln!(
            "flowgen: wrote {} files under {}",
            files.len(),
            root.display()
        );
        return Ok(());
    }
    let mut out: Box<dyn Write> = match a.out {
        Some(p) => Box::new(BufWriter::new(std::fs::File::create(p)?)),
        None => Box::new(io::stdout().lock()),
    };
    if a.no_header {
        let mut buf = Vec::new();
        g.write_text(&mut buf)?;
        let body = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(&buf[..], |i| &buf[i + 1..]);
        out.write_all(body)?;
    } else {
        g.write_text(&mut out)?;
    }
    out.flush()
}
