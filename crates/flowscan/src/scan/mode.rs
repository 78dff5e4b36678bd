//! The two ways records reach their consumer: into aggregates that merge
//! (one per worker thread, order irrelevant), or into per-block parts that are
//! committed in input order.

use std::sync::Mutex;

use crate::aggregate::Aggregate;
use crate::schema::FieldSet;
use crate::sink::{FileInfo, OrderedSink, Sink};

/// How a scan hands records to its consumer.
pub(crate) trait Mode: Sync {
    /// What records go into.
    type Sink: Sink;
    /// What a block leaves for the committer (ordered scans).
    type Part: Send;
    /// State shared by the blocks of one file read in parallel.
    type Split: Send + Sync;
    /// Parts are committed in input order, and a block read with the wrong
    /// format is read again rather than the whole file.
    const ORDERED: bool;

    fn needs(&self) -> FieldSet;
    fn reads(&self) -> FieldSet;
    fn line_numbers(&self) -> bool;
    fn split(&self) -> Self::Split;
    /// Runs `f` on the sink for records of `file` (of a split file, when
    /// `split` is given), and returns the part it filled, if parts are kept.
    fn with_sink<R>(
        &self,
        file: &FileInfo<'_>,
        split: Option<&Self::Split>,
        f: impl FnOnce(&mut Self::Sink) -> R,
    ) -> (R, Option<Self::Part>);
    /// Takes in the result of a file read in blocks.
    fn end_split(&self, split: Self::Split);
    /// Runs `f` on a fresh sink whose records replace a discarded split's.
    fn redo(&self, f: &mut dyn FnMut(&mut Self::Sink));
}

/// One aggregate per worker thread, merged once at the end: far fewer merges
/// (and far less memory) than one per task, which matters when an aggregate
/// holds large sets.
pub(crate) struct PerThread<A> {
    slots: Vec<Mutex<Option<A>>>,
    /// Aggregates of tasks that found their thread's slot busy (a thread that is
    /// not one of the pool's, or a slot held across a nested task).
    extra: Mutex<Vec<A>>,
}

