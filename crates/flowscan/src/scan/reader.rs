//! Records pulled one at a time, for tools that want a loop rather than a
//! sink: the same producer and line machine as a scan, on the caller's thread
//! (an input read from a file or a reader is read ahead in a thread of its
//! own, a block or two at a time).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver};

use crate::error::{Error, Malformed, Result};
use crate::parse::Tokens;
use crate::record::{FlowRecord, Record, Value};
use crate::schema::{FieldSet, Schema};
use crate::sink::{Position, Sink, SinkError};

use super::lines::{Lines, Saved, State};
use super::produce::{self, Block, Body, End, Flow, Input};
use super::report::{Counts, FileReport};
use super::rules::{FileCtx, Halt, Rules};
use super::ScanBuilder;

/// A record from any input: a text line read through its schema, or a
/// Parquet row.
pub enum AnyRecord<'r> {
    /// A text record (flow log text, CloudWatch message).
    Text(Record<'r>),
    /// A Parquet row.
    #[cfg(feature = "parquet")]
    Row(crate::columnar::Row<'r>),
}

impl FlowRecord for AnyRecord<'_> {
    fn schema(&self) -> &Schema {
        match self {
            AnyRecord::Text(r) => r.schema(),
            #[cfg(feature = "parquet")]
            AnyRecord::Row(r) => r.schema(),
        }
    }

    fn value(&self, col: usize) -> Value<'_> {
        match self {
            AnyRecord::Text(r) => r.value(col),
            #[cfg(feature = "parquet")]
            AnyRecord::Row(r) => r.value(col),
        }
    }
}

/// Takes every record the filter keeps.
struct Pass;

impl Sink for Pass {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn record<R: FlowRecord>(
        &mut self,
        _: &R,
        _: &Position<'_>,
    ) -> std::result::Result<(), SinkError> {
        Ok(())
    }
}

/// Where the blocks come from.
enum Blocks<'a> {
    /// Produced up front (input the caller lends).
    Ready(std::vec::IntoIter<Block<'a>>),
    /// Produced by a thread that reads ahead.
    Ahead(Receiver<Ahead>),
}

enum Ahead {
    Block(Block<'static>),
    End(End),
}

/// Reads records one at a time from one input.
///
/// ```
/// use flowscan::{Field, FlowRecord, Reader};
///
/// let text = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
/// 2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.9.69 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
/// ";
/// let mut reader = Reader::from_slice("mem.log", text.as_bytes());
/// while let Some((rec, pos)) = reader.read_record()? {
///     assert_eq!(rec.text(Field::Action), Some(&b"REJECT"[..]));
///     assert_eq!(pos.line, Some(2));
/// }
/// assert_eq!(reader.report().counts.records, 1);
/// # Ok::<(), flowscan::Error>(())
/// ```
pub struct Reader<'a> {
    rules: Box<Rules>,
    file: Box<FileCtx>,
    halt: Box<Halt<'static>>,
    saved: Option<Saved>,
    blocks: Blocks<'a>,
    block: Option<Block<'a>>,
    cursor: usize,
    tokens: Box<Tokens>,
    end: Option<End>,
    size: Option<u64>,
}

impl ScanBuilder {
    fn reader_parts(&self, path: &Path) -> (Box<Rules>, Box<FileCtx>) {
        let f = &self.filter;
        let rules = Box::new(Rules {
            fields: self.fields.clone(),
            strict: self.strict,
            samples: self.samples.unwrap_or(10).max(usize::from(self.strict)),
            needs: f.needs(),
            filter: (!f.is_empty()).then(|| std::sync::Arc::new(f.clone())),
        });
        let file = Box::new(FileCtx::new(&rules, 0, path));
        (rules, file)
    }

