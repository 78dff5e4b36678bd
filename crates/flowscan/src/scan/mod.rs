//! Driving a scan: every input, every line, into a sink, on every core.
//!
//! The engine has one shape whatever the input: a *producer* turns an input
//! (a memory-mapped file, a gzip or zstd stream, standard input, CloudWatch
//! JSON or CSV, Parquet) into blocks that end at line ends; the *line machine*
//! reads each block's lines (headers, records, blank, malformed, skipped); the
//! records go into a [`Sink`](crate::Sink). A [`Scanner`] runs this on its own
//! thread pool: files in parallel, and the blocks of a large file in parallel
//! too, with results taken back in input order. Aggregates
//! ([`Scanner::aggregate`]) fill one partial result per thread and merge them;
//! ordered sinks ([`Scanner::ordered`]) get each block's output in input order.

mod block;
mod commit;
mod drive;
mod header;
mod job;
mod jsoncut;
mod jsonfast;
mod lines;
mod messages;
mod mode;
mod parquet;
mod produce;
mod reader;
mod report;
mod rules;
mod text;
mod unit;

use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use crate::aggregate::Aggregate;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::schema::{Field, FieldSet, Schema};
use crate::sink::{OrderedSink, SinkError};
use crate::source::Discovery;

use drive::{Drive, Plan};
use job::{Cores, Ctx, Gate};
use mode::{Mode, Ordered, Unordered};
use rules::{Halt, Rules};
use unit::{Src, Unit};

pub use reader::{AnyRecord, Reader};
pub use report::{Counts, FileReport, FileStatus, ScanReport};

/// Input formats that can be forced instead of told from the content.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
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

/// Told how a scan advances, for progress bars. Called from worker threads.
pub trait Progress: Send + Sync {
    /// `bytes` more on-disk bytes were read.
    fn advance(&self, bytes: u64);
    /// One more file is finished.
    fn file_done(&self);
}

/// Configures a [`Scanner`]. Every setting has a default that suits most uses.
///
/// ```
/// use flowscan::{Filter, Scanner};
///
/// let scanner = Scanner::builder()
///     .threads(2)
///     .filter(Filter { ports: vec![22], ..Filter::default() })
///     .strict(false)
///     .build()?;
/// assert_eq!(scanner.threads(), 2);
/// # Ok::<(), flowscan::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct ScanBuilder {
    threads: Option<usize>,
    filter: Filter,
    fields: Option<Schema>,
    input_format: Option<InputFormat>,
    max_inflate: Option<u64>,
    strict: bool,
    samples: Option<usize>,
    split_min: Option<u64>,
    block: Option<usize>,
    progress: Option<Arc<dyn Progress>>,
    cancel: Option<Arc<AtomicBool>>,
}

/// Files at least this large are cut into blocks read in parallel, when there
/// are too few files to keep every thread busy otherwise.
const SPLIT_MIN: u64 = 8 << 20;

impl ScanBuilder {
    /// Worker threads (default: one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n);
        self
    }

    /// Which records reach the sink (default: all).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// The format of input without a header line (CloudWatch Logs, Firehose).
    /// Without it, a headerless input whose first record has the default
    /// format's 14 fields is read as the default format, and the report says so.
    pub fn fields(mut self, schema: Schema) -> Self {
        self.fields = Some(schema);
        self
    }

    /// Reads every input as this format instead of telling it from the content.
    pub fn input_format(mut self, format: InputFormat) -> Self {
        self.input_format = Some(format);
        self
    }

    /// Stops reading any compressed input after this many bytes of text (a
    /// defence against decompression bombs); the input is then reported as
    /// read in part.
    pub fn max_inflate(mut self, bytes: u64) -> Self {
        self.max_inflate = Some(bytes);
        self
    }

    /// Stop at the first malformed line (in input order) with
    /// [`Error::Strict`] (default: count malformed lines and go on).
    pub fn strict(mut self, yes: bool) -> Self {
        self.strict = yes;
        self
    }

    /// How many malformed lines the report keeps in full (default 10; the
    /// rest are counted).
    pub fn malformed_samples(mut self, n: usize) -> Self {
        self.samples = Some(n);
        self
    }

    /// Reports progress to `p`.
    pub fn progress(mut self, p: Arc<dyn Progress>) -> Self {
        self.progress = Some(p);
        self
    }

    /// Stops the scan soon after `flag` is set (by a signal handler, say): what
    /// was not read is reported as such, and [`ScanReport::interrupted`] is set.
    pub fn cancel(mut self, flag: Arc<AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Files at least this large are cut into blocks read in parallel when
    /// there are few files (default 8 MiB). For tests of the parallel paths.
    #[doc(hidden)]
    pub fn split_min(mut self, bytes: u64) -> Self {
        self.split_min = Some(bytes);
        self
    }

    /// Size of the blocks a file is cut into (default 4 MiB). For tests of
    /// the parallel paths on small inputs.
    #[doc(hidden)]
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block = Some(bytes);
        self
    }

    /// The scanner, with its thread pool started. On Linux the pool's threads
    /// are `SCHED_BATCH`: they get their fair share of the CPU but do not
    /// preempt other threads when they wake.
    pub fn build(self) -> Result<Scanner> {
        if self.threads == Some(0) {
            return Err(Error::Threads("the thread count must be at least 1".into()));
        }
        let mut pool = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("flowscan-{i}"));
        #[cfg(target_os = "linux")]
        {
            pool = pool.start_handler(|_| batch_thread());
        }
        if let Some(n) = self.threads {
            pool = pool.num_threads(n);
        }
        let pool = pool.build().map_err(|e| Error::Threads(e.to_string()))?;
        Ok(Scanner { pool, cfg: self })
    }
}

