//! Driving a scan: every file, every line, into an aggregate, on every core.
//!
//! Files are scanned in parallel; a large plain file is also cut into
//! newline-aligned chunks scanned in parallel. Each worker folds records into its
//! own aggregate, and the aggregates are merged at the end, so no lock is taken
//! per record.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::aggregate::Aggregate;
use crate::cloudwatch::{self, CsvItem, Item, Shape};
use crate::error::{Error, Malformed, Result};
use crate::filter::Filter;
use crate::parse::Tokens;
use crate::record::Record;
use crate::schema::{FieldSet, Schema};
use crate::source::{self, Discovery, Opened, Source};

/// How a scan reads its inputs.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    /// The format of files without a header line (`--fields`). Without it, a
    /// headerless file whose first record has the default format's 14 fields is
    /// read as the default format, and the report says so.
    pub fields: Option<Schema>,
    /// Which records reach the aggregate.
    pub filter: Filter,
    /// Stop at the first malformed line.
    pub strict: bool,
    /// How many malformed lines to keep in full (the rest are counted); 0 means 10.
    pub samples: usize,
    /// The input format, when detection from content should be overridden.
    pub input_format: Option<InputFormat>,
    /// Compressed files at least this large are inflated in a thread of their
    /// own while the pool parses them, when there are few files; 0 means 16 MiB.
    pub pipeline_min: u64,
    /// Stop reading a stream (gzip, standard input) after this many bytes of
    /// text: a defence against decompression bombs. `None`: no limit.
    pub max_inflate: Option<u64>,
}

/// Fails a read once more than `left` bytes have come through.
struct Ceiling<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Ceiling<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other(format!(
                "stopped after {} bytes of text: the --max-inflate limit",
                self.limit
            )));
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Input formats `--input-format` can force.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// Space-separated flow log text.
    Text,
    /// CloudWatch Logs JSON (filter-log-events pages, subscription envelopes,
    /// `{"message":…}` lines).
    CloudwatchJson,
    /// The CloudWatch console's CSV export (`timestamp,message`).
    Csv,
    /// Parquet.
    Parquet,
}

/// Counts the bytes read through it.
struct CountingRead<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// The report for invalid JSON: where, and what was kept.
fn json_problem(e: &cloudwatch::JsonError, slice: Option<&[u8]>, lines: &Lines<'_>) -> String {
    let offset = slice.map(|b| {
        // The start of the error's line, then its column.
        let start = if e.line <= 1 {
            0
        } else {
            memchr::memchr_iter(b'\n', b)
                .nth(e.line - 2)
                .map_or(b.len(), |i| i + 1)
        };
        format!(" (byte {})", start + e.column.saturating_sub(1))
    });
    format!(
        "{e}{}; the {} records before it are counted",
        offset.unwrap_or_default(),
        lines.acc.counts.records
    )
}

/// Told how a scan advances, for progress bars. Called from worker threads.
pub trait Progress: Sync {
    /// `bytes` more on-disk bytes were read.
    fn advance(&self, bytes: u64);
    /// One more file is finished.
    fn file_done(&self);
}

/// Line accounting: `lines = records + headers + blank + malformed + skipped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Lines read.
    pub lines: u64,
    /// Lines that parsed as records (whether or not filters kept them).
    pub records: u64,
    /// Header lines.
    pub headers: u64,
    /// Empty or all-space lines.
    pub blank: u64,
    /// Lines that did not parse.
    pub malformed: u64,
    /// Lines not read because their format lacks a field the command needs.
    pub skipped: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.lines += o.lines;
        self.records += o.records;
        self.headers += o.headers;
        self.blank += o.blank;
        self.malformed += o.malformed;
        self.skipped += o.skipped;
    }
}

/// What became of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum FileStatus {
    /// Read to the end.
    Complete,
    /// Read until an error (a truncated or corrupt gzip stream, an I/O error); the
    /// records before it are counted.
    Incomplete(String),
    /// Not read: not a flow log, or a format that lacks a needed field.
    Skipped(String),
    /// Could not be opened.
    Failed(String),
}

/// The outcome of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileReport {
    /// The path (`-` for standard input).
    pub path: PathBuf,
    /// Size on disk, when known.
    pub size: Option<u64>,
    /// Text bytes parsed (after decompression).
    pub decoded: u64,
    /// Line accounting.
    #[serde(flatten)]
    pub counts: Counts,
    /// Complete, incomplete, skipped or failed.
    #[serde(flatten)]
    pub status: FileStatus,
    /// How the format was chosen when the file had no header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl FileReport {
    /// A report for a source not read yet.
    fn new(src: &Source) -> FileReport {
        FileReport {
            path: src.path.clone(),
            size: src.size,
            decoded: 0,
            counts: Counts::default(),
            status: FileStatus::Complete,
            note: None,
        }
    }
}

/// Everything a scan saw besides the aggregate.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanReport {
    /// One entry per file found, in input order.
    pub files: Vec<FileReport>,
    /// The first malformed lines, in input order.
    pub malformed: Vec<Malformed>,
    /// Sum of the files' counts.
    pub totals: Counts,
    /// Files and folders not opened because their paths show they cannot hold a
    /// wanted record.
    pub pruned: usize,
    /// On-disk bytes of the files read.
    pub bytes: u64,
    /// Text bytes parsed.
    pub decoded: u64,
    /// Wall time of the scan.
    #[serde(serialize_with = "ser_secs")]
    pub elapsed: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl ScanReport {
    /// Files with a given kind of status.
    pub fn count_status(&self, pred: impl Fn(&FileStatus) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.status)).count()
    }

    /// Whether every file that was tried was read to its end.
    pub fn is_complete(&self) -> bool {
        self.files
            .iter()
            .all(|f| !matches!(f.status, FileStatus::Incomplete(_) | FileStatus::Failed(_)))
    }
}

/// Plain files larger than this are cut into chunks scanned in parallel.
const SPLIT_THRESHOLD: usize = 8 << 20;
/// Size of those chunks.
const CHUNK: usize = 4 << 20;
/// Read size for streams.
const BLOCK: usize = 1 << 20;
/// Longest line a stream may have; longer ones are malformed (a slice has no limit).
const MAX_LINE: usize = 16 << 20;

