//! A gzip stream: either the input behind a gzip header (a random deflate body)
//! or a valid gzip of the input cut at a point the first byte chooses. The scan
//! must keep what was read, report the damage, and never panic.
#![no_main]

use std::io::Write;
use std::path::Path;

use flowscan::{Rejects, RejectsConfig, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode & 1 == 0 {
        let mut b = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        b.extend_from_slice(rest);
        b
    } else {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(rest).unwrap();
        let mut b = e.finish().unwrap();
        let cut = b.len() * usize::from(mode) / 256;
        b.truncate(cut.max(2));
        b
    };
    // One scanner for every input: building one starts a thread pool.
    static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    let scanner = SCANNER.get_or_init(|| Scanner::builder().threads(1).build().unwrap());
    let (_, report) = scanner
        .aggregate_slice(Path::new("fuzz.gz"), &bytes, || Rejects::new(RejectsConfig::default()))
        .unwrap();
    let c = report.totals;
    assert_eq!(
        c.lines,
        c.records + c.headers + c.blank + c.malformed + c.skipped
    );
});
