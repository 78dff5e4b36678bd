//! The work a task does: read a whole file in order, or read one block of a
//! file that the driver cut into blocks; either way, its lines go through the
//! line machine into the mode's sink, and what they added up to goes back to
//! the driver as [`Piece`]s.

use std::path::Path;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};

use crate::error::Malformed;
use crate::sink::{FileInfo, Sink};

use super::lines::{Lines, Parsed, State};
use super::mode::Mode;
use super::produce::{self, Block, Body, End, Flow, Input};
use super::rules::{FileCtx, Halt, Rules};

/// What every task of a scan shares.
pub(crate) struct Ctx<'c, M> {
    pub rules: &'c Rules,
    pub halt: &'c Halt<'c>,
    pub mode: &'c M,
    pub opts: produce::Options<'c>,
    pub gate: Gate,
    pub cores: Cores,
}

/// A piece of a file's result, sent to the driver.
pub(crate) struct Piece<'a, P> {
    pub file: usize,
    pub seq: u32,
    /// The last piece of its file.
    pub last: bool,
    /// The task that sent it has finished.
    pub job_done: bool,
    /// Read in order from the file's start: its format cannot be wrong.
    pub exact: bool,
    /// What its lines added up to (`None`: not read, the scan was stopping).
    pub parsed: Option<Parsed>,
    pub part: Option<P>,
    /// The block, kept to be read again (ordered scans).
    pub kept: Option<Block<'a>>,
    /// How the input ended (with the last piece).
    pub end: Option<End>,
}

impl<P> Piece<'_, P> {
    pub fn new(file: usize, seq: u32) -> Self {
        Piece {
            file,
            seq,
            last: false,
            job_done: false,
            exact: false,
            parsed: None,
            part: None,
            kept: None,
            end: None,
        }
    }
}

/// Holds back an ordered task that has sent enough parts of a file that is not
/// yet being committed: memory stays bounded whatever the order in which tasks
/// finish. The file being committed is never held back, so work always goes on.
#[derive(Default)]
pub(crate) struct Gate {
    head: Mutex<usize>,
    moved: Condvar,
}

/// Parts a task may send ahead of its turn.
const AHEAD: u32 = 2;

impl Gate {
    pub fn set_head(&self, head: usize) {
        *self.head.lock().unwrap_or_else(|p| p.into_inner()) = head;
        self.moved.notify_all();
    }

    pub fn wake(&self) {
        self.moved.notify_all();
    }

    fn wait(&self, file: usize, sent: u32, halt: &Halt<'_>) {
        let mut head = self.head.lock().unwrap_or_else(|p| p.into_inner());
        while *head < file && sent >= AHEAD && !halt.any() {
            head = self
                .moved
                .wait_timeout(head, std::time::Duration::from_millis(50))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// The threads that may compute at once while the driver cuts a file into
/// blocks. The driver reads that file itself, and for a gzip file it is the
/// bottleneck: with a worker on every core as well, the scheduler shared a
/// core between it and a worker, and it stood still for an eighth of the
/// run. Workers take a permit to read a block; the driver holds one while it
/// reads, gives it back while it waits, and comes first when it wants it
/// back.
pub(crate) struct Cores {
    state: Mutex<CoresState>,
    freed: Condvar,
}

struct CoresState {
    free: usize,
    driver_waits: bool,
}

/// A permit, given back when dropped.
pub(crate) struct Core<'c>(&'c Cores);

impl Drop for Core<'_> {
    fn drop(&mut self) {
        self.0.give();
    }
}

impl Cores {
    /// Permits for `threads` workers and the driver on the cores this process
    /// may run on: no limit unless there are fewer cores than threads.
    pub fn new(threads: usize) -> Cores {
        let cores = std::thread::available_parallelism().map_or(threads + 1, |n| n.get());
        Cores::permits(cores.clamp(1, threads + 1))
    }