/// A configured scan.
pub struct Scanner<'p> {
    opts: ScanOptions,
    /// The filter, unless it keeps everything (then records skip it entirely).
    filter: Option<Arc<Filter>>,
    progress: Option<&'p dyn Progress>,
    abort: AtomicBool,
    cancel: Option<&'p AtomicBool>,
    /// Files in the current scan.
    files: std::sync::atomic::AtomicUsize,
}

impl<'p> Scanner<'p> {
    /// A scanner with these options.
    pub fn new(opts: ScanOptions) -> Scanner<'p> {
        Scanner {
            filter: (!opts.filter.is_empty()).then(|| Arc::new(opts.filter.clone())),
            opts,
            progress: None,
            abort: AtomicBool::new(false),
            cancel: None,
            files: Default::default(),
        }
    }

    /// Stops the scan soon after `flag` is set (by a signal handler, say): files
    /// not yet begun are reported as not read, and the report says so.
    pub fn with_cancel(mut self, flag: &'p AtomicBool) -> Scanner<'p> {
        self.cancel = Some(flag);
        self
    }

    /// Whether the caller asked the scan to stop.
    fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Whether no more work should start (strict mode tripped, or cancelled).
    fn halted(&self) -> bool {
        self.abort.load(Ordering::Relaxed) || self.cancelled()
    }

    /// Reports progress to `p`.
    pub fn with_progress(mut self, p: &'p dyn Progress) -> Scanner<'p> {
        self.progress = Some(p);
        self
    }

    fn sample_limit(&self) -> usize {
        if self.opts.samples == 0 {
            10
        } else {
            self.opts.samples
        }
    }

    /// Scans every discovered file into aggregates made by `make`, in parallel on
    /// the current rayon pool, and merges them.
    pub fn run<A, F>(&self, discovery: &Discovery, make: F) -> Result<(A, ScanReport)>
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        let started = Instant::now();
        let (needs, reads) = {
            let a = make();
            (
                a.needs().union(self.opts.filter.needs()),
                a.reads().union(self.opts.filter.needs()),
            )
        };
        self.files.store(discovery.sources.len(), Ordering::Relaxed);
        let per = PerThread::new();
        let done: Vec<FileOutcome> = discovery
            .sources
            .par_iter()
            .map(|src| {
                let out = per.with(&make, |agg| self.scan_file(src, needs, reads, agg, &make));
                if let Some(p) = self.progress {
                    p.file_done();
                }
                out
            })
            .collect();
        let agg = per.merged().unwrap_or_else(make);

        let mut report = ScanReport {
            pruned: discovery.pruned,
            ..ScanReport::default()
        };
        for (path, why) in &discovery.problems {
            report.files.push(FileReport {
                status: FileStatus::Failed(why.clone()),
                ..FileReport::new(&Source {
                    path: path.clone(),
                    size: None,
                    stdin: false,
                })
            });
        }
        let limit = self.sample_limit();
        for out in done {
            report.totals.add(&out.report.counts);
            if matches!(
                out.report.status,
                FileStatus::Complete | FileStatus::Incomplete(_)
            ) {
                report.bytes += out.report.size.unwrap_or(0);
            }
            report.decoded += out.report.decoded;
            let room = limit.saturating_sub(report.malformed.len());
            report.malformed.extend(out.samples.into_iter().take(room));
            report.files.push(out.report);
        }
        report.elapsed = started.elapsed();
        if self.opts.strict {
            if let Some(first) = report.malformed.first() {
                return Err(Error::Strict(first.clone()));
            }
        }
        Ok((agg, report))
    }

    /// Whether to inflate a stream in its own thread while the pool parses it:
    /// worth it for a large file when there are too few files to keep every
    /// core busy with a file of its own (and possible only for a file that can
    /// be read again, should a mid-file header require it).
    fn pipeline(&self, src: &Source) -> bool {
        let threads = rayon::current_num_threads();
        !src.stdin
            && threads > 1
            && src.size.is_some_and(|s| s >= self.pipeline_min())
            && self.files.load(Ordering::Relaxed) < 2 * threads
    }

    fn pipeline_min(&self) -> u64 {
        if self.opts.pipeline_min == 0 {
            PIPELINE_MIN
        } else {
            self.opts.pipeline_min
        }
    }

    /// The shape of text, from `--input-format` or its first bytes.
    fn shape(&self, head: &[u8]) -> std::result::Result<Shape, String> {
        match self.opts.input_format {
            None => Ok(cloudwatch::sniff(head)),
            Some(InputFormat::Text) => Ok(Shape::Text),
            Some(InputFormat::CloudwatchJson) => Ok(Shape::Json),
            Some(InputFormat::Csv) => Ok(Shape::Csv),
            Some(InputFormat::Parquet) => Err("not Parquet (--input-format parquet)".into()),
        }
    }

    /// Reads a Parquet flow log row by row through the same accounting as text.
    #[cfg(feature = "parquet")]
    fn scan_parquet<A: Aggregate>(
        &self,
        file: std::fs::File,
        lines: &mut Lines<'_>,
        agg: &mut A,
        reads: FieldSet,
        report: &mut FileReport,
    ) {
        if matches!(self.opts.input_format, Some(f) if f != InputFormat::Parquet) {
            lines.state = State::NotFlowLog("Parquet, not the --input-format given".into());
            return;
        }
        let mut rows = match crate::columnar::open(file, reads) {
            Ok(r) => r,
            Err(why) => {
                lines.state = State::NotFlowLog(why);
                return;
            }
        };
        lines.set_schema(rows.full.clone());
        if !matches!(lines.state, State::Records(_)) {
            return;
        }
        while let Some(batch) = rows.next_batch() {
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    report.status = FileStatus::Incomplete(format!(
                        "Parquet read error after {} rows ({e}); the rows before it are counted",
                        lines.acc.counts.lines
                    ));
                    return;
                }
            };
            for i in 0..batch.len() {
                lines.row(&batch.row(i), agg);
                if lines.stopped() || agg.should_stop() {
                    return;
                }
            }
        }
    }

    #[cfg(not(feature = "parquet"))]
    fn scan_parquet<A: Aggregate>(
        &self,
        _file: std::fs::File,
        lines: &mut Lines<'_>,
        _agg: &mut A,
        _reads: FieldSet,
        _report: &mut FileReport,
    ) {
        lines.state = State::NotFlowLog(
            "Parquet input needs flowscan built with the `parquet` feature".into(),
        );
    }

    fn scan_file<A, F>(
        &self,
        src: &Source,
        needs: FieldSet,
        reads: FieldSet,
        agg: &mut A,
        make: &F,
    ) -> FileOutcome
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        let mut report = FileReport::new(src);
        if self.halted() {
            report.status = FileStatus::Skipped(if self.cancelled() {
                "not read: the scan was interrupted".into()
            } else {
                "not read: strict mode stopped the scan".into()
            });
            return FileOutcome {
                report,
                samples: Vec::new(),
            };
        }
        let consumed = Arc::new(AtomicU64::new(0));
        let opened = match source::open(src, &consumed) {
            Ok(o) => o,
            Err(e) => {
                report.status = FileStatus::Failed(e.to_string());
                return FileOutcome {
                    report,
                    samples: Vec::new(),
                };
            }
        };
        self.scan_opened(src, opened, &consumed, needs, reads, agg, make, report)
    }

    /// Scans one file held in memory (text, CloudWatch JSON or CSV, plain or
    /// gzip, detected as for files on disk) into `agg`, and reports on it. For
    /// embedding and for fuzzing: no file system is involved.
    pub fn scan_bytes<A, F>(
        &self,
        name: &Path,
        bytes: Vec<u8>,
        agg: &mut A,
        make: F,
    ) -> (FileReport, Vec<Malformed>)
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        let (needs, reads) = (
            agg.needs().union(self.opts.filter.needs()),
            agg.reads().union(self.opts.filter.needs()),
        );
        let src = Source {
            path: name.to_path_buf(),
            size: Some(bytes.len() as u64),
            stdin: true,
        };
        let report = FileReport::new(&src);
        let consumed = Arc::new(AtomicU64::new(0));
        let opened = if source::is_gzip(&bytes) {
            Opened::Stream(Box::new(flate2::read::MultiGzDecoder::new(
                std::io::Cursor::new(bytes),
            )))
        } else {
            Opened::Slice(source::Bytes::Owned(bytes))
        };
        let out = self.scan_opened(&src, opened, &consumed, needs, reads, agg, &make, report);
        (out.report, out.samples)
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_opened<A, F>(
        &self,
        src: &Source,
        opened: Opened,
        consumed: &Arc<AtomicU64>,
        needs: FieldSet,
        reads: FieldSet,
        agg: &mut A,
        make: &F,
        mut report: FileReport,
    ) -> FileOutcome
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        agg.begin_file(&src.path);
        let mut lines = Lines::new(self, &src.path, needs);
        match opened {
            Opened::Slice(bytes) => {
                let bytes = bytes.as_ref();
                report.decoded = bytes.len() as u64;
                match self.shape(bytes) {
                    Ok(Shape::Text) => self.scan_slice(bytes, &mut lines, agg, make),
                    Ok(Shape::Json) => {
                        let res = cloudwatch::json_slice(bytes, &mut |item| lines.item(item, agg));
                        if let Err(e) = res {
                            report.status =
                                FileStatus::Incomplete(json_problem(&e, Some(bytes), &lines));
                        }
                    }
                    Ok(Shape::Csv) => {
                        if let Err(e) =
                            cloudwatch::csv_reader(bytes, &mut |item| lines.csv_item(item, agg))
                        {
                            lines.csv_failed(e, &mut report);
                        }
                    }
                    Err(why) => lines.state = State::NotFlowLog(why),
                }
                if let Some(p) = self.progress {
                    if !matches!(self.shape(bytes), Ok(Shape::Text)) {
                        p.advance(bytes.len() as u64);
                    }
                }
            }
            Opened::Parquet(file) => {
                report.decoded = src.size.unwrap_or(0);
                self.scan_parquet(file, &mut lines, agg, reads, &mut report);
                if let Some(p) = self.progress {
                    p.advance(src.size.unwrap_or(0));
                }
            }
            Opened::Stream(reader) => {
                let reader: Box<dyn Read + Send> = match self.opts.max_inflate {
                    Some(limit) => Box::new(Ceiling {
                        inner: reader,
                        left: limit,
                        limit,
                    }),
                    None => reader,
                };
                let mut reader = std::io::BufReader::with_capacity(1 << 16, reader);
                let head = std::io::BufRead::fill_buf(&mut reader).map(<[u8]>::to_vec);
                let shape = match head {
                    Ok(h) => self.shape(&h),
                    Err(e) => Err(format!("read error: {e}")),
                };
                let counted = CountingRead {
                    inner: reader,
                    n: 0,
                };
                let text = matches!(shape, Ok(Shape::Text));
                let (decoded, err) = match shape {
                    Ok(Shape::Text) if self.pipeline(src) => self.scan_stream_pipelined(
                        src,
                        Box::new(counted),
                        &mut lines,
                        agg,
                        make,
                        consumed,
                    ),
                    Ok(Shape::Text) => {
                        self.scan_stream(Box::new(counted), &mut lines, agg, consumed)
                    }
                    Ok(Shape::Json) => {
                        let mut counted = counted;
                        let res = cloudwatch::json_reader(&mut counted, &mut |item| {
                            lines.item(item, agg)
                        });
                        (counted.n, res.err().map(|e| json_problem(&e, None, &lines)))
                    }
                    Ok(Shape::Csv) => {
                        let mut counted = counted;
                        let res = cloudwatch::csv_reader(&mut counted, &mut |item| {
                            lines.csv_item(item, agg)
                        });
                        if let Err(e) = res {
                            lines.csv_failed(e, &mut report);
                        }
                        (counted.n, None)
                    }
                    Err(why) => {
                        lines.state = State::NotFlowLog(why);
                        (0, None)
                    }
                };
                if let Some(p) = self.progress {
                    if !text {
                        p.advance(consumed.load(Ordering::Relaxed));
                    }
                }
                report.decoded = decoded;
                if src.stdin {
                    report.size = Some(consumed.load(Ordering::Relaxed));
                }
                if let Some(e) = err {
                    report.status = FileStatus::Incomplete(e);
                }
            }
        }
        report.counts = lines.acc.counts;
        report.note = lines.note.take();
        match &lines.state {
            State::NotFlowLog(why) => report.status = FileStatus::Skipped(why.clone()),
            State::Unusable(why)
                if lines.acc.counts.records == 0 && lines.acc.counts.malformed == 0 =>
            {
                report.status = FileStatus::Skipped(why.clone())
            }
            _ => {}
        }
        FileOutcome {
            report,
            samples: lines.acc.samples,
        }
    }

    /// Scans a whole file held in memory, in parallel chunks when it is large.
    fn scan_slice<A, F>(&self, bytes: &[u8], lines: &mut Lines<'_>, agg: &mut A, make: &F)
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        // Read sequentially until the format is known (the header or first record).
        let mut pos = 0;
        while pos < bytes.len() && matches!(lines.state, State::Start) {
            let end = memchr::memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
            lines.line(&bytes[pos..end], agg);
            pos = end + 1;
        }
        let advance = |n: usize| {
            if let Some(p) = self.progress {
                p.advance(n as u64);
            }
        };
        if pos >= bytes.len() || lines.stopped() {
            advance(bytes.len());
            return;
        }
        let rest = &bytes[pos..];
        if rest.len() < SPLIT_THRESHOLD || rayon::current_num_threads() == 1 {
            lines.feed(rest, agg);
            advance(bytes.len());
            return;
        }
        advance(pos);
        let chunks = split_at_newlines(rest, CHUNK);
        let (chunk_agg, part) = self.blocks_in_parallel(
            lines,
            chunks.par_iter().copied().enumerate(),
            make,
            &advance,
        );
        if part.diverged {
            // A header in the middle of the file changed the format, so chunks
            // after it were read with the wrong one: read the rest in order.
            lines.feed(rest, agg);
            return;
        }
        if let Some(a) = chunk_agg {
            agg.merge(a);
        }
        lines.absorb(part, self.sample_limit());
    }

    /// Scans numbered newline-aligned blocks of one file in parallel, each from
    /// the format `lines` has reached, into one aggregate per worker thread.
    /// The caller checks [`Part::diverged`] before using the result.
    fn blocks_in_parallel<A, F, B, I>(
        &self,
        lines: &Lines<'_>,
        blocks: I,
        make: &F,
        advance: &(dyn Fn(usize) + Sync),
    ) -> (Option<A>, Part)
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
        B: AsRef<[u8]>,
        I: ParallelIterator<Item = (usize, B)>,
    {
        let start = lines.snapshot();
        let path = lines.path;
        let per = PerThread::new();
        let diverged = AtomicBool::new(false);
        let parts: Vec<Part> = blocks
            .map(|(i, block)| {
                let block = block.as_ref();
                let mut part = Part::default();
                if self.halted() || diverged.load(Ordering::Relaxed) {
                    return part;
                }
                let make_for_file = || {
                    let mut a = make();
                    a.begin_file(path);
                    a
                };
                per.with(&make_for_file, |agg| {
                    let mut l = start.resume(self);
                    l.feed(block, agg);
                    part.diverged = l.diverged;
                    part.counts = l.acc.counts;
                    part.line_counts.push((i, l.acc.counts.lines));
                    part.samples = l.acc.samples.into_iter().map(|m| (i, m)).collect();
                });
                if part.diverged {
                    diverged.store(true, Ordering::Relaxed);
                }
                advance(block.len());
                part
            })
            .collect();
        let mut part = Part::default();
        for p in parts {
            part.merge(p);
        }
        (per.merged(), part)
    }

    /// Reads a file's decompressed text in one thread while the pool parses its
    /// blocks: the inflating thread and the parsing threads overlap, so a single
    /// large gzip file costs about the larger of the two, not their sum. Returns
    /// the bytes decoded and the error that ended the stream early, if any.
    fn scan_stream_pipelined<A, F>(
        &self,
        src: &Source,
        mut reader: Box<dyn Read + Send>,
        lines: &mut Lines<'_>,
        agg: &mut A,
        make: &F,
        consumed: &AtomicU64,
    ) -> (u64, Option<String>)
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        // The first block is read here, in order, to learn the format.
        let mut carry = Vec::new();
        let (first, mut end) = read_block(&mut reader, &mut carry, PIPE_BLOCK);
        let mut decoded = first.len() as u64;
        // Into an aggregate of its own: if the file must be read again, this
        // part must not be counted twice.
        let mut head = make();
        head.begin_file(lines.path);
        lines.feed(&first, &mut head);
        if lines.stopped() || !matches!(lines.state, State::Records(_)) || end.is_some() {
            let out = self.finish_stream(reader, lines, &mut head, consumed, decoded, carry, end);
            agg.merge(head);
            return out;
        }
        let reported = AtomicU64::new(0);
        let advance = |_: usize| {
            if let Some(p) = self.progress {
                let now = consumed.load(Ordering::Relaxed);
                let before = reported.swap(now, Ordering::Relaxed);
                p.advance(now.saturating_sub(before));
            }
        };
        let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(3);
        let mut carry_in = std::mem::take(&mut carry);
        let (chunk_agg, part) = std::thread::scope(|scope| {
            let producer = scope.spawn(move || {
                let mut carry = std::mem::take(&mut carry_in);
                let mut seq = 0usize;
                let mut decoded = 0u64;
                loop {
                    let (block, err) = read_block(&mut reader, &mut carry, PIPE_BLOCK);
                    decoded += block.len() as u64;
                    if !block.is_empty() {
                        if tx.send((seq, block)).is_err() {
                            return (decoded, None, Vec::new());
                        }
                        seq += 1;
                    }
                    if let Some(e) = err {
                        return (decoded, Some(e), std::mem::take(&mut carry));
                    }
                }
            });
            let result =
                self.blocks_in_parallel(lines, rx.into_iter().par_bridge(), make, &advance);
            let (more, e, rest) = producer.join().unwrap_or((
                0,
                Some(StreamEnd::Error("the reading thread failed".into())),
                Vec::new(),
            ));
            decoded += more;
            end = e;
            carry = rest;
            result
        });
        if part.diverged {
            // A header mid-file changed the format, so blocks after it were read
            // with the wrong one: read the whole file again, in order.
            drop(chunk_agg);
            drop(head);
            lines.reset();
            let consumed = Arc::new(AtomicU64::new(0));
            return match source::open(src, &consumed) {
                Ok(Opened::Stream(r)) => self.scan_stream(r, lines, agg, &consumed),
                Ok(_) => (decoded, Some("the file changed while being read".into())),
                Err(e) => (decoded, Some(format!("could not read the file again: {e}"))),
            };
        }
        agg.merge(head);
        if let Some(a) = chunk_agg {
            agg.merge(a);
        }
        lines.absorb(part, self.sample_limit());
        advance(0);
        match end {
            Some(StreamEnd::Error(e)) => {
                if !carry.is_empty() {
                    lines.cut_short(&carry);
                }
                (
                    decoded,
                    Some(format!(
                        "read error after {decoded} bytes of text ({e}); the records before it are counted"
                    )),
                )
            }
            _ => (decoded, None),
        }
    }

    /// Finishes, in order, a stream whose first block ended it or did not show
    /// a format to read in parallel.
    #[allow(clippy::too_many_arguments)]
    fn finish_stream<A: Aggregate>(
        &self,
        reader: Box<dyn Read + Send>,
        lines: &mut Lines<'_>,
        agg: &mut A,
        consumed: &AtomicU64,
        decoded: u64,
        carry: Vec<u8>,
        end: Option<StreamEnd>,
    ) -> (u64, Option<String>) {
        match end {
            Some(StreamEnd::Eof) => (decoded, None),
            Some(StreamEnd::Error(e)) => {
                if !carry.is_empty() && !lines.stopped() {
                    lines.cut_short(&carry);
                }
                (
                    decoded,
                    Some(format!(
                        "read error after {decoded} bytes of text ({e}); the records before it are counted"
                    )),
                )
            }
            None if lines.stopped() => (decoded, None),
            None => {
                let rest: Box<dyn Read + Send> =
                    Box::new(std::io::Cursor::new(carry).chain(reader));
                let (more, err) = self.scan_stream(rest, lines, agg, consumed);
                (decoded + more, err)
            }
        }
    }

    /// Scans a stream block by block; returns the bytes decoded and the error that
    /// ended it early, if any.
    fn scan_stream<A: Aggregate>(
        &self,
        mut reader: Box<dyn Read + Send>,
        lines: &mut Lines<'_>,
        agg: &mut A,
        consumed: &AtomicU64,
    ) -> (u64, Option<String>) {
        let mut buf = vec![0u8; BLOCK];
        let mut filled = 0;
        let mut decoded = 0u64;
        let mut reported = 0u64;
        let mut skipping_long = false;
        let error = loop {
            if filled == buf.len() {
                if buf.len() < MAX_LINE {
                    buf.resize(buf.len() * 2, 0);
                } else {
                    // One line fills the largest buffer: count it once, drop it
                    // through its end.
                    if !skipping_long {
                        lines.too_long(&buf[..256]);
                    }
                    skipping_long = true;
                    filled = 0;
                }
            }
            let n = match reader.read(&mut buf[filled..]) {
                Ok(0) => break None,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Some(e),
            };
            decoded += n as u64;
            let mut from = filled;
            filled += n;
            if skipping_long {
                match memchr::memchr(b'\n', &buf[from..filled]) {
                    Some(i) => {
                        skipping_long = false;
                        buf.copy_within(from + i + 1..filled, 0);
                        filled -= from + i + 1;
                        from = 0;
                    }
                    None => {
                        filled = 0;
                        continue;
                    }
                }
            }
            if let Some(last) = memchr::memrchr(b'\n', &buf[from..filled]) {
                let end = from + last + 1;
                lines.feed(&buf[..end], agg);
                buf.copy_within(end..filled, 0);
                filled -= end;
            }
            if let Some(p) = self.progress {
                let now = consumed.load(Ordering::Relaxed);
                p.advance(now - reported);
                reported = now;
            }
            if lines.stopped() {
                return (decoded, None);
            }
        };
        if let Some(p) = self.progress {
            p.advance(consumed.load(Ordering::Relaxed) - reported);
        }
        match error {
            None => {
                if filled > 0 && !skipping_long {
                    lines.feed(&buf[..filled], agg);
                }
                (decoded, None)
            }
            Some(e) => {
                if filled > 0 && !skipping_long && !lines.stopped() {
                    lines.cut_short(&buf[..filled]);
                }
                let msg = format!(
                    "read error after {decoded} bytes of text ({e}); the records before it are counted"
                );
                (decoded, Some(msg))
            }
        }
    }
}

