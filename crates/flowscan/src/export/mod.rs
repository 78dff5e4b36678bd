//! Parquet export: flow logs as Athena, Trino, Spark and DuckDB read them.
//!
//! Columns carry AWS's names and Parquet types ([`layout`]); files land in
//! Hive-style partitions following AWS's own prefixes
//! (`AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/month=…/day=…[/hour=…]`),
//! chosen by each record's start time; [`athena`] writes the matching table.
//!
//! An export is an ordered scan ([`Scanner::ordered`](crate::Scanner::ordered)):
//! worker threads encode each block's rows into Arrow batches ([`Encoder`],
//! [`ExportPart`]), and the [`Exporter`] writes them in input order, so that
//! rows keep their order within each partition. Memory is bounded by the
//! blocks in flight and the files open at once, not by the input.
//!
//! What an export promises (docs/robustness.md lists the tests that hold it):
//! rows written equal records taken, checked before the export reports
//! success; nothing is written, deleted or followed outside the output folder;
//! a killed export leaves a manifest marked incomplete that a later
//! `overwrite` cleans up; two exports cannot write one folder at once.

pub mod athena;
pub mod layout;
mod output;
mod part;
mod partition;
mod writer;

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde::Serialize;

use crate::display::path_text;
use crate::schema::Schema;
use crate::source::Discovery;

pub use layout::{ColumnType, Dataset, Layout};
pub use output::{DDL_FILES, LOCK, MANIFEST};
pub use part::{Encoder, ExportPart};
pub use partition::{valid_account, valid_region, Fallbacks, FALLBACK_TIME, FIRST_YEAR, UNKNOWN};

use output::{ListedFile, Manifest, OutDir};
use part::Shared;
use writer::Files;

/// How output files are split into folders.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Partition {
    /// All files in the dataset's root.
    None,
    /// `…/year=/month=/day=`.
    Day,
    /// `…/year=/month=/day=/hour=` (AWS's hourly layout).
    #[default]
    Hour,
}

/// Parquet compression codec.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Codec {
    /// Snappy: fast, read everywhere.
    #[default]
    Snappy,
    /// Zstandard (level 3): smaller files.
    Zstd,
    /// Gzip (level 6): what AWS's own Parquet delivery uses.
    Gzip,
    /// No compression.
    Uncompressed,
}

/// Export settings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ExportOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Partition layout.
    pub partition: Partition,
    /// Compression.
    pub codec: Codec,
    /// A file is closed once it reaches about this many bytes.
    pub target_file_bytes: u64,
    /// Rows per row group.
    pub row_group_rows: usize,
    /// Replace a previous flowscan export in `out`.
    pub overwrite: bool,
    /// The account for records whose path and record carry no valid one.
    pub default_account: Option<String>,
    /// The region for records whose path and record carry no valid one.
    pub default_region: Option<String>,
}

impl ExportOptions {
    /// Settings for an export to `out`, with the defaults.
    pub fn new(out: impl Into<PathBuf>) -> ExportOptions {
        ExportOptions {
            out: out.into(),
            partition: Partition::Hour,
            codec: Codec::Snappy,
            target_file_bytes: 128 << 20,
            row_group_rows: 128 * 1024,
            overwrite: false,
            default_account: None,
            default_region: None,
        }
    }
}

