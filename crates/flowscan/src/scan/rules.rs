//! What every file of a scan is read with ([`Rules`], and [`FileCtx`] for one
//! file), when work stops ([`Halt`]), and the lines the producer makes that
//! are not text ([`marker`]): shared by the producer, the line machine and the
//! driver.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::filter::Filter;
use crate::schema::{FieldSet, Schema};

/// Longest line kept; a longer one is counted as malformed and skipped.
pub(crate) const MAX_LINE: usize = 16 << 20;

/// What every file of a scan is read with.
pub(crate) struct Rules {
    /// The format of headerless input, when given.
    pub fields: Option<Schema>,
    /// Stop at the first malformed line.
    pub strict: bool,
    /// Malformed lines kept in full per file.
    pub samples: usize,
    /// Fields the sink and the filter need.
    pub needs: FieldSet,
    /// The filter, unless it keeps everything.
    pub filter: Option<Arc<Filter>>,
}

/// Why work stops early: the caller's cancel flag, or an error the driver
/// met while committing results in input order (a malformed line in strict
/// mode, a sink that failed), after which nothing not yet committed matters.
pub(crate) struct Halt<'c> {
    cancel: Option<&'c AtomicBool>,
    stop: AtomicBool,
}

impl<'c> Halt<'c> {
    pub fn new(cancel: Option<&'c AtomicBool>) -> Halt<'c> {
        Halt {
            cancel,
            stop: AtomicBool::new(false),
        }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Stops every piece not yet committed.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether work should stop.
    #[inline]
    pub fn any(&self) -> bool {
        self.cancelled() || self.stop.load(Ordering::Relaxed)
    }
}

/// One file as the line machine sees it.
pub(crate) struct FileCtx {
    pub index: usize,
    pub path: Arc<Path>,
    /// The scan's filter for this file's records (see [`Filter::for_path`]).
    pub filter: Option<Arc<Filter>>,
    pub needs: FieldSet,
}

impl FileCtx {
    pub fn new(rules: &Rules, index: usize, path: &Path) -> FileCtx {
        // Account and region conditions the path answers are dropped for this
        // file; the others need the records' fields.
        let (filter, needs) = match &rules.filter {
            Some(f) if !f.accounts.is_empty() || !f.regions.is_empty() => {
                let (pf, extra) = f.for_path(path);
                (
                    (!pf.is_empty()).then(|| Arc::new(pf)),
                    rules.needs.union(extra),
                )
            }
            other => (other.clone(), rules.needs),
        };
        FileCtx {
            index,
            path: path.into(),
            filter,
            needs,
        }
    }
}

/// Special lines in blocks made from CloudWatch JSON or CSV: a NUL byte, then
/// what the item was (NUL never occurs in a flow log record, and messages
/// holding one have it replaced).
pub(crate) mod marker {
    /// A CloudWatch control message.
    pub const CONTROL: u8 = b'C';
    /// A JSON value without a message.
    pub const FOREIGN: u8 = b'F';
    /// The CSV export's header row.
    pub const CSV_HEADER: u8 = b'H';
    /// A CSV row without a message column; the rest is its column count.
    pub const CSV_BAD: u8 = b'B';
    /// A line longer than [`MAX_LINE`]; the rest is its beginning.
    pub const TOO_LONG: u8 = b'L';
    /// The partial line a read error cut; the rest is that text.
    pub const CUT: u8 = b'X';
    /// Lone UTF-16 surrogate escapes were read as U+FFFD
    /// ([`Item::Mended`](crate::cloudwatch::Item::Mended)): a note, not a
    /// line of the input.
    pub const MENDED: u8 = b'M';
    /// The whole line of a [`MENDED`] marker, which has no rest.
    pub const MENDED_LINE: &[u8] = &[0, MENDED, b'\n'];
}