/// Per-file result of a worker.
struct FileOutcome {
    report: FileReport,
    samples: Vec<Malformed>,
}

/// One aggregate per worker thread, merged once at the end: far fewer merges
/// (and far less memory) than one per rayon split, which matters when an
/// aggregate holds large sets.
struct PerThread<A> {
    slots: Vec<std::sync::Mutex<Option<A>>>,
    /// Aggregates of tasks that found their thread's slot busy: a thread waiting
    /// inside a nested parallel loop can run another task of the outer loop.
    extra: std::sync::Mutex<Vec<A>>,
}

impl<A: Aggregate> PerThread<A> {
    fn new() -> PerThread<A> {
        PerThread {
            slots: (0..rayon::current_num_threads().max(1))
                .map(|_| std::sync::Mutex::new(None))
                .collect(),
            extra: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on this thread's aggregate.
    fn with<R>(&self, make: &(impl Fn() -> A + ?Sized), f: impl FnOnce(&mut A) -> R) -> R {
        let i = rayon::current_thread_index().unwrap_or(0) % self.slots.len();
        match self.slots[i].try_lock() {
            Ok(mut slot) => f(slot.get_or_insert_with(make)),
            Err(_) => {
                let mut a = make();
                let r = f(&mut a);
                self.extra.lock().unwrap_or_else(|p| p.into_inner()).push(a);
                r
            }
        }
    }

    /// All the aggregates merged into one (`None` if no task ran).
    fn merged(self) -> Option<A> {
        let mut all = self
            .slots
            .into_iter()
            .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .chain(self.extra.into_inner().unwrap_or_else(|p| p.into_inner()));
        let mut first = all.next()?;
        for a in all {
            first.merge(a);
        }
        Some(first)
    }
}

/// Compressed files at least this large are pipelined (see `Scanner::pipeline`).
const PIPELINE_MIN: u64 = 16 << 20;

/// Size of the blocks a pipelined stream is cut into.
const PIPE_BLOCK: usize = 4 << 20;

/// Why a stream stopped before a block was full.
enum StreamEnd {
    /// The end of the data.
    Eof,
    /// A read error (truncated or corrupt gzip, I/O).
    Error(String),
}

/// Reads up to `size` bytes after `carry` (the partial line the last block
/// left) and returns the block up to its last newline, keeping the partial
/// line in `carry`. At the end of the data the whole rest is returned; on an
/// error the partial line stays in `carry`.
fn read_block(
    reader: &mut dyn Read,
    carry: &mut Vec<u8>,
    size: usize,
) -> (Vec<u8>, Option<StreamEnd>) {
    let mut buf = std::mem::take(carry);
    let mut filled = buf.len();
    buf.resize(filled.max(size), 0);
    loop {
        if filled == buf.len() {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(nl) => {
                    carry.extend_from_slice(&buf[nl + 1..filled]);
                    buf.truncate(nl + 1);
                    return (buf, None);
                }
                // A line longer than the block: grow.
                None if buf.len() < MAX_LINE => buf.resize(buf.len() * 2, 0),
                None => {
                    return (
                        buf,
                        Some(StreamEnd::Error(format!(
                            "a line longer than {} MiB",
                            MAX_LINE >> 20
                        ))),
                    );
                }
            }
        }
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                buf.truncate(filled);
                return (buf, Some(StreamEnd::Eof));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let keep = memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |nl| nl + 1);
                carry.extend_from_slice(&buf[keep..filled]);
                buf.truncate(keep);
                return (buf, Some(StreamEnd::Error(e.to_string())));
            }
        }
    }
}

