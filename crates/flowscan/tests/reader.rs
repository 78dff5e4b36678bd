//! The pull reader reads the same records, with the same positions, as a
//! scan does, from every kind of input: borrowed bytes, a `Read`, a path;
//! plain, gzip, Parquet.

use std::io::Write;
use std::path::Path;

use flowscan::{
    FieldSet, FileInfo, FlowRecord, OrderedSink, Position, Reader, Scanner, Sink, SinkError,
};

/// A record as text, with its line and byte offset.
type Seen = (String, Option<u64>, Option<u64>);

/// A record's values as text, whatever held them (Parquet holds integers).
fn seen<R: FlowRecord>(r: &R, pos: &Position<'_>) -> Seen {
    let cols: Vec<String> = (0..r.schema().len())
        .map(|c| match r.value(c) {
            flowscan::record::Value::Text(t) => String::from_utf8_lossy(t).into_owned(),
            flowscan::record::Value::Int(i) => i.to_string(),
            flowscan::record::Value::Null => "-".into(),
        })
        .collect();
    (cols.join(" "), pos.line, pos.byte)
}

#[derive(Default)]
struct Collect(Vec<Seen>);

impl Sink for Collect {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn record<R: FlowRecord>(&mut self, r: &R, pos: &Position<'_>) -> Result<(), SinkError> {
        self.0.push(seen(r, pos));
        Ok(())
    }
}

struct Collector;

impl OrderedSink for Collector {
    type Part = Collect;
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }
    fn line_numbers(&self) -> bool {
        true
    }
    fn part(&self, _: &FileInfo<'_>) -> Collect {
        Collect::default()
    }
}

fn by_scan(path: &Path) -> Vec<Seen> {
    let found = flowscan::discover(&[flowscan::Input::Path(path.to_path_buf())]);
    let mut all = Vec::new();
    Scanner::builder()
        .threads(2)
        .build()
        .unwrap()
        .ordered(&found, &Collector, |p: Collect| {
            all.extend(p.0);
            Ok::<(), std::io::Error>(())
        })
        .unwrap();
    all
}

fn by_reader(mut r: Reader<'_>) -> (Vec<Seen>, flowscan::Counts) {
    let mut all = Vec::new();
    while let Some((rec, pos)) = r.read_record().unwrap() {
        all.push(seen(&rec, &pos));
    }
    (all, r.counts())
}

const TEXT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 123456789010 eni-1 203.0.113.12 172.31.9.69 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK
garbage

2 123456789010 eni-2 172.31.9.69 203.0.113.12 3389 49761 6 20 4249 1418530010 1418530070 ACCEPT OK
srcaddr action dstport
10.0.0.1 REJECT 22
";

#[test]
fn the_reader_and_the_scanner_agree_on_every_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    std::fs::write(&path, TEXT).unwrap();
    let want = by_scan(&path);
    assert_eq!(want.len(), 3);
    assert_eq!(want[0].1, Some(2));
    assert_eq!(want[2].1, Some(7));

    let (got, counts) = by_reader(Reader::from_slice("mixed.log", TEXT.as_bytes()));
    assert_eq!(got, want);
    assert_eq!(
        (
            counts.records,
            counts.malformed,
            counts.blank,
            counts.headers
        ),
        (3, 1, 1, 2)
    );
    let (got, _) = by_reader(Reader::from_reader("mixed.log", std::io::Cursor::new(TEXT)));
    assert_eq!(got, want);
    let (got, _) = by_reader(Reader::from_path(&path));
    assert_eq!(got, want);

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(TEXT.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let (got, _) = by_reader(Reader::from_reader(
        "mixed.log.gz",
        std::io::Cursor::new(gz),
    ));
    assert_eq!(got, want);
}

#[test]
fn strict_readers_stop_at_the_first_malformed_line() {
    let mut r = Scanner::builder()
        .strict(true)
        .open_slice("mixed.log", TEXT.as_bytes());
    assert!(r.read_record().unwrap().is_some());
    match r.read_record() {
        Err(flowscan::Error::Strict(m)) => assert_eq!(m.line, 3),
        other => panic!("{:?}", other.map(|o| o.map(|(_, p)| p.line))),
    }
}

