//! The one place that sees both clap's flags and the library's configuration.

use std::io::IsTerminal;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use flowscan::parse::canonical_net;
use flowscan::{Discovery, Filter, Input, InputFormat, S3Access, Scanner, Schema};

use crate::args::{FilterArgs, InputArgs, InputFormatArg};
use crate::{progress, report};

/// Inputs as the library takes them. With no path, standard input is read when it
/// is not a terminal.
pub fn inputs(args: &InputArgs) -> Result<Vec<Input>> {
    if args.paths.is_empty() {
        if std::io::stdin().is_terminal() {
            bail!("no input: give files or directories, or `-` for standard input");
        }
        return Ok(vec![Input::Stdin]);
    }
    // By the OS name: a name that is not UTF-8 still opens.
    Ok(args.paths.iter().map(Input::from_arg).collect())
}

/// Whether a time was written without a zone (and is therefore taken as UTC).
fn zoneless(t: &str) -> bool {
    let t = t.trim();
    chrono::DateTime::parse_from_rfc3339(t).is_err()
        && t.len() >= 10
        && t.as_bytes()[4] == b'-'
        && !t.ends_with(['Z', 'z'])
}

/// The filter the flags describe; a time without a zone is echoed back as
/// the UTC time it was read as (unless `quiet`).
pub fn filter(args: &FilterArgs, quiet: bool) -> Result<Filter> {
    let now = std::time::SystemTime::now();
    let time = |flag: &str, v: &Option<String>| -> Result<Option<u64>> {
        let t = v
            .as_deref()
            .map(|s| flowscan::parse::parse_time(s, now))
            .transpose()
            .map_err(anyhow::Error::msg)
            .with_context(|| crate::bad(flag))?;
        if let (Some(secs), Some(text)) = (t, v.as_deref()) {
            if zoneless(text) && !quiet {
                say!(
                    "flowscan: note: --{flag} {text} has no time zone: read as {} (UTC)",
                    flowscan::display::format_time(secs)
                );
            }
        }
        Ok(t)
    };
    let f = Filter {
        since: time("since", &args.since)?,
        until: time("until", &args.until)?,
        enis: args.eni.clone(),
        ports: args.port.clone(),
        src_cidrs: args.src_cidr.iter().map(|&n| canonical_net(n)).collect(),
        dst_cidrs: args.dst_cidr.iter().map(|&n| canonical_net(n)).collect(),
        accounts: args.account.clone(),
        vpcs: args.vpc.clone(),
        subnets: args.subnet.clone(),
        regions: args.region.clone(),
        query: args
            .query
            .as_deref()
            .map(flowscan::query::Query::parse)
            .transpose()
            .context(crate::bad("where"))?,
    };
    if let (Some(s), Some(u)) = (f.since, f.until) {
        if s >= u {
            bail!(crate::BadArg(
                "bad --since: it must be before --until".into()
            ));
        }
    }
    Ok(f)
}

/// Everything a command needs to scan: the inputs found, the scanner, the
/// progress bar.
pub struct Setup {
    pub found: Discovery,
    pub scanner: Scanner,
    pub bar: Option<Arc<progress::Bar>>,
    pub fields: Option<Schema>,
}

impl Setup {
    /// Removes the progress bar from the terminal.
    pub fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// Reads the input and filter flags: finds the files (skipping by name those
/// the filter rules out, unless `--no-prune`) and builds the scanner.
pub fn setup(input: &InputArgs, filter_args: &FilterArgs) -> Result<Setup> {
    setup_with(input, filter_args, None, |_| {})
}

/// [`setup`], with a cancel flag and a change to the filter the flags describe.
pub fn setup_with(
    input: &InputArgs,
    filter_args: &FilterArgs,
    cancel: Option<Arc<AtomicBool>>,
    amend: impl FnOnce(&mut Filter),
) -> Result<Setup> {
    let inputs = inputs(input)?;
    let mut filter = filter(filter_args, input.quiet)?;
    amend(&mut filter);
    let fields = input
        .fields
        .as_deref()
        .map(Schema::parse)
        .transpose()
        .context(crate::bad("fields"))?;
    let prune = if filter_args.no_prune {
        flowscan::Prune::default()
    } else {
        filter.prune()
    };
    let found = flowscan::discover_with(&inputs, &prune, &S3Access::new(input.no_sign_request));
    let bar = progress::Bar::new(
        report::total_size(&found),
        found.sources.len() as u64,
        input.quiet,
    )
    .map(Arc::new);
    let mut b = Scanner::builder().filter(filter).strict(input.strict);
    if let Some(n) = input.threads {
        b = b.threads(n);
    }
    if let Some(f) = &fields {
        b = b.fields(f.clone());
    }
    if let Some(m) = input.max_inflate {
        b = b.max_inflate(m);
    }
    if let Some(f) = input.input_format {
        b = b.input_format(match f {
            InputFormatArg::Text => InputFormat::Text,
            InputFormatArg::CloudwatchJson => InputFormat::CloudwatchJson,
            InputFormatArg::Csv => InputFormat::Csv,
            InputFormatArg::Parquet => InputFormat::Parquet,
        });
    }
    if let Some(n) = input.split_min {
        b = b.split_min(n);
    }
    if let Some(n) = input.block_size {
        b = b.block_size(n);
    }
    if let Some(bar) = &bar {
        b = b.progress(bar.clone());
    }
    if let Some(c) = cancel {
        b = b.cancel(c);
    }
    Ok(Setup {
        found,
        scanner: b.build()?,
        bar,
        fields,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_without_a_zone_are_told_apart() {
        for t in ["2026-11-24T10:00", "2026-11-24", "2026-11-24 10:00:00"] {
            assert!(super::zoneless(t), "{t}");
        }
        for t in [
            "2026-11-24T10:00:00Z",
            "2026-11-24T10:00Z",
            "2026-11-24T10:00:00+02:00",
            "2h",
            "1795514400",
        ] {
            assert!(!super::zoneless(t), "{t}");
        }
    }
}
