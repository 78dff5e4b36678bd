//! Where records go: a [`Sink`] takes them one at a time with their [`Position`].
//!
//! Two kinds of consumer are built on it. An [`Aggregate`](crate::Aggregate) is a
//! sink that merges with others of its kind, so each worker thread fills its own
//! and order does not matter. An [`OrderedSink`] makes a fresh sink (a *part*)
//! for each block of input; parts are filled in parallel and handed back to the
//! caller in input order, which is how `filter` prints and `export` writes rows
//! in the order they were read.

use std::path::Path;

use crate::parse::ValueError;
use crate::record::FlowRecord;
use crate::schema::FieldSet;

/// Where a record is: its file, its line, and for text input its byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Position<'a> {
    /// The file (`-` for standard input, or the name given to in-memory input).
    pub path: &'a Path,
    /// The file's index in the scan's report ([`ScanReport::files`](crate::ScanReport::files)).
    pub file: usize,
    /// 1-based line number in the decompressed text; for CloudWatch JSON and CSV
    /// the index of the message, for Parquet the row number. `None` in blocks
    /// of a large file read in parallel, unless the sink asks for line numbers
    /// ([`Sink::line_numbers`]): knowing them there costs a count of every
    /// line ahead of the readers.
    pub line: Option<u64>,
    /// Offset of the line's first byte in the decompressed text (`None` for JSON,
    /// CSV and Parquet input).
    pub byte: Option<u64>,
}

impl<'a> Position<'a> {
    /// A position (for sinks driven by hand, and tests).
    pub fn new(path: &'a Path, file: usize, line: Option<u64>, byte: Option<u64>) -> Position<'a> {
        Position {
            path,
            file,
            line,
            byte,
        }
    }
}

/// Why a sink did not take a record.
///
/// The two cases end differently: a bad value is the line's fault, so the line
/// is counted as malformed and the scan goes on; a stop is the sink's own
/// failure (a write that failed, a limit reached), so the scan stops and
/// returns it as [`Error::Sink`](crate::Error::Sink). Like a malformed line in
/// strict mode, the stop that ends the scan is the first in input order,
/// whatever the thread count, for stops decided by the record itself. A stop
/// that depends on what a sink has gathered (a count reached) depends on which
/// records that sink saw, and so, for aggregates, on how the work was shared
/// out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// A value the sink read is bad: the line is malformed, for this reason.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The sink cannot go on; the scan stops with this error inside
    /// [`Error::Sink`](crate::Error::Sink) (`downcast_ref` gets it back).
    #[error(transparent)]
    Stop(Box<dyn std::error::Error + Send + Sync>),
}

impl SinkError {
    /// A stop with `error` as its cause.
    pub fn stop(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> SinkError {
        SinkError::Stop(error.into())
    }

    /// The error a scan stopped by this returns.
    pub(crate) fn into_scan_error(self) -> crate::Error {
        match self {
            SinkError::Value(e) => crate::Error::Sink(Box::new(e)),
            SinkError::Stop(e) => crate::Error::Sink(e),
        }
    }
}

/// Takes records.
///
/// A scan calls a sink's methods in this order: for each run of records of one
/// file it takes, [`begin_file`](Sink::begin_file), then
/// [`record`](Sink::record) for each record, then
/// [`end_file`](Sink::end_file); and when it has taken everything it will be
/// given, [`finish`](Sink::finish), once. A run is a whole small file or one
/// block of it (up to 1 MiB of text for a file one thread reads, about 4 MiB
/// for a large file whose blocks are read on several threads, each into its
/// own sink): one sink may see a file in several runs, or only some of it, so
/// count files from the scan's report, not from `begin_file`.
pub trait Sink {
    /// Fields without which a file cannot be used: a file whose format lacks one
    /// is skipped and reported, never read as zeros.
    fn needs(&self) -> FieldSet;

    /// Every field [`record`](Sink::record) may read, so that columnar sources
    /// decode only those. A field read but not declared here reads as missing
    /// from Parquet input, so the default is every field.
    fn reads(&self) -> FieldSet {
        FieldSet::ALL
    }

    /// Whether every [`Position`] must carry its line number (default: no).
    fn line_numbers(&self) -> bool {
        false
    }

    /// Records of `file` follow (default: nothing to do).
    fn begin_file(&mut self, file: &FileInfo<'_>) {
        let _ = file;
    }

    /// Takes one record. On [`SinkError::Value`] nothing has been changed and
    /// the line is counted as malformed, with the error as the reason; on
    /// [`SinkError::Stop`] the scan stops.
    fn record<R: FlowRecord>(&mut self, record: &R, pos: &Position<'_>) -> Result<(), SinkError>;

    /// The run of records of `file` that [`begin_file`](Sink::begin_file)
    /// announced is over (default: nothing to do).
    fn end_file(&mut self, file: &FileInfo<'_>) {
        let _ = file;
    }

    /// No more records will come: called once, on the
    /// merged result of an [`Aggregate`](crate::Aggregate) scan, and on each
    /// part of an [`OrderedSink`] before it is committed (also on a part that
    /// is then dropped: one read again, or one after the scan stopped). An
    /// error stops the scan, as [`Error::Sink`](crate::Error::Sink) (default:
    /// nothing to do).
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// The file a part of an ordered scan is made for.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct FileInfo<'a> {
    /// The file's index in the scan's report.
    pub index: usize,
    /// Its path.
    pub path: &'a Path,
}

/// A consumer that needs records in input order (printing, writing files).
///
/// The scanner asks for a [`part`](OrderedSink::part) for each block of input,
/// fills the parts on its worker threads, and gives them back, in input order,
/// to the commit function passed to
/// [`Scanner::ordered`](crate::Scanner::ordered). A block is re-read into a
/// fresh part when the format it was read with turns out to be wrong (a header
/// in the middle of a file changed it), so a part must have no effect until it
/// is committed.
pub trait OrderedSink: Sync {
    /// The sink one block's records go into.
    type Part: Sink + Send;

    /// Fields without which a file cannot be used (see [`Sink::needs`]).
    fn needs(&self) -> FieldSet;

    /// Fields the parts read (see [`Sink::reads`]).
    fn reads(&self) -> FieldSet {
        FieldSet::ALL
    }

    /// Whether every [`Position`] must carry its line number (see
    /// [`Sink::line_numbers`]).
    fn line_numbers(&self) -> bool {
        false
    }

    /// An empty part for records of `file`.
    fn part(&self, file: &FileInfo<'_>) -> Self::Part;
}
