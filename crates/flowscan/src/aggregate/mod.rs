//! Aggregations over records, built to run per thread and merge.
//!
//! An [`Aggregate`] starts empty, takes records one at a time, and merges with
//! another of its kind. The scanner gives every thread its own and merges them at
//! the end; because merging is exact (sums, minima, maxima, set unions) and ties
//! are broken by key, results do not depend on the thread count.

pub mod anomalies;
pub mod diagnose;
mod distinct;
pub mod rejects;
pub mod top;

use std::path::Path;

use crate::parse::ValueError;
use crate::record::FlowRecord;
use crate::schema::FieldSet;

pub use rejects::{Rejects, RejectsConfig, RejectsReport};

/// A partial result that takes records and merges with others.
pub trait Aggregate: Send + Sized {
    /// Fields without which a file cannot be used: a file whose format lacks one is
    /// skipped and reported, never read as zeros.
    fn needs(&self) -> FieldSet;

    /// Every field `add` may read, so that columnar sources decode only those.
    fn reads(&self) -> FieldSet {
        FieldSet::ALL
    }

    /// Called before the records of each file (or chunk of one) are added.
    fn begin_file(&mut self, _path: &Path) {}

    /// Adds a record. On error nothing has been changed and the line is counted
    /// as malformed.
    fn add<R: FlowRecord>(&mut self, record: &R) -> Result<(), ValueError>;

    /// Whether the scan should stop (the aggregate met an error of its own, such as
    /// a failed write); checked between lines.
    fn should_stop(&self) -> bool {
        false
    }

    /// Folds another partial result into this one.
    fn merge(&mut self, other: Self);
}
