//! A whole file (text, CloudWatch JSON or CSV, gzip or not) through the scanner
//! and the REJECT aggregate: no panic, and every line accounted for.
#![no_main]

use std::path::Path;

use flowscan::{Rejects, RejectsConfig, ScanOptions, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let scanner = Scanner::new(ScanOptions::default());
    let make = || Rejects::new(RejectsConfig::default());
    let mut agg = make();
    let (report, _) = scanner.scan_bytes(Path::new("fuzz"), data.to_vec(), &mut agg, make);
    let c = report.counts;
    assert_eq!(
        c.lines,
        c.records + c.headers + c.blank + c.malformed + c.skipped
    );
    let _ = agg.report(10);
});
