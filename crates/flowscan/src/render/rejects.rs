//! `rejects`: the REJECT hotspot tables, as a table, JSON or CSV.

use std::io::{self, Write};

use super::{
    approximation_note, csv_err, elapsed_line, human_bytes, line_accounting, plural, report_json,
    table, thousands, time_or_dash,
};
use crate::aggregate::rejects::{RejectsReport, RowStats};
use crate::display::format_time;
use crate::scan::{FileStatus, ScanReport};

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

/// The column heads of a hotspot table, `key` and `peers` naming what the
/// first column holds and what is counted distinct.
fn head(key: &'static str, peers: &'static str, dirs: bool) -> Vec<&'static str> {
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
    let rows: Vec<_> = r
        .interfaces
        .iter()
        .map(|e| stat_cells(e.interface_id.clone(), e.distinct_sources, &e.stats, dirs))
        .collect();
    let h = head("interface-id", "sources", dirs);
    table(out, "Top interfaces", &h, &rows)?;
    let rows: Vec<_> = r
        .ports
        .iter()
        .map(|p| stat_cells(p.label.clone(), p.distinct_sources, &p.stats, dirs))
        .collect();
    let h = head("port", "sources", dirs);
    table(out, "Top destination ports", &h, &rows)?;
    let rows: Vec<_> = r
        .sources
        .iter()
        .map(|n| stat_cells(n.cidr.clone(), n.distinct_destinations, &n.stats, dirs))
        .collect();
    let title = format!(
        "Top source networks (IPv4 /{}, IPv6 /{})",
        r.prefix4, r.prefix6
    );
    table(out, &title, &head("source", "targets", dirs), &rows)?;
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
    table(out, &title, &head("destination", "sources", dirs), &rows)?;
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
    elapsed_line(out, scan)
}

/// Writes the report and the scan summary as one JSON document.
pub fn rejects_json(out: &mut dyn Write, r: &RejectsReport, scan: &ScanReport) -> io::Result<()> {
    report_json(out, r, scan)
}

/// The CSV columns of [`rejects_csv`].
const CSV_HEAD: [&str; 12] = [
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

/// One hotspot row as CSV cells, in the order of [`CSV_HEAD`].
fn csv_cells(
    table: &str,
    key: &str,
    port: Option<u64>,
    proto: Option<u64>,
    peers: u64,
    s: &RowStats,
) -> [String; 12] {
    let opt = |v: Option<u64>| v.map_or_else(String::new, |v| v.to_string());
    let time = |t: Option<u64>| t.map_or_else(String::new, format_time);
    [
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
    ]
}

/// Writes the hotspot rows as CSV: `table,key,port,protocol,records,packets,bytes,distinct_peers,first_seen,last_seen,ingress,egress`
/// (the direction counts empty when the logs do not carry `flow-direction`).
pub fn rejects_csv(out: &mut dyn Write, r: &RejectsReport) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEAD).map_err(csv_err)?;
    let mut row = |cells: [String; 12]| w.write_record(cells).map_err(csv_err);
    for e in &r.interfaces {
        let (key, peers) = (&e.interface_id, e.distinct_sources);
        row(csv_cells("interfaces", key, None, None, peers, &e.stats))?;
    }
    for p in &r.ports {
        let (port, proto) = (p.port.map(u64::from), p.protocol.map(u64::from));
        row(csv_cells(
            "ports",
            &p.label,
            port,
            proto,
            p.distinct_sources,
            &p.stats,
        ))?;
    }
    for n in &r.sources {
        let (key, peers) = (&n.cidr, n.distinct_destinations);
        row(csv_cells("sources", key, None, None, peers, &n.stats))?;
    }
    for d in &r.destinations {
        let (key, peers) = (&d.destination, d.distinct_sources);
        row(csv_cells("destinations", key, None, None, peers, &d.stats))?;
    }
    w.flush()
}
