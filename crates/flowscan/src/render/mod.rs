//! Writing results: aligned tables for people, JSON and CSV for programs.
//!
//! Every command's output is written here, so that the binary only chooses
//! what to write and where. One file per command family; this one holds what
//! they share: number formats, the table layout, the scan summary as JSON and
//! the approximation sentences. Nothing here names a command-line flag: hints
//! such as "(--max-memory)" are the binary's to add.

use std::io::{self, Write};

use serde::Serialize;

use crate::aggregate::rejects::Approximation;
use crate::display::format_time;
use crate::error::Malformed;
use crate::scan::{Counts, FileStatus, ScanReport};

mod anomalies;
mod diagnose;
#[cfg(feature = "parquet")]
mod export;
mod records;
mod rejects;
mod top;
mod vpc;

pub use anomalies::{anomalies_approximation_note, anomalies_json, anomalies_table, Anomalies};
pub use diagnose::{diagnose_approximation_note, diagnose_json, diagnose_table};
#[cfg(feature = "parquet")]
pub use export::{export_json, export_table};
pub use records::{RecordFormat, RecordOutput, RecordPart, RecordWriter};
pub use rejects::{rejects_csv, rejects_json, rejects_table};
pub use top::{top_approximation_note, top_csv, top_json, top_table};
pub use vpc::{explain_json, explain_table, rules_json, rules_table, subnets_json, subnets_table};

/// Output formats.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned columns and a summary, for a terminal.
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// One CSV table with a `table` column naming the hotspot table of each row.
    Csv,
}

/// Groups digits in threes: `12,345,678`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A count and its noun: `1 record`, `2 records`, `1,234 records`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// A byte count with an SI unit: `950 B`, `61.4 kB`, `1.17 GB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v < 10.0 {
        format!("{v:.2} {}", UNITS[u])
    } else if v < 100.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

fn time_or_dash(t: Option<u64>) -> String {
    t.map_or_else(|| "-".into(), format_time)
}

/// Lays out rows under a heading; the first column is left-aligned, the rest right.
fn table(out: &mut dyn Write, title: &str, head: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    writeln!(out, "{title}")?;
    if rows.is_empty() {
        return writeln!(out, "  (none)\n");
    }
    let mut width: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from(" ");
        for (i, (c, w)) in cells.iter().zip(&width).enumerate() {
            if i == 0 {
                s.push_str(&format!(" {c:<w$}"));
            } else {
                s.push_str(&format!("  {c:>w$}"));
            }
        }
        s.trim_end().to_string()
    };
    let head: Vec<String> = head.iter().map(|h| h.to_string()).collect();
    writeln!(out, "{}", line(&head))?;
    for r in rows {
        writeln!(out, "{}", line(r))?;
    }
    writeln!(out)
}

/// The last line of a table summary: time taken and the rates it gives.
fn elapsed_line(out: &mut dyn Write, scan: &ScanReport) -> io::Result<()> {
    let secs = scan.elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "  elapsed   {:.3} s ({}/s, {} records/s)",
        secs,
        human_bytes((scan.decoded as f64 / secs) as u64),
        thousands((scan.totals.records as f64 / secs) as u64)
    )
}

/// What a sum of 2^64 − 1 means, in one sentence: sums are held in 64 bits
/// and stop at the largest value rather than wrap around, and only values far
/// beyond any real flow's (a corrupt or hostile field) get there.
pub const SATURATED: &str = "a sum of packets or bytes reached 18,446,744,073,709,551,615 \
    (2^64 - 1), the largest held, and stopped there: the true sum is at least that \
    (some record's packets or bytes are far beyond any real flow's)";

/// What an approximate result means, in one sentence.
pub fn approximation_note(a: &Approximation) -> String {
    approximation_text(a, "row", "distinct counts are estimated from 1 address in")
}

/// [`approximation_note`] for other reports: what a count is per (`row`,
/// `finding`), and what sampling estimates (ending with "1 in").
pub fn approximation_text(a: &Approximation, per: &str, sampled: &str) -> String {
    let mut s = format!(
        "approximate: the memory budget ({}) was reached",
        human_bytes(a.budget as u64)
    );
    if a.records_low_by_at_most > 0 {
        s.push_str(&format!(
            "; record counts may be low by up to {} per {per}",
            thousands(a.records_low_by_at_most)
        ));
    }
    if let Some(n) = a.sum_low_by_at_most.filter(|n| *n > 0) {
        s.push_str(&format!(
            "; sums may be low by up to {} per {per}",
            thousands(n)
        ));
    }
    if a.distinct_sampled_one_in > 1 {
        s.push_str(&format!("; {sampled} {}", a.distinct_sampled_one_in));
    }
    s
}

