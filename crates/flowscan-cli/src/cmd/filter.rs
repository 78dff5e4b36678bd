//! `flowscan filter`: print the records a query matches, in input order.
//!
//! Blocks are read on every thread; each block's matching records are
//! rendered into a part, and parts are written in input order.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use anyhow::Result;
use flowscan::export::{self, ExportOptions};

use flowscan::record::Value;
use flowscan::schema::{Column, FieldSet, Kind, Schema};
use flowscan::{FileInfo, FlowRecord, OrderedSink, Position, Sink, SinkError, ValueError};

use crate::args::FilterFormat;
use crate::{config, report, Exit};

/// Renders matching records; one [`Part`] per block.
struct Printer {
    format: FilterFormat,
    /// CSV columns: the union of the inputs' first formats.
    columns: Arc<Vec<String>>,
}

/// One block's matching records, rendered.
struct Part {
    format: FilterFormat,
    columns: Arc<Vec<String>>,
    /// Text output: the header the first record needs, and the last one used.
    first_header: Option<String>,
    last_header: Option<String>,
    text: Vec<u8>,
    csv: csv::Writer<Vec<u8>>,
    map: Option<(u64, Vec<Option<usize>>)>,
    /// Values of fields the CSV header does not have (a mid-file header
    /// named them after the header row was written).
    unshown: u64,
}

impl OrderedSink for Printer {
    type Part = Part;

    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn part(&self, _: &FileInfo<'_>) -> Part {
        Part {
            format: self.format,
            columns: self.columns.clone(),
            first_header: None,
            last_header: None,
            text: Vec::new(),
            csv: csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new()),
            map: None,
            unshown: 0,
        }
    }
}

fn render(v: Value<'_>) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Int(i) => Some(i.to_string()),
        Value::Text(t) if t == b"-" => None,
        Value::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

impl Part {
    fn text_record<R: FlowRecord>(&mut self, r: &R) {
        let schema = r.schema();
        let header = schema.header_line();
        if self.last_header.as_deref() != Some(&header) {
            if self.last_header.is_some() {
                self.text.extend_from_slice(header.as_bytes());
                self.text.push(b'\n');
            } else {
                self.first_header = Some(header.clone());
            }
            self.last_header = Some(header);
        }
        for col in 0..schema.len() {
            if col > 0 {
                self.text.push(b' ');
            }
            match r.value(col) {
                Value::Text(t) => self.text.extend_from_slice(t),
                v => self
                    .text
                    .extend_from_slice(render(v).unwrap_or_else(|| "-".into()).as_bytes()),
            }
        }
        self.text.push(b'\n');
    }

    /// For each output column, the record's column that feeds it.
    fn columns_of(&mut self, schema: &Schema) -> Vec<Option<usize>> {
        if self.map.as_ref().is_none_or(|(id, _)| *id != schema.id()) {
            let cols = self
                .columns
                .iter()
                .map(|name| schema.columns().iter().position(|c| c.name() == name))
                .collect();
            self.map = Some((schema.id(), cols));
        }
        self.map.as_ref().expect("set above").1.clone()
    }

    fn csv_record<R: FlowRecord>(&mut self, r: &R) -> io::Result<()> {
        let cols = self.columns_of(r.schema());
        let shown = cols.iter().flatten().count();
        self.unshown += (r.schema().len() - shown) as u64;
        let row: Vec<String> = cols
            .iter()
            .map(|c| c.and_then(|c| render(r.value(c))).unwrap_or_default())
            .collect();
        self.csv.write_record(&row).map_err(io::Error::other)
    }

    fn json_record<R: FlowRecord>(&mut self, r: &R) -> Result<(), ValueError> {
        let schema = r.schema();
        let cols = self.columns_of(schema);
        let mut obj = serde_json::Map::new();
        let value = |c: usize| -> Result<serde_json::Value, ValueError> {
            Ok(match (r.value(c), &schema.columns()[c]) {
                (Value::Int(i), _) => serde_json::Value::from(i),
                (Value::Text(t), Column::Known(f))
                    if matches!(f.kind(), Kind::Int32 | Kind::Int64) && t != b"-" =>
                {
                    r.int(*f)?
                        .map_or(serde_json::Value::Null, serde_json::Value::from)
                }
                (v, _) => render(v).map_or(serde_json::Value::Null, serde_json::Value::from),
            })
        };
        for (name, c) in self.columns.iter().zip(&cols) {
            obj.insert(name.clone(), c.map_or(Ok(serde_json::Value::Null), value)?);
        }
        // Fields the planned columns lack (a header mid-input named them).
        for (c, col) in schema.columns().iter().enumerate() {
            if !cols.contains(&Some(c)) {
                obj.insert(col.name().to_string(), value(c)?);
            }
        }
        serde_json::to_writer(&mut self.text, &obj).expect("writing to a Vec");
        self.text.push(b'\n');
        Ok(())
    }
}

impl Sink for Part {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _: &Position<'_>) -> Result<(), SinkError> {
        match self.format {
            FilterFormat::Text => self.text_record(r),
            FilterFormat::Csv => self.csv_record(r).map_err(SinkError::stop)?,
            FilterFormat::Jsonl => self.json_record(r)?,
            FilterFormat::Parquet => unreachable!("parquet goes through the exporter"),
        }
        Ok(())
    }
}

