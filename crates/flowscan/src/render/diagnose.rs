//! `diagnose`: the likely causes of the REJECTs, with their evidence.

use std::io::{self, Write};

use super::{approximation_text, plural, scan_json_value, time_or_dash, write_json};
use crate::aggregate::diagnose::{DiagnoseReport, Evidence, Finding};
use crate::aggregate::rejects::Approximation;
use crate::scan::ScanReport;

/// Evidence lines are wrapped at about this width.
const WIDTH: usize = 100;

/// What an approximate `diagnose` result means, in one sentence.
pub fn diagnose_approximation_note(a: &Approximation) -> String {
    approximation_text(
        a,
        "finding",
        "matched responses and public sources are estimated from 1 in",
    )
}

/// Writes the findings for people: a heading line, then each finding with
/// what it rests on and its evidence records.
pub fn diagnose_table(out: &mut dyn Write, rep: &DiagnoseReport) -> io::Result<()> {
    writeln!(
        out,
        "{}; {}\n",
        plural(rep.rejects, "REJECT record", "REJECT records"),
        plural(rep.findings.len() as u64, "finding", "findings")
    )?;
    if let Some(a) = &rep.approximate {
        writeln!(out, "{}\n", diagnose_approximation_note(a))?;
    }
    for (i, f) in rep.findings.iter().enumerate() {
        writeln!(
            out,
            "{}. [{}, {} confidence] {}",
            i + 1,
            f.kind,
            f.confidence,
            f.summary
        )?;
        writeln!(out, "   {}", about(f))?;
        if !f.evidence.is_empty() {
            writeln!(out, "   evidence:")?;
        }
        for e in &f.evidence {
            evidence(out, e)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Writes the findings and the scan summary as one JSON document.
pub fn diagnose_json(
    out: &mut dyn Write,
    rep: &DiagnoseReport,
    scan: &ScanReport,
) -> io::Result<()> {
    let doc = serde_json::json!({
        "rejects": rep.rejects,
        "findings": rep.findings,
        "approximate": rep.approximate,
        "scan": scan_json_value(scan),
    });
    write_json(out, &doc)
}

/// `20 records, first seen …, last seen …; interface eni-… (instance i-…)`.
fn about(f: &Finding) -> String {
    let mut s = plural(f.records, "record", "records");
    s.push_str(&format!(
        ", first seen {}, last seen {}",
        time_or_dash(f.first_seen),
        time_or_dash(f.last_seen)
    ));
    if let Some(eni) = &f.interface_id {
        s.push_str(&format!("; interface {eni}"));
        match f.instance_ids.as_slice() {
            [] => {}
            [one] => s.push_str(&format!(" (instance {one})")),
            many => s.push_str(&format!(" (instances {})", many.join(", "))),
        }
    }
    s
}

/// `file:line` and the record's fields as `name=value`, wrapped.
fn evidence(out: &mut dyn Write, e: &Evidence) -> io::Result<()> {
    let head = format!("     {}:{}", e.file, e.line);
    let indent = " ".repeat(7);
    writeln!(out, "{head}")?;
    let mut line = indent.clone();
    for (k, v) in &e.record {
        let item = format!("{k}={v}");
        if line.len() > indent.len() && line.len() + 1 + item.len() > WIDTH {
            writeln!(out, "{line}")?;
            line = indent.clone();
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(&item);
    }
    writeln!(out, "{line}")
}
