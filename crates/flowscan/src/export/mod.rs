//! Parquet export: flow logs as Athena, Trino, Spark and DuckDB read them.
//!
//! Columns carry AWS's names and Parquet types ([`layout`]); files land in
//! Hive-style partitions following AWS's own prefixes
//! (`AWSLogs/aws-account-id=…/aws-service=vpcflowlogs/aws-region=…/year=…/month=…/day=…[/hour=…]`),
//! chosen by each record's start time; [`athena`] writes the matching table.
//!
//! The export is an [`Aggregate`]: every scan worker appends records to small
//! Arrow batches ([`ExportSink`]) and hands full batches to Parquet writers held per
//! worker thread ([`Exporter`]). Memory is bounded by the batch size, the row
//! group size and the number of files open at once, not by the input. Each file is
//! written under a hidden temporary name and renamed when complete.

pub mod athena;
pub mod layout;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use serde::Serialize;

use crate::aggregate::Aggregate;
use crate::parse::{check_int, decode_addr, decode_int, is_missing, ValueError};
use crate::record::{FlowRecord, Value};
use crate::schema::{Column, Field, FieldSet, Kind, Schema};
use crate::source::Discovery;

pub use layout::{ColumnType, Dataset, Layout};

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
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            out: PathBuf::from("parquet"),
            partition: Partition::Hour,
            codec: Codec::Snappy,
            target_file_bytes: 128 << 20,
            row_group_rows: 128 * 1024,
            overwrite: false,
        }
    }
}

/// Why an export could not be done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The output folder holds files and `overwrite` was not set.
    #[error("{}: output folder is not empty (use --overwrite to replace a previous flowscan export)", .0.display())]
    Exists(PathBuf),
    /// The output folder holds files that no flowscan export wrote.
    #[error("{}: not a flowscan export (no {MANIFEST}); refusing to delete its files", .0.display())]
    Foreign(PathBuf),
    /// Writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The export was interrupted (Ctrl-C); its incomplete files were removed.
    #[error("interrupted: incomplete files removed; the {0} files finished before are listed in {MANIFEST}")]
    Interrupted(usize),
    /// The Parquet writer failed.
    #[error("{}: {message}", path.display())]
    Parquet {
        /// Where.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The file listing what an export wrote, so that `--overwrite` deletes exactly that.
pub const MANIFEST: &str = "_flowscan_export.json";

/// The columns each dataset will have: the union of every input file's format.
/// Files whose format cannot be told are left out here and reported by the scan.
pub fn plan(discovery: &Discovery, fields: Option<&Schema>) -> Vec<Layout> {
    use rayon::prelude::*;
    let schemas: Vec<Schema> = discovery
        .sources
        .par_iter()
        .filter(|s| !s.stdin)
        .filter_map(|s| crate::scan::first_schema(s, fields).ok())
        .collect();
    let mut layouts = Vec::new();
    for ds in [Dataset::Vpc, Dataset::TransitGateway] {
        let of: Vec<&Schema> = schemas.iter().filter(|s| Dataset::of(s) == ds).collect();
        if !of.is_empty() {
            layouts.push(Layout::union(ds, of));
        }
    }
    if discovery.sources.iter().any(|s| s.stdin) {
        // Standard input cannot be read twice: plan for the format `--fields`
        // names, or the default one, besides whatever the files declare.
        let s = fields.cloned().unwrap_or_else(Schema::default_v2);
        let ds = Dataset::of(&s);
        match layouts.iter_mut().find(|l| l.dataset == ds) {
            Some(l) => {
                let mut all: Vec<Schema> = vec![s];
                all.extend(schemas.iter().filter(|x| Dataset::of(x) == ds).cloned());
                *l = Layout::union(ds, all.iter());
            }
            None => layouts.push(Layout::union(ds, [&s])),
        }
    }
    layouts
}

/// A partition: dataset, account, region and time bucket.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PartKey {
    dataset: Dataset,
    account: String,
    region: String,
    /// Unix seconds of the bucket's start; `None` when the record has no time.
    bucket: Option<u64>,
}

