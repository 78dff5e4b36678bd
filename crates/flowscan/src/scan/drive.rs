//! The driver: hands files and blocks to the worker threads in input order,
//! with a bounded number in flight, and takes their results back in input
//! order.
//!
//! A file is a task of its own, read in order by one worker, unless it is large
//! and there are too few files left to keep every worker busy: then the driver
//! reads it itself (memory-mapped, or inflating it) and cuts it into blocks
//! that the workers read in parallel, each from the format the driver expects
//! at its start. Results come back as [`Piece`]s, and the driver commits them
//! in order: a block that turns out to have been read with the wrong format (a
//! header in the middle of the file changed it) is read again (ordered scans),
//! or its file is read again in order (aggregates, which cannot take back what
//! a block added).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Error;
use crate::sink::FileInfo;

use super::job::{self, Acc, Ctx, Piece};
use super::lines::State;
use super::mode::Mode;
use super::produce::{Block, End, Flow, Input};
use super::report::{FileReport, FileStatus, ScanReport};
use super::Progress;

/// One input of a scan.
pub(crate) struct Unit<'a> {
    pub path: Cow<'a, Path>,
    pub size: Option<u64>,
    pub src: Src<'a>,
}

/// Where a unit's bytes come from.
pub(crate) enum Src<'a> {
    Path,
    Stdin,
    Slice(&'a [u8]),
    Reader(Mutex<Option<Box<dyn Read + Send + 'a>>>),
    /// Found but not readable (a walk error): the reason.
    Failed(String),
    /// Found and left alone (a FIFO met in a walk): the reason.
    Skipped(String),
    /// An S3 object.
    #[cfg(feature = "s3")]
    Remote(Arc<crate::source::s3::S3Object>),
}

impl<'a> Unit<'a> {
    /// The input to read (`None` for a reader already taken).
    fn input(&self) -> Option<Input<'_>> {
        match &self.src {
            Src::Path => Some(Input::Path(&self.path)),
            Src::Stdin => Some(Input::Stdin),
            Src::Slice(s) => Some(Input::Slice(s)),
            Src::Reader(m) => m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .map(Input::Reader),
            Src::Failed(_) | Src::Skipped(_) => None,
            #[cfg(feature = "s3")]
            Src::Remote(o) => Some(Input::Remote(o.clone())),
        }
    }

    /// Starts fetching a remote input, so that it arrives while others are read.
    fn prefetch(&self) {
        #[cfg(feature = "s3")]
        if let Src::Remote(o) = &self.src {
            o.prefetch();
        }
    }

    /// Whether the input can be read a second time.
    fn rereadable(&self) -> bool {
        #[cfg(feature = "s3")]
        if matches!(self.src, Src::Remote(_)) {
            return true;
        }
        matches!(self.src, Src::Path | Src::Slice(_))
    }
}

/// What the driver knows of one file.
struct Slot<'a, M: Mode> {
    pending: BTreeMap<u32, Piece<'a, M::Part>>,
    /// The next piece to commit.
    next: u32,
    /// The format after the committed pieces.
    state: State,
    /// The format new blocks are read from, and the piece that showed it.
    guess: State,
    guess_seq: u32,
    acc: Acc,
    /// Lines of the committed pieces (where the next piece starts).
    lines: u64,
    end: Option<End>,
    split: Option<Arc<M::Split>>,
    /// A block was read with the wrong format: read the file again in order.
    redo: bool,
    /// The input ended early in a committed piece (invalid JSON): why.
    broken: Option<String>,
    started: bool,
}

impl<M: Mode> Default for Slot<'_, M> {
    fn default() -> Self {
        Slot {
            pending: BTreeMap::new(),
            next: 0,
            state: State::Start,
            guess: State::Start,
            guess_seq: 0,
            acc: Acc::default(),
            lines: 0,
            end: None,
            split: None,
            redo: false,
            broken: None,
            started: false,
        }
    }
}

