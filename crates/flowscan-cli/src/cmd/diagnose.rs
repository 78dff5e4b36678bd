//! `flowscan diagnose`: likely causes of the REJECTs.

use std::io::{self, Write};

use anyhow::Result;
use flowscan::aggregate::diagnose::Diagnose;
use flowscan::render::thousands;
use flowscan::Scanner;

use crate::args::{DiagnoseArgs, SummaryFormat};
use crate::{config, report, Exit};

/// Runs the command.
pub fn run(args: DiagnoseArgs) -> Result<Exit> {
    let inputs = config::inputs(&args.input)?;
    let opts = config::scan_options(&args.input, &args.filter)?;
    let pool = config::pool(args.input.threads)?;
    let found = config::discover(&inputs, &args.filter, &opts.filter);
    let scanner = Scanner::new(opts);
    let (mut agg, scan) = pool.install(|| scanner.run(&found, Diagnose::new))?;
    let rep = agg.report();
    report::warnings(&scan);
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