/// Hive's name for a partition whose value is missing.
const NO_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// A Parquet file being written.
struct OpenFile {
    key: PartKey,
    writer: ArrowWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
}

/// A finished Parquet file.
#[derive(Clone, Debug, Serialize)]
pub struct WrittenFile {
    /// Where it is, relative to the output folder.
    pub path: PathBuf,
    /// Its dataset.
    pub dataset: Dataset,
    /// Rows in it.
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
}

/// Files open in one worker thread.
#[derive(Default)]
struct Slot {
    open: Vec<OpenFile>,
}

/// At most this many files are open per worker thread; the oldest is closed to
/// make room (so memory stays bounded whatever the partitioning).
const MAX_OPEN: usize = 4;
/// Rows per Arrow batch handed to a writer.
const BATCH_ROWS: usize = 8192;

/// The shared side of an export: the output folder and the writers.
pub struct Exporter {
    opts: ExportOptions,
    layouts: Vec<(Layout, SchemaRef)>,
    props: WriterProperties,
    slots: Vec<Mutex<Slot>>,
    next_file: AtomicU64,
    written: Mutex<Vec<WrittenFile>>,
    failure: Mutex<Option<ExportError>>,
    failed: AtomicBool,
    rows: [AtomicU64; 2],
    dropped_columns: AtomicU64,
}

/// What an export wrote.
#[derive(Clone, Debug, Serialize)]
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
    /// Values dropped because a header in the middle of a file named a field that
    /// no file's first header had (their columns were not planned).
    pub dropped_values: u64,
    /// Account ids seen in partitions.
    pub accounts: Vec<String>,
    /// Regions seen in partitions.
    pub regions: Vec<String>,
    /// First and last year seen in partitions.
    pub years: Option<(i32, i32)>,
}

impl Exporter {
    /// Prepares the output folder and the writers for `layouts` (from [`plan`]).
    /// Call from inside the rayon pool that will run the scan.
    pub fn create(opts: ExportOptions, layouts: Vec<Layout>) -> Result<Exporter, ExportError> {
        prepare_output(&opts.out, opts.overwrite)?;
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
            .set_created_by(format!("flowscan {}", env!("CARGO_PKG_VERSION")))
            .build();
        let layouts = layouts
            .into_iter()
            .map(|l| {
                let s = l.arrow_schema();
                (l, s)
            })
            .collect();
        Ok(Exporter {
            opts,
            layouts,
            props,
            slots: (0..rayon::current_num_threads() + 1)
                .map(|_| Mutex::default())
                .collect(),
            next_file: AtomicU64::new(0),
            written: Mutex::default(),
            failure: Mutex::default(),
            failed: AtomicBool::new(false),
            rows: [AtomicU64::new(0), AtomicU64::new(0)],
            dropped_columns: AtomicU64::new(0),
        })
    }

    /// The layouts being written.
    pub fn layouts(&self) -> impl Iterator<Item = &Layout> {
        self.layouts.iter().map(|(l, _)| l)
    }