/// Driver settings.
pub(crate) struct Plan {
    pub threads: usize,
    /// Files at least this large are cut into blocks when it helps.
    pub split_min: u64,
    /// Tasks in flight at most.
    pub window: usize,
}

pub(crate) struct Drive<'c, 'a, M: Mode> {
    ctx: &'c Ctx<'c, M>,
    units: &'c [Unit<'a>],
    plan: &'c Plan,
    progress: Option<&'c dyn Progress>,
    files: Vec<Slot<'c, M>>,
    tx: Sender<Piece<'c, M::Part>>,
    rx: Receiver<Piece<'c, M::Part>>,
    in_flight: usize,
    head: usize,
    /// On-disk bytes of the units from each index to the end.
    rest_bytes: Vec<u64>,
    pub report: ScanReport,
    pub error: Option<Error>,
    commit: &'c mut dyn FnMut(M::Part) -> Result<(), Error>,
}

impl<'c, 'a: 'c, M: Mode> Drive<'c, 'a, M> {
    pub fn new(
        ctx: &'c Ctx<'c, M>,
        units: &'c [Unit<'a>],
        plan: &'c Plan,
        progress: Option<&'c dyn Progress>,
        commit: &'c mut dyn FnMut(M::Part) -> Result<(), Error>,
    ) -> Self {
        let (tx, rx) = channel();
        let mut rest_bytes = vec![0u64; units.len() + 1];
        for i in (0..units.len()).rev() {
            rest_bytes[i] = rest_bytes[i + 1] + units[i].size.unwrap_or(0);
        }
        Drive {
            ctx,
            units,
            plan,
            progress,
            files: (0..units.len()).map(|_| Slot::default()).collect(),
            tx,
            rx,
            in_flight: 0,
            head: 0,
            rest_bytes,
            report: ScanReport::default(),
            error: None,
            commit,
        }
    }

    fn stopping(&self) -> bool {
        self.error.is_some() || self.ctx.halt.any()
    }

    /// Reads every unit; returns when all are committed (or the scan stopped).
    pub fn run<'s>(&mut self, scope: &rayon::Scope<'s>)
    where
        'c: 's,
    {
        for f in 0..self.units.len() {
            if self.stopping() {
                break;
            }
            self.files[f].started = true;
            let unit = &self.units[f];
            match &unit.src {
                Src::Failed(_) | Src::Skipped(_) => {
                    let mut p = Piece::new(f, 0);
                    p.last = true;
                    p.exact = true;
                    self.accept(p);
                    continue;
                }
                _ => {}
            }
            // Remote inputs are fetched a window ahead, so that network
            // latency overlaps the reading of the ones before.
            let ahead = (f + self.plan.window).min(self.units.len());
            self.units[f..ahead].iter().for_each(Unit::prefetch);
            self.wait_room();
            let Some(input) = unit.input() else {
                self.fail_unit(f, "the input was already read");
                continue;
            };
            if self.should_split(f) {
                self.split_file(scope, f, input);
            } else {
                self.spawn_whole(scope, f, input);
            }
        }
        while self.in_flight > 0 {
            self.receive();
        }
        self.finish_rest();
    }

    fn fail_unit(&mut self, f: usize, why: &str) {
        let mut p = Piece::new(f, 0);
        p.last = true;
        p.exact = true;
        p.end = Some(End {
            error: Some(why.into()),
            ..End::default()
        });
        self.accept(p);
    }

    /// Whether to cut file `f` into blocks read in parallel.
    fn should_split(&self, f: usize) -> bool {
        let unit = &self.units[f];
        let threads = self.plan.threads as u64;
        if threads < 2 || !(M::ORDERED || unit.rereadable()) {
            return false;
        }
        match unit.size {
            // Standard input or a reader (ordered scans only, see above).
            None => true,
            Some(size) => {
                let files_left = (self.units.len() - f) as u64;
                size >= self.plan.split_min
                    && (files_left < 2 * threads || size * threads >= self.rest_bytes[f])
            }
        }
    }

    fn spawn_whole<'s>(&mut self, scope: &rayon::Scope<'s>, f: usize, input: Input<'c>)
    where
        'c: 's,
    {
        self.in_flight += 1;
        let ctx = self.ctx;
        let tx = self.tx.clone();
        let path: &'c Path = &self.units[f].path;
        scope.spawn(move |_| job::whole_task(ctx, input, f, path, &tx));
    }

    /// Reads file `f` here, cutting it into blocks for the workers. Blocks are
    /// read here, in order, until the file's format is known.
    fn split_file<'s>(&mut self, scope: &rayon::Scope<'s>, f: usize, input: Input<'c>)
    where
        'c: 's,
    {
        let ctx = self.ctx;
        let path: &'c Path = &self.units[f].path;
        let split = Arc::new(ctx.mode.split());
        self.files[f].split = Some(split.clone());
        let fctx = super::lines::FileCtx::new(ctx.rules, f, path);
        let info = FileInfo { index: f, path };
        let mut head = Some(super::lines::Lines::new(
            ctx.rules,
            &fctx,
            ctx.halt,
            State::Start,
            Some(1),
        ));
        let mut seq = 0u32;
        // Counting lines ahead of the readers costs a pass over the data:
        // done only for sinks that want line numbers in positions.
        let count = ctx.mode.line_numbers();
        let mut line0 = 1u64;
        let end = super::produce::produce(input, &ctx.opts, &mut |block: Block<'c>| {
            let n = if count { block.lines() } else { 0 };
            if let Some(lines) = head.as_mut() {
                lines.begin_piece();
                let ((), part) = ctx.mode.with_sink(&info, Some(&split), |s| {
                    job::feed_run::<M>(lines, &block, s, &info)
                });
                let mut p = Piece::new(f, seq);
                p.exact = true;
                p.parsed = Some(lines.take_piece());
                p.part = part;
                let known = !matches!(lines.state, State::Start);
                let stop = lines.stopped();
                if known {
                    self.files[f].guess = lines.state.clone();
                    head = None;
                }
                self.accept(p);
                if stop {
                    seq += 1;
                    return Flow::Stop;
                }
            } else {
                self.wait_room();
                self.in_flight += 1;
                let tx = self.tx.clone();
                let start = self.files[f].guess.clone();
                let sp = split.clone();
                let first = count.then_some(line0);
                scope.spawn(move |_| {
                    job::block_task(ctx, path, f, seq, block, start, first, Some(sp), &tx)
                });
            }
            seq += 1;
            line0 += n;
            if self.stopping() {
                Flow::Stop
            } else {
                Flow::Go
            }
        });
        drop(split);
        let mut last = Piece::new(f, seq);
        last.last = true;
        last.exact = true;
        last.end = Some(end);
        self.accept(last);
    }

    fn wait_room(&mut self) {
        while self.in_flight >= self.plan.window {
            self.receive();
        }
    }

    fn receive(&mut self) {
        match self.rx.recv_timeout(Duration::from_millis(50)) {
            Ok(p) => self.accept(p),
            Err(RecvTimeoutError::Timeout) => {
                if self.ctx.halt.cancelled() {
                    self.ctx.gate.wake();
                }
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the driver holds a sender"),
        }
    }

    fn accept(&mut self, p: Piece<'c, M::Part>) {
        if p.job_done {
            self.in_flight -= 1;
        }
        let slot = &mut self.files[p.file];
        if let Some(parsed) = &p.parsed {
            // A header inside a block changed the format: later blocks start
            // from the new one.
            if !p.exact && parsed.end != parsed.start && p.seq >= slot.guess_seq {
                slot.guess = parsed.end.clone();
                slot.guess_seq = p.seq;
            }
        }
        slot.pending.insert(p.seq, p);
        self.commit_ready();
    }

    fn commit_ready(&mut self) {
        while self.head < self.files.len() && !self.stopping() {
            let slot = &mut self.files[self.head];
            let Some(p) = slot.pending.remove(&slot.next) else {
                break;
            };
            slot.next += 1;
            let last = p.last;
            self.commit_piece(self.head, p);
            if last && !self.stopping() {
                self.finish_file(self.head);
                self.head += 1;
                self.ctx.gate.set_head(self.head);
            }
        }
    }

    fn commit_piece(&mut self, f: usize, p: Piece<'c, M::Part>) {
        let limit = self.ctx.rules.samples;
        if let Some(end) = p.end {
            self.files[f].end = Some(end);
        }
        let Some(mut parsed) = p.parsed else {
            return;
        };
        let mut part = p.part;
        let slot = &mut self.files[f];
        if slot.broken.is_some() {
            // After the point where the input stopped being readable.
            return;
        }
        if let Some(why) = parsed.broken.take() {
            slot.broken = Some(why);
            if !M::ORDERED && !p.exact {
                // Blocks after this one were added in already: read it again,
                // in order, up to the same point.
                slot.redo = true;
            }
        }
        if p.exact {
            slot.state = parsed.end.clone();
        } else {
            let actual = slot.state.clone();
            if parsed.start != actual && parsed.dependent {
                if M::ORDERED {
                    let block = p.kept.as_ref().expect("ordered blocks are kept");
                    let path = &self.units[f].path;
                    let line0 = Some(slot.lines + 1);
                    (parsed, part) =
                        job::parse_piece(self.ctx, path, f, block, actual.clone(), line0, None);
                } else {
                    slot.redo = true;
                }
            }
            slot.state = if parsed.start == actual || parsed.saw_header {
                parsed.end.clone()
            } else {
                actual
            };
        }
        if parsed.relative {
            for m in &mut parsed.samples {
                m.line += slot.lines;
            }
        }
        slot.lines += parsed.counts.lines;
        let strict = parsed.strict_hit && !slot.redo;
        let stop = parsed.sink_stop.take().filter(|_| !slot.redo);
        slot.acc.add(parsed, limit);
        if strict {
            self.strict_error(f);
        } else if let Some(e) = stop {
            self.fail(e.into_scan_error());
        } else if let Some(part) = part {
            if let Err(e) = (self.commit)(part) {
                self.fail(e);
            }
        }
    }

    fn strict_error(&mut self, f: usize) {
        let m = self.files[f].acc.first_sample().cloned();
        self.fail(match m {
            Some(m) => Error::Strict(m),
            None => Error::Threads("strict mode stopped without a sample".into()),
        });
    }

    /// Stops the scan with `e`: nothing not yet committed matters now.
    fn fail(&mut self, e: Error) {
        self.error = Some(e);
        self.ctx.halt.stop();
        self.ctx.gate.wake();
    }

    /// Everything about file `f` is in: settle its aggregate and report it.
    fn finish_file(&mut self, f: usize) {
        if let Some(split) = self.files[f].split.take() {
            let split = Arc::try_unwrap(split)
                .unwrap_or_else(|_| unreachable!("every block of the file has reported"));
            if self.files[f].redo {
                drop(split);
                self.redo_file(f);
                if self.stopping() {
                    return;
                }
            } else {
                self.ctx.mode.end_split(split);
            }
        }
        let mut slot = std::mem::take(&mut self.files[f]);
        if let (Some(why), false) = (slot.broken.take(), slot.redo) {
            slot.end.get_or_insert_with(End::default).error = Some(why);
        }
        let (report, samples) = file_report(&self.units[f], slot.acc, slot.end);
        self.report.push(report, samples, self.ctx.rules.samples);
        if let Some(p) = self.progress {
            p.file_done();
        }
    }

    /// Reads file `f` again, in order, into a fresh aggregate.
    fn redo_file(&mut self, f: usize) {
        let unit: &'c Unit<'a> = &self.units[f];
        let ctx = self.ctx;
        let mut acc = Acc::default();
        let mut end = None;
        ctx.mode.redo(&mut |sink| {
            let Some(input) = unit.input() else {
                return;
            };
            end = Some(job::read_in_order(
                ctx,
                input,
                f,
                &unit.path,
                &mut |lines, block| {
                    let info = FileInfo {
                        index: f,
                        path: &unit.path,
                    };
                    job::feed_run::<M>(lines, block, sink, &info);
                    None
                },
                &mut |_, parsed, _| acc.add(parsed, ctx.rules.samples),
            ));
        });
        let strict = acc.parsed.as_ref().is_some_and(|p| p.strict_hit);
        let stop = acc.parsed.as_mut().and_then(|p| p.sink_stop.take());
        let slot = &mut self.files[f];
        slot.acc = acc;
        slot.end = end;
        if strict {
            self.strict_error(f);
        } else if let Some(e) = stop {
            self.fail(e.into_scan_error());
        }
    }

    /// Reports the files the scan did not finish.
    fn finish_rest(&mut self) {
        let why = if self.ctx.halt.cancelled() {
            "the scan was interrupted"
        } else {
            "the scan stopped at an error"
        };
        for f in self.head..self.units.len() {
            let slot = std::mem::take(&mut self.files[f]);
            let unit = &self.units[f];
            let mut report = FileReport::new(unit.path.to_path_buf(), unit.size);
            let samples = match slot.acc.parsed {
                Some(p) if slot.started => {
                    report.counts = p.counts;
                    report.status = FileStatus::Incomplete(format!("not read to the end: {why}"));
                    p.samples
                }
                _ => {
                    report.status = FileStatus::Skipped(format!("not read: {why}"));
                    Vec::new()
                }
            };
            self.report.push(report, samples, self.ctx.rules.samples);
        }
        self.report.interrupted = self.ctx.halt.cancelled();
    }
}