/// Per-thread partial result of a chunked file.
#[derive(Default)]
struct Part {
    diverged: bool,
    counts: Counts,
    line_counts: Vec<(usize, u64)>,
    samples: Vec<(usize, Malformed)>,
}

impl Part {
    fn merge(&mut self, o: Part) {
        self.diverged |= o.diverged;
        self.counts.add(&o.counts);
        self.line_counts.extend(o.line_counts);
        self.samples.extend(o.samples);
    }
}

/// Cuts `buf` into pieces of about `size` bytes, each ending just after a newline
/// (the last piece ends where `buf` does).
fn split_at_newlines(buf: &[u8], size: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(buf.len() / size + 1);
    let mut start = 0;
    while start < buf.len() {
        let target = start + size;
        if target >= buf.len() {
            out.push(&buf[start..]);
            break;
        }
        let end = memchr::memchr(b'\n', &buf[target..]).map_or(buf.len(), |i| target + i + 1);
        out.push(&buf[start..end]);
        start = end;
    }
    out
}

/// Where a file's format stands.
#[derive(Clone, Debug)]
enum State {
    /// No header or record seen yet.
    Start,
    /// Reading records of this format.
    Records(Arc<Schema>),
    /// The current format lacks a needed field (or the file is not a flow log).
    Unusable(String),
    /// The file is not a flow log: stop.
    NotFlowLog(String),
}

