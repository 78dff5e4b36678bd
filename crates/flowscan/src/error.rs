//! The library's error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What stopped a whole scan. Problems with single lines or single files are not
/// errors: they are counted and reported in the scan's report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input named by the caller could not be read at all.
    #[error("{}: {error}", crate::display::path_text(path))]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        error: io::Error,
    },
    /// `strict` was set and a line did not parse.
    #[error("{0} (strict mode stops at the first malformed line)")]
    Strict(Malformed),
    /// A field list did not parse.
    #[error("bad field list: {0}")]
    Fields(#[from] crate::schema::SchemaError),
    /// A line's token count does not match its format ([`Record::new`](crate::Record::new)).
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        /// Columns of the format.
        expected: usize,
        /// Tokens on the line.
        found: usize,
    },
    /// The worker threads could not be started.
    #[error("cannot start worker threads: {0}")]
    Threads(String),
    /// A sink stopped the scan ([`SinkError::Stop`](crate::SinkError::Stop), or
    /// an error from [`Sink::finish`](crate::Sink::finish)), or an ordered
    /// scan's commit function failed. The sink's or the function's own error
    /// is inside (use `downcast_ref` to get it back).
    #[error("{0}")]
    Sink(Box<dyn std::error::Error + Send + Sync>),
    /// A query did not parse.
    #[error("bad query {0}")]
    Query(#[from] crate::query::QueryError),
    /// A time or a duration did not parse ([`parse_time`](crate::parse::parse_time),
    /// [`parse_duration`](crate::parse::parse_duration)).
    #[error(transparent)]
    Time(#[from] crate::parse::TimeError),
    /// The saved VPC configuration could not be read.
    #[error(transparent)]
    Vpc(#[from] crate::vpc::ConfigError),
    /// An export could not be done.
    #[cfg(feature = "parquet")]
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A line that did not parse, with where it is and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Malformed {
    /// The file (`-` for standard input).
    #[serde(serialize_with = "crate::display::ser_path")]
    pub path: PathBuf,
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
    /// What is wrong.
    pub reason: String,
    /// The start of the line (lossy UTF-8, cut to 120 bytes).
    pub text: String,
}

impl Malformed {
    /// Builds the report for `line`, keeping at most 120 bytes of it.
    pub fn new(path: PathBuf, line_no: u64, reason: String, line: &[u8]) -> Malformed {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let cut = &line[..line.len().min(120)];
        let mut text = String::from_utf8_lossy(cut).into_owned();
        if cut.len() < line.len() {
            text.push('…');
        }
        Malformed {
            path,
            line: line_no,
            reason,
            text,
        }
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            crate::display::path_text(&self.path),
            self.line,
            self.reason,
            self.text.escape_debug()
        )
    }
}
