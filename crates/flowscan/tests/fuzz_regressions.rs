//! Inputs kept from fuzzing (`fuzz/regressions/<target>/`), replayed through the
//! same entry points as the fuzz targets, in the normal test suite. A file lands
//! there when `cargo fuzz` finds a crash or a hang; the fix keeps it passing.

use std::fs;
use std::path::{Path, PathBuf};

use flowscan::parse::Tokens;
use flowscan::{Field, FlowRecord, Record, Rejects, RejectsConfig, Scanner, Schema};

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
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