/// The line-level state machine of one file (or one chunk of one).
struct Lines<'s> {
    scanner: &'s Scanner<'s>,
    /// The filter for this file's records (see [`Filter::for_path`]).
    filter: Option<Arc<Filter>>,
    path: &'s Path,
    needs: FieldSet,
    state: State,
    /// Set when a chunk meets a header that changes the format it started with.
    diverged: bool,
    chunk_mode: bool,
    tokens: Box<Tokens>,
    acc: Acc,
    note: Option<String>,
}

/// What a file's lines add up to; apart from the format state, so that a record
/// can borrow the schema while its outcome is counted.
#[derive(Default)]
struct Acc {
    counts: Counts,
    samples: Vec<Malformed>,
    strict_hit: bool,
}

impl Acc {
    fn malformed(&mut self, scanner: &Scanner<'_>, path: &Path, reason: String, line: &[u8]) {
        self.counts.malformed += 1;
        if self.samples.len() < scanner.sample_limit() {
            self.samples.push(Malformed::new(
                path.to_path_buf(),
                self.counts.lines,
                reason,
                line,
            ));
        }
        if scanner.opts.strict {
            self.strict_hit = true;
            scanner.abort.store(true, Ordering::Relaxed);
        }
    }
}

/// The state a chunk starts from.
struct Snapshot<'s> {
    path: &'s Path,
    needs: FieldSet,
    state: State,
}

