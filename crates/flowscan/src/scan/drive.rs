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
//! a block added). The committing half is in `commit.rs`.

use std::path::Path;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Error;
use crate::sink::FileInfo;

use super::commit::Slot;
use super::job::{self, Core, Ctx, Piece};
use super::lines::State;
use super::mode::Mode;
use super::produce::{Block, End, Flow, Input};
use super::report::ScanReport;
use super::unit::{Src, Unit};
use super::Progress;

/// Driver settings.
pub(crate) struct Plan {
    pub threads: usize,
    /// Files at least this large are cut into blocks when it helps.
    pub split_min: u64,
    /// Tasks in flight at most.
    pub window: usize,
    /// Tasks in flight at most while a file is cut into blocks: a stream's
    /// blocks are copies, held until read, and at the end of a scan, when the
    /// tables are largest, blocks waiting for a worker are heap for nothing.
    /// Two more than the threads were up to 8 MB; with the driver's permit
    /// (see `Cores`) one worker reads while it inflates, more blocks waited,
    /// and the gzip peak rose by 2 MB. One more than the threads took it
    /// back at the same speed.
    pub blocks: usize,
}

/// A block of a cut file, for a reader.
pub(super) struct BlockJob<'c, M: Mode> {
    seq: u32,
    block: Block<'c>,
    start: State,
    first: Option<u64>,
    split: Arc<M::Split>,
}

pub(crate) struct Drive<'c, 'a, M: Mode> {
    pub(super) ctx: &'c Ctx<'c, M>,
    pub(super) units: &'c [Unit<'a>],
    pub(super) plan: &'c Plan,
    pub(super) progress: Option<&'c dyn Progress>,
    pub(super) files: Vec<Slot<'c, M>>,
    pub(super) tx: Sender<Piece<'c, M::Part>>,
    pub(super) rx: Receiver<Piece<'c, M::Part>>,
    pub(super) in_flight: usize,
    /// The driver's permit of `ctx.cores`, held while it cuts a file.
    pub(super) core: Option<Core<'c>>,
    /// Readers of a cut file are running: they hold every worker until the
    /// driver is done with that file.
    pub(super) reading: bool,
    /// Aggregates of cut files finished while readers ran. Their merge runs
    /// on the pool, which has no free worker then: it waits for the readers
    /// to end.
    pub(super) unmerged: Vec<M::Split>,
    pub(super) head: usize,
    /// On-disk bytes of the units from each index to the end.
    pub(super) rest_bytes: Vec<u64>,
    pub report: ScanReport,
    pub error: Option<Error>,
    pub(super) commit: &'c mut dyn FnMut(M::Part) -> Result<(), Error>,
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
            core: None,
            reading: false,
            unmerged: Vec::new(),
            head: 0,
            rest_bytes,
            report: ScanReport::default(),
            error: None,
            commit,
        }
    }

    pub(super) fn stopping(&self) -> bool {
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
        if threads < 2 {
            return false;
        }
        match unit.size {
            // Standard input or a reader.
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
        let fctx = super::rules::FileCtx::new(ctx.rules, f, path);
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
        let mut jobs = None;
        // An aggregate cannot take back what a block read with the wrong format
        // added, and an input that cannot be read again cannot be read again
        // in order instead: its blocks that may change the format are read
        // here, in order, so that the workers' blocks always start from the
        // right one.
        let guarded = !M::ORDERED && !self.units[f].rereadable();
        self.core = Some(ctx.cores.take_first());
        let end = super::produce::produce(input, &ctx.opts, &mut |block: Block<'c>| {
            let n = if count { block.lines() } else { 0 };
            // Blocks read here, in order: the head, until the format is
            // known, and a guarded input's blocks that could change it.
            let in_order = if let Some(lines) = head.as_mut() {
                lines.begin_piece();
                let ((), part) = ctx.mode.with_sink(&info, Some(&split), |s| {
                    job::feed_run::<M>(lines, &block, s, &info)
                });
                let parsed = lines.take_piece();
                if !matches!(lines.state, State::Start) {
                    self.files[f].guess = lines.state.clone();
                    head = None;
                }
                Some((parsed, part))
            } else if guarded && !super::header::cannot_change_format(&block) {
                let first = count.then_some(line0);
                let start = self.files[f].guess.clone();
                let (parsed, part) =
                    job::parse_piece(ctx, path, f, &block, start, first, Some(&split));
                self.files[f].guess = parsed.end.clone();
                Some((parsed, part))
            } else {
                None
            };
            if let Some((parsed, part)) = in_order {
                // As `Lines::stopped`: stopped, or not a flow log.
                let stop = parsed.stopped || matches!(parsed.end, State::NotFlowLog(_));
                let mut p = Piece::new(f, seq);
                p.exact = true;
                p.parsed = Some(parsed);
                p.part = part;
                self.accept(p);
                if stop {
                    seq += 1;
                    return Flow::Stop;
                }
            } else {
                self.wait_below(self.plan.blocks);
                self.in_flight += 1;
                let jobs = jobs.get_or_insert_with(|| self.start_readers(scope, f));
                let _ = jobs.send(BlockJob {
                    seq,
                    block,
                    start: self.files[f].guess.clone(),
                    first: count.then_some(line0),
                    split: split.clone(),
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
        self.core = None;
        // The readers end once they have taken every block.
        drop(jobs);
        self.reading = false;
        for split in std::mem::take(&mut self.unmerged) {
            self.ctx.mode.end_split(split);
        }
        drop(split);
        let mut last = Piece::new(f, seq);
        last.last = true;
        last.exact = true;
        last.end = Some(end);
        self.accept(last);
    }

    /// Starts a reader of the blocks of file `f` on every worker. Each reads
    /// one block after another until the driver is done with the file. A task
    /// per block left the workers idle between blocks, and rayon's idle
    /// workers spin before they sleep: runnable, they took turns on the
    /// driver's core.
    fn start_readers<'s>(&mut self, scope: &rayon::Scope<'s>, f: usize) -> Sender<BlockJob<'c, M>>
    where
        'c: 's,
    {
        self.reading = true;
        let (jobs, queue) = channel::<BlockJob<'c, M>>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..self.plan.threads {
            let (ctx, queue, tx) = (self.ctx, queue.clone(), self.tx.clone());
            let path: &'c Path = &self.units[f].path;
            scope.spawn(move |_| loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok(j) = next else { break };
                job::block_task(
                    ctx,
                    path,
                    f,
                    j.seq,
                    j.block,
                    j.start,
                    j.first,
                    Some(j.split),
                    &tx,
                );
            });
        }
        jobs
    }

    fn wait_room(&mut self) {
        self.wait_below(self.plan.window);
    }

    fn wait_below(&mut self, tasks: usize) {
        while self.in_flight >= tasks {
            self.receive();
        }
    }

    fn receive(&mut self) {
        // Waiting, the driver lets a worker have its core.
        let held = self.core.take().is_some();
        let got = self.rx.recv_timeout(Duration::from_millis(50));
        if held {
            self.core = Some(self.ctx.cores.take_first());
        }
        match got {
            Ok(p) => self.accept(p),
            Err(RecvTimeoutError::Timeout) => {
                if self.ctx.halt.cancelled() {
                    self.ctx.gate.wake();
                }
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the driver holds a sender"),
        }
    }
}
