//! `flowscan export`: Parquet for engines that scan at scale.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use flowscan::display::path_text;
use flowscan::export::{self, Codec, ExportError, ExportOptions, ExportSummary};
use flowscan::render::{self, thousands};
use flowscan::ScanReport;

use crate::args::{CodecArg, ExportArgs, SummaryFormat};
use crate::config::{self, Setup};
use crate::{report, Exit};

/// The location written into the table definition when none is given.
const PLACEHOLDER: &str = "s3://amzn-s3-demo-bucket/flowlogs/";

/// Stops the scan on Ctrl-C, SIGTERM or SIGHUP (the export then removes its
/// unfinished files), and turns a file-size limit (`ulimit -f`) into a write
/// error instead of a kill.
fn on_signals() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let _ = ctrlc::set_handler(move || f.store(true, Ordering::Relaxed));
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to "ignore" has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    flag
}

/// The input paths an output folder must not overlap.
pub fn input_paths(args: &crate::args::InputArgs) -> Vec<PathBuf> {
    args.paths
        .iter()
        .filter_map(|p| match flowscan::Input::from_arg(p) {
            flowscan::Input::Path(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// Adds the flag that resolves an export error, where there is one; a bad
/// default account or region is a bad flag value (exit 2), found before
/// anything is written.
pub fn explain(e: ExportError) -> anyhow::Error {
    match &e {
        ExportError::Exists(_) => {
            anyhow::Error::new(e).context("use --overwrite to replace a previous flowscan export")
        }
        ExportError::Default(why) => crate::BadArg(why.clone()).into(),
        _ => anyhow::Error::new(e),
    }
}

/// What an export did (no summary when it was interrupted, or read nothing).
pub struct Done {
    pub summary: Option<ExportSummary>,
    pub scan: ScanReport,
}

/// Exports what `setup` finds with `opts`; shared with `filter --format parquet`.
pub fn export(
    setup: &Setup,
    opts: ExportOptions,
    location: &str,
    inputs: &[PathBuf],
) -> Result<Done> {
    let layouts = setup
        .scanner
        .install(|| export::plan(&setup.found, setup.fields.as_ref()));
    let out = opts.out.clone();
    let (encoder, mut exporter) = export::start(opts, layouts, inputs).map_err(explain)?;
    let result = setup
        .scanner
        .ordered(&setup.found, &encoder, |part| exporter.commit(part));
    setup.done();
    let scan = match result {
        Ok(scan) => scan,
        Err(flowscan::Error::Sink(e)) => {
            let e = match e.downcast::<ExportError>() {
                Ok(e) => exporter.fail(*e),
                Err(other) => return Err(anyhow::anyhow!(other)),
            };
            return Err(explain(e));
        }
        Err(e) => {
            let _ = exporter.interrupt();
            return Err(e.into());
        }
    };
    if scan.interrupted {
        let e = exporter.interrupt();
        say!("flowscan: export to {}: {e}", path_text(&out));
        return Ok(Done {
            summary: None,
            scan,
        });
    }
    if scan.read_nothing() {
        // Nothing to export: a previous export in the folder stays whole
        // (it used to be deleted first, and the empty run marked complete).
        exporter.abandon().map_err(explain)?;
        return Ok(Done {
            summary: None,
            scan,
        });
    }
    let summary = exporter
        .finish(location, scan.totals.matched)
        .map_err(explain)?;
    Ok(Done {
        summary: Some(summary),
        scan,
    })
}

/// Runs the command.
pub fn run(args: ExportArgs) -> Result<Exit> {
    // Any s3:// destination, even one without a bucket, is refused here.
    if args.out.to_string_lossy().starts_with("s3://") {
        anyhow::bail!(crate::BadArg(
            "--out must be a local folder: flowscan writes the export there (atomically, with its \
             manifest), then `aws s3 sync OUT s3://bucket/prefix/` uploads it"
                .into()
        ));
    }
    let cancel = on_signals();
    let location = match &args.location {
        Some(l) => {
            flowscan::export::athena::check_location(l)
                .map_err(anyhow::Error::msg)
                .context(crate::bad("location"))?;
            l.clone()
        }
        None => PLACEHOLDER.to_string(),
    };
    let setup = config::setup_with(&args.input, &args.filter, Some(cancel), |_| {})?;
    let mut eopts = ExportOptions::new(&args.out);
    eopts.partition = super::athena::partition(args.partition);
    eopts.codec = match args.compression {
        CodecArg::Snappy => Codec::Snappy,
        CodecArg::Zstd => Codec::Zstd,
        CodecArg::Gzip => Codec::Gzip,
        CodecArg::None => Codec::Uncompressed,
    };
    eopts.target_file_bytes = args.target_size;
    eopts.row_group_rows = args.row_group_rows;
    eopts.overwrite = args.overwrite;
    args.defaults.apply(&mut eopts);
    let done = export(&setup, eopts, &location, &input_paths(&args.input))?;
    if let Some(exit) = unexported(&done, &args.out) {
        return Ok(exit);
    }
    let (Some(summary), scan) = (done.summary, done.scan) else {
        return Ok(Exit::Interrupted);
    };
    report::warnings(&scan);
    fallback_warning(&summary, &args.out);
    if args.location.is_none() && !args.input.quiet {
        say!(
            "flowscan: note: no --location given: the Athena table points at {PLACEHOLDER}; \
             give --location s3://your-bucket/prefix/ (or run flowscan athena-ddl later)"
        );
    }
    print_summary(&args, &summary, &scan)?;
    Ok(report::exit_code(&scan))
}

/// The exit of an export that read nothing (and so wrote nothing), with
/// its messages; `None` for any other.
pub fn unexported(done: &Done, out: &std::path::Path) -> Option<Exit> {
    if done.summary.is_some() || !done.scan.read_nothing() {
        return None;
    }
    report::warnings(&done.scan);
    report::nothing_read(&done.scan);
    say!(
        "flowscan: nothing was exported; {} was left as it was",
        path_text(out)
    );
    Some(report::exit_code(&done.scan))
}

/// Rows in fallback partitions are a warning, shown even with `-q`.
pub fn fallback_warning(s: &ExportSummary, out: &std::path::Path) {
    let f = &s.fallbacks;
    if !f.any() {
        return;
    }
    let mut why = Vec::new();
    if f.account > 0 {
        why.push(format!(
            "{} without an account id (--default-account ID)",
            thousands(f.account)
        ));
    }
    if f.region > 0 {
        why.push(format!(
            "{} without a region (--default-region NAME)",
            thousands(f.region)
        ));
    }
    if f.time > 0 {
        why.push(format!(
            "{} without a usable start or end time (they go to year=2015/month=01/day=01)",
            thousands(f.time)
        ));
    }
    say!(
        "flowscan: warning: rows written to fallback partitions: {}",
        why.join("; ")
    );
    for p in s.fallback_partitions.iter().take(5) {
        say!("  {}", path_text(&out.join(p)));
    }
}

/// The `athena-ddl` commands that write the export's table definitions
/// again, one per table: its partitioning and columns included (without
/// them the command gave an hourly table of every field, which reads
/// nothing from a daily layout).
fn regenerate(location: &str, s: &ExportSummary) -> String {
    let partition = match s.partition {
        flowscan::export::Partition::Hour => "",
        flowscan::export::Partition::Day => " --partition day",
        flowscan::export::Partition::None => " --partition none",
    };
    let base = location.trim_end_matches('/');
    let tgw_root = flowscan::export::Dataset::TransitGateway.root();
    [
        (&s.vpc_fields, format!("{base}/"), ""),
        (&s.tgw_fields, format!("{base}/{tgw_root}/"), " --tgw"),
    ]
    .into_iter()
    .filter(|(fields, _, _)| !fields.is_empty())
    .map(|(fields, loc, tgw)| {
        format!(
            "flowscan athena-ddl --location {loc}{tgw} --account {} --region {}{partition} --fields '{}'",
            s.accounts.join(","),
            s.regions.join(","),
            fields.join(" ")
        )
    })
    .collect::<Vec<_>>()
    .join("\n             ")
}

fn print_summary(args: &ExportArgs, summary: &ExportSummary, scan: &ScanReport) -> Result<()> {
    let mut out = io::stdout().lock();
    match args.format {
        SummaryFormat::Json => render::export_json(&mut out, summary, scan)?,
        SummaryFormat::Table => {
            let regenerate = regenerate(args.location.as_deref().unwrap_or(PLACEHOLDER), summary);
            render::export_table(&mut out, &args.out, summary, scan, Some(&regenerate))?
        }
    }
    out.flush()?;
    Ok(())
}