    fn permits(n: usize) -> Cores {
        Cores {
            state: Mutex::new(CoresState {
                free: n,
                driver_waits: false,
            }),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CoresState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A worker's permit, once one is free and the driver is not waiting.
    pub fn take(&self) -> Core<'_> {
        let mut s = self.lock();
        while s.free == 0 || s.driver_waits {
            s = self.freed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.free -= 1;
        Core(self)
    }

    /// The driver's permit, before any worker's.
    pub fn take_first(&self) -> Core<'_> {
        let mut s = self.lock();
        s.driver_waits = true;
        while s.free == 0 {
            s = self.freed.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        s.free -= 1;
        s.driver_waits = false;
        // Workers that deferred to the driver may take what is left.
        self.freed.notify_all();
        Core(self)
    }

    fn give(&self) {
        self.lock().free += 1;
        self.freed.notify_all();
    }
}

/// Several pieces of one file added together.
#[derive(Default)]
pub(crate) struct Acc {
    pub parsed: Option<Parsed>,
}

impl Acc {
    pub fn add(&mut self, p: Parsed, limit: usize) {
        let Some(a) = &mut self.parsed else {
            self.parsed = Some(p);
            return;
        };
        a.counts.add(&p.counts);
        let room = limit.saturating_sub(a.samples.len());
        a.samples.extend(p.samples.into_iter().take(room));
        a.end = p.end;
        a.strict_hit |= p.strict_hit;
        if a.sink_stop.is_none() {
            a.sink_stop = p.sink_stop;
        }
        a.stopped |= p.stopped;
        if let Some(n) = p.note {
            super::lines::add_note(&mut a.note, &n);
        }
    }

    /// The first malformed line (strict mode's error).
    pub fn first_sample(&self) -> Option<&Malformed> {
        self.parsed.as_ref().and_then(|p| p.samples.first())
    }
}

/// Feeds one block through the line machine into `sink`.
pub(crate) fn feed<S: Sink>(lines: &mut Lines<'_>, block: &Block<'_>, sink: &mut S) {
    match &block.body {
        Body::Text(d) => lines.feed(d, block.byte0, sink),
        Body::Messages(d) => lines.feed_messages(d, sink),
        Body::Json(p) => {
            thread_local! {
                // Reused for the same reason as the bracketed piece's buffer.
                static MESSAGES: std::cell::RefCell<Vec<u8>> =
                    const { std::cell::RefCell::new(Vec::new()) };
            }
            // Taken out while in use: the sink may run other work on this
            // thread (a rayon join steals), which would find the slot empty
            // and use a new buffer rather than find it borrowed.
            let mut m = MESSAGES.take();
            let error = super::messages::json_piece(p, &mut m);
            lines.feed_messages(&m, sink);
            MESSAGES.set(m);
            if let Some(e) = error {
                lines.break_off(e);
            }
        }
        #[cfg(feature = "parquet")]
        Body::Rows(rows, full) => lines.feed_rows(rows, full, sink),
    }
}

/// Feeds one block into `sink` as one run of `info`'s records, between the
/// sink's `begin_file` and `end_file`. A part of an ordered scan takes nothing
/// after its block, so it is finished here (`finish`), and an error from that
/// stops the piece as a sink's stop does.
pub(crate) fn feed_run<M: Mode>(
    lines: &mut Lines<'_>,
    block: &Block<'_>,
    sink: &mut M::Sink,
    info: &FileInfo<'_>,
) {
    sink.begin_file(info);
    feed(lines, block, sink);
    sink.end_file(info);
    if M::ORDERED {
        if let Err(e) = sink.finish() {
            lines.sink_stopped(e);
        }
    }
}

/// Reads a block of file `file`, from format `start`, its first line being
/// `line0` (when known); returns what it added up to and the part it filled.
pub(crate) fn parse_piece<M: Mode>(
    ctx: &Ctx<'_, M>,
    path: &Path,
    file: usize,
    block: &Block<'_>,
    start: State,
    line0: Option<u64>,
    split: Option<&M::Split>,
) -> (Parsed, Option<M::Part>) {
    let fctx = FileCtx::new(ctx.rules, file, path);
    let info = FileInfo { index: file, path };
    let mut lines = Lines::new(ctx.rules, &fctx, ctx.halt, start, line0);
    lines.begin_piece();
    let ((), part) = ctx.mode.with_sink(&info, split, |sink| {
        feed_run::<M>(&mut lines, block, sink, &info)
    });
    (lines.take_piece(), part)
}

/// A task: one block of a file the driver cut into blocks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn block_task<'a, M: Mode>(
    ctx: &Ctx<'_, M>,
    path: &Path,
    file: usize,
    seq: u32,
    block: Block<'a>,
    start: State,
    line0: Option<u64>,
    split: Option<Arc<M::Split>>,
    tx: &Sender<Piece<'a, M::Part>>,
) {
    let mut piece = Piece::new(file, seq);
    piece.job_done = true;
    if !ctx.halt.any() {
        let core = ctx.cores.take();
        let (parsed, part) = parse_piece(ctx, path, file, &block, start, line0, split.as_deref());
        if let Body::Text(d) = &block.body {
            d.release_pages();
        }
        drop(core);
        piece.parsed = Some(parsed);
        piece.part = part;
        if M::ORDERED {
            piece.kept = Some(block);
        }
    }
    // The driver takes the file's shared state back once every block has
    // reported, so it must be let go first.
    drop(split);
    let _ = tx.send(piece);
}

/// Reads a whole input in order, handing each block to `into` and each block's
/// result to `emit`. Returns how the input ended.
pub(crate) fn read_in_order<'a, M: Mode>(
    ctx: &Ctx<'_, M>,
    input: Input<'a>,
    file: usize,
    path: &Path,
    into: &mut dyn FnMut(&mut Lines<'_>, &Block<'a>) -> Option<M::Part>,
    emit: &mut dyn FnMut(u32, Parsed, Option<M::Part>),
) -> End {
    let fctx = FileCtx::new(ctx.rules, file, path);
    let mut lines = Lines::new(ctx.rules, &fctx, ctx.halt, State::Start, Some(1));
    let mut seq = 0u32;
    let opts = produce::Options {
        block: ctx.opts.block.min(produce::WHOLE_BLOCK),
        ..ctx.opts
    };
    let mut broken = None;
    let mut end = produce::produce(input, &opts, &mut |block| {
        lines.begin_piece();
        let part = into(&mut lines, &block);
        let stop = lines.stopped();
        let mut parsed = lines.take_piece();
        broken = broken.take().or(parsed.broken.take());
        emit(seq, parsed, part);
        seq += 1;
        if stop || ctx.halt.any() {
            Flow::Stop
        } else {
            Flow::Go
        }
    });
    if let Some(why) = broken {
        end.error = Some(why);
    } else if lines.stopped() && !matches!(lines.state, State::NotFlowLog(_)) && end.error.is_none()
    {
        // Stopped by strict mode or a cancel: the rest was not read.
        end.error = Some(format!("not read after line {}", lines.line()));
    }
    end
}

/// A task: a whole file, read in order. Ordered scans send a piece per block
/// as they go; others send one piece at the end.
pub(crate) fn whole_task<'a, M: Mode>(
    ctx: &Ctx<'_, M>,
    input: Input<'a>,
    file: usize,
    path: &Path,
    tx: &Sender<Piece<'a, M::Part>>,
) {
    let info = FileInfo { index: file, path };
    let mut acc = Acc::default();
    let mut sent = 0u32;
    let limit = ctx.rules.samples;
    let end = read_in_order(
        ctx,
        input,
        file,
        path,
        &mut |lines, block| {
            ctx.mode
                .with_sink(&info, None, |sink| feed_run::<M>(lines, block, sink, &info))
                .1
        },
        &mut |seq, parsed, part| {
            if M::ORDERED {
                let mut p = Piece::new(file, seq);
                p.exact = true;
                p.parsed = Some(parsed);
                p.part = part;
                let _ = tx.send(p);
                sent = seq + 1;
                ctx.gate.wait(file, sent, ctx.halt);
            } else {
                acc.add(parsed, limit);
            }
        },
    );
    let mut last = Piece::new(file, sent);
    last.last = true;
    last.job_done = true;
    last.exact = true;
    last.parsed = acc.parsed;
    last.end = Some(end);
    let _ = tx.send(last);
}

