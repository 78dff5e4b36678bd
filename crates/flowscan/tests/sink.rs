//! A sink's life as a scan drives it: `begin_file`/`record`/`end_file` runs,
//! one `finish`, and a stop that ends the scan with the sink's own error, the
//! first in input order whatever the thread count and read path.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use flowscan::{
    Aggregate, Discovery, Error, Field, FieldSet, FileInfo, FlowRecord, OrderedSink, Position,
    Scanner, Sink, SinkError,
};

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";

/// Three files of `n` records; the record on each line named in `stops` (by
/// file, 1-based line) has destination port 9999.
fn tree(n: usize, stops: &[(usize, usize)]) -> (tempfile::TempDir, Discovery) {
    let dir = tempfile::tempdir().unwrap();
    for f in 0..3 {
        let mut text = String::from(HEADER);
        for i in 0..n {
            let line = i + 2;
            let port = if stops.contains(&(f, line)) { 9999 } else { 22 };
            text.push_str(&format!(
                "2 1 eni-{f} 10.0.{}.{} 10.1.0.1 40000 {port} 6 1 60 {} {} REJECT OK\n",
                i % 250,
                i % 200,
                1000 + i,
                1060 + i
            ));
        }
        std::fs::write(dir.path().join(format!("{f}.log")), text).unwrap();
    }
    let found = flowscan::discover(&[flowscan::Input::Path(dir.path().to_path_buf())]);
    (dir, found)
}

/// Every way a scan may read the tree: thread counts, and whole files or
/// small blocks read in parallel.
fn scanners() -> Vec<(String, Scanner)> {
    let mut all = Vec::new();
    for threads in [1, 2, 7] {
        for blocks in [false, true] {
            let mut b = Scanner::builder().threads(threads);
            if blocks {
                b = b.split_min(1).block_size(4096);
            }
            let name = format!("{threads} threads, blocks: {blocks}");
            all.push((name, b.build().unwrap()));
        }
    }
    all
}

/// The stop's error, as a sink reports it.
fn stop_error(pos: &Position<'_>) -> SinkError {
    let file = pos.path.file_name().unwrap().to_string_lossy();
    SinkError::stop(io::Error::other(format!(
        "{file}:{}",
        pos.line.unwrap_or(0)
    )))
}

/// Stops at port 9999.
#[derive(Default)]
struct StopAt;

impl Sink for StopAt {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn line_numbers(&self) -> bool {
        true
    }
    fn record<R: FlowRecord>(&mut self, r: &R, pos: &Position<'_>) -> Result<(), SinkError> {
        if r.int(Field::DstPort)? == Some(9999) {
            return Err(stop_error(pos));
        }
        Ok(())
    }
}

impl Aggregate for StopAt {
    fn merge(&mut self, _: Self) {}
}

impl OrderedSink for StopAt {
    type Part = StopAt;
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn line_numbers(&self) -> bool {
        true
    }
    fn part(&self, _: &FileInfo<'_>) -> StopAt {
        StopAt
    }
}

/// The sink's own error inside a scan's error.
fn inner(e: Error) -> String {
    match e {
        Error::Sink(inner) => inner
            .downcast_ref::<io::Error>()
            .expect("the sink's own error comes back")
            .to_string(),
        other => panic!("expected a sink error, got {other}"),
    }
}

#[test]
fn a_stop_ends_the_scan_with_the_first_in_input_order() {
    // File 1 stops twice, file 2 early: the first in input order is file 1's
    // line 700, however the threads happen to reach them.
    let (_dir, found) = tree(3000, &[(1, 700), (1, 2500), (2, 10)]);
    for (name, scanner) in scanners() {
        let e = scanner.aggregate(&found, || StopAt).err();
        assert_eq!(inner(e.expect(&name)), "1.log:700", "aggregate, {name}");
        let e = scanner.ordered(&found, &StopAt, |_| Ok::<(), io::Error>(()));
        assert_eq!(inner(e.expect_err(&name)), "1.log:700", "ordered, {name}");
    }
    let (_dir, found) = tree(50, &[]);
    assert!(Scanner::builder()
        .build()
        .unwrap()
        .aggregate(&found, || StopAt)
        .is_ok());
}

/// Checks the order of calls it gets; counts what broke it rather than
/// panicking on a worker thread.
#[derive(Default)]
struct Hooks {
    open: Option<usize>,
    runs: u64,
    records: u64,
    outside: u64,
    finished: bool,
    finishes: Arc<AtomicUsize>,
    errors: u64,
}

