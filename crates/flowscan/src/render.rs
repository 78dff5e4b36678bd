//! Writing results: an aligned table for people, JSON and CSV for programs.

use std::io::{self, Write};

use serde::Serialize;

use crate::aggregate::rejects::{RejectsReport, RowStats};
use crate::display::format_time;
use crate::error::Malformed;
use crate::scan::{Counts, FileStatus, ScanReport};

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

fn stat_cells(key: String, peers: u64, s: &RowStats, dirs: bool) -> Vec<String> {
    let mut cells = vec![
        key,
        thousands(s.records),
        thousands(s.packets),
        human_bytes(s.bytes),
        thousands(peers),
        time_or_dash(s.first_seen),
        time_or_dash(s.last_seen),
    ];
    if dirs {
        cells.push(s.direction());
    }
    cells
}

/// Writes the hotspot tables and the scan summary for people.
pub fn rejects_table(out: &mut dyn Write, r: &RejectsReport, scan: &ScanReport) -> io::Result<()> {
    let pct = if r.records > 0 {
        100.0 * r.rejects as f64 / r.records as f64
    } else {
        0.0
    };
    writeln!(
        out,
        "REJECT hotspots: {} of {} rejected ({pct:.1}%)\n",
        thousands(r.rejects),
        plural(r.records, "record", "records")
    )?;
    if let Some(a) = &r.approximate {
        writeln!(out, "{}\n", approximation_note(a))?;
    }
    let dirs = r.directions;
    let head = |key: &'static str, peers: &'static str| {
        let mut h = vec![
            key,
            "records",
            "packets",
            "bytes",
            peers,
            "first seen",
            "last seen",
        ];
        if dirs {
            h.push("direction");
        }
        h
    };
    let rows: Vec<_> = r
        .interfaces
        .iter()
        .map(|e| stat_cells(e.interface_id.clone(), e.distinct_sources, &e.stats, dirs))
        .collect();
    table(
        out,
        "Top interfaces",
        &head("interface-id", "sources"),
        &rows,
    )?;
    let rows: Vec<_> = r
        .ports
        .iter()
        .map(|p| stat_cells(p.label.clone(), p.distinct_sources, &p.stats, dirs))
        .collect();
    table(
        out,
        "Top destination ports",
        &head("port", "sources"),
        &rows,
    )?;
    let rows: Vec<_> = r
        .sources
        .iter()
        .map(|n| stat_cells(n.cidr.clone(), n.distinct_destinations, &n.stats, dirs))
        .collect();
    let title = format!(
        "Top source networks (IPv4 /{}, IPv6 /{})",
        r.prefix4, r.prefix6
    );
    table(out, &title, &head("source", "targets"), &rows)?;
    let rows: Vec<_> = r
        .destinations
        .iter()
        .map(|d| stat_cells(d.destination.clone(), d.distinct_sources, &d.stats, dirs))
        .collect();
    let title = if (r.dst_prefix4, r.dst_prefix6) == (32, 128) {
        "Top destinations".to_string()
    } else {
        format!(
            "Top destination networks (IPv4 /{}, IPv6 /{})",
            r.dst_prefix4, r.dst_prefix6
        )
    };
    table(out, &title, &head("destination", "sources"), &rows)?;
    summary(out, r, scan)
}

fn summary(out: &mut dyn Write, r: &RejectsReport, scan: &ScanReport) -> io::Result<()> {
    let t = &scan.totals;
    let files = |pred: fn(&FileStatus) -> bool| scan.count_status(pred);
    let read = files(|s| matches!(s, FileStatus::Complete | FileStatus::Incomplete(_)));
    writeln!(out, "Summary")?;
    writeln!(
        out,
        "  files     {} read ({} as stored, {} of text), {} skipped, {} incomplete, {} failed",
        thousands(read as u64),
        human_bytes(scan.bytes),
        human_bytes(scan.decoded),
        files(|s| matches!(s, FileStatus::Skipped(_))),
        files(|s| matches!(s, FileStatus::Incomplete(_))),
        files(|s| matches!(s, FileStatus::Failed(_))),
    )?;
    if scan.pruned > 0 {
        writeln!(
            out,
            "  pruned    {} not opened: their S3 paths are outside the filters",
            plural(scan.pruned as u64, "file or folder", "files or folders")
        )?;
    }
    writeln!(
        out,
        "  records   {} ({} REJECT, {} ACCEPT, {} NODATA, {} SKIPDATA){}",
        thousands(r.records),
        thousands(r.rejects),
        thousands(r.accepts),
        thousands(r.nodata),
        thousands(r.skipdata),
        if r.records != t.records {
            format!("; {} read, the rest filtered out", thousands(t.records))
        } else {
            String::new()
        }
    )?;
    writeln!(out, "  lines     {}", line_accounting(t))?;
    writeln!(
        out,
        "  span      {} to {}",
        time_or_dash(r.first_start),
        time_or_dash(r.last_end)
    )?;
    let secs = scan.elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "  elapsed   {:.3} s ({}/s, {} records/s)",
        secs,
        human_bytes((scan.decoded as f64 / secs) as u64),
        thousands((t.records as f64 / secs) as u64)
    )
}

/// What an approximate result means, in one sentence.
pub fn approximation_note(a: &crate::aggregate::rejects::Approximation) -> String {
    approximation_text(a, "row", "distinct counts are estimated from 1 address in")
}