impl<A: Aggregate> PerThread<A> {
    pub fn new(threads: usize) -> PerThread<A> {
        PerThread {
            // One more slot for the thread that drives the scan.
            slots: (0..threads + 1).map(|_| Mutex::new(None)).collect(),
            extra: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` on this thread's aggregate.
    pub fn with<R>(&self, make: &(impl Fn() -> A + ?Sized), f: impl FnOnce(&mut A) -> R) -> R {
        let last = self.slots.len() - 1;
        let i = rayon::current_thread_index().map_or(last, |i| i.min(last));
        match self.slots[i].try_lock() {
            Ok(mut slot) => f(slot.get_or_insert_with(make)),
            Err(_) => {
                let mut a = make();
                let r = f(&mut a);
                self.extra.lock().unwrap_or_else(|p| p.into_inner()).push(a);
                r
            }
        }
    }

    /// The aggregates that were made.
    fn into_all(self) -> impl Iterator<Item = A> {
        self.slots
            .into_iter()
            .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
            .chain(self.extra.into_inner().unwrap_or_else(|p| p.into_inner()))
    }

    /// All the aggregates merged into one (`None` if none was made).
    pub fn merged(self) -> Option<A> {
        merge_all(self.into_all())
    }
}

/// Merges aggregates into the first: never into a fresh one, which would copy
/// every table of the first for nothing (a whole merge, at the end of a scan of
/// one large file).
fn merge_all<A: Aggregate>(mut all: impl Iterator<Item = A>) -> Option<A> {
    let mut first = all.next()?;
    for a in all {
        first.merge(a);
    }
    Some(first)
}

/// Records into aggregates made by `make`.
pub(crate) struct Unordered<'p, A, F> {
    pub make: F,
    /// Merges run here: an aggregate's merge may fork (rayon::join), and on
    /// the driver's thread that would reach rayon's global pool instead.
    pool: &'p rayon::ThreadPool,
    pub global: PerThread<A>,
    /// Results of files read in parallel blocks, merged in when each ends.
    pub done: Mutex<Vec<A>>,
    needs: FieldSet,
    reads: FieldSet,
    line_numbers: bool,
}

impl<'p, A: Aggregate, F: Fn() -> A + Sync> Unordered<'p, A, F> {
    pub fn new(make: F, pool: &'p rayon::ThreadPool) -> Self {
        let probe = make();
        Unordered {
            pool,
            needs: probe.needs(),
            reads: probe.reads(),
            line_numbers: probe.line_numbers(),
            make,
            global: PerThread::new(pool.current_num_threads()),
            done: Mutex::new(Vec::new()),
        }
    }

    /// Keeps the result of a file read apart (in blocks, or again in order).
    pub fn keep(&self, a: A) {
        self.done.lock().unwrap_or_else(|p| p.into_inner()).push(a);
    }

    /// Everything merged.
    pub fn finish(self) -> A {
        let Unordered {
            make,
            pool,
            global,
            done,
            ..
        } = self;
        let done = done.into_inner().unwrap_or_else(|p| p.into_inner());
        pool.install(|| merge_all(global.into_all().chain(done)))
            .unwrap_or_else(make)
    }
}

impl<A: Aggregate, F: Fn() -> A + Sync> Mode for Unordered<'_, A, F> {
    type Sink = A;
    type Part = ();
    type Split = PerThread<A>;
    const ORDERED: bool = false;

    fn needs(&self) -> FieldSet {
        self.needs
    }

    fn reads(&self) -> FieldSet {
        self.reads
    }

    fn line_numbers(&self) -> bool {
        self.line_numbers
    }

    fn split(&self) -> PerThread<A> {
        PerThread::new(self.pool.current_num_threads())
    }

    fn with_sink<R>(
        &self,
        _file: &FileInfo<'_>,
        split: Option<&PerThread<A>>,
        f: impl FnOnce(&mut A) -> R,
    ) -> (R, Option<()>) {
        (split.unwrap_or(&self.global).with(&self.make, f), None)
    }

    fn end_split(&self, split: PerThread<A>) {
        // The driver waits: unordered workers never wait for it, so the pool
        // is free to take this.
        if let Some(a) = self.pool.install(|| split.merged()) {
            self.keep(a);
        }
    }

    fn redo(&self, f: &mut dyn FnMut(&mut A)) {
        let mut a = (self.make)();
        f(&mut a);
        self.keep(a);
    }
}

/// Records into parts of an [`OrderedSink`].
pub(crate) struct Ordered<'s, S> {
    pub sink: &'s S,
}

impl<S: OrderedSink> Mode for Ordered<'_, S> {
    type Sink = S::Part;
    type Part = S::Part;
    type Split = ();
    const ORDERED: bool = true;

    fn needs(&self) -> FieldSet {
        self.sink.needs()
    }

    fn reads(&self) -> FieldSet {
        self.sink.reads()
    }

    fn line_numbers(&self) -> bool {
        self.sink.line_numbers()
    }

    fn split(&self) {}

    fn with_sink<R>(
        &self,
        file: &FileInfo<'_>,
        _split: Option<&()>,
        f: impl FnOnce(&mut S::Part) -> R,
    ) -> (R, Option<S::Part>) {
        let mut part = self.sink.part(file);
        let r = f(&mut part);
        (r, Some(part))
    }

    fn end_split(&self, _: ()) {}

    fn redo(&self, _: &mut dyn FnMut(&mut S::Part)) {
        unreachable!("ordered scans read blocks again, never whole files")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FlowRecord;
    use crate::sink::{Position, SinkError};

    /// Counts records, and the merges that made it.
    struct Count {
        records: u64,
        merges: u32,
    }

    impl Sink for Count {
        fn needs(&self) -> FieldSet {
            FieldSet::EMPTY
        }

        fn record<R: FlowRecord>(&mut self, _: &R, _: &Position<'_>) -> Result<(), SinkError> {
            self.records += 1;
            Ok(())
        }
    }

    impl Aggregate for Count {
        fn merge(&mut self, other: Count) {
            self.records += other.records;
            self.merges += other.merges + 1;
        }
    }

    fn count(records: u64) -> Count {
        Count { records, merges: 0 }
    }

    #[test]
    fn the_result_of_one_split_file_is_not_merged_into_a_fresh_aggregate() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mode = Unordered::new(|| count(0), &pool);
        mode.keep(count(7));
        let all = mode.finish();
        assert_eq!((all.records, all.merges), (7, 0));
    }

    #[test]
    fn every_aggregate_is_merged_once() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let mode = Unordered::new(|| count(0), &pool);
        mode.global.with(&|| count(0), |a| a.records += 5);
        mode.keep(count(7));
        mode.keep(count(11));
        let all = mode.finish();
        assert_eq!((all.records, all.merges), (23, 2));
        let empty = Unordered::new(|| count(0), &pool).finish();
        assert_eq!((empty.records, empty.merges), (0, 0));
    }
}
