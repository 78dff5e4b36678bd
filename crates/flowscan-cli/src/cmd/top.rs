//! `flowscan top`: top groups by any fields.

use std::io::{self, BufWriter, Write};

use anyhow::{bail, Context, Result};
use flowscan::aggregate::top::{KeyPart, Measure, Top, TopConfig};
use flowscan::render;
use flowscan::{Field, Scanner, Schema};

use crate::args::{OutputFormat, TopArgs};
use crate::{config, progress, report, Exit};

fn field(name: &str, flag: &str) -> Result<Field> {
    Schema::known_name(name.as_bytes())
        .with_context(|| format!("bad --{flag}: `{name}` is not a flow log field"))
}

/// Runs the command.
pub fn run(args: TopArgs) -> Result<Exit> {
    let by = args
        .by
        .iter()
        .map(|p| KeyPart::parse(p).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()
        .context("bad --by")?;
    let measure = match (&args.sum, &args.distinct) {
        (Some(f), _) => {
            let f = field(f, "sum")?;
            if !matches!(
                f.kind(),
                flowscan::schema::Kind::Int32 | flowscan::schema::Kind::Int64
            ) {
                bail!("bad --sum: `{f}` is not a number field");
            }
            Measure::Sum(f)
        }
        (None, Some(f)) => Measure::Distinct(field(f, "distinct")?),
        (None, None) => Measure::Count,
    };
    let inputs = config::inputs(&args.input)?;
    let opts = config::scan_options(&args.input, &args.filter)?;
    let pool = config::pool(args.input.threads)?;
    let found = config::discover(&inputs, &args.filter, &opts.filter);
    let cfg = TopConfig { by, measure };
    let bar = progress::Bar::new(
        report::total_size(&found),
        found.sources.len() as u64,
        args.input.quiet,
    );
    let mut scanner = Scanner::new(opts);
    if let Some(b) = &bar {
        scanner = scanner.with_progress(b);
    }
    let result = pool.install(|| scanner.run(&found, || Top::new(cfg.clone())));
    if let Some(b) = &bar {
        b.finish();
    }
    let (mut agg, scan) = result?;
    let rep = agg.report(args.top);
    report::warnings(&scan);
    let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
    match args.format {
        OutputFormat::Table => render::top_table(&mut out, &rep, &scan)?,
        OutputFormat::Json => render::top_json(&mut out, &rep, &scan)?,
        OutputFormat::Csv => render::top_csv(&mut out, &rep)?,
    }
    out.flush()?;
    if args.format != OutputFormat::Table && !args.input.quiet {
        report::brief(&scan);
    }
    Ok(report::exit_code(&scan))
}