    fn options(&self) -> produce::Options<'static> {
        produce::Options {
            input_format: self.input_format,
            max_inflate: self.max_inflate,
            reads: FieldSet::ALL,
            progress: &|_| {},
            block: produce::WHOLE_BLOCK,
            json_pieces: false,
        }
    }

    /// A [`Reader`] of bytes the caller holds, with these settings (threads do
    /// not apply).
    pub fn open_slice<'a>(&self, name: impl AsRef<Path>, bytes: &'a [u8]) -> Reader<'a> {
        let mut blocks = Vec::new();
        let end = produce::produce(Input::Slice(bytes), &self.options(), &mut |b| {
            blocks.push(b);
            Flow::Go
        });
        let (rules, file) = self.reader_parts(name.as_ref());
        Reader::new(
            rules,
            file,
            Blocks::Ready(blocks.into_iter()),
            Some(end),
            Some(bytes.len() as u64),
        )
    }

    /// A [`Reader`] of the file at `path`, with these settings.
    pub fn open_path(&self, path: impl AsRef<Path>) -> Reader<'static> {
        let path: PathBuf = path.as_ref().to_path_buf();
        let size = std::fs::metadata(&path).ok().map(|m| m.len());
        let owned = path.clone();
        let mut r = self.read_ahead(&path, move |opts, push| {
            produce::produce(Input::Path(&owned), opts, push)
        });
        r.size = size;
        r
    }

    /// A [`Reader`] of bytes from `reader` (an S3 object body, a socket, a
    /// decoder), told apart by their content as files are, with these settings.
    pub fn open_reader<R: Read + Send + 'static>(
        &self,
        name: impl AsRef<Path>,
        reader: R,
    ) -> Reader<'static> {
        self.read_ahead(name.as_ref(), move |opts, push| {
            produce::produce(Input::Reader(Box::new(reader)), opts, push)
        })
    }

    fn read_ahead<F>(&self, name: &Path, produce: F) -> Reader<'static>
    where
        F: FnOnce(&produce::Options<'static>, &mut dyn FnMut(Block<'_>) -> Flow) -> End
            + Send
            + 'static,
    {
        let (tx, rx) = sync_channel(2);
        let opts = self.options();
        std::thread::spawn(move || {
            let end = produce(
                &opts,
                &mut |b| match tx.send(Ahead::Block(b.into_owned())) {
                    Ok(()) => Flow::Go,
                    Err(_) => Flow::Stop,
                },
            );
            let _ = tx.send(Ahead::End(end));
        });
        let (rules, file) = self.reader_parts(name);
        Reader::new(rules, file, Blocks::Ahead(rx), None, None)
    }
}

impl Reader<'static> {
    /// Reads the file at `path` (plain, gzip or zstd text, CloudWatch JSON or
    /// CSV, Parquet) with the default settings.
    pub fn from_path(path: impl AsRef<Path>) -> Reader<'static> {
        ScanBuilder::default().open_path(path)
    }

    /// Reads what `reader` gives, with the default settings; `name` names it
    /// in positions and reports.
    pub fn from_reader<R: Read + Send + 'static>(
        name: impl AsRef<Path>,
        reader: R,
    ) -> Reader<'static> {
        ScanBuilder::default().open_reader(name, reader)
    }
}

impl<'a> Reader<'a> {
    /// Reads bytes the caller holds, with the default settings.
    pub fn from_slice(name: impl AsRef<Path>, bytes: &'a [u8]) -> Reader<'a> {
        ScanBuilder::default().open_slice(name, bytes)
    }

    fn new(
        rules: Box<Rules>,
        file: Box<FileCtx>,
        blocks: Blocks<'a>,
        end: Option<End>,
        size: Option<u64>,
    ) -> Reader<'a> {
        let halt = Box::new(Halt::new(None));
        let saved = Lines::new(&rules, &file, &halt, State::Start, Some(1)).save();
        Reader {
            rules,
            file,
            halt,
            saved: Some(saved),
            blocks,
            block: None,
            cursor: 0,
            tokens: Box::default(),
            end,
            size,
        }
    }

