//! The one place that sees both clap's flags and the library's configuration.

use std::io::IsTerminal;

use anyhow::{bail, Context, Result};
use flowscan::{Filter, Input, ScanOptions, Schema};

use crate::args::{FilterArgs, InputArgs, InputFormatArg};
use flowscan::scan::InputFormat;

/// Inputs as the library takes them. With no path, standard input is read when it
/// is not a terminal.
pub fn inputs(args: &InputArgs) -> Result<Vec<Input>> {
    if args.paths.is_empty() {
        if std::io::stdin().is_terminal() {
            bail!("no input: give files or directories, or `-` for standard input");
        }
        return Ok(vec![Input::Stdin]);
    }
    Ok(args
        .paths
        .iter()
        .map(|p| Input::from_arg(&p.to_string_lossy()))
        .collect())
}

/// The filter the flags describe.
pub fn filter(args: &FilterArgs) -> Result<Filter> {
    let now = chrono::Utc::now();
    let time = |flag: &str, v: &Option<String>| -> Result<Option<u64>> {
        v.as_deref()
            .map(|s| flowscan::parse::parse_time(s, now))
            .transpose()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("bad --{flag}"))
    };
    let f = Filter {
        since: time("since", &args.since)?,
        until: time("until", &args.until)?,
        enis: args.eni.clone(),
        ports: args.port.clone(),
        src_cidrs: args.src_cidr.clone(),
        dst_cidrs: args.dst_cidr.clone(),
        accounts: args.account.clone(),
        vpcs: args.vpc.clone(),
        subnets: args.subnet.clone(),
        regions: args.region.clone(),
        query: args
            .query
            .as_deref()
            .map(flowscan::query::Query::parse)
            .transpose()
            .context("bad --where")?,
    };
    if let (Some(s), Some(u)) = (f.since, f.until) {
        if s >= u {
            bail!("--since must be before --until");
        }
    }
    Ok(f)
}

/// Scan options from the input and filter flags.
pub fn scan_options(input: &InputArgs, filter_args: &FilterArgs) -> Result<ScanOptions> {
    let fields = input
        .fields
        .as_deref()
        .map(Schema::parse)
        .transpose()
        .context("bad --fields")?;
    Ok(ScanOptions {
        fields,
        filter: filter(filter_args)?,
        strict: input.strict,
        samples: 0,
        pipeline_min: input.pipeline_min,
        max_inflate: input.max_inflate,
        input_format: input.input_format.map(|f| match f {
            InputFormatArg::Text => InputFormat::Text,
            InputFormatArg::CloudwatchJson => InputFormat::CloudwatchJson,
            InputFormatArg::Csv => InputFormat::Csv,
            InputFormatArg::Parquet => InputFormat::Parquet,
        }),
    })
}

/// Finds the input files, skipping by name those the filter rules out unless
/// `--no-prune`.
pub fn discover(
    inputs: &[Input],
    filter_args: &FilterArgs,
    filter: &Filter,
) -> flowscan::Discovery {
    if filter_args.no_prune {
        flowscan::discover(inputs)
    } else {
        flowscan::discover_pruned(inputs, &filter.prune())
    }
}

/// A rayon pool of the requested size (all cores by default).
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            bail!("--threads must be at least 1");
        }
        b = b.num_threads(n);
    }
    b.build().context("cannot start worker threads")
}