/// Marks the calling thread as a batch thread for the Linux scheduler: one
/// that does not preempt others when it wakes. The driver reads a gzip file
/// on its own thread, the pipeline's bottleneck, and workers woken for each
/// block took its core from it for a time slice: on a 10 M-record gzip file
/// at two threads it stood still for 0.26 s of 2.05 s. As a batch thread a
/// worker still gets its fair share of the CPU, only later. A failure (a
/// sandbox that forbids the call) leaves the thread as it was.
#[cfg(target_os = "linux")]
fn batch_thread() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid `sched_param` for the call's duration; pid 0
    // is the calling thread.
    unsafe {
        libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
    }
}

/// A configured scan, with its own thread pool. Build it with
/// [`Scanner::builder`]; run it as many times as needed.
pub struct Scanner {
    pool: rayon::ThreadPool,
    cfg: ScanBuilder,
}

impl Scanner {
    /// A builder with the default settings.
    pub fn builder() -> ScanBuilder {
        ScanBuilder::default()
    }

    /// The number of worker threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs `f` on the scanner's thread pool (so that rayon's parallel
    /// iterators inside it use those threads).
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.pool.install(f)
    }

    /// Scans every input `found` into aggregates made by `make` (one per
    /// thread, merged at the end).
    ///
    /// ```
    /// use flowscan::{Rejects, RejectsConfig, Scanner};
    ///
    /// let text = b"version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
    /// 2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.9.69 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
    /// ";
    /// let scanner = Scanner::builder().build()?;
    /// let (mut rejects, report) = scanner.aggregate_slice("mem.log".as_ref(), text, || {
    ///     Rejects::new(RejectsConfig::default())
    /// })?;
    /// assert_eq!(report.totals.records, 1);
    /// assert_eq!(rejects.report(10).rejects, 1);
    /// # Ok::<(), flowscan::Error>(())
    /// ```
    pub fn aggregate<A, F>(&self, found: &Discovery, make: F) -> Result<(A, ScanReport)>
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        let (a, mut report) = self.run_aggregate(units(found), found.pruned, make)?;
        report.list_requests = found.list_requests;
        Ok((a, report))
    }

    /// Scans one input held in memory (text, CloudWatch JSON or CSV, Parquet;
    /// plain, gzip or zstd, told from the content) into aggregates.
    pub fn aggregate_slice<A, F>(
        &self,
        name: &Path,
        bytes: &[u8],
        make: F,
    ) -> Result<(A, ScanReport)>
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        let unit = Unit {
            path: name.into(),
            size: Some(bytes.len() as u64),
            src: Src::Slice(bytes),
        };
        self.run_aggregate(vec![unit], 0, make)
    }

    /// Scans one input read from `reader` (bytes from a socket, an S3 object,
    /// a decoder; the format is told from the content) into aggregates.
    pub fn aggregate_reader<A, F, R>(
        &self,
        name: &Path,
        reader: R,
        make: F,
    ) -> Result<(A, ScanReport)>
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
        R: Read + Send,
    {
        let unit = Unit {
            path: name.into(),
            size: None,
            src: Src::Reader(std::sync::Mutex::new(Some(Box::new(reader)))),
        };
        self.run_aggregate(vec![unit], 0, make)
    }

    /// Calls `f` with every record the filter keeps, on the scanner's
    /// threads, in no particular order: for quick tools. (For records in
    /// order, use a [`Reader`]; for results that merge, an [`Aggregate`].)
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use flowscan::{Field, FlowRecord, Scanner};
    ///
    /// # let dir = std::env::temp_dir().join(format!("flowscan-each-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # std::fs::write(dir.join("a.log"), "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 1 eni-1 1.2.3.4 5.6.7.8 1 22 6 3 180 1 2 REJECT OK\n")?;
    /// let found = flowscan::discover(&[flowscan::Input::Path(dir.clone())]);
    /// let bytes = AtomicU64::new(0);
    /// Scanner::builder().build()?.for_each(&found, |rec, _pos| {
    ///     if rec.text(Field::Action) == Some(&b"REJECT"[..]) {
    ///         let b = rec.int(Field::Bytes).ok().flatten().unwrap_or(0);
    ///         bytes.fetch_add(b, Ordering::Relaxed);
    ///     }
    /// })?;
    /// assert_eq!(bytes.into_inner(), 180);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_each<F>(&self, found: &Discovery, f: F) -> Result<ScanReport>
    where
        F: Fn(&dyn crate::record::FlowRecord, &crate::sink::Position<'_>) + Sync,
    {
        self.aggregate(found, || Each(&f)).map(|(_, r)| r)
    }

    fn run_aggregate<A, F>(
        &self,
        units: Vec<Unit<'_>>,
        pruned: usize,
        make: F,
    ) -> Result<(A, ScanReport)>
    where
        A: Aggregate,
        F: Fn() -> A + Sync,
    {
        let mode = Unordered::new(make, &self.pool);
        let report = self.run(&units, pruned, &mode, &mut |()| Ok(()))?;
        let mut all = mode.finish();
        self.pool
            .install(|| all.finish())
            .map_err(SinkError::into_scan_error)?;
        Ok((all, report))
    }

    /// Scans every input `found` into parts of `sink`, one per block, and calls
    /// `commit` with each part in input order (on the calling thread). An error
    /// from `commit` stops the scan and comes back as [`Error::Sink`].
    pub fn ordered<S, E>(
        &self,
        found: &Discovery,
        sink: &S,
        mut commit: impl FnMut(S::Part) -> std::result::Result<(), E>,
    ) -> Result<ScanReport>
    where
        S: OrderedSink,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let mode = Ordered { sink };
        let units = units(found);
        let mut report = self.run(&units, found.pruned, &mode, &mut |part| {
            commit(part).map_err(|e| Error::Sink(e.into()))
        })?;
        report.list_requests = found.list_requests;
        Ok(report)
    }

    fn run<M: Mode>(
        &self,
        units: &[Unit<'_>],
        pruned: usize,
        mode: &M,
        commit: &mut dyn FnMut(M::Part) -> Result<()>,
    ) -> Result<ScanReport> {
        let started = Instant::now();
        let cfg = &self.cfg;
        let f = &cfg.filter;
        let rules = Rules {
            fields: cfg.fields.clone(),
            strict: cfg.strict,
            samples: cfg.samples.unwrap_or(10).max(usize::from(cfg.strict)),
            needs: mode.needs().union(f.needs()),
            filter: (!f.is_empty()).then(|| Arc::new(f.clone())),
        };
        let mut reads = mode.reads().union(f.needs());
        if !f.accounts.is_empty() {
            reads.insert(Field::AccountId);
        }
        if !f.regions.is_empty() {
            reads.insert(Field::Region);
        }
        let halt = Halt::new(cfg.cancel.as_deref());
        let progress = cfg.progress.as_deref();
        let advance = |n: u64| {
            if let (Some(p), true) = (progress, n > 0) {
                p.advance(n);
            }
        };
        let ctx = Ctx {
            rules: &rules,
            halt: &halt,
            mode,
            opts: produce::Options {
                input_format: cfg.input_format,
                max_inflate: cfg.max_inflate,
                reads: reads.union(FieldSet::EMPTY),
                progress: &advance,
                block: cfg.block.unwrap_or(produce::BLOCK).max(1),
                // Pieces cannot be numbered before they are parsed.
                json_pieces: !mode.line_numbers(),
            },
            gate: Gate::default(),
            cores: Cores::new(self.threads()),
        };
        let threads = self.threads();
        let plan = Plan {
            threads,
            split_min: cfg.split_min.unwrap_or(SPLIT_MIN),
            window: 2 * threads + 2,
            blocks: threads + 1,
        };
        let mut drive = Drive::new(&ctx, units, &plan, progress, commit);
        self.pool.in_place_scope(|s| drive.run(s));
        // The merge of the threads' tables comes next, and is the peak of
        // memory: buffers kept for inputs that will not come are freed first,
        // on every thread that may hold some.
        self.pool.broadcast(|_| text::release_spares());
        text::release_spares();
        if let Some(e) = drive.error.take() {
            return Err(e);
        }
        let mut report = std::mem::take(&mut drive.report);
        report.pruned = pruned;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// The units of a discovery: paths it could not use first, then the files.
fn units(found: &Discovery) -> Vec<Unit<'_>> {
    let mut out = Vec::with_capacity(found.sources.len() + found.problems.len());
    for (path, why) in &found.problems {
        out.push(Unit {
            path: path.as_path().into(),
            size: None,
            src: Src::Failed(why.clone()),
        });
    }
    for (path, why) in &found.skipped {
        out.push(Unit {
            path: path.as_path().into(),
            size: None,
            src: Src::Skipped(why.clone()),
        });
    }
    for s in &found.sources {
        let src = if s.stdin { Src::Stdin } else { Src::Path };
        #[cfg(feature = "s3")]
        let src = match &s.remote {
            Some(o) => Src::Remote(o.clone()),
            None => src,
        };
        out.push(Unit {
            path: s.path.as_path().into(),
            size: s.size,
            src,
        });
    }
    out
}

/// The format a file starts with, read from its first non-blank line (or a
/// Parquet file's columns), without scanning the rest: used to plan an
/// export's columns before writing.
pub fn first_schema(path: &Path, fields: Option<&Schema>) -> std::result::Result<Schema, String> {
    use produce::{Body, Flow};
    let opts = produce::Options {
        input_format: None,
        max_inflate: None,
        reads: FieldSet::EMPTY,
        progress: &|_| {},
        block: 64 << 10,
        json_pieces: false,
    };
    let mut found: Option<std::result::Result<Schema, String>> = None;
    let mut tokens = crate::parse::Tokens::default();
    let end = produce::produce(produce::Input::Path(path), &opts, &mut |block| {
        match &block.body {
            #[cfg(feature = "parquet")]
            Body::Rows(_, full) => found = Some(Ok((**full).clone())),
            Body::Json(_) => unreachable!("JSON pieces are not asked for"),
            Body::Text(d) | Body::Messages(d) => {
                for line in d.split(|&b| b == b'\n') {
                    if line.first() == Some(&0) {
                        continue;
                    }
                    tokens.split(line);
                    if tokens.is_empty() {
                        continue;
                    }
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    found = Some(match header::header_of(line, &tokens) {
                        Ok(Some(s)) => Ok(s),
                        Ok(None) => {
                            header::headerless_format(line, &tokens, fields).map(|(s, _)| s)
                        }
                        Err(e) => Err(format!("bad header line: {e}")),
                    });
                    break;
                }
            }
        }
        if found.is_some() {
            Flow::Stop
        } else {
            Flow::Go
        }
    });
    found.unwrap_or_else(|| {
        Err(end
            .skipped
            .or(end.error)
            .unwrap_or_else(|| "no records".into()))
    })
}

/// The sink behind [`Scanner::for_each`].
struct Each<'f, F>(&'f F);

impl<F> crate::sink::Sink for Each<'_, F>
where
    F: Fn(&dyn crate::record::FlowRecord, &crate::sink::Position<'_>) + Sync,
{
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn record<R: crate::record::FlowRecord>(
        &mut self,
        rec: &R,
        pos: &crate::sink::Position<'_>,
    ) -> std::result::Result<(), SinkError> {
        (self.0)(rec, pos);
        Ok(())
    }
}

impl<F> Aggregate for Each<'_, F>
where
    F: Fn(&dyn crate::record::FlowRecord, &crate::sink::Position<'_>) + Sync,
{
    fn merge(&mut self, _: Self) {}
}
