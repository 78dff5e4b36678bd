//! Aggregations over records, built to run per thread and merge.
//!
//! An [`Aggregate`] starts empty, takes records one at a time, and merges with
//! another of its kind. The scanner gives every thread its own and merges them at
//! the end; because merging is exact (sums, minima, maxima, set unions) and ties
//! are broken by key, results do not depend on the thread count.

pub mod anomalies;
mod budget;
pub mod diagnose;
mod distinct;
pub mod rejects;
mod slots;
pub mod top;

pub use crate::sink::Sink;
pub use budget::MemoryBudget;
pub use rejects::{Rejects, RejectsConfig, RejectsReport};

/// A partial result that takes records (as a [`Sink`]) and merges with others.
pub trait Aggregate: Sink + Send + Sized {
    /// Folds another partial result into this one.
    fn merge(&mut self, other: Self);
}
