//! `flowscan diagnose`: likely causes of the REJECTs.

use std::io::{self, Write};

use anyhow::Result;
use flowscan::aggregate::diagnose::{Diagnose, DiagnoseConfig, DiagnoseReport, Evidence, Finding};
use flowscan::display::format_time;
use flowscan::render::approximation_text;
use flowscan::MemoryBudget;

use super::plural;
use crate::args::{DiagnoseArgs, SummaryFormat};
use crate::{config, report, Exit};

/// Evidence lines are wrapped at about this width.
const WIDTH: usize = 100;

/// Runs the command.
pub fn run(args: DiagnoseArgs) -> Result<Exit> {
    let setup = config::setup(&args.input, &args.filter)?;
    // One budget for the tables of every thread.
    let dcfg = DiagnoseConfig {
        memory: Some(MemoryBudget::new(super::budget_bytes(args.max_memory))),
    };
    let (mut agg, scan) = super::scan(&setup, || Diagnose::with_config(dcfg.clone()))?;
    let rep = agg.report();
    let note = rep.approximate.as_ref().map(|a| {
        approximation_text(
            a,
            "finding",
            "matched responses and public sources are estimated from 1 in",
        )
    });
    if let Some(n) = &note {
        say!("flowscan: {n} (--max-memory)");
    }
    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => {
            let doc = serde_json::json!({
                "rejects": rep.rejects,
                "findings": rep.findings,
                "approximate": rep.approximate,
                "scan": flowscan::render::scan_json_value(&scan),
            });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => table(&mut out, &rep, note.as_deref())?,
    }
    out.flush()?;
    Ok(report::exit_code(&scan))
}

fn table(out: &mut dyn Write, rep: &DiagnoseReport, note: Option<&str>) -> io::Result<()> {
    writeln!(
        out,
        "{}; {}\n",
        plural(rep.rejects, "REJECT record", "REJECT records"),
        plural(rep.findings.len() as u64, "finding", "findings")
    )?;
    if let Some(n) = note {
        writeln!(out, "{n}\n")?;
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

/// `20 records, first seen …, last seen …; interface eni-… (instance i-…)`.
fn about(f: &Finding) -> String {
    let mut s = plural(f.records, "record", "records");
    let time = |t: Option<u64>| t.map_or_else(|| "-".to_string(), format_time);
    s.push_str(&format!(
        ", first seen {}, last seen {}",
        time(f.first_seen),
        time(f.last_seen)
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
