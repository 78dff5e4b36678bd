//! REJECT records per (interface, destination port) in a folder of flow logs,
//! with an aggregate of our own: one per worker thread, merged at the end.
//!
//! cargo run -p flowscan --example rejects_by_interface_port -- testdata/sample

use std::collections::HashMap;

use flowscan::{Aggregate, Field, FieldSet, FlowRecord, Input, Position, Scanner, Sink, SinkError};

/// REJECT records per (interface, port).
#[derive(Default)]
struct PerInterfacePort(HashMap<(String, u16), u64>);

impl Sink for PerInterfacePort {
    fn needs(&self) -> FieldSet {
        // A file without these fields is skipped and named, not counted as zeros.
        FieldSet::of(&[Field::Action, Field::InterfaceId, Field::DstPort])
    }

    fn reads(&self) -> FieldSet {
        self.needs()
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _: &Position<'_>) -> Result<(), SinkError> {
        if r.text(Field::Action) != Some(b"REJECT") {
            return Ok(());
        }
        let eni = String::from_utf8_lossy(r.text(Field::InterfaceId).unwrap_or(b"-")).into_owned();
        let port = r.int(Field::DstPort)?.unwrap_or(0) as u16;
        *self.0.entry((eni, port)).or_default() += 1;
        Ok(())
    }
}

impl Aggregate for PerInterfacePort {
    fn merge(&mut self, other: Self) {
        for (k, n) in other.0 {
            *self.0.entry(k).or_default() += n;
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "testdata/sample".into());
    let found = flowscan::discover(&[Input::Path(dir.into())]);
    let scanner = Scanner::builder().build()?;
    let (agg, report) = scanner.aggregate(&found, PerInterfacePort::default)?;
    let mut rows: Vec<_> = agg.0.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for ((eni, port), n) in rows.iter().take(10) {
        println!("{eni:24} {port:>5} {n:>8}");
    }
    println!(
        "{} records in {} files",
        report.totals.records,
        report.files.len()
    );
    Ok(())
}