    /// A sink for one scan worker.
    pub fn sink(&self) -> ExportSink<'_> {
        ExportSink {
            ex: self,
            path_account: None,
            path_region: None,
            batches: Vec::new(),
            last: None,
            maps: Vec::new(),
            cells: Vec::new(),
        }
    }

    fn fail(&self, e: ExportError) {
        let mut f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        if f.is_none() {
            *f = Some(e);
        }
        self.failed.store(true, Ordering::Relaxed);
    }

    fn slot(&self) -> &Mutex<Slot> {
        let i = rayon::current_thread_index()
            .map_or(self.slots.len() - 1, |i| i.min(self.slots.len() - 1));
        &self.slots[i]
    }

    fn dir_of(&self, key: &PartKey) -> PathBuf {
        let mut d = self.opts.out.join(key.dataset.root());
        if self.opts.partition == Partition::None {
            return d;
        }
        d.push("AWSLogs");
        d.push(format!("aws-account-id={}", key.account));
        d.push("aws-service=vpcflowlogs");
        d.push(format!("aws-region={}", key.region));
        match key
            .bucket
            .and_then(|b| chrono::DateTime::from_timestamp(b as i64, 0))
        {
            Some(t) => {
                d.push(t.format("year=%Y").to_string());
                d.push(t.format("month=%m").to_string());
                d.push(t.format("day=%d").to_string());
                if self.opts.partition == Partition::Hour {
                    d.push(t.format("hour=%H").to_string());
                }
            }
            None => {
                for k in ["year", "month", "day"] {
                    d.push(format!("{k}={NO_VALUE}"));
                }
                if self.opts.partition == Partition::Hour {
                    d.push(format!("hour={NO_VALUE}"));
                }
            }
        }
        d
    }

    fn open(&self, key: PartKey, schema: SchemaRef) -> Result<OpenFile, ExportError> {
        let dir = self.dir_of(&key);
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        let name = format!("part-{n:05}.parquet");
        let path = dir.join(&name);
        // Hidden while incomplete: engines and flowscan itself skip dot-files.
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = File::create(&tmp).map_err(io_err(&tmp))?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            schema,
            Some(self.props.clone()),
        )
        .map_err(|e| ExportError::Parquet {
            path: tmp.clone(),
            message: e.to_string(),
        })?;
        Ok(OpenFile {
            key,
            writer,
            tmp,
            path,
            rows: 0,
        })
    }

    fn close(&self, f: OpenFile) -> Result<(), ExportError> {
        let OpenFile {
            key,
            writer,
            tmp,
            path,
            rows,
        } = f;
        let res = writer
            .into_inner()
            .map_err(|e| ExportError::Parquet {
                path: tmp.clone(),
                message: e.to_string(),
            })
            .and_then(|w| w.into_inner().map_err(|e| io_err(&tmp)(e.into_error())))
            .and_then(|file| file.sync_all().map_err(io_err(&tmp)));
        if let Err(e) = res {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        let bytes = fs::metadata(&path).map_err(io_err(&path))?.len();
        let rel = path
            .strip_prefix(&self.opts.out)
            .unwrap_or(&path)
            .to_path_buf();
        self.written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(WrittenFile {
                path: rel,
                dataset: key.dataset,
                rows,
                bytes,
            });
        Ok(())
    }

    /// Writes a full batch to the current thread's file for `key`.
    fn write(&self, key: &PartKey, batch: RecordBatch) {
        if self.failed.load(Ordering::Relaxed) {
            return;
        }
        let schema = batch.schema();
        let rows = batch.num_rows() as u64;
        let mut slot = self.slot().lock().unwrap_or_else(|p| p.into_inner());
        let i = match slot.open.iter().position(|f| &f.key == key) {
            Some(i) => i,
            None => {
                if slot.open.len() >= MAX_OPEN {
                    let oldest = slot.open.remove(0);
                    if let Err(e) = self.close(oldest) {
                        return self.fail(e);
                    }
                }
                match self.open(key.clone(), schema) {
                    Ok(f) => {
                        slot.open.push(f);
                        slot.open.len() - 1
                    }
                    Err(e) => return self.fail(e),
                }
            }
        };
        let f = &mut slot.open[i];
        if let Err(e) = f.writer.write(&batch) {
            let path = f.tmp.clone();
            return self.fail(ExportError::Parquet {
                path,
                message: e.to_string(),
            });
        }
        f.rows += rows;
        self.rows[(key.dataset == Dataset::TransitGateway) as usize]
            .fetch_add(rows, Ordering::Relaxed);
        let size = (f.writer.bytes_written() + f.writer.in_progress_size()) as u64;
        if size >= self.opts.target_file_bytes {
            let f = slot.open.remove(i);
            if let Err(e) = self.close(f) {
                self.fail(e);
            }
        }
    }

    /// Flushes `last` (the scan's merged sink), closes every file, and writes the
    /// manifest and the Athena DDL beside the data. On failure, removes every
    /// incomplete file and returns the first error.
    pub fn finish(
        &self,
        last: ExportSink<'_>,
        location: &str,
    ) -> Result<ExportSummary, ExportError> {
        drop(last);
        self.close_all();
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let summary = self.summarise(self.take_written());
        write_manifest(&self.opts.out, &summary, failure.is_none())?;
        if let Some(e) = failure {
            return Err(e);
        }
        self.write_ddl(&summary, location)?;
        Ok(summary)
    }

    /// Ends an interrupted export: removes every file still being written,
    /// keeps the finished ones and lists them in the manifest, marked
    /// incomplete.
    pub fn interrupt(&self, last: ExportSink<'_>) -> ExportError {
        // Nothing more is written: pending batches are dropped, not flushed.
        self.failed.store(true, Ordering::Relaxed);
        drop(last);
        self.close_all();
        let summary = self.summarise(self.take_written());
        if let Err(e) = write_manifest(&self.opts.out, &summary, false) {
            return e;
        }
        ExportError::Interrupted(summary.files.len())
    }

    fn take_written(&self) -> Vec<WrittenFile> {
        let mut files =
            std::mem::take(&mut *self.written.lock().unwrap_or_else(|p| p.into_inner()));
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }

    /// Closes every open file or, after a failure, deletes it.
    fn close_all(&self) {
        for slot in &self.slots {
            let open = std::mem::take(&mut slot.lock().unwrap_or_else(|p| p.into_inner()).open);
            for f in open {
                if self.failed.load(Ordering::Relaxed) {
                    let _ = fs::remove_file(&f.tmp);
                } else if let Err(e) = self.close(f) {
                    self.fail(e);
                }
            }
        }
    }

    fn write_ddl(&self, summary: &ExportSummary, location: &str) -> Result<(), ExportError> {
        for (layout, _) in &self.layouts {
            let ds = layout.dataset;
            let name = match ds {
                Dataset::Vpc => "_athena_vpc_flow_logs.sql",
                Dataset::TransitGateway => "_athena_tgw_flow_logs.sql",
            };
            let loc = match ds {
                Dataset::Vpc => location.trim_end_matches('/').to_string(),
                Dataset::TransitGateway => {
                    format!("{}/transit-gateway", location.trim_end_matches('/'))
                }
            };
            let text = athena::ddl(
                layout,
                &athena::TableSpec {
                    table: match ds {
                        Dataset::Vpc => "vpc_flow_logs",
                        Dataset::TransitGateway => "tgw_flow_logs",
                    },
                    location: &loc,
                    partition: self.opts.partition,
                    accounts: &summary.accounts,
                    regions: &summary.regions,
                    years: summary.years.unwrap_or((2015, 2100)),
                },
            );
            let p = self.opts.out.join(name);
            fs::write(&p, text).map_err(io_err(&p))?;
        }
        Ok(())
    }

    fn summarise(&self, files: Vec<WrittenFile>) -> ExportSummary {
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
            vpc_rows: self.rows[0].load(Ordering::Relaxed),
            tgw_rows: self.rows[1].load(Ordering::Relaxed),
            partitions: dirs.len(),
            dropped_values: self.dropped_columns.load(Ordering::Relaxed),
            accounts: accounts.into_iter().filter(|a| a != NO_VALUE).collect(),
            regions: regions.into_iter().filter(|r| r != NO_VALUE).collect(),
            years,
            files,
        }
    }
}

