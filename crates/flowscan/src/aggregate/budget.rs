//! A memory budget shared by every aggregate of a scan.
//!
//! A scan fills one aggregate per worker thread, one more for the thread that
//! drives it, a second set for a large file read in parallel blocks, and keeps
//! finished ones until they merge: dividing a budget among threads would let
//! the total reach several times the budget. Instead every aggregate reports
//! its estimated bytes to one shared counter, and one that finds the total over
//! the limit shrinks itself (sampling, dropping its smallest groups) until the
//! total is under it again or it has nothing left to give.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The bytes all the aggregates of a scan may use together.
#[derive(Clone)]
pub struct MemoryBudget {
    limit: usize,
    used: Arc<AtomicUsize>,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, none used yet.
    pub fn new(limit: usize) -> MemoryBudget {
        MemoryBudget {
            limit,
            used: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes the aggregates sharing it last reported, together.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// A share for one aggregate, reporting nothing yet.
    pub(crate) fn share(&self) -> Share {
        Share {
            budget: self.clone(),
            reported: 0,
            unchecked: 0,
        }
    }
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("limit", &self.limit)
            .field("used", &self.used())
            .finish()
    }
}

/// Two budgets are equal when they are the same shared counter.
impl PartialEq for MemoryBudget {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.used, &other.used)
    }
}

impl Eq for MemoryBudget {}

/// One aggregate's part of a [`MemoryBudget`]: what it last reported, given
/// back when it is dropped (merged into another, or discarded).
pub(crate) struct Share {
    budget: MemoryBudget,
    reported: usize,
    /// Records taken since the aggregate last measured itself.
    unchecked: u32,
}

impl Share {
    /// Counts one record; true every 4096th, when the aggregate should measure
    /// itself and enforce the budget (measuring costs a walk of its tables).
    #[inline]
    pub fn due(&mut self) -> bool {
        self.unchecked += 1;
        if self.unchecked < 4096 {
            return false;
        }
        self.unchecked = 0;
        true
    }

    /// Whether the scan's aggregates use at most half the budget.
    pub fn roomy(&self) -> bool {
        self.budget.used() <= self.budget.limit / 2
    }

    /// Reports `bytes` in use now; returns the scan's total.
    pub fn report(&mut self, bytes: usize) -> usize {
        let total = if bytes >= self.reported {
            let d = bytes - self.reported;
            self.budget.used.fetch_add(d, Ordering::Relaxed) + d
        } else {
            let d = self.reported - bytes;
            self.budget.used.fetch_sub(d, Ordering::Relaxed) - d
        };
        self.reported = bytes;
        total
    }

    /// Reports `bytes` in use now; if the scan's total is over the limit, the
    /// bytes this aggregate should go down to: its part of the excess, in
    /// proportion to its share of the total, so that aggregates over the limit
    /// together give up the excess once rather than each all of it.
    pub fn target(&mut self, bytes: usize) -> Option<usize> {
        let total = self.report(bytes);
        let limit = self.budget.limit;
        (total > limit).then(|| {
            let part = (total - limit) as u128 * bytes as u128 / total as u128;
            bytes - part as usize
        })
    }
}

impl Drop for Share {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.reported, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_and_give_back_when_dropped() {
        let b = MemoryBudget::new(100);
        let mut x = b.share();
        let mut y = b.share();
        assert_eq!(x.target(60), None);
        // 10 over, this one holds 50 of 110: it gives up 4.
        assert_eq!(y.target(50), Some(46));
        assert_eq!(b.used(), 110);
        assert_eq!(y.target(30), None);
        assert_eq!(x.target(200), Some(200 - 130 * 200 / 230));
        drop(x);
        assert_eq!(b.used(), 30);
        assert_eq!(y.report(0), 0);
        assert_eq!(b, b.clone());
        assert_ne!(b, MemoryBudget::new(100));
    }
}