/// `1,000: 990 records, 2 headers, 3 blank, 5 malformed`.
pub fn line_accounting(t: &Counts) -> String {
    let mut s = format!(
        "{}: {}, {}, {} blank, {} malformed",
        thousands(t.lines),
        plural(t.records, "record", "records"),
        plural(t.headers, "header", "headers"),
        thousands(t.blank),
        thousands(t.malformed)
    );
    if t.skipped > 0 {
        s.push_str(&format!(
            // Control messages and JSON values without a message are
            // skipped too: not records at all (the file's note says which).
            ", {} skipped (not records, or in a format this command cannot use)",
            thousands(t.skipped)
        ));
    }
    s
}

/// The scan part of the JSON output.
#[derive(Serialize)]
struct ScanJson<'a> {
    files: usize,
    files_read: usize,
    files_skipped: usize,
    files_incomplete: usize,
    files_failed: usize,
    pruned_by_name: usize,
    list_requests: usize,
    bytes: u64,
    decoded: u64,
    #[serde(flatten)]
    totals: Counts,
    elapsed_seconds: f64,
    problems: Vec<Problem<'a>>,
    malformed_lines: &'a [Malformed],
}

#[derive(Serialize)]
struct Problem<'a> {
    path: String,
    #[serde(flatten)]
    status: &'a FileStatus,
}

fn scan_json(scan: &ScanReport) -> ScanJson<'_> {
    ScanJson {
        files: scan.files.len(),
        files_read: scan
            .count_status(|s| matches!(s, FileStatus::Complete | FileStatus::Incomplete(_))),
        files_skipped: scan.count_status(|s| matches!(s, FileStatus::Skipped(_))),
        files_incomplete: scan.count_status(|s| matches!(s, FileStatus::Incomplete(_))),
        files_failed: scan.count_status(|s| matches!(s, FileStatus::Failed(_))),
        pruned_by_name: scan.pruned,
        list_requests: scan.list_requests,
        bytes: scan.bytes,
        decoded: scan.decoded,
        totals: scan.totals,
        elapsed_seconds: (scan.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        problems: scan
            .files
            .iter()
            .filter(|f| f.status != FileStatus::Complete)
            .map(|f| Problem {
                path: f.path.display().to_string(),
                status: &f.status,
            })
            .collect(),
        malformed_lines: &scan.malformed,
    }
}

/// The scan summary as JSON (files, bytes, line accounting, problems, malformed lines).
pub fn scan_json_value(scan: &ScanReport) -> serde_json::Value {
    serde_json::to_value(scan_json(scan)).expect("serialisable")
}

/// Writes a report's fields and the scan summary (under `scan`) as one JSON
/// document.
fn report_json<R: Serialize>(out: &mut dyn Write, report: &R, scan: &ScanReport) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a, R> {
        #[serde(flatten)]
        report: &'a R,
        scan: ScanJson<'a>,
    }
    write_json(
        out,
        &Doc {
            report,
            scan: scan_json(scan),
        },
    )
}

/// Writes one indented JSON document and the newline that ends it.
fn write_json<T: Serialize + ?Sized>(out: &mut dyn Write, doc: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

/// A CSV writer's error as the I/O error it wraps (so that a closed pipe
/// still reads as one), or as an I/O error holding its text.
fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        k => io::Error::other(format!("{k:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_for_people() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(human_bytes(950), "950 B");
        assert_eq!(human_bytes(61_440), "61.4 kB");
        assert_eq!(human_bytes(1_170_000_000), "1.17 GB");
        assert_eq!(human_bytes(250_000_000), "250 MB");
    }

    #[test]
    fn csv_errors_keep_their_io_kind() {
        let e = csv::Error::from(io::Error::from(io::ErrorKind::BrokenPipe));
        assert_eq!(csv_err(e).kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn tables_align_and_say_when_empty() {
        let mut out = Vec::new();
        let rows = vec![
            vec!["a".to_string(), "1".to_string()],
            vec!["bbb".to_string(), "1,000".to_string()],
        ];
        table(&mut out, "T", &["key", "n"], &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "T\n  key      n\n  a        1\n  bbb  1,000\n\n"
        );
        let mut out = Vec::new();
        table(&mut out, "T", &["key"], &[]).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "T\n  (none)\n\n");
    }
}