/// Refuses a non-empty output folder unless `overwrite`; with it, deletes what
/// the previous export's manifest lists, and nothing else.
fn prepare_output(out: &Path, overwrite: bool) -> Result<(), ExportError> {
    match fs::read_dir(out) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return fs::create_dir_all(out).map_err(io_err(out));
        }
        Err(e) => return Err(io_err(out)(e)),
        Ok(mut entries) => {
            if entries.next().is_none() {
                return check_writable(out);
            }
        }
    }
    if !overwrite {
        return Err(ExportError::Exists(out.to_path_buf()));
    }
    let manifest = out.join(MANIFEST);
    let text =
        fs::read_to_string(&manifest).map_err(|_| ExportError::Foreign(out.to_path_buf()))?;
    let old: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| ExportError::Foreign(out.to_path_buf()))?;
    let listed = old["files"].as_array().cloned().unwrap_or_default();
    for f in listed {
        if let Some(p) = f["path"].as_str() {
            let p = out.join(p);
            match fs::remove_file(&p) {
                Ok(()) => remove_empty_parents(out, &p),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&p)(e)),
            }
        }
    }
    for name in [
        MANIFEST,
        "_athena_vpc_flow_logs.sql",
        "_athena_tgw_flow_logs.sql",
    ] {
        let _ = fs::remove_file(out.join(name));
    }
    check_writable(out)
}