impl<'s> Snapshot<'s> {
    fn resume(&self, scanner: &'s Scanner<'s>) -> Lines<'s> {
        let mut l = Lines::new(scanner, self.path, self.needs);
        l.state = self.state.clone();
        l.chunk_mode = true;
        l
    }
}

impl<'s> Lines<'s> {
    fn new(scanner: &'s Scanner<'s>, path: &'s Path, needs: FieldSet) -> Lines<'s> {
        // Account and region conditions the path answers are dropped for this
        // file; the others need the records' fields.
        let (filter, needs) = match &scanner.filter {
            Some(f) if !f.accounts.is_empty() || !f.regions.is_empty() => {
                let (pf, extra) = f.for_path(path);
                ((!pf.is_empty()).then(|| Arc::new(pf)), needs.union(extra))
            }
            other => (other.clone(), needs),
        };
        Lines {
            scanner,
            filter,
            path,
            needs,
            state: State::Start,
            diverged: false,
            chunk_mode: false,
            tokens: Box::default(),
            acc: Acc::default(),
            note: None,
        }
    }

    fn snapshot(&self) -> Snapshot<'s> {
        Snapshot {
            path: self.path,
            needs: self.needs,
            state: self.state.clone(),
        }
    }

    /// Forgets everything read, to read the file again from its start.
    fn reset(&mut self) {
        self.state = State::Start;
        self.diverged = false;
        self.acc = Acc::default();
        self.note = None;
    }

