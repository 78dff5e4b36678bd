//! `top`: the top groups by any fields, as a table, JSON or CSV.

use std::io::{self, Write};

use super::{
    approximation_text, csv_err, elapsed_line, human_bytes, line_accounting, plural, report_json,
    table, thousands,
};
use crate::aggregate::rejects::Approximation;
use crate::aggregate::top::{KeyValue, TopReport};
use crate::scan::ScanReport;

/// What an approximate `top` result means, in one sentence.
pub fn top_approximation_note(a: &Approximation) -> String {
    approximation_text(a, "row", "distinct counts are estimated from 1 value in")
}

/// The column heads: the key's parts, `records`, and the measure when it is
/// not the record count.
fn head(r: &TopReport) -> Vec<&str> {
    let mut head: Vec<&str> = r.by.iter().map(String::as_str).collect();
    head.push("records");
    if r.measure != "records" {
        head.push(&r.measure);
    }
    head
}

/// Writes a `top` report as an aligned table, then the scan summary line.
pub fn top_table(out: &mut dyn Write, r: &TopReport, scan: &ScanReport) -> io::Result<()> {
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
        writeln!(out, "{}\n", top_approximation_note(a))?;
    }
    table(out, &title, &head(r), &rows)?;
    writeln!(out, "Summary")?;
    writeln!(out, "  lines     {}", line_accounting(&scan.totals))?;
    elapsed_line(out, scan)
}

/// Writes a `top` report and the scan summary as one JSON document.
pub fn top_json(out: &mut dyn Write, r: &TopReport, scan: &ScanReport) -> io::Result<()> {
    report_json(out, r, scan)
}

/// Writes a `top` report as CSV: the key columns, `records`, and the measure.
pub fn top_csv(out: &mut dyn Write, r: &TopReport) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(head(r)).map_err(csv_err)?;
    for row in &r.rows {
        // A missing key part is an empty cell, not the table's `-`.
        let mut cells: Vec<String> = row
            .key
            .iter()
            .map(|k| match k {
                KeyValue::Missing => String::new(),
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