#[cfg(test)]
mod tests {
    use super::Cores;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    use std::time::Duration;

    #[test]
    fn no_more_workers_compute_than_there_are_permits() {
        let cores = Cores::permits(2);
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..6 {
                s.spawn(|| {
                    for _ in 0..50 {
                        let _core = cores.take();
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::yield_now();
                        now.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert_eq!(most.load(Ordering::SeqCst), 2);
        // Every permit came back.
        let all = [cores.take(), cores.take()];
        drop(all);
    }

    #[test]
    fn the_driver_gets_the_next_free_permit_before_a_waiting_worker() {
        // Both wake when the permit comes back; without the driver's turn,
        // either may win, so a few rounds make a lost turn all but certain
        // to show.
        for _ in 0..20 {
            let cores = Cores::permits(1);
            let order = Mutex::new(Vec::new());
            let held = cores.take();
            std::thread::scope(|s| {
                s.spawn(|| {
                    let _core = cores.take_first();
                    order.lock().unwrap().push("driver");
                });
                while !cores.lock().driver_waits {
                    std::thread::yield_now();
                }
                s.spawn(|| {
                    let _core = cores.take();
                    order.lock().unwrap().push("worker");
                });
                // Let the worker reach its wait before the permit comes back.
                std::thread::sleep(Duration::from_millis(5));
                drop(held);
            });
            assert_eq!(*order.lock().unwrap(), ["driver", "worker"]);
        }
    }
}