    /// Adds the blocks' partial results, turning block-local line numbers into
    /// file line numbers (blocks follow the lines already counted, in order).
    fn absorb(&mut self, mut part: Part, limit: usize) {
        part.line_counts.sort_unstable();
        let blocks = part.line_counts.last().map_or(0, |(i, _)| i + 1);
        let mut base = vec![0u64; blocks];
        let mut acc = self.acc.counts.lines;
        for (i, n) in &part.line_counts {
            base[*i] = acc;
            acc += n;
        }
        part.samples.sort_by_key(|(i, m)| (*i, m.line));
        let room = limit.saturating_sub(self.acc.samples.len());
        self.acc
            .samples
            .extend(part.samples.into_iter().take(room).map(|(i, mut m)| {
                m.line += base[i];
                m
            }));
        self.acc.counts.add(&part.counts);
    }

    /// Whether reading should stop (not a flow log, strict mode, a chunk that
    /// must be re-read).
    fn stopped(&self) -> bool {
        matches!(self.state, State::NotFlowLog(_))
            || self.acc.strict_hit
            || self.diverged
            || self.scanner.cancelled()
    }

    /// Feeds every line of `buf` (the last may lack its newline).
    fn feed<A: Aggregate>(&mut self, buf: &[u8], agg: &mut A) {
        let mut tokens = std::mem::take(&mut self.tokens);
        crate::parse::split_lines(buf, &mut tokens, |line, toks| {
            self.split_line(line, toks, agg);
            !(self.stopped() || agg.should_stop())
        });
        self.tokens = tokens;
    }

    fn malformed(&mut self, reason: String, line: &[u8]) {
        self.acc.malformed(self.scanner, self.path, reason, line);
    }

    fn too_long(&mut self, head: &[u8]) {
        self.acc.counts.lines += 1;
        self.malformed(format!("line longer than {} MiB", MAX_LINE >> 20), head);
    }

    fn cut_short(&mut self, partial: &[u8]) {
        self.acc.counts.lines += 1;
        self.malformed("line cut short by a read error".into(), partial);
    }

    /// Switches to the format a header (or `--fields`) declares.
    fn set_schema(&mut self, schema: Schema) {
        if let State::Records(cur) = &self.state {
            if **cur == schema {
                return;
            }
        }
        if self.chunk_mode {
            self.diverged = true;
            return;
        }
        let missing: Vec<&str> = self
            .needs
            .iter()
            .filter(|f| !schema.has(*f))
            .map(|f| f.name())
            .collect();
        self.state = if missing.is_empty() {
            State::Records(Arc::new(schema))
        } else if schema.is_transit_gateway() {
            State::Unusable(format!(
                "Transit Gateway flow log (no {} field)",
                missing.join(", ")
            ))
        } else {
            State::Unusable(format!("format lacks {}", missing.join(", ")))
        };
    }

    /// Decides the format of a file whose first non-blank line is not a header.
    fn first_record(&mut self, line: &[u8], tokens: &Tokens) {
        match headerless_format(line, tokens, self.scanner.opts.fields.as_ref()) {
            Ok((schema, note)) => {
                self.note = Some(note.into());
                self.set_schema(schema);
            }
            Err(why) => self.state = State::NotFlowLog(why),
        }
    }

