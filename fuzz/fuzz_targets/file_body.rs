//! A whole file (text, CloudWatch JSON or CSV, gzip or not) through the scanner
//! and the REJECT aggregate: no panic, and every line accounted for.
#![no_main]

use std::path::Path;

use flowscan::{Rejects, RejectsConfig, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // One scanner for every input: building one starts a thread pool.
    static SCANNER: std::sync::OnceLock<Scanner> = std::sync::OnceLock::new();
    let scanner = SCANNER.get_or_init(|| Scanner::builder().threads(1).build().unwrap());
    let (mut agg, report) = scanner
        .aggregate_slice(Path::new("fuzz"), data, || Rejects::new(RejectsConfig::default()))
        .unwrap();
    let c = report.totals;
    assert_eq!(
        c.lines,
        c.records + c.headers + c.blank + c.malformed + c.skipped
    );
    let _ = agg.report(10);
});
