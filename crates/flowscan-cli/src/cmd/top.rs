//! `flowscan top`: top groups by any fields.

use anyhow::{bail, Context, Result};
use flowscan::aggregate::top::{KeyPart, Measure, Top, TopConfig};
use flowscan::render;
use flowscan::{Field, MemoryBudget, Schema};

use crate::args::{OutputFormat, TopArgs};
use crate::{config, Exit};

fn field(name: &str, flag: &str) -> Result<Field> {
    Schema::known_name(name.as_bytes())
        .with_context(|| crate::BadArg(format!("bad --{flag}: `{name}` is not a flow log field")))
}

/// Runs the command.
pub fn run(args: TopArgs) -> Result<Exit> {
    let by = args
        .by
        .iter()
        .map(|p| KeyPart::parse(p).map_err(anyhow::Error::msg))
        .collect::<Result<Vec<_>>>()
        .context(crate::bad("by"))?;
    let measure = match (&args.sum, &args.distinct) {
        (Some(f), _) => {
            let f = field(f, "sum")?;
            if !matches!(
                f.kind(),
                flowscan::schema::Kind::Int32 | flowscan::schema::Kind::Int64
            ) {
                bail!(crate::BadArg(format!(
                    "bad --sum: `{f}` is not a number field"
                )));
            }
            Measure::Sum(f)
        }
        (None, Some(f)) => Measure::Distinct(field(f, "distinct")?),
        (None, None) => Measure::Count,
    };
    let setup = config::setup(&args.input, &args.filter)?;
    // One budget for the groups of every thread.
    let cfg = TopConfig {
        by,
        measure,
        memory: Some(MemoryBudget::new(super::budget_bytes(args.max_memory))),
    };
    let (mut agg, scan) = super::scan(&setup, || Top::new(cfg.clone()))?;
    let rep = agg.report(args.top);
    if let Some(a) = &rep.approximate {
        say!(
            "flowscan: {} (--max-memory)",
            render::top_approximation_note(a)
        );
    }
    if rep.saturated {
        say!("flowscan: warning: {}", flowscan::render::SATURATED);
    }
    super::emit(
        args.format == OutputFormat::Table,
        args.input.quiet,
        &scan,
        |out| match args.format {
            OutputFormat::Table => render::top_table(out, &rep, &scan),
            OutputFormat::Json => render::top_json(out, &rep, &scan),
            OutputFormat::Csv => render::top_csv(out, &rep),
        },
    )
}
