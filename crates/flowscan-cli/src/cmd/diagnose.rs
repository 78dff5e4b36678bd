//! `flowscan diagnose`: likely causes of the REJECTs.

use std::io::{self, Write};

use anyhow::Result;
use flowscan::aggregate::diagnose::Diagnose;
use flowscan::render::thousands;

use crate::args::{DiagnoseArgs, SummaryFormat};
use crate::{config, report, Exit};

/// Runs the command.
pub fn run(args: DiagnoseArgs) -> Result<Exit> {
    let setup = config::setup(&args.input, &args.filter)?;
    let (mut agg, scan) = super::scan(&setup, Diagnose::new)?;
    let rep = agg.report();
    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => {
            let doc = serde_json::json!({ "rejects": rep.rejects, "findings": rep.findings, "scan": flowscan::render::scan_json_value(&scan) });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            writeln!(
                out,
                "{} REJECT records; {} findings\n",
                thousands(rep.rejects),
                rep.findings.len()
            )?;
            for (i, f) in rep.findings.iter().enumerate() {
                writeln!(
                    out,
                    "{}. [{}, {} confidence] {}",
                    i + 1,
                    f.kind,
                    f.confidence,
                    f.summary
                )?;
                for e in &f.evidence {
                    writeln!(out, "     {e}")?;
                }
                writeln!(out)?;
            }
        }
    }
    out.flush()?;
    Ok(report::exit_code(&scan))
}