    #[inline]
    fn line<A: Aggregate>(&mut self, line: &[u8], agg: &mut A) {
        let mut tokens = std::mem::take(&mut self.tokens);
        tokens.split(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.split_line(line, &tokens, agg);
        self.tokens = tokens;
    }

    /// One line, already split into `tokens`.
    #[inline]
    fn split_line<A: Aggregate>(&mut self, line: &[u8], tokens: &Tokens, agg: &mut A) {
        self.acc.counts.lines += 1;
        if tokens.is_empty() {
            self.acc.counts.blank += 1;
            return;
        }
        match header_of(line, tokens) {
            Ok(Some(schema)) => {
                self.acc.counts.headers += 1;
                self.set_schema(schema);
                return;
            }
            Ok(None) => {}
            Err(e) if matches!(self.state, State::Start) => {
                self.acc.counts.lines -= 1;
                self.state = State::NotFlowLog(format!("bad header line: {e}"));
                return;
            }
            Err(e) => {
                self.malformed(format!("bad header line: {e}"), line);
                return;
            }
        }
        if let State::Start = self.state {
            self.first_record(line, tokens);
        }
        let schema: &Schema = match &self.state {
            State::Records(s) => s,
            State::Unusable(_) => {
                self.acc.counts.skipped += 1;
                return;
            }
            State::NotFlowLog(_) => {
                self.acc.counts.lines -= 1;
                return;
            }
            State::Start => unreachable!("first_record sets the state"),
        };
        if tokens.len() != schema.len() {
            let reason = format!("expected {} fields, found {}", schema.len(), tokens.len());
            self.acc.malformed(self.scanner, self.path, reason, line);
            return;
        }
        let rec = Record::new(line, tokens, schema);
        match take(self.filter.as_deref(), &rec, agg) {
            Ok(()) => self.acc.counts.records += 1,
            Err(e) => self
                .acc
                .malformed(self.scanner, self.path, e.to_string(), line),
        }
    }

    /// One item of a CloudWatch JSON document.
    fn item<A: Aggregate>(&mut self, item: Item<'_>, agg: &mut A) {
        if self.stopped() || agg.should_stop() {
            return;
        }
        match item {
            Item::Message(m) => self.line(m.as_bytes(), agg),
            Item::Control => self.not_record("CloudWatch control messages"),
            Item::Foreign => self.not_record("JSON values without a message"),
        }
    }

    /// One row of a CloudWatch CSV export.
    fn csv_item<A: Aggregate>(&mut self, item: CsvItem<'_>, agg: &mut A) {
        if self.stopped() || agg.should_stop() {
            return;
        }
        match item {
            CsvItem::Header => {
                self.acc.counts.lines += 1;
                self.acc.counts.headers += 1;
            }
            CsvItem::Message(m) => self.line(m, agg),
            CsvItem::Bad(n) => {
                self.acc.counts.lines += 1;
                self.malformed(format!("CSV row with {n} columns and no message"), b"");
            }
        }
    }

    /// A CSV export that could not be read: without a message column it is not a
    /// flow log; a parse error mid-file keeps the rows before it.
    fn csv_failed(&mut self, why: String, report: &mut FileReport) {
        if self.acc.counts.lines == 0 {
            self.state = State::NotFlowLog(format!("not a flow log: {why}"));
        } else {
            report.status = FileStatus::Incomplete(format!(
                "{why}; the {} records before it are counted",
                self.acc.counts.records
            ));
        }
    }

    /// An input item that is not a flow log record, counted among the skipped.
    fn not_record(&mut self, what: &str) {
        self.acc.counts.lines += 1;
        self.acc.counts.skipped += 1;
        let note = format!("{what} were skipped");
        if self.note.as_deref().is_none_or(|n| !n.contains(&note)) {
            self.note = Some(match self.note.take() {
                Some(n) => format!("{n}; {note}"),
                None => note,
            });
        }
    }

    /// A row of a columnar source: one line of the accounting.
    #[cfg(feature = "parquet")]
    fn row<A: Aggregate, R: crate::record::FlowRecord>(&mut self, rec: &R, agg: &mut A) {
        self.acc.counts.lines += 1;
        match take(self.filter.as_deref(), rec, agg) {
            Ok(()) => self.acc.counts.records += 1,
            Err(e) => self.malformed(e.to_string(), b""),
        }
    }
}

/// Filters a record (unless there is no filter) and adds it to the aggregate.
#[inline]
fn take<A: Aggregate, R: crate::record::FlowRecord>(
    filter: Option<&Filter>,
    rec: &R,
    agg: &mut A,
) -> std::result::Result<(), crate::parse::ValueError> {
    let Some(filter) = filter else {
        return agg.add(rec);
    };
    match filter.matches(rec) {
        Ok(true) => agg.add(rec),
        Ok(false) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The format of a file whose first non-blank line (already split into `tokens`)
/// is not a header: `--fields` if given and the token count fits, else the default
/// format when the line looks like one of its records; with a note saying which.
fn headerless_format(
    line: &[u8],
    tokens: &Tokens,
    fields: Option<&Schema>,
) -> std::result::Result<(Schema, &'static str), String> {
    let n = tokens.len();
    if let Some(fields) = fields {
        if n == fields.len() {
            return Ok((fields.clone(), "no header: read with --fields"));
        }
        return Err(format!(
            "not a flow log: first line has {n} fields, --fields names {}",
            fields.len()
        ));
    }
    if n == 14 && tokens.get(line, 0).iter().all(u8::is_ascii_digit) {
        return Ok((
            Schema::default_v2(),
            "no header: default format (version 2) assumed; use --fields to say otherwise",
        ));
    }
    Err("not a flow log: no header line, and the first line is not a default-format record (use --fields for headerless files)".into())
}

/// Whether a line is a header, and the schema it declares; an error for a
/// line of field names that cannot be a schema (a name twice, too many).
#[inline]
fn header_of(
    line: &[u8],
    tokens: &Tokens,
) -> std::result::Result<Option<Schema>, crate::schema::SchemaError> {
    use crate::schema::SchemaError;
    // Records start with a digit in the usual formats: decided on one byte.
    let first = tokens.get(line, 0)[0];
    if !(first.is_ascii_lowercase() && looks_like_header(line)) {
        return Ok(None);
    }
    match Schema::from_header(line) {
        Ok(s) => Ok(Some(s)),
        Err(e @ (SchemaError::Duplicate(_) | SchemaError::TooMany(_))) => Err(e),
        Err(_) => Ok(None),
    }
}

/// The format a file starts with, read from its first non-blank line, without
/// scanning the rest: used to plan an export's columns before writing.
pub fn first_schema(src: &Source, fields: Option<&Schema>) -> std::result::Result<Schema, String> {
    let opened = source::open(src, &Arc::default()).map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    match opened {
        Opened::Slice(bytes) => {
            let b = bytes.as_ref();
            head.extend_from_slice(&b[..b.len().min(1 << 20)]);
        }
        #[cfg(feature = "parquet")]
        Opened::Parquet(file) => {
            return crate::columnar::open(file, FieldSet::EMPTY).map(|r| r.full);
        }
        #[cfg(not(feature = "parquet"))]
        Opened::Parquet(_) => return Err("Parquet input needs the `parquet` feature".into()),
        Opened::Stream(r) => {
            r.take(1 << 20)
                .read_to_end(&mut head)
                .map_err(|e| e.to_string())?;
        }
    }
    if !matches!(cloudwatch::sniff(&head), Shape::Text) {
        return Ok(fields.cloned().unwrap_or_else(Schema::default_v2));
    }
    let mut tokens = Tokens::default();
    for line in head.split(|&b| b == b'\n') {
        tokens.split(line);
        if tokens.is_empty() {
            continue;
        }
        match header_of(line, &tokens) {
            Ok(Some(s)) => return Ok(s),
            Ok(None) => {}
            Err(e) => return Err(format!("bad header line: {e}")),
        }
        return headerless_format(line, &tokens, fields).map(|(s, _)| s);
    }
    Err("no records".into())
}

/// Header lines hold only lowercase names, digits, `-`, `_` and spaces: a cheap
/// test that keeps the full header parse off record lines.
#[inline]
fn looks_like_header(line: &[u8]) -> bool {
    line.iter().all(|&b| {
        b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b' ' | b'-' | b'_' | b'\r')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_at_newlines_and_cover_everything() {
        let text = b"aaaa\nbb\ncccccc\nd\neeeeeeee\nf";
        for size in 1..text.len() + 2 {
            let chunks = split_at_newlines(text, size);
            assert_eq!(chunks.concat(), text.to_vec());
            for c in &chunks[..chunks.len() - 1] {
                assert_eq!(c.last(), Some(&b'\n'));
            }
        }
    }

    #[test]
    fn header_precheck() {
        assert!(looks_like_header(b"version account-id interface-id\r"));
        assert!(!looks_like_header(b"eni-1 10.0.0.1"));
        assert!(!looks_like_header(b"2 123 eni-1 ACCEPT"));
    }
}