/// Why an export could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The output folder holds files and `overwrite` was not set.
    #[error("{}: the output folder is not empty (a previous flowscan export there can be overwritten)", path_text(.0))]
    Exists(PathBuf),
    /// The output folder holds something no flowscan export wrote.
    #[error("{}: not written by a flowscan export; nothing was deleted", path_text(.0))]
    Foreign(PathBuf),
    /// Another export holds the folder's lock.
    #[error("{}: another flowscan export is writing to this folder", path_text(.0))]
    Busy(PathBuf),
    /// The output folder is, holds, or is inside an input.
    #[error(
        "{}: the output folder overlaps the input {}; choose a folder outside the input",
        path_text(out),
        path_text(input)
    )]
    Overlap {
        /// The output folder.
        out: PathBuf,
        /// The input it overlaps.
        input: PathBuf,
    },
    /// The previous export's manifest lists something it cannot have written.
    #[error("the previous export's manifest cannot be trusted: {0}")]
    Manifest(String),
    /// A default account or region is not a valid one.
    #[error("{0}")]
    Default(String),
    /// Writing failed.
    #[error("{}: {error}", path_text(path))]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// The Parquet writer failed.
    #[error("{}: {message}", path_text(path))]
    Parquet {
        /// Where.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The rows written are not the rows taken: the export is not complete.
    #[error(
        "{written} rows were written for {expected} records read; the export is marked incomplete"
    )]
    Mismatch {
        /// Rows in the files written.
        written: u64,
        /// Records the scan handed over.
        expected: u64,
    },
    /// The export was interrupted; its unfinished files were removed.
    #[error("interrupted: unfinished files removed; the {0} files finished before are listed in {MANIFEST}, marked incomplete")]
    Interrupted(usize),
}

/// A finished Parquet file.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct WrittenFile {
    /// Where it is, relative to the output folder.
    #[serde(serialize_with = "crate::display::ser_path")]
    pub path: PathBuf,
    /// Its dataset.
    pub dataset: Dataset,
    /// Rows in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
}

/// What an export wrote.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Files written, in path order.
    pub files: Vec<WrittenFile>,
    /// Rows of VPC flow logs.
    pub vpc_rows: u64,
    /// Rows of Transit Gateway flow logs.
    pub tgw_rows: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Partition folders written.
    pub partitions: usize,
    /// Account ids of the partitions (`unknown` for the fallback).
    pub accounts: Vec<String>,
    /// Regions of the partitions.
    pub regions: Vec<String>,
    /// First and last year of the partitions (the fallback's 2015 included).
    pub years: Option<(i32, i32)>,
    /// Rows that went to a fallback partition, by reason.
    pub fallbacks: Fallbacks,
    /// The fallback partitions written.
    #[serde(serialize_with = "crate::display::ser_paths")]
    pub fallback_partitions: Vec<PathBuf>,
    /// Column layouts used: more than one per dataset when a header in the
    /// middle of an input named fields the others lack (files then differ in
    /// columns; read them by name).
    pub layouts: usize,
    /// The fields of the VPC table's columns (its latest layout), as header
    /// names: with the partitioning, what writes its definition again.
    pub vpc_fields: Vec<String>,
    /// The same for the Transit Gateway table.
    pub tgw_fields: Vec<String>,
    /// How the files are partitioned.
    pub partition: Partition,
}

/// The columns each dataset starts with: the union of every input file's first
/// format. Formats met later widen them as they appear.
pub fn plan(discovery: &Discovery, fields: Option<&Schema>) -> Vec<Layout> {
    use rayon::prelude::*;
    let schemas: Vec<Schema> = discovery
        .sources
        .par_iter()
        .filter(|s| plannable(s))
        .filter_map(|s| crate::scan::first_schema(&s.path, fields).ok())
        .collect();
    [Dataset::Vpc, Dataset::TransitGateway]
        .into_iter()
        .filter_map(|ds| {
            let of: Vec<&Schema> = schemas.iter().filter(|s| Dataset::of(s) == ds).collect();
            (!of.is_empty()).then(|| Layout::union(ds, of))
        })
        .collect()
}

/// Whether [`plan`] reads a source's header ahead of the scan: a regular
/// file only. Reading a pipe's header (`<(zcat …)`, a FIFO) would consume
/// what the scan then finds missing; standard input and S3 objects are not
/// read twice either.
pub fn plannable(s: &crate::source::Source) -> bool {
    !s.stdin && std::fs::metadata(&s.path).is_ok_and(|m| m.is_file())
}