fn check_writable(out: &Path) -> Result<(), ExportError> {
    let probe = out.join(".flowscan-write-test");
    fs::write(&probe, b"").map_err(io_err(out))?;
    let _ = fs::remove_file(probe);
    Ok(())
}

fn remove_empty_parents(root: &Path, file: &Path) {
    let mut d = file.parent();
    while let Some(dir) = d {
        if dir == root || fs::remove_dir(dir).is_err() {
            break;
        }
        d = dir.parent();
    }
}

fn write_manifest(out: &Path, s: &ExportSummary, complete: bool) -> Result<(), ExportError> {
    #[derive(Serialize)]
    struct Manifest<'a> {
        writer: String,
        complete: bool,
        #[serde(flatten)]
        summary: &'a ExportSummary,
    }
    let m = Manifest {
        writer: format!("flowscan {}", env!("CARGO_PKG_VERSION")),
        complete,
        summary: s,
    };
    let p = out.join(MANIFEST);
    let text = serde_json::to_string_pretty(&m).expect("serialisable");
    fs::write(&p, text).map_err(io_err(&p))
}

/// Column builders of one partition's pending batch.
enum Builder {
    I32(Int32Builder),
    I64(Int64Builder),
    Str(StringBuilder),
}

struct Batch {
    key: PartKey,
    layout: usize,
    cols: Vec<Builder>,
    rows: usize,
}

impl Batch {
    fn new(key: PartKey, layout: usize, l: &Layout) -> Batch {
        let cols = l
            .columns
            .iter()
            .map(|c| match c.ty {
                ColumnType::Int32 => Builder::I32(Int32Builder::with_capacity(BATCH_ROWS)),
                ColumnType::Int64 => Builder::I64(Int64Builder::with_capacity(BATCH_ROWS)),
                ColumnType::Utf8 => {
                    Builder::Str(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16))
                }
            })
            .collect();
        Batch {
            key,
            layout,
            cols,
            rows: 0,
        }
    }

    fn finish(&mut self, schema: &SchemaRef) -> RecordBatch {
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    Builder::I32(b) => Arc::new(b.finish()),
                    Builder::I64(b) => Arc::new(b.finish()),
                    Builder::Str(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        RecordBatch::try_new(schema.clone(), arrays).expect("builders match the layout")
    }
}

/// How one input format maps onto a layout.
struct Mapping {
    /// The format's [`Schema::id`].
    schema: u64,
    layout: usize,
    cols: Vec<Option<usize>>,
    /// Columns of the format that the layout does not have.
    unplanned: u64,
}

/// One worker's side of an export: pending batches per partition.
pub struct ExportSink<'e> {
    ex: &'e Exporter,
    path_account: Option<Arc<str>>,
    path_region: Option<Arc<str>>,
    batches: Vec<Batch>,
    last: Option<usize>,
    maps: Vec<Mapping>,
    cells: Vec<Cell>,
}

