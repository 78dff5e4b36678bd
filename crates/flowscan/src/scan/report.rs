//! What a scan tells besides its sink's result: per-file outcomes and the line
//! accounting.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::error::Malformed;

/// Line accounting: `lines = records + headers + blank + malformed + skipped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Counts {
    /// Lines read.
    pub lines: u64,
    /// Lines that parsed as records (whether or not filters kept them).
    pub records: u64,
    /// Records the filter kept and the sink took (all records without a filter).
    pub matched: u64,
    /// Header lines.
    pub headers: u64,
    /// Empty or all-whitespace lines.
    pub blank: u64,
    /// Lines that did not parse.
    pub malformed: u64,
    /// Lines not read because their format lacks a field the command needs (or
    /// CloudWatch items that are not records).
    pub skipped: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, o: &Counts) {
        self.lines += o.lines;
        self.records += o.records;
        self.matched += o.matched;
        self.headers += o.headers;
        self.blank += o.blank;
        self.malformed += o.malformed;
        self.skipped += o.skipped;
    }
}

/// What became of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FileStatus {
    /// Read to the end.
    Complete,
    /// Read until an error (a truncated or corrupt input, an I/O error, an
    /// interrupted scan); the records before it are counted.
    Incomplete(String),
    /// Not read: not a flow log, or a format that lacks a needed field.
    Skipped(String),
    /// Could not be opened.
    Failed(String),
}

/// The outcome of one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileReport {
    /// The path (`-` for standard input).
    #[serde(serialize_with = "crate::display::ser_path")]
    pub path: PathBuf,
    /// Size on disk (for standard input, the bytes read), when known.
    pub size: Option<u64>,
    /// Text bytes parsed (after decompression).
    pub decoded: u64,
    /// Line accounting.
    #[serde(flatten)]
    pub counts: Counts,
    /// Complete, incomplete, skipped or failed.
    #[serde(flatten)]
    pub status: FileStatus,
    /// How the format was chosen when the file had no header, and what was
    /// skipped inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl FileReport {
    /// A report for a file not read yet.
    pub(crate) fn new(path: PathBuf, size: Option<u64>) -> FileReport {
        FileReport {
            path,
            size,
            decoded: 0,
            counts: Counts::default(),
            status: FileStatus::Complete,
            note: None,
        }
    }
}

/// Everything a scan saw besides the sink's result.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
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
    /// S3 listing requests made to find the inputs.
    pub list_requests: usize,
    /// On-disk bytes of the files read.
    pub bytes: u64,
    /// Text bytes parsed.
    pub decoded: u64,
    /// Whether the scan was stopped by its cancel flag before the end.
    pub interrupted: bool,
    /// Wall time of the scan.
    #[serde(serialize_with = "ser_secs")]
    pub elapsed: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl ScanReport {
    /// Files with a given kind of status.
    pub fn count_status(&self, pred: impl Fn(&FileStatus) -> bool) -> usize {
        self.files.iter().filter(|f| pred(&f.status)).count()
    }

    /// Whether every file that was tried was read to its end.
    pub fn is_complete(&self) -> bool {
        !self.interrupted
            && self
                .files
                .iter()
                .all(|f| !matches!(f.status, FileStatus::Incomplete(_) | FileStatus::Failed(_)))
    }

    /// Whether the scan could use no input at all: every file was skipped or
    /// failed, or none was found. Such a result is empty, not "nothing
    /// found". Files left out by name (pruned) did answer: they cannot hold a
    /// wanted record.
    pub fn read_nothing(&self) -> bool {
        self.pruned == 0
            && !self
                .files
                .iter()
                .any(|f| matches!(f.status, FileStatus::Complete | FileStatus::Incomplete(_)))
    }

    /// Adds a finished file, keeping at most `limit` malformed samples.
    pub(crate) fn push(&mut self, report: FileReport, samples: Vec<Malformed>, limit: usize) {
        self.totals.add(&report.counts);
        if matches!(
            report.status,
            FileStatus::Complete | FileStatus::Incomplete(_)
        ) {
            self.bytes += report.size.unwrap_or(0);
        }
        self.decoded += report.decoded;
        let room = limit.saturating_sub(self.malformed.len());
        self.malformed.extend(samples.into_iter().take(room));
        self.files.push(report);
    }
}