/// The writing side of an export: takes parts in input order (from
/// [`Scanner::ordered`](crate::Scanner::ordered)), then finishes.
///
/// Dropping it without [`finish`](Exporter::finish) removes the files being
/// written and leaves the manifest marked incomplete.
pub struct Exporter {
    files: Files,
    shared: Arc<Shared>,
}

fn check_default(
    v: &Option<String>,
    ok: fn(&[u8]) -> bool,
    name: &str,
    what: &str,
) -> Result<(), ExportError> {
    match v {
        Some(v) if !ok(v.as_bytes()) => Err(ExportError::Default(format!(
            "the {name} {v:?} is not {what}"
        ))),
        _ => Ok(()),
    }
}

/// Starts an export: checks and locks the output folder (refusing one that
/// overlaps `inputs`), writes the in-progress manifest, and returns the
/// encoder for the scan and the exporter that writes its parts.
pub fn start(
    opts: ExportOptions,
    planned: Vec<Layout>,
    inputs: &[PathBuf],
) -> Result<(Encoder, Exporter), ExportError> {
    check_default(
        &opts.default_account,
        valid_account,
        "default account",
        "an AWS account id (12 digits)",
    )?;
    check_default(
        &opts.default_region,
        valid_region,
        "default region",
        "an AWS region name (such as us-east-1)",
    )?;
    let dir = OutDir::prepare(&opts.out, opts.overwrite, inputs)?;
    let codec = match opts.codec {
        Codec::Snappy => Compression::SNAPPY,
        Codec::Zstd => Compression::ZSTD(ZstdLevel::try_new(3).expect("valid level")),
        Codec::Gzip => Compression::GZIP(GzipLevel::try_new(6).expect("valid level")),
        Codec::Uncompressed => Compression::UNCOMPRESSED,
    };
    let props = WriterProperties::builder()
        .set_compression(codec)
        .set_max_row_group_row_count(Some(opts.row_group_rows.max(1)))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_dictionary_enabled(true)
        .set_created_by(output::writer())
        .build();
    let shared = Arc::new(Shared {
        registry: layout::Registry::new(planned),
        partition: opts.partition,
        default_account: opts.default_account.clone(),
        default_region: opts.default_region.clone(),
    });
    let files = Files::new(dir, props, opts.partition, opts.target_file_bytes.max(1));
    Ok((
        Encoder {
            shared: shared.clone(),
        },
        Exporter { files, shared },
    ))
}

impl Exporter {
    /// Writes one part (call in input order).
    pub fn commit(&mut self, part: ExportPart) -> Result<(), ExportError> {
        self.files.commit(part)
    }

    /// The output folder.
    pub fn out(&self) -> &Path {
        &self.files.dir.root
    }

    /// Closes every file, checks that the rows written are the `expected`
    /// records the scan handed over, then writes the table definitions and,
    /// last, the manifest marked complete.
    pub fn finish(mut self, location: &str, expected: u64) -> Result<ExportSummary, ExportError> {
        self.files.close_all()?;
        let written: u64 = self.files.closed.iter().sum();
        let committed: u64 = self.files.committed.iter().sum();
        if written != committed || written != expected {
            let summary = self.summary();
            self.write_manifest(&summary, false)?;
            return Err(ExportError::Mismatch { written, expected });
        }
        // Complete: the previous export it replaces can go, its DDL files
        // too (this one's are written next).
        self.files.dir.replace_previous()?;
        let summary = self.summary();
        for layout in self.shared.registry.latest() {
            let ds = layout.dataset;
            let (name, table, loc) = match ds {
                Dataset::Vpc => (
                    DDL_FILES[0],
                    ds.table(),
                    location.trim_end_matches('/').to_string(),
                ),
                Dataset::TransitGateway => (
                    DDL_FILES[1],
                    ds.table(),
                    format!("{}/{}", location.trim_end_matches('/'), ds.root()),
                ),
            };
            let text = athena::ddl(
                &layout,
                &athena::TableSpec {
                    table,
                    location: &loc,
                    partition: self.files.partition,
                    accounts: &summary.accounts,
                    regions: &summary.regions,
                },
            );
            self.files.dir.write_atomic(name, text.as_bytes())?;
        }
        self.write_manifest(&summary, true)?;
        Ok(summary)
    }