    /// The next block, or `None` at the end of the input.
    fn next_block(&mut self) -> Option<Block<'a>> {
        match &mut self.blocks {
            Blocks::Ready(it) => it.next(),
            Blocks::Ahead(rx) => match rx.recv() {
                Ok(Ahead::Block(b)) => Some(b),
                Ok(Ahead::End(e)) => {
                    self.end = Some(e);
                    None
                }
                Err(_) => None,
            },
        }
    }

    /// The next record the filter keeps, with its position; `None` at the
    /// end. Malformed lines are counted (see [`Reader::report`]) and skipped,
    /// or, in strict mode, returned as [`Error::Strict`].
    pub fn read_record(&mut self) -> Result<Option<(AnyRecord<'_>, Position<'_>)>> {
        loop {
            let Some(block) = &self.block else {
                match self.next_block() {
                    Some(b) => {
                        self.block = Some(b);
                        self.cursor = 0;
                        continue;
                    }
                    None => return Ok(None),
                }
            };
            let mut lines = Lines::resume(
                &self.rules,
                &self.file,
                &self.halt,
                self.saved.take().expect("saved"),
            );
            let (took, byte, line_end) = match &block.body {
                Body::Text(d) | Body::Messages(d) => {
                    if self.cursor >= d.len() {
                        self.saved = Some(lines.save());
                        self.block = None;
                        continue;
                    }
                    let rest = &d[self.cursor..];
                    let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                    let line = &rest[..len];
                    let byte = block.byte0.map(|b| b + self.cursor as u64);
                    let took = if matches!(block.body, Body::Text(_)) {
                        self.tokens.split(line);
                        let line = line.strip_suffix(b"\r").unwrap_or(line);
                        lines.step_text(line, &self.tokens, byte, &mut Pass)
                    } else {
                        lines.step_message(line, &mut self.tokens, &mut Pass)
                    };
                    let start = self.cursor;
                    self.cursor += len + 1;
                    (took, byte, Some((start, len)))
                }
                Body::Json(_) => unreachable!("a reader does not ask for JSON pieces"),
                #[cfg(feature = "parquet")]
                Body::Rows(rows, full) => {
                    if self.cursor >= rows.len() {
                        self.saved = Some(lines.save());
                        self.block = None;
                        continue;
                    }
                    let took = lines.step_row(full, &rows.row(self.cursor), &mut Pass);
                    self.cursor += 1;
                    (took, None, None)
                }
            };
            let strict = self.rules.strict && lines.counts().0.malformed > 0;
            let first_bad = lines.counts().1.first().cloned();
            let line_no = lines.line();
            self.saved = Some(lines.save());
            if strict {
                if let Some(m) = first_bad {
                    return Err(Error::Strict(m));
                }
            }
            if took {
                return Ok(Some(self.current(line_end, line_no, byte)));
            }
        }
    }

    /// The record just taken, borrowed from the block, the tokens and the
    /// format.
    fn current(
        &self,
        line: Option<(usize, usize)>,
        line_no: u64,
        byte: Option<u64>,
    ) -> (AnyRecord<'_>, Position<'_>) {
        let pos = Position::new(&self.file.path, 0, Some(line_no), byte);
        let block = self.block.as_ref().expect("a block is being read");
        let rec = match (&block.body, line) {
            (Body::Text(d) | Body::Messages(d), Some((start, len))) => {
                let line = &d[start..start + len];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                let schema = self
                    .saved
                    .as_ref()
                    .and_then(Saved::schema)
                    .expect("records have a format");
                AnyRecord::Text(Record::checked(line, &self.tokens, schema))
            }
            #[cfg(feature = "parquet")]
            (Body::Rows(rows, _), _) => AnyRecord::Row(rows.row(self.cursor - 1)),
            _ => unreachable!("a text block has a line"),
        };
        (rec, pos)
    }

    /// The line accounting so far, and how the input ended once it has.
    pub fn report(&self) -> FileReport {
        let mut r = FileReport::new(self.file.path.to_path_buf(), self.size);
        if let Some(saved) = &self.saved {
            r.counts = *saved.counts();
            r.note = saved.note().map(str::to_string);
        }
        if let Some(end) = &self.end {
            r.decoded = end.decoded;
            if let Some(e) = &end.error {
                r.status = super::report::FileStatus::Incomplete(e.clone());
            } else if let Some(s) = &end.skipped {
                r.status = super::report::FileStatus::Skipped(s.clone());
            }
        }
        r
    }

    /// The first malformed lines (as many as the settings keep).
    pub fn malformed(&self) -> &[Malformed] {
        self.saved.as_ref().map_or(&[], Saved::samples)
    }

    /// Line accounting so far.
    pub fn counts(&self) -> Counts {
        self.saved.as_ref().map(|s| *s.counts()).unwrap_or_default()
    }
}
