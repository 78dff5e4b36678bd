//! `flowscan filter`: print the records a query matches, in input order.
//!
//! Blocks are read on every thread; the library's record writer renders each
//! block's matching records into a part, and parts are written in input
//! order.

use std::io::{self, BufWriter};

use anyhow::Result;
use flowscan::export::{self, ExportOptions};
use flowscan::render::{RecordFormat, RecordWriter};
use flowscan::schema::Field;

use crate::args::FilterFormat;
use crate::{config, report, Exit};

/// Runs the command.
pub fn run(args: crate::args::FilterCmdArgs) -> Result<Exit> {
    let parquet_out = args.format == FilterFormat::Parquet;
    if args.out.is_some() && !parquet_out {
        anyhow::bail!(crate::BadArg(
            "--out is for --format parquet: text, CSV and JSON lines go to standard output (redirect it to a file)".into()
        ));
    }
    let export_flag = if args.overwrite {
        Some("--overwrite")
    } else {
        args.defaults.given()
    };
    if let Some(flag) = export_flag.filter(|_| !parquet_out) {
        anyhow::bail!(crate::BadArg(format!("{flag} is for --format parquet")));
    }
    if parquet_out && args.out.is_none() {
        anyhow::bail!(crate::BadArg("--format parquet needs --out DIR".into()));
    }
    let setup = config::setup(&args.input, &args.filter)?;
    let format = match args.format {
        FilterFormat::Text => RecordFormat::Text,
        FilterFormat::Csv => RecordFormat::Csv,
        FilterFormat::Jsonl => RecordFormat::Jsonl,
        FilterFormat::Parquet => return parquet(&args, &setup),
    };
    // Only CSV has columns: text and JSON lines follow each record's own
    // format, so nothing is read ahead for them.
    let mut columns = Vec::new();
    if format == RecordFormat::Csv {
        let layouts = setup
            .scanner
            .install(|| export::plan(&setup.found, setup.fields.as_ref()));
        columns = RecordWriter::columns_of(&layouts);
        if setup.found.sources.iter().any(|s| !export::plannable(s)) {
            // A header that cannot be read ahead (standard input, a pipe, S3)
            // is not in the plan: every field AWS defines gets a column, so
            // that CSV loses none of its values.
            for f in Field::ALL {
                if !columns.iter().any(|c| c == f.name()) {
                    columns.push(f.name().into());
                }
            }
        }
    }
    let writer = RecordWriter::new(format, columns);
    let mut out = writer.output(BufWriter::with_capacity(1 << 16, io::stdout().lock()))?;
    let result = setup
        .scanner
        .ordered(&setup.found, &writer, |p| out.commit(p));
    setup.done();
    let scan = match result {
        Ok(scan) => scan,
        Err(flowscan::Error::Sink(e)) => match e.downcast::<io::Error>() {
            Ok(e) => return Err((*e).into()),
            Err(e) => return Err(anyhow::anyhow!(e)),
        },
        Err(e) => return Err(e.into()),
    };
    out.flush()?;
    report::warnings(&scan);
    if scan.read_nothing() {
        report::nothing_read(&scan);
    }
    if out.unshown() > 0 {
        say!(
            "flowscan: warning: {} of fields named only in headers in the middle of an input are not in the CSV (its header row came first); --format jsonl shows them",
            super::plural(out.unshown(), "value", "values")
        );
    }
    if !args.input.quiet {
        report::brief(&scan);
    }
    Ok(report::exit_code(&scan))
}

/// `--format parquet`: the matching records exported to `--out`.
fn parquet(args: &crate::args::FilterCmdArgs, setup: &config::Setup) -> Result<Exit> {
    let Some(out) = &args.out else {
        anyhow::bail!(crate::BadArg("--format parquet needs --out DIR".into()));
    };
    let mut opts = ExportOptions::new(out);
    opts.overwrite = args.overwrite;
    args.defaults.apply(&mut opts);
    let done = super::export::export(
        setup,
        opts,
        "s3://amzn-s3-demo-bucket/flowlogs/",
        &super::export::input_paths(&args.input),
    )?;
    if let Some(exit) = super::export::unexported(&done, out) {
        return Ok(exit);
    }
    let Some(summary) = done.summary else {
        return Ok(Exit::Interrupted);
    };
    report::warnings(&done.scan);
    super::export::fallback_warning(&summary, out);
    if !args.input.quiet {
        say!(
            "flowscan: {} written to {} ({})",
            super::plural(
                summary.vpc_rows + summary.tgw_rows,
                "matching record",
                "matching records"
            ),
            flowscan::display::path_text(out),
            super::plural(summary.files.len() as u64, "file", "files")
        );
    }
    Ok(report::exit_code(&done.scan))
}