impl ExportSink<'_> {
    fn mapping(&mut self, schema: &Schema) -> Option<usize> {
        let ptr = schema.id();
        if let Some(i) = self.maps.iter().position(|m| m.schema == ptr) {
            return Some(i);
        }
        let ds = Dataset::of(schema);
        let layout = self.ex.layouts.iter().position(|(l, _)| l.dataset == ds)?;
        let l = &self.ex.layouts[layout].0;
        let cols = l.mapping(schema);
        let used = cols.iter().flatten().count();
        self.maps.push(Mapping {
            schema: ptr,
            layout,
            cols,
            unplanned: (schema.len() - used) as u64,
        });
        Some(self.maps.len() - 1)
    }

    fn flush(&mut self, i: usize) {
        let schema = self.ex.layouts[self.batches[i].layout].1.clone();
        let batch = self.batches[i].finish(&schema);
        let key = self.batches[i].key.clone();
        self.ex.write(&key, batch);
    }

    fn bucket(&self, t: Option<u64>) -> Option<u64> {
        let width = match self.ex.opts.partition {
            Partition::None => return Some(0),
            Partition::Day => 86_400,
            Partition::Hour => 3600,
        };
        t.map(|t| t - t % width)
    }
}

/// Reads `AWSLogs/<account>/vpcflowlogs/<region>/…` or the Hive form
/// `aws-account-id=<account>/…/aws-region=<region>/…` from a path.
pub fn account_region_of(path: &Path) -> (Option<String>, Option<String>) {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let mut account = None;
    let mut region = None;
    for (i, p) in parts.iter().enumerate() {
        if let Some(a) = p.strip_prefix("aws-account-id=") {
            account = Some(a.to_string());
        } else if let Some(r) = p.strip_prefix("aws-region=") {
            region = Some(r.to_string());
        } else if p == "AWSLogs" && parts.get(i + 2).is_some_and(|s| s == "vpcflowlogs") {
            account = parts.get(i + 1).cloned();
            region = parts.get(i + 3).cloned();
        }
    }
    (account, region)
}

/// What pass one found in a column: appended in pass two.
#[derive(Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    /// Text to re-read from the record (already checked).
    Text,
    /// Text that is not UTF-8, in a column flowscan does not know: written with
    /// U+FFFD in place of the bad bytes.
    Lossy,
}

fn check_text(t: &[u8], known: bool) -> Result<Cell, &'static str> {
    if is_missing(t) {
        Ok(Cell::Null)
    } else if std::str::from_utf8(t).is_ok() {
        Ok(Cell::Text)
    } else if known {
        Err("invalid UTF-8 in")
    } else {
        Ok(Cell::Lossy)
    }
}