/// [`approximation_note`] for other reports: what a count is per (`row`,
/// `finding`), and what sampling estimates (ending with "1 in").
pub fn approximation_text(
    a: &crate::aggregate::rejects::Approximation,
    per: &str,
    sampled: &str,
) -> String {
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
            ", {} in formats this command cannot use",
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

/// Writes the report and the scan summary as one JSON document.
pub fn rejects_json(out: &mut dyn Write, r: &RejectsReport, scan: &ScanReport) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(flatten)]
        report: &'a RejectsReport,
        scan: ScanJson<'a>,
    }
    serde_json::to_writer_pretty(
        &mut *out,
        &Doc {
            report: r,
            scan: scan_json(scan),
        },
    )?;
    writeln!(out)
}

/// Writes the hotspot rows as CSV: `table,key,port,protocol,records,packets,bytes,distinct_peers,first_seen,last_seen,ingress,egress`
/// (the direction counts empty when the logs do not carry `flow-direction`).
pub fn rejects_csv(out: &mut dyn Write, r: &RejectsReport) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let head = [
        "table",
        "key",
        "port",
        "protocol",
        "records",
        "packets",
        "bytes",
        "distinct_peers",
        "first_seen",
        "last_seen",
        "ingress",
        "egress",
    ];
    w.write_record(head).map_err(csv_err)?;
    let opt = |v: Option<u64>| v.map_or_else(String::new, |v| v.to_string());
    let time = |t: Option<u64>| t.map_or_else(String::new, format_time);
    let mut row = |table: &str,
                   key: &str,
                   port: Option<u64>,
                   proto: Option<u64>,
                   peers: u64,
                   s: &RowStats| {
        w.write_record([
            table.to_string(),
            key.to_string(),
            opt(port),
            opt(proto),
            s.records.to_string(),
            s.packets.to_string(),
            s.bytes.to_string(),
            peers.to_string(),
            time(s.first_seen),
            time(s.last_seen),
            opt(s.ingress),
            opt(s.egress),
        ])
        .map_err(csv_err)
    };
    for e in &r.interfaces {
        row(
            "interfaces",
            &e.interface_id,
            None,
            None,
            e.distinct_sources,
            &e.stats,
        )?;
    }
    for p in &r.ports {
        let (port, proto) = (p.port.map(u64::from), p.protocol.map(u64::from));
        row("ports", &p.label, port, proto, p.distinct_sources, &p.stats)?;
    }
    for n in &r.sources {
        row(
            "sources",
            &n.cidr,
            None,
            None,
            n.distinct_destinations,
            &n.stats,
        )?;
    }
    for d in &r.destinations {
        row(
            "destinations",
            &d.destination,
            None,
            None,
            d.distinct_sources,
            &d.stats,
        )?;
    }
    w.flush()
}

/// A CSV writer's error as the I/O error it wraps (so that a closed pipe
/// still reads as one), or as an I/O error holding its text.
fn csv_err(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        k => io::Error::other(format!("{k:?}")),
    }
}

/// Writes a `top` report as an aligned table, then the scan summary line.
pub fn top_table(
    out: &mut dyn Write,
    r: &crate::aggregate::top::TopReport,
    scan: &ScanReport,
) -> io::Result<()> {
    let mut head: Vec<&str> = r.by.iter().map(String::as_str).collect();
    head.push("records");
    if r.measure != "records" {
        head.push(&r.measure);
    }
    let rows: Vec<Vec<String>> = r
        .rows
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = row.key.iter().map(|k| k.to_string()).collect();
            cells.push(thousands(row.records));
            if let Some(v) = row.sum {
                // Sizes in the units every table uses; other sums are counts.
                cells.push(if r.measure == "sum(bytes)" {
                    human_bytes(v)
                } else {
                    thousands(v)
                });
            } else if let Some(v) = row.distinct {
                cells.push(thousands(v));
            }
            cells
        })
        .collect();
    let title = format!(
        "Top {} of {} by {}",
        r.rows.len(),
        plural(r.groups, "group", "groups"),
        r.measure
    );
    if let Some(a) = &r.approximate {
        writeln!(
            out,
            "{}\n",
            approximation_text(a, "row", "distinct counts are estimated from 1 value in")
        )?;
    }
    table(out, &title, &head, &rows)?;
    writeln!(out, "Summary")?;
    writeln!(out, "  lines     {}", line_accounting(&scan.totals))?;
    let secs = scan.elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "  elapsed   {:.3} s ({}/s, {} records/s)",
        secs,
        human_bytes((scan.decoded as f64 / secs) as u64),
        thousands((scan.totals.records as f64 / secs) as u64)
    )
}

/// Writes a `top` report and the scan summary as one JSON document.
pub fn top_json(
    out: &mut dyn Write,
    r: &crate::aggregate::top::TopReport,
    scan: &ScanReport,
) -> io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(flatten)]
        report: &'a crate::aggregate::top::TopReport,
        scan: ScanJson<'a>,
    }
    serde_json::to_writer_pretty(
        &mut *out,
        &Doc {
            report: r,
            scan: scan_json(scan),
        },
    )?;
    writeln!(out)
}

/// Writes a `top` report as CSV: the key columns, `records`, and the measure.
pub fn top_csv(out: &mut dyn Write, r: &crate::aggregate::top::TopReport) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut head: Vec<&str> = r.by.iter().map(String::as_str).collect();
    head.push("records");
    if r.measure != "records" {
        head.push(&r.measure);
    }
    w.write_record(&head).map_err(csv_err)?;
    for row in &r.rows {
        let mut cells: Vec<String> = row
            .key
            .iter()
            .map(|k| match k {
                crate::aggregate::top::KeyValue::Missing => String::new(),
                k => k.to_string(),
            })
            .collect();
        cells.push(row.records.to_string());
        if let Some(v) = row.sum.or(row.distinct) {
            cells.push(v.to_string());
        }
        w.write_record(&cells).map_err(csv_err)?;
    }
    w.flush()
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
}
