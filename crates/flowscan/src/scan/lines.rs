//! The line machine: every line of a file is exactly one of record, header,
//! blank, malformed or skipped, and a header line changes the format of the
//! lines after it. Nothing else in the scanner decides what a line is.
//!
//! A file's text reaches the machine in blocks. A block may be read in parallel
//! with the blocks before it, from the format the scanner *expects* at its
//! start; the machine notes whether any line depended on that guess
//! ([`Parsed::dependent`]) so that the scanner can read the block again if the
//! guess was wrong.

use std::sync::Arc;

use crate::error::Malformed;
use crate::filter::Filter;
use crate::parse::Tokens;
use crate::record::{FlowRecord, Record};
use crate::schema::Schema;
use crate::sink::{Position, Sink, SinkError};

use super::header::{header_of, headerless_format};
use super::report::Counts;
use super::rules::{marker, FileCtx, Halt, Rules, MAX_LINE};

/// Where a file's format stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// No header or record seen yet.
    Start,
    /// Reading records of this format.
    Records(Arc<Schema>),
    /// The current format lacks a needed field: its lines are skipped.
    Unusable(String),
    /// The file is not a flow log: stop.
    NotFlowLog(String),
}

/// What one piece of a file added up to.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub counts: Counts,
    pub samples: Vec<Malformed>,
    /// The format the piece was read from.
    pub start: State,
    /// The format at its end.
    pub end: State,
    /// Whether a line was read before the piece's first header (so through `start`).
    pub dependent: bool,
    /// Whether line numbers (of samples) count from the piece's start, not the file's.
    pub relative: bool,
    /// Whether the piece held a header line.
    pub saw_header: bool,
    /// Whether strict mode stopped the piece at a malformed line.
    pub strict_hit: bool,
    /// The error a sink stopped the piece with.
    pub sink_stop: Option<SinkError>,
    /// Whether the piece stopped before its end (strict mode elsewhere, cancel).
    pub stopped: bool,
    /// Why the input ends in this piece (invalid JSON): nothing after it counts.
    pub broken: Option<String>,
    pub note: Option<String>,
}

/// Adds to `notes` (notes joined by "; ") each of `more`'s that it lacks:
/// the pieces of a file each note what they saw, and joined notes of
/// pieces would otherwise repeat their parts.
pub(crate) fn add_note(notes: &mut Option<String>, more: &str) {
    for part in more.split("; ") {
        match notes {
            Some(n) if n.split("; ").any(|p| p == part) => {}
            Some(n) => {
                n.push_str("; ");
                n.push_str(part);
            }
            None => *notes = Some(part.to_string()),
        }
    }
}

/// A line machine's state between calls (see [`Lines::save`]).
pub(crate) struct Saved {
    state: State,
    start: State,
    dependent: bool,
    saw_header: bool,
    counts: Counts,
    samples: Vec<Malformed>,
    strict_hit: bool,
    stopped: bool,
    note: Option<String>,
    line: u64,
    relative: bool,
    tokens: Box<Tokens>,
}

impl Saved {
    /// The current format, when records are being read.
    pub fn schema(&self) -> Option<&Schema> {
        match &self.state {
            State::Records(s) => Some(s),
            _ => None,
        }
    }

    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    pub fn samples(&self) -> &[Malformed] {
        &self.samples
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }
}

/// The line machine of one file, for one piece at a time.
pub(crate) struct Lines<'c> {
    rules: &'c Rules,
    file: &'c FileCtx,
    halt: &'c Halt<'c>,
    pub state: State,
    start: State,
    dependent: bool,
    saw_header: bool,
    counts: Counts,
    samples: Vec<Malformed>,
    strict_hit: bool,
    sink_stop: Option<SinkError>,
    stopped: bool,
    /// Why the input ended before its end (invalid JSON).
    broken: Option<String>,
    note: Option<String>,
    /// Number of the last line read (from the piece's start when `relative`).
    line: u64,
    relative: bool,
    tokens: Box<Tokens>,
}

