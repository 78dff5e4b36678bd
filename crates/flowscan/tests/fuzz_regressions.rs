//! The fuzz targets' seeds (`fuzz/seeds/<target>/`) and every input kept from
//! fuzzing (`fuzz/regressions/<target>/`, where an input lands when `cargo
//! fuzz` finds a crash or a hang), replayed through the same entry points as
//! the fuzz targets in the normal test suite. Each target must replay at
//! least one input: a folder emptied by mistake fails here.

use std::fs;
use std::path::{Path, PathBuf};

use flowscan::parse::Tokens;
use flowscan::query::Query;
use flowscan::{Field, FlowRecord, Record, Rejects, RejectsConfig, Scanner, Schema};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files: Vec<PathBuf> = ["seeds", "regressions"]
        .iter()
        .flat_map(|kind| {
            fs::read_dir(root.join(kind).join(target))
                .into_iter()
                .flatten()
        })
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().is_none_or(|n| n != ".keep"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no seed or regression input for {target}"
    );
    files
}

fn scan(bytes: Vec<u8>) {
    let scanner = Scanner::builder().threads(1).build().unwrap();
    let (mut agg, report) = scanner
        .aggregate_slice(Path::new("regression"), &bytes, || {
            Rejects::new(RejectsConfig::default())
        })
        .unwrap();
    let c = report.totals;
    assert_eq!(
        c.lines,
        c.records + c.headers + c.blank + c.malformed + c.skipped
    );
    let _ = agg.report(10);
}

#[test]
fn record_line_regressions() {
    for p in inputs("record_line") {
        let data = fs::read(&p).unwrap();
        let mut parts = data.splitn(2, |&b| b == b'\n');
        let header = parts.next().unwrap_or_default();
        let line = parts.next().unwrap_or_default();
        let Ok(schema) = Schema::from_header(header) else {
            continue;
        };
        let mut tokens = Tokens::default();
        tokens.split(line);
        if tokens.len() != schema.len() {
            continue;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let rec = Record::new(line, &tokens, &schema).unwrap();
        for &f in Field::ALL {
            let _ = (rec.text(f), rec.int(f), rec.addr(f));
        }
    }
}

#[test]
fn file_body_regressions() {
    for p in inputs("file_body") {
        scan(fs::read(&p).unwrap());
    }
}

#[test]
fn gzip_stream_regressions() {
    for p in inputs("gzip_stream") {
        let data = fs::read(&p).unwrap();
        let Some((&mode, rest)) = data.split_first() else {
            continue;
        };
        let bytes = if mode & 1 == 0 {
            let mut b = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
            b.extend_from_slice(rest);
            b
        } else {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(rest).unwrap();
            let mut b = e.finish().unwrap();
            let cut = b.len() * usize::from(mode) / 256;
            b.truncate(cut.max(2));
            b
        };
        scan(bytes);
    }
}

#[test]
fn query_regressions() {
    const LINE: &[u8] = b"2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 51234 22 6 20 4249 1795514400 1795514460 REJECT OK";
    let schema = Schema::default_v2();
    let mut t = Tokens::default();
    t.split(LINE);
    let rec = Record::new(LINE, &t, &schema).unwrap();
    let mut parsed = 0;
    for p in inputs("query") {
        let data = fs::read(&p).unwrap();
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        match Query::parse(text) {
            Ok(q) => {
                parsed += 1;
                let _ = q.matches(&rec);
            }
            Err(e) => assert!(e.column >= 1 && e.column <= text.len() + 1, "{p:?}: {e}"),
        }
    }
    assert!(parsed > 0, "no seed query parses");
}