impl Sink for Hooks {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn begin_file(&mut self, file: &FileInfo<'_>) {
        self.errors += u64::from(self.open.is_some() || self.finished);
        self.open = Some(file.index);
    }
    fn record<R: FlowRecord>(&mut self, _: &R, pos: &Position<'_>) -> Result<(), SinkError> {
        self.records += 1;
        self.outside += u64::from(self.open != Some(pos.file));
        Ok(())
    }
    fn end_file(&mut self, file: &FileInfo<'_>) {
        self.errors += u64::from(self.open != Some(file.index));
        self.open = None;
        self.runs += 1;
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        self.errors += u64::from(self.open.is_some() || self.finished);
        self.finished = true;
        self.finishes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Aggregate for Hooks {
    fn merge(&mut self, other: Self) {
        self.runs += other.runs;
        self.records += other.records;
        self.outside += other.outside;
        self.errors += other.errors + u64::from(other.finished || other.open.is_some());
    }
}

struct HookParts(Arc<AtomicUsize>);

impl OrderedSink for HookParts {
    type Part = Hooks;
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn part(&self, _: &FileInfo<'_>) -> Hooks {
        Hooks {
            finishes: self.0.clone(),
            ..Hooks::default()
        }
    }
}

#[test]
fn every_record_comes_inside_a_run_of_its_file_and_finish_comes_once() {
    let (_dir, found) = tree(3000, &[]);
    for (name, scanner) in scanners() {
        let finishes = Arc::new(AtomicUsize::new(0));
        let make = || Hooks {
            finishes: finishes.clone(),
            ..Hooks::default()
        };
        let (agg, report) = scanner.aggregate(&found, make).unwrap();
        assert_eq!(report.totals.records, 9000, "{name}");
        assert_eq!(
            (agg.records, agg.outside, agg.errors),
            (9000, 0, 0),
            "{name}"
        );
        assert!(agg.runs >= 3, "{name}: {} runs", agg.runs);
        assert!(agg.finished, "{name}");
        assert_eq!(finishes.load(Ordering::Relaxed), 1, "{name}");

        // Each part is finished before it is committed, and only once.
        let finishes = Arc::new(AtomicUsize::new(0));
        let (mut parts, mut records, mut bad) = (0usize, 0u64, 0u64);
        scanner
            .ordered(&found, &HookParts(finishes.clone()), |p: Hooks| {
                parts += 1;
                records += p.records;
                bad += p.outside + p.errors + u64::from(!p.finished || p.runs != 1);
                Ok::<(), io::Error>(())
            })
            .unwrap();
        assert_eq!((records, bad), (9000, 0), "{name}");
        // A part re-read after a format change is finished but never
        // committed: none here, as every file has one format.
        assert_eq!(finishes.load(Ordering::Relaxed), parts, "{name}");
    }
}

/// Fails in `finish`.
struct FailsAtFinish(PathBuf);

impl Sink for FailsAtFinish {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn record<R: FlowRecord>(&mut self, _: &R, pos: &Position<'_>) -> Result<(), SinkError> {
        if self.0.as_os_str().is_empty() {
            self.0 = pos.path.to_path_buf();
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Err(SinkError::stop(io::Error::other(format!(
            "cannot finish {}",
            self.0
                .file_name()
                .map_or("nothing".into(), |n| n.to_string_lossy())
        ))))
    }
}

impl Aggregate for FailsAtFinish {
    fn merge(&mut self, other: Self) {
        if self.0.as_os_str().is_empty() {
            self.0 = other.0;
        }
    }
}

struct FailingParts;

impl OrderedSink for FailingParts {
    type Part = FailsAtFinish;
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn part(&self, file: &FileInfo<'_>) -> FailsAtFinish {
        FailsAtFinish(Path::new(file.path).to_path_buf())
    }
}

#[test]
fn an_error_in_finish_stops_the_scan() {
    let (_dir, found) = tree(300, &[]);
    for (name, scanner) in scanners() {
        let e = scanner
            .aggregate(&found, || FailsAtFinish(PathBuf::new()))
            .err();
        assert!(
            inner(e.expect(&name)).starts_with("cannot finish "),
            "{name}"
        );
        // The first part, in input order, is the one whose error comes back.
        let mut committed = 0;
        let e = scanner.ordered(&found, &FailingParts, |_| {
            committed += 1;
            Ok::<(), io::Error>(())
        });
        assert_eq!(inner(e.expect_err(&name)), "cannot finish 0.log", "{name}");
        assert_eq!(committed, 0, "{name}");
    }
}