#[test]
fn a_filter_applies_to_pulled_records() {
    let filter = flowscan::Filter {
        ports: vec![22],
        ..flowscan::Filter::default()
    };
    let mut r = Scanner::builder()
        .filter(filter)
        .open_slice("mixed.log", TEXT.as_bytes());
    let mut n = 0;
    while let Some((rec, _)) = r.read_record().unwrap() {
        assert_eq!(rec.int(flowscan::Field::DstPort).unwrap(), Some(22));
        n += 1;
    }
    assert_eq!(n, 1);
    assert_eq!(r.counts().records, 3);
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_bytes_from_a_reader() {
    use flowscan::export::{self, ExportOptions};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.log");
    let mut text = Vec::new();
    flowgen::Generator::new(flowgen::Spec {
        records: 5_000,
        ..flowgen::Spec::default()
    })
    .write_text(&mut text)
    .unwrap();
    std::fs::write(&input, &text).unwrap();
    let out = dir.path().join("pq");
    let mut opts = ExportOptions::new(&out);
    opts.partition = export::Partition::None;
    let (encoder, mut exporter) = export::start(opts, Vec::new(), &[]).unwrap();
    let found = flowscan::discover(&[flowscan::Input::Path(input.clone())]);
    let scan = Scanner::builder()
        .build()
        .unwrap()
        .ordered(&found, &encoder, |p| exporter.commit(p))
        .unwrap();
    let summary = exporter.finish("s3://b/p/", scan.totals.matched).unwrap();
    assert_eq!(summary.vpc_rows, 5_000);
    let file = out.join(&summary.files[0].path);
    let bytes = std::fs::read(file).unwrap();
    let (rows, counts) = by_reader(Reader::from_reader(
        "rows.parquet",
        std::io::Cursor::new(bytes),
    ));
    assert_eq!(rows.len(), 5_000);
    assert_eq!(counts.records, 5_000);
    let (text_rows, _) = by_reader(Reader::from_slice("in.log", &text));
    // Same values in the same order (Parquet holds integers as integers).
    let flat = |v: &[Seen]| -> Vec<String> {
        v.iter()
            .map(|s| {
                s.0.replace("Text(\"", "")
                    .replace("\")", "")
                    .replace("Int(", "")
                    .replace(')', "")
            })
            .collect()
    };
    assert_eq!(flat(&rows)[..10], flat(&text_rows)[..10]);
}

/// A gzip file in memory is inflated whole; the same bytes from a reader
/// stream. Both, and the plain text, give the same report and counts at any
/// thread count and cut: two members, a header change between them, a
/// malformed line, zero padding at the end.
#[test]
fn gzip_inflated_whole_or_streamed_reads_the_same() {
    use flowscan::{Rejects, RejectsConfig};
    let mut first = Vec::new();
    flowgen::Generator::new(flowgen::Spec {
        records: 20_000,
        ..flowgen::Spec::default()
    })
    .write_text(&mut first)
    .unwrap();
    let second =
        format!("{TEXT}2 1 eni-9 10.0.0.1 10.0.0.2 1 22 6 1 60 5 6 REJECT OK\nnot a record\n");
    let text = [first, second.clone().into_bytes()].concat();
    let gz = |t: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(t).unwrap();
        e.finish().unwrap()
    };
    let mut file = gz(&text[..text.len() - second.len()]);
    file.extend(gz(second.as_bytes()));
    file.extend([0u8; 512]);

    let make = || Rejects::new(RejectsConfig::default());
    let answer = |s: &Scanner, how: usize| {
        let (mut agg, report) = match how {
            0 => s.aggregate_slice("t.log".as_ref(), &text, make),
            1 => s.aggregate_slice("t.log.gz".as_ref(), &file, make),
            _ => s.aggregate_reader("t.log.gz".as_ref(), std::io::Cursor::new(&file), make),
        }
        .unwrap();
        (
            agg.report(20),
            report.totals,
            report.files[0].status.clone(),
        )
    };
    let want = answer(&Scanner::builder().threads(1).build().unwrap(), 0);
    assert_eq!(want.1.malformed, 2, "{:?}", want.1);
    for threads in [1, 2, 7] {
        for blocks in [false, true] {
            let mut b = Scanner::builder().threads(threads);
            if blocks {
                b = b.split_min(1).block_size(4096);
            }
            let s = b.build().unwrap();
            for how in 0..3 {
                assert_eq!(
                    answer(&s, how),
                    want,
                    "{threads} threads, blocks {blocks}, input {how}"
                );
            }
        }
    }
}
