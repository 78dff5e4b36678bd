//! `flowscan export`: Parquet for engines that scan at scale.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use flowscan::export::{self, Codec, ExportOptions, Exporter};
use flowscan::render::{human_bytes, thousands};
use flowscan::Scanner;

use crate::args::{CodecArg, ExportArgs, SummaryFormat};
use crate::{config, progress, report, Exit};

/// Runs the command.
pub fn run(args: ExportArgs) -> Result<Exit> {
    let inputs = config::inputs(&args.input)?;
    let opts = config::scan_options(&args.input, &args.filter)?;
    let pool = config::pool(args.input.threads)?;
    let found = config::discover(&inputs, &args.filter, &opts.filter);
    let eopts = ExportOptions {
        out: args.out.clone(),
        partition: super::athena::partition(args.partition),
        codec: match args.compression {
            CodecArg::Snappy => Codec::Snappy,
            CodecArg::Zstd => Codec::Zstd,
            CodecArg::Gzip => Codec::Gzip,
            CodecArg::None => Codec::Uncompressed,
        },
        target_file_bytes: args.target_size,
        row_group_rows: args.row_group_rows,
        overwrite: args.overwrite,
    };
    let layouts = pool.install(|| export::plan(&found, opts.fields.as_ref()));
    let exporter = pool.install(|| Exporter::create(eopts, layouts))?;
    let bar = progress::Bar::new(
        report::total_size(&found),
        found.sources.len() as u64,
        args.input.quiet,
    );
    // Ctrl-C stops the scan, then the export removes its unfinished files.
    static INTERRUPTED: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
    let mut scanner = Scanner::new(opts).with_cancel(&INTERRUPTED);
    if let Some(b) = &bar {
        scanner = scanner.with_progress(b);
    }
    let result = pool.install(|| scanner.run(&found, || exporter.sink()));
    if let Some(b) = &bar {
        b.finish();
    }
    let (sink, scan) = result?;
    if INTERRUPTED.load(Ordering::Relaxed) {
        let e = pool.install(|| exporter.interrupt(sink));
        say!("flowscan: export to {}: {e}", args.out.display());
        return Ok(Exit::Interrupted);
    }
    let summary = pool.install(|| exporter.finish(sink, &args.location))?;
    report::warnings(&scan);

    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => {
            let doc = serde_json::json!({ "export": summary, "scan": flowscan::render::scan_json_value(&scan) });
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        SummaryFormat::Table => {
            let secs = scan.elapsed.as_secs_f64().max(1e-9);
            let rows = summary.vpc_rows + summary.tgw_rows;
            writeln!(out, "Exported to {}", args.out.display())?;
            writeln!(
                out,
                "  rows       {} ({} VPC, {} Transit Gateway); {} malformed lines not exported",
                thousands(rows),
                thousands(summary.vpc_rows),
                thousands(summary.tgw_rows),
                thousands(scan.totals.malformed)
            )?;
            writeln!(
                out,
                "  files      {} Parquet files, {} in {} partitions",
                thousands(summary.files.len() as u64),
                human_bytes(summary.bytes),
                thousands(summary.partitions as u64)
            )?;
            writeln!(
                out,
                "  read       {} files, {} on disk, {} of text",
                thousands(scan.files.len() as u64),
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
            if summary.dropped_values > 0 {
                writeln!(
                    out,
                    "  warning    {} values of fields named only in mid-file headers were not exported",
                    thousands(summary.dropped_values)
                )?;
            }
            for name in ["_athena_vpc_flow_logs.sql", "_athena_tgw_flow_logs.sql"] {
                let p = args.out.join(name);
                if p.exists() {
                    writeln!(out, "  athena     {}", p.display())?;
                }
            }
        }
    }
    out.flush()?;
    Ok(report::exit_code(&scan))
}