    /// Ends an export that read nothing: its files are deleted and the
    /// folder left as it was found, a previous export (with `overwrite`)
    /// whole and still listed by its own manifest.
    pub fn abandon(mut self) -> Result<(), ExportError> {
        self.files.discard_open();
        for f in &self.files.written {
            let p = self.files.dir.root.join(&f.path);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(ExportError::Io { path: p, error }),
            }
        }
        self.files.dir.restore_previous()
    }

    /// Ends an interrupted export: removes the files being written, lists the
    /// finished ones in the manifest, marked incomplete.
    pub fn interrupt(mut self) -> ExportError {
        self.files.discard_open();
        let summary = self.summary();
        if let Err(e) = self.write_manifest(&summary, false) {
            return e;
        }
        ExportError::Interrupted(summary.files.len())
    }

    /// Ends a failed export like an interrupted one, keeping `e` as the error.
    pub fn fail(self, e: ExportError) -> ExportError {
        let _ = self.interrupt();
        e
    }

    fn write_manifest(&self, s: &ExportSummary, complete: bool) -> Result<(), ExportError> {
        let mut rest = match serde_json::to_value(s) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        rest.remove("files");
        let files = s
            .files
            .iter()
            .map(|f| ListedFile {
                path: f.path.clone(),
                rest: match serde_json::to_value(f) {
                    Ok(serde_json::Value::Object(mut m)) => {
                        m.remove("path");
                        m
                    }
                    _ => serde_json::Map::new(),
                },
            })
            .collect();
        self.files.dir.write_manifest(&Manifest {
            writer: output::writer(),
            run: self.files.dir.run.clone(),
            complete,
            files,
            replacing: self.files.dir.replacing.clone(),
            rest,
        })
    }

    fn summary(&self) -> ExportSummary {
        let latest = self.shared.registry.latest();
        let fields = |ds: Dataset| -> Vec<String> {
            latest
                .iter()
                .filter(|l| l.dataset == ds)
                .flat_map(|l| l.columns.iter().map(|c| c.source.name().to_string()))
                .collect()
        };
        let mut files = self.files.written.clone();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut dirs = BTreeSet::new();
        let mut accounts = BTreeSet::new();
        let mut regions = BTreeSet::new();
        let mut years: Option<(i32, i32)> = None;
        for f in &files {
            if let Some(d) = f.path.parent() {
                dirs.insert(d.to_path_buf());
            }
            for c in f.path.components() {
                let c = c.as_os_str().to_string_lossy();
                if let Some(a) = c.strip_prefix("aws-account-id=") {
                    accounts.insert(a.to_string());
                } else if let Some(r) = c.strip_prefix("aws-region=") {
                    regions.insert(r.to_string());
                } else if let Some(y) = c.strip_prefix("year=").and_then(|y| y.parse::<i32>().ok())
                {
                    years = Some(years.map_or((y, y), |(a, b)| (a.min(y), b.max(y))));
                }
            }
        }
        ExportSummary {
            bytes: files.iter().map(|f| f.bytes).sum(),
            vpc_rows: self.files.closed[0],
            tgw_rows: self.files.closed[1],
            partitions: dirs.len(),
            accounts: accounts.into_iter().collect(),
            regions: regions.into_iter().collect(),
            years,
            fallbacks: self.files.fallbacks,
            fallback_partitions: self.files.fallback_dirs.iter().cloned().collect(),
            layouts: self.shared.registry.len(),
            vpc_fields: fields(Dataset::Vpc),
            tgw_fields: fields(Dataset::TransitGateway),
            partition: self.files.partition,
            files,
        }
    }
}