/// Writes parts to standard output in order.
struct Out {
    w: BufWriter<io::StdoutLock<'static>>,
    last_header: Option<String>,
    unshown: u64,
}

impl Out {
    fn commit(&mut self, mut p: Part) -> io::Result<()> {
        if let Some(h) = p.first_header.take() {
            if self.last_header.as_ref() != Some(&h) {
                self.w.write_all(h.as_bytes())?;
                self.w.write_all(b"\n")?;
            }
        }
        if p.last_header.is_some() {
            self.last_header = p.last_header.take();
        }
        self.w.write_all(&p.text)?;
        let csv = p
            .csv
            .into_inner()
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.w.write_all(&csv)?;
        self.unshown += p.unshown;
        Ok(())
    }
}

/// Runs the command.
pub fn run(args: crate::args::FilterCmdArgs) -> Result<Exit> {
    let setup = config::setup(&args.input, &args.filter)?;
    if args.format == FilterFormat::Parquet {
        let Some(out) = &args.out else {
            anyhow::bail!("--format parquet needs --out DIR");
        };
        let done = super::export::export(
            &setup,
            ExportOptions::new(out),
            "s3://amzn-s3-demo-bucket/flowlogs/",
            &super::export::input_paths(&args.input),
        )?;
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
        return Ok(report::exit_code(&done.scan));
    }
    let layouts = setup
        .scanner
        .install(|| export::plan(&setup.found, setup.fields.as_ref()));
    let mut columns: Vec<String> = Vec::new();
    for c in layouts.iter().flat_map(|l| &l.columns) {
        let n = c.source.name().to_string();
        if !columns.contains(&n) {
            columns.push(n);
        }
    }
    let mut out = Out {
        w: BufWriter::with_capacity(1 << 16, io::stdout().lock()),
        last_header: None,
        unshown: 0,
    };
    if args.format == FilterFormat::Csv {
        let mut w = csv::Writer::from_writer(&mut out.w);
        w.write_record(&columns)?;
        w.flush()?;
    }
    let printer = Printer {
        format: args.format,
        columns: Arc::new(columns),
    };
    let result = setup
        .scanner
        .ordered(&setup.found, &printer, |p| out.commit(p));
    setup.done();
    let scan = match result {
        Ok(scan) => scan,
        Err(flowscan::Error::Sink(e)) => match e.downcast::<io::Error>() {
            Ok(e) => return Err((*e).into()),
            Err(e) => return Err(anyhow::anyhow!(e)),
        },
        Err(e) => return Err(e.into()),
    };
    out.w.flush()?;
    report::warnings(&scan);
    if scan.read_nothing() {
        report::nothing_read(&scan);
    }
    if out.unshown > 0 {
        say!(
            "flowscan: warning: {} of fields named only in headers in the middle of an input are not in the CSV (its header row came first); --format jsonl shows them",
            super::plural(out.unshown, "value", "values")
        );
    }
    if !args.input.quiet {
        report::brief(&scan);
    }
    Ok(report::exit_code(&scan))
}
