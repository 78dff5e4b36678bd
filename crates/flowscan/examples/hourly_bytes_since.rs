//! A custom aggregate with a time filter: bytes per hour of the records that
//! start in a window, REJECT and ACCEPT apart.
//!
//! cargo run -p flowscan --example hourly_bytes_since -- testdata/sample 2026-11-24T10:00:00Z

use std::collections::BTreeMap;

use flowscan::{
    Aggregate, Field, FieldSet, Filter, FlowRecord, Input, Position, Scanner, Sink, SinkError,
};

#[derive(Default)]
struct Hourly(BTreeMap<(u64, String), u64>);

impl Sink for Hourly {
    fn needs(&self) -> FieldSet {
        FieldSet::of(&[Field::Start, Field::Bytes, Field::Action])
    }

    fn reads(&self) -> FieldSet {
        self.needs()
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _: &Position<'_>) -> Result<(), SinkError> {
        let (Some(start), Some(bytes)) = (r.int(Field::Start)?, r.int(Field::Bytes)?) else {
            return Ok(());
        };
        let action = String::from_utf8_lossy(r.text(Field::Action).unwrap_or(b"-")).into_owned();
        *self.0.entry((start - start % 3600, action)).or_default() += bytes;
        Ok(())
    }
}

impl Aggregate for Hourly {
    fn merge(&mut self, other: Self) {
        for (k, v) in other.0 {
            *self.0.entry(k).or_default() += v;
        }
    }
}

// Every step fails with the crate's one error type, so `?` needs no boxing.
fn main() -> flowscan::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "testdata/sample".into());
    let since = args.next().unwrap_or_else(|| "2026-11-24T10:00:00Z".into());
    let filter = Filter {
        since: Some(flowscan::parse::parse_time(
            &since,
            std::time::SystemTime::now(),
        )?),
        ..Filter::default()
    };
    let found = flowscan::discover_pruned(&[Input::Path(dir.into())], &filter.prune());
    let scanner = Scanner::builder().filter(filter).build()?;
    let (hourly, report) = scanner.aggregate(&found, Hourly::default)?;
    for ((hour, action), bytes) in &hourly.0 {
        println!(
            "{} {action:7} {bytes:>12}",
            flowscan::display::format_time(*hour)
        );
    }
    println!(
        "{} records matched of {}",
        report.totals.matched, report.totals.records
    );
    Ok(())
}