impl<'c> Lines<'c> {
    /// A machine for `file`, about to read line `line0` (when known: else
    /// lines are numbered from the piece's start) with format `state`.
    pub fn new(
        rules: &'c Rules,
        file: &'c FileCtx,
        halt: &'c Halt<'c>,
        state: State,
        line0: Option<u64>,
    ) -> Lines<'c> {
        Lines {
            rules,
            file,
            halt,
            start: state.clone(),
            state,
            dependent: false,
            saw_header: false,
            counts: Counts::default(),
            samples: Vec::new(),
            strict_hit: false,
            sink_stop: None,
            stopped: false,
            broken: None,
            note: None,
            line: line0.map_or(0, |l| l.saturating_sub(1)),
            relative: line0.is_none(),
            tokens: Box::default(),
        }
    }

    /// What the machine holds, apart from what it borrows: for a reader that
    /// keeps it between calls.
    pub fn save(self) -> Saved {
        Saved {
            state: self.state,
            start: self.start,
            dependent: self.dependent,
            saw_header: self.saw_header,
            counts: self.counts,
            samples: self.samples,
            strict_hit: self.strict_hit,
            stopped: self.stopped,
            note: self.note,
            line: self.line,
            relative: self.relative,
            tokens: self.tokens,
        }
    }

    /// A machine that goes on from `saved`.
    pub fn resume(
        rules: &'c Rules,
        file: &'c FileCtx,
        halt: &'c Halt<'c>,
        saved: Saved,
    ) -> Lines<'c> {
        Lines {
            rules,
            file,
            halt,
            state: saved.state,
            start: saved.start,
            dependent: saved.dependent,
            saw_header: saved.saw_header,
            counts: saved.counts,
            samples: saved.samples,
            strict_hit: saved.strict_hit,
            sink_stop: None,
            stopped: saved.stopped,
            broken: None,
            note: saved.note,
            line: saved.line,
            relative: saved.relative,
            tokens: saved.tokens,
        }
    }

    /// One line of a text block (already split into `tokens`); whether it
    /// was a record the sink took.
    pub fn step_text<S: Sink>(
        &mut self,
        line: &[u8],
        tokens: &Tokens,
        byte: Option<u64>,
        sink: &mut S,
    ) -> bool {
        let before = self.counts.matched;
        self.text_line(line, tokens, byte, sink);
        self.counts.matched > before
    }

    /// One line of a messages block; whether it was a record the sink took.
    pub fn step_message<S: Sink>(
        &mut self,
        line: &[u8],
        tokens: &mut Tokens,
        sink: &mut S,
    ) -> bool {
        match line {
            [0, code, rest @ ..] => {
                self.marker_line(*code, rest);
                false
            }
            _ => {
                tokens.split(line);
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                self.step_text(line, tokens, None, sink)
            }
        }
    }

    /// One Parquet row; whether the sink took it.
    #[cfg(feature = "parquet")]
    pub fn step_row<S: Sink, R: FlowRecord>(
        &mut self,
        full: &Schema,
        rec: &R,
        sink: &mut S,
    ) -> bool {
        if matches!(self.state, State::Start) {
            self.set_schema(full.clone());
        }
        if !matches!(self.state, State::Records(_)) {
            self.line += 1;
            self.counts.lines += 1;
            self.counts.skipped += 1;
            return false;
        }
        let before = self.counts.matched;
        self.row(rec, sink);
        self.counts.matched > before
    }

    /// The line accounting and the malformed lines so far (the reader's view).
    pub fn counts(&self) -> (&Counts, &[Malformed], Option<&str>) {
        (&self.counts, &self.samples, self.note.as_deref())
    }

    /// Starts a piece: what follows is counted apart from what came before.
    pub fn begin_piece(&mut self) {
        self.start = self.state.clone();
        self.dependent = false;
        self.saw_header = false;
    }

    /// The current piece's result; the machine goes on from where it is.
    pub fn take_piece(&mut self) -> Parsed {
        Parsed {
            counts: std::mem::take(&mut self.counts),
            samples: std::mem::take(&mut self.samples),
            start: self.start.clone(),
            end: self.state.clone(),
            dependent: self.dependent,
            relative: self.relative,
            saw_header: self.saw_header,
            strict_hit: std::mem::take(&mut self.strict_hit),
            sink_stop: self.sink_stop.take(),
            stopped: self.stopped,
            broken: self.broken.take(),
            note: self.note.take(),
        }
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Whether reading should stop (not a flow log, strict mode, cancel).
    #[inline]
    /// Ends the input here: the rest of it cannot be read (invalid JSON).
    pub fn break_off(&mut self, why: String) {
        self.stopped = true;
        self.broken = Some(why);
    }

    pub fn stopped(&self) -> bool {
        self.stopped || matches!(self.state, State::NotFlowLog(_))
    }

    /// Looks at the stop signals now and then: often enough to stop soon
    /// after a Ctrl-C, rarely enough to cost nothing.
    #[inline]
    fn check_halt(&mut self) {
        if self.counts.lines & 1023 == 0 && self.halt.any() {
            self.stopped = true;
        }
    }

    /// The line number a record's position shows.
    #[inline]
    fn line_no(&self) -> Option<u64> {
        (!self.relative).then_some(self.line)
    }

    /// Feeds every line of a text block (the last may lack its newline) whose
    /// first byte is at `byte0` in the file's text.
    pub fn feed<S: Sink>(&mut self, buf: &[u8], byte0: Option<u64>, sink: &mut S) {
        let mut tokens = std::mem::take(&mut self.tokens);
        let base = buf.as_ptr() as usize;
        crate::parse::split_lines(buf, &mut tokens, |line, toks| {
            let byte = byte0.map(|b| b + (line.as_ptr() as usize - base) as u64);
            self.text_line(line, toks, byte, sink);
            self.check_halt();
            !self.stopped()
        });
        self.tokens = tokens;
    }

    /// Feeds a block of CloudWatch messages, one per line, with [`marker`] lines.
    /// A message never holds a newline or a NUL ([`push_message`]), so the
    /// block splits as text does, and a line that starts with NUL is a marker.
    ///
    /// [`push_message`]: super::text::push_message
    pub fn feed_messages<S: Sink>(&mut self, buf: &[u8], sink: &mut S) {
        let mut tokens = std::mem::take(&mut self.tokens);
        crate::parse::split_lines(buf, &mut tokens, |line, toks| {
            match line {
                [0, code, rest @ ..] => self.marker_line(*code, rest),
                _ => self.text_line(line, toks, None, sink),
            }
            self.check_halt();
            !self.stopped()
        });
        self.tokens = tokens;
    }

    fn marker_line(&mut self, code: u8, rest: &[u8]) {
        if code == marker::MENDED {
            // Not a line: the message lines around it keep their numbers.
            return self.add_note(
                "lone UTF-16 surrogate escapes in JSON strings (\\ud800 without its pair) \
                 were read as U+FFFD",
            );
        }
        self.line += 1;
        self.counts.lines += 1;
        match code {
            marker::CONTROL => self.not_record("CloudWatch control messages"),
            marker::FOREIGN => self.not_record("JSON values without a message"),
            marker::CSV_HEADER => self.counts.headers += 1,
            marker::CSV_BAD => {
                let n = String::from_utf8_lossy(rest);
                self.malformed(format!("CSV row with {n} columns and no message"), b"");
            }
            marker::TOO_LONG => {
                self.malformed(format!("line longer than {} MiB", MAX_LINE >> 20), rest)
            }
            _ => self.malformed("line cut short by a read error".into(), rest),
        }
    }

    /// An input item that is not a flow log record, counted among the skipped.
    fn not_record(&mut self, what: &str) {
        self.counts.skipped += 1;
        self.add_note(&format!("{what} were skipped"));
    }

    /// Adds `note` to the file's notes, once.
    fn add_note(&mut self, note: &str) {
        add_note(&mut self.note, note);
    }

    fn malformed(&mut self, reason: String, line: &[u8]) {
        self.counts.malformed += 1;
        if self.samples.len() < self.rules.samples {
            self.samples.push(Malformed::new(
                self.file.path.to_path_buf(),
                self.line,
                reason,
                line,
            ));
        }
        if self.rules.strict {
            // This piece stops here; the others stop when the driver, taking
            // results in input order, finds this to be the first.
            self.strict_hit = true;
            self.stopped = true;
        }
    }

    /// Switches to the format a header (or a Parquet file) declares.
    pub fn set_schema(&mut self, schema: Schema) {
        if let State::Records(cur) = &self.state {
            if **cur == schema {
                return;
            }
        }
        let missing: Vec<&str> = self
            .file
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

    /// One text line, already split into `tokens`.
    #[inline]
    fn text_line<S: Sink>(
        &mut self,
        line: &[u8],
        tokens: &Tokens,
        byte: Option<u64>,
        sink: &mut S,
    ) {
        self.line += 1;
        self.counts.lines += 1;
        if tokens.is_empty() {
            self.counts.blank += 1;
            return;
        }
        // Until this piece's first header, what a line other than a header is
        // depends on the format the piece started from.
        let before_header = !self.saw_header;
        match header_of(line, tokens) {
            Ok(Some(schema)) => {
                self.counts.headers += 1;
                self.saw_header = true;
                self.set_schema(schema);
                return;
            }
            Ok(None) => self.dependent |= before_header,
            Err(e) => {
                self.dependent |= before_header;
                if matches!(self.state, State::Start) {
                    self.state = State::NotFlowLog(format!("bad header line: {e}"));
                    return;
                }
                return self.malformed(format!("bad header line: {e}"), line);
            }
        }
        if let State::Start = self.state {
            match headerless_format(line, tokens, self.rules.fields.as_ref()) {
                Ok((schema, note)) => {
                    // Added to what was noted before the first record.
                    self.add_note(note);
                    self.set_schema(schema);
                }
                Err(why) => {
                    self.state = State::NotFlowLog(why);
                    return;
                }
            }
        }
        let schema: &Schema = match &self.state {
            State::Records(s) => s,
            State::Unusable(_) => {
                self.counts.skipped += 1;
                return;
            }
            State::Start | State::NotFlowLog(_) => return,
        };
        if tokens.len() != schema.len() {
            let reason = format!("expected {} fields, found {}", schema.len(), tokens.len());
            return self.malformed(reason, line);
        }
        let rec = Record::checked(line, tokens, schema);
        let pos = Position::new(&self.file.path, self.file.index, self.line_no(), byte);
        let taken = take(self.file.filter.as_deref(), &rec, &pos, sink);
        self.taken(taken, line);
    }

    /// Counts what became of a record: taken, malformed, or the sink's stop.
    #[inline(always)]
    fn taken(&mut self, taken: Result<bool, SinkError>, line: &[u8]) {
        match taken {
            Ok(kept) => {
                self.counts.records += 1;
                self.counts.matched += u64::from(kept);
            }
            Err(SinkError::Value(e)) => self.malformed(e.to_string(), line),
            // The line is left uncounted: a stopped scan reports nothing.
            Err(stop) => self.sink_stopped(stop),
        }
    }

    /// The sink stopped: so does the piece, and the scan ends with `e` if it
    /// is the first stop in input order.
    pub fn sink_stopped(&mut self, e: SinkError) {
        self.sink_stop.get_or_insert(e);
        self.stopped = true;
    }

    /// A row of a columnar source: one line of the accounting.
    #[cfg(feature = "parquet")]
    pub fn row<S: Sink, R: FlowRecord>(&mut self, rec: &R, sink: &mut S) {
        self.line += 1;
        self.counts.lines += 1;
        let pos = Position::new(&self.file.path, self.file.index, self.line_no(), None);
        let taken = take(self.file.filter.as_deref(), rec, &pos, sink);
        self.taken(taken, b"");
        self.check_halt();
    }

    /// Feeds a batch of Parquet rows; `full` is the file's whole format, which
    /// decides whether the file can be used.
    #[cfg(feature = "parquet")]
    pub fn feed_rows<S: Sink>(
        &mut self,
        rows: &crate::columnar::Rows,
        full: &Schema,
        sink: &mut S,
    ) {
        if matches!(self.state, State::Start) {
            self.set_schema(full.clone());
        }
        if matches!(self.state, State::Records(_)) {
            for i in 0..rows.len() {
                if self.stopped() {
                    break;
                }
                self.row(&rows.row(i), sink);
            }
        } else {
            let n = rows.len() as u64;
            self.line += n;
            self.counts.lines += n;
            self.counts.skipped += n;
        }
    }
}

/// Filters a record (unless there is no filter) and hands it to the sink;
/// whether the sink took it.
#[inline]
fn take<S: Sink, R: FlowRecord>(
    filter: Option<&Filter>,
    rec: &R,
    pos: &Position<'_>,
    sink: &mut S,
) -> Result<bool, SinkError> {
    match filter {
        None => sink.record(rec, pos).map(|()| true),
        Some(f) => match f.matches(rec) {
            Ok(true) => sink.record(rec, pos).map(|()| true),
            Ok(false) => Ok(false),
            Err(e) => Err(e.into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::schema::FieldSet;

    struct Take(u64);

    impl Sink for Take {
        fn needs(&self) -> FieldSet {
            FieldSet::EMPTY
        }
        fn record<R: FlowRecord>(&mut self, _: &R, _: &Position<'_>) -> Result<(), SinkError> {
            self.0 += 1;
            Ok(())
        }
    }

    #[test]
    fn a_piece_knows_whether_its_start_mattered() {
        let rules = Rules {
            fields: None,
            strict: false,
            samples: 10,
            needs: FieldSet::EMPTY,
            filter: None,
        };
        let file = FileCtx::new(&rules, 0, Path::new("t.log"));
        let halt = Halt::new(None);
        let mut sink = Take(0);
        let mut l = Lines::new(&rules, &file, &halt, State::Start, Some(1));
        // Blank lines, then a header: nothing read depended on the start.
        l.begin_piece();
        l.feed(b"\n \t\nversion srcaddr\n2 1.2.3.4\n", Some(0), &mut sink);
        let p = l.take_piece();
        assert!(!p.dependent && p.saw_header);
        assert_eq!(
            (p.counts.lines, p.counts.blank, p.counts.records),
            (4, 2, 1)
        );
        // A record before any header: read through the format the piece began with.
        l.begin_piece();
        l.feed(b"2 5.6.7.8\nsrcaddr version\n1.2.3.4 2\n", None, &mut sink);
        let p = l.take_piece();
        assert!(p.dependent && p.saw_header);
        assert_ne!(p.start, p.end, "the header changed the format");
        assert_eq!(sink.0, 3);
    }

    #[test]
    fn notes_of_pieces_are_joined_without_repeats() {
        let mut notes = None;
        for piece in ["a; b", "c", "b; a", "a; b; c; d", ""] {
            if !piece.is_empty() {
                add_note(&mut notes, piece);
            }
        }
        assert_eq!(notes.as_deref(), Some("a; b; c; d"));
        // A part is a whole note, not any text inside one.
        let mut notes = Some("mended escapes".to_string());
        add_note(&mut notes, "escapes");
        assert_eq!(notes.as_deref(), Some("mended escapes; escapes"));
    }
}
