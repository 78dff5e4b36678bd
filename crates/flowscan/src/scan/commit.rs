//! The driver's other half: results come back as [`Piece`]s in any order and
//! are committed here in input order: counts and samples added up, a block
//! read with the wrong format read again (or its whole file, for aggregates),
//! ordered parts handed to the caller, the first error in input order made
//! the scan's, and each file's report written when its last piece is in.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::Error;
use crate::sink::FileInfo;

use super::drive::Drive;
use super::job::{self, Acc, Piece};
use super::lines::State;
use super::mode::Mode;
use super::produce::End;
use super::report::{FileReport, FileStatus};
use super::unit::{Src, Unit};

/// What the driver knows of one file.
pub(super) struct Slot<'a, M: Mode> {
    pub pending: BTreeMap<u32, Piece<'a, M::Part>>,
    /// The next piece to commit.
    pub next: u32,
    /// The format after the committed pieces.
    pub state: State,
    /// The format new blocks are read from, and the piece that showed it.
    pub guess: State,
    pub guess_seq: u32,
    pub acc: Acc,
    /// Lines of the committed pieces (where the next piece starts).
    pub lines: u64,
    pub end: Option<End>,
    pub split: Option<Arc<M::Split>>,
    /// A block was read with the wrong format: read the file again in order.
    pub redo: bool,
    /// The input ended early in a committed piece (invalid JSON): why.
    pub broken: Option<String>,
    pub started: bool,
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

impl<'c, 'a: 'c, M: Mode> Drive<'c, 'a, M> {
    pub(super) fn accept(&mut self, p: Piece<'c, M::Part>) {
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
                if !self.units[f].rereadable() {
                    // The driver reads such an input's blocks that could
                    // change the format itself, in order: reading nothing
                    // again in their place would lose the file.
                    let path = self.units[f].path.display();
                    self.fail(Error::Threads(format!(
                        "{path}: a block was read with the wrong format, and the input cannot be read again"
                    )));
                    return;
                }
                self.redo_file(f);
                if self.stopping() {
                    return;
                }
            } else if self.reading {
                self.unmerged.push(split);
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
    pub(super) fn finish_rest(&mut self) {
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
                &match r.counts.records {
                    1 => "the 1 record before it is counted".to_string(),
                    n => format!("the {n} records before it are counted"),
                },
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