/// The report of a file whose pieces are all in.
fn file_report(
    unit: &Unit<'_>,
    acc: Acc,
    end: Option<End>,
) -> (FileReport, Vec<crate::error::Malformed>) {
    let mut r = FileReport::new(unit.path.to_path_buf(), unit.size);
    let end = end.unwrap_or_default();
    r.decoded = end.decoded;
    if end.consumed.is_some() {
        r.size = end.consumed;
    }
    let (state, samples) = match acc.parsed {
        Some(p) => {
            r.counts = p.counts;
            r.note = p.note;
            (p.end, p.samples)
        }
        None => (State::Start, Vec::new()),
    };
    r.status = match (&unit.src, state) {
        (Src::Failed(why), _) => FileStatus::Failed(why.clone()),
        (Src::Skipped(why), _) => FileStatus::Skipped(why.clone()),
        (_, State::NotFlowLog(why)) => FileStatus::Skipped(why),
        _ if end.skipped.is_some() => FileStatus::Skipped(end.skipped.unwrap_or_default()),
        (_, State::Unusable(why)) if r.counts.records == 0 && r.counts.malformed == 0 => {
            FileStatus::Skipped(why)
        }
        _ => match (end.error, &end.mapped) {
            (Some(e), _) if r.counts.lines == 0 && r.decoded == 0 => FileStatus::Failed(e),
            (Some(e), _) => FileStatus::Incomplete(e.replace(
                "the records before it are counted",
                &format!("the {} records before it are counted", r.counts.records),
            )),
            (None, Some(m)) if crate::source::was_truncated(m) => FileStatus::Incomplete(
                "the file was truncated while being read; the part that vanished was not read"
                    .into(),
            ),
            _ => FileStatus::Complete,
        },
    };
    if matches!(r.status, FileStatus::Skipped(_)) {
        // A skipped file adds nothing, not even lines.
        r.counts = Default::default();
        return (r, Vec::new());
    }
    (r, samples)
}
