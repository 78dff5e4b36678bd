//! `export`: what an export wrote, for people or as JSON.

use std::io::{self, Write};
use std::path::Path;

use super::{human_bytes, plural, scan_json_value, thousands, write_json};
use crate::display::path_text;
use crate::export::{ExportSummary, DDL_FILES};
use crate::scan::ScanReport;

/// Writes what an export to `dir` wrote: rows, files, what was read, the
/// time it took and the table definitions beside the data. When the
/// partitions name accounts and regions, a last line lists them, followed
/// by `regenerate`, the caller's command that writes the definition again
/// (the library names no commands or flags).
pub fn export_table(
    out: &mut dyn Write,
    dir: &Path,
    summary: &ExportSummary,
    scan: &ScanReport,
    regenerate: Option<&str>,
) -> io::Result<()> {
    let secs = scan.elapsed.as_secs_f64().max(1e-9);
    let rows = summary.vpc_rows + summary.tgw_rows;
    writeln!(out, "Exported to {}", path_text(dir))?;
    writeln!(
        out,
        "  rows       {} ({} VPC, {} Transit Gateway); {} not exported",
        thousands(rows),
        thousands(summary.vpc_rows),
        thousands(summary.tgw_rows),
        plural(scan.totals.malformed, "malformed line", "malformed lines")
    )?;
    writeln!(
        out,
        "  files      {}, {} in {}",
        plural(summary.files.len() as u64, "Parquet file", "Parquet files"),
        human_bytes(summary.bytes),
        plural(summary.partitions as u64, "partition", "partitions")
    )?;
    writeln!(
        out,
        "  read       {}, {} as stored, {} of text",
        plural(scan.files.len() as u64, "file", "files"),
        human_bytes(scan.bytes),
        human_bytes(scan.decoded)
    )?;
    writeln!(
        out,
        "  elapsed    {:.3} s ({} rows/s, {}/s of text)",
        secs,
        thousands((rows as f64 / secs) as u64),
        human_bytes((scan.decoded as f64 / secs) as u64)
    )?;
    if summary.layouts > 2 {
        writeln!(
            out,
            "  columns    files differ in columns (a header mid-input named new fields): \
             read them by name (DuckDB: union_by_name = true)"
        )?;
    }
    for name in DDL_FILES {
        let p = dir.join(name);
        if p.exists() {
            writeln!(out, "  athena     {}", path_text(&p))?;
        }
    }
    if !summary.accounts.is_empty() {
        table_line(out, summary, regenerate)?;
    }
    Ok(())
}

/// The accounts and regions the table definition projects, and how to
/// write it again once another export adds some.
fn table_line(
    out: &mut dyn Write,
    summary: &ExportSummary,
    regenerate: Option<&str>,
) -> io::Result<()> {
    write!(
        out,
        "  table      projects accounts {} and regions {}",
        summary.accounts.join(","),
        summary.regions.join(","),
    )?;
    match regenerate {
        Some(cmd) => writeln!(
            out,
            "; after another export, regenerate it:\n             {cmd}"
        ),
        None => writeln!(out),
    }
}

/// Writes the export summary and the scan summary as one JSON document.
pub fn export_json(
    out: &mut dyn Write,
    summary: &ExportSummary,
    scan: &ScanReport,
) -> io::Result<()> {
    let doc = serde_json::json!({ "export": summary, "scan": scan_json_value(scan) });
    write_json(out, &doc)
}