impl Aggregate for ExportSink<'_> {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn begin_file(&mut self, path: &Path) {
        let (a, r) = account_region_of(path);
        self.path_account = a.map(Arc::from);
        self.path_region = r.map(Arc::from);
    }

    fn add<R: FlowRecord>(&mut self, r: &R) -> Result<(), ValueError> {
        let Some(m) = self.mapping(r.schema()) else {
            return Ok(());
        };
        let ex = self.ex;
        let layout_idx = self.maps[m].layout;
        let layout = &ex.layouts[layout_idx].0;
        // Pass one: decode and check every value, so that a bad one leaves the
        // batches untouched.
        self.cells.clear();
        for (src, out) in self.maps[m].cols.iter().zip(&layout.columns) {
            let Some(src) = *src else {
                self.cells.push(Cell::Null);
                continue;
            };
            let field = match out.source {
                Column::Known(f) => Some(f),
                Column::Other(_) => None,
            };
            let cell = match (r.value(src), field) {
                (Value::Null, _) => Cell::Null,
                (Value::Text(t), Some(f)) => match f.kind() {
                    Kind::Int32 | Kind::Int64 => match decode_int(f, t)? {
                        Some(v) => Cell::Int(v as i64),
                        None => Cell::Null,
                    },
                    Kind::Addr => match decode_addr(f, t)? {
                        Some(_) => Cell::Text,
                        None => Cell::Null,
                    },
                    Kind::Text => check_text(t, true).map_err(|p| ValueError::new(f, p, t))?,
                },
                (Value::Text(t), None) => check_text(t, false).unwrap_or(Cell::Lossy),
                (Value::Int(v), Some(f)) if matches!(f.kind(), Kind::Int32 | Kind::Int64) => {
                    let u = u64::try_from(v).map_err(|_| {
                        ValueError::new(f, "negative number", v.to_string().as_bytes())
                    })?;
                    Cell::Int(check_int(f, u)? as i64)
                }
                // A number in a text column (a columnar source typed it): kept as text.
                (Value::Int(v), _) => Cell::Int(v),
            };
            self.cells.push(cell);
        }
        let time = r.int(Field::Start)?.or(r.int(Field::End)?);
        let bucket = self.bucket(time);
        let account: &[u8] = match &self.path_account {
            Some(a) => a.as_bytes(),
            None => r.text(Field::AccountId).unwrap_or(NO_VALUE.as_bytes()),
        };
        let region: &[u8] = match &self.path_region {
            Some(a) => a.as_bytes(),
            None => r.text(Field::Region).unwrap_or(NO_VALUE.as_bytes()),
        };
        let dataset = layout.dataset;
        let same = |k: &PartKey| {
            k.dataset == dataset
                && k.bucket == bucket
                && k.account.as_bytes() == account
                && k.region.as_bytes() == region
        };
        let b = match self.last.filter(|&i| same(&self.batches[i].key)) {
            Some(i) => i,
            None => match self.batches.iter().position(|b| same(&b.key)) {
                Some(i) => i,
                None => {
                    let key = PartKey {
                        dataset,
                        account: String::from_utf8_lossy(account).into_owned(),
                        region: String::from_utf8_lossy(region).into_owned(),
                        bucket,
                    };
                    self.batches.push(Batch::new(key, layout_idx, layout));
                    self.batches.len() - 1
                }
            },
        };
        self.last = Some(b);
        let unplanned = self.maps[m].unplanned;
        if unplanned > 0 {
            ex.dropped_columns.fetch_add(unplanned, Ordering::Relaxed);
        }
        // Pass two: append.
        let batch = &mut self.batches[b];
        let srcs = &self.maps[m].cols;
        for ((cell, col), src) in self.cells.iter().zip(batch.cols.iter_mut()).zip(srcs) {
            let text = || match src.map(|c| r.value(c)) {
                Some(Value::Text(t)) => t,
                _ => &[][..],
            };
            match (col, *cell) {
                (Builder::I32(c), Cell::Int(v)) => c.append_value(v as i32),
                (Builder::I64(c), Cell::Int(v)) => c.append_value(v),
                (Builder::I32(c), _) => c.append_null(),
                (Builder::I64(c), _) => c.append_null(),
                (Builder::Str(c), Cell::Text) => {
                    c.append_value(std::str::from_utf8(text()).unwrap_or_default())
                }
                (Builder::Str(c), Cell::Lossy) => c.append_value(String::from_utf8_lossy(text())),
                (Builder::Str(c), Cell::Int(v)) => c.append_value(v.to_string()),
                (Builder::Str(c), Cell::Null) => c.append_null(),
            }
        }
        batch.rows += 1;
        if batch.rows >= BATCH_ROWS {
            self.flush(b);
        }
        Ok(())
    }

    fn merge(&mut self, mut other: Self) {
        other.flush_all();
    }

    fn should_stop(&self) -> bool {
        self.ex.failed.load(Ordering::Relaxed)
    }
}

impl ExportSink<'_> {
    fn flush_all(&mut self) {
        for i in 0..self.batches.len() {
            if self.batches[i].rows > 0 {
                self.flush(i);
            }
        }
    }
}

impl Drop for ExportSink<'_> {
    fn drop(&mut self) {
        self.flush_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_and_region_from_aws_paths() {
        let p = Path::new("/x/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/24/f.log.gz");
        assert_eq!(
            account_region_of(p),
            (Some("123456789012".into()), Some("eu-west-1".into()))
        );
        let p = Path::new("AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-2/year=2026/x.parquet");
        assert_eq!(
            account_region_of(p),
            (Some("1".into()), Some("us-east-2".into()))
        );
        assert_eq!(account_region_of(Path::new("a/b.log")), (None, None));
    }
}
