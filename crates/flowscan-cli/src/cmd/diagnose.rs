//! `flowscan diagnose`: likely causes of the REJECTs.

use std::io::{self, Write};

use anyhow::Result;
use flowscan::aggregate::diagnose::{Diagnose, DiagnoseConfig};
use flowscan::render;
use flowscan::MemoryBudget;

use crate::args::{DiagnoseArgs, SummaryFormat};
use crate::{config, report, Exit};

/// Runs the command.
pub fn run(args: DiagnoseArgs) -> Result<Exit> {
    let setup = config::setup(&args.input, &args.filter)?;
    // One budget for the tables of every thread.
    let dcfg = DiagnoseConfig {
        memory: Some(MemoryBudget::new(super::budget_bytes(args.max_memory))),
    };
    let (mut agg, scan) = super::scan(&setup, || Diagnose::with_config(dcfg.clone()))?;
    let rep = agg.report();
    if let Some(a) = &rep.approximate {
        say!(
            "flowscan: {} (--max-memory)",
            render::diagnose_approximation_note(a)
        );
    }
    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => render::diagnose_json(&mut out, &rep, &scan)?,
        SummaryFormat::Table => render::diagnose_table(&mut out, &rep)?,
    }
    out.flush()?;
    Ok(report::exit_code(&scan))
}
