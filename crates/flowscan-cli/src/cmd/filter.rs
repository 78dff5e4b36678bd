//! `flowscan filter`: print the records a query matches.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use anyhow::Result;
use flowscan::aggregate::Aggregate;
use flowscan::export::{self, Codec, ExportOptions, Exporter, Layout};
use flowscan::parse::ValueError;
use flowscan::record::Value;
use flowscan::schema::{Column, FieldSet, Kind};
use flowscan::{FlowRecord, Scanner};

use crate::args::FilterFormat;
use crate::{config, report, Exit};

/// Where printed records go: one writer shared by the (single) worker, and the
/// first error it met (a closed pipe stops the scan).
#[derive(Clone)]
struct Out {
    w: Arc<Mutex<io::BufWriter<io::Stdout>>>,
    error: Arc<Mutex<Option<io::Error>>>,
}

/// Prints matching records in one of the text formats.
struct Printer {
    out: Out,
    format: FilterFormat,
    /// Column names of every record, for CSV and JSON lines (the union of the
    /// inputs' formats).
    columns: Arc<Vec<String>>,
    buf: Vec<u8>,
    /// The format last printed a header for (text output).
    last_schema: Option<u64>,
    map: Option<(u64, Vec<Option<usize>>)>,
}

impl Printer {
    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        let mut e = self.out.error.lock().unwrap_or_else(|p| p.into_inner());
        if e.is_none() {
            let mut w = self.out.w.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(err) = w.write_all(&self.buf) {
                *e = Some(err);
            }
        }
        self.buf.clear();
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

impl Aggregate for Printer {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn add<R: FlowRecord>(&mut self, r: &R) -> Result<(), ValueError> {
        let schema = r.schema();
        match self.format {
            FilterFormat::Text => {
                if self.last_schema != Some(schema.id()) {
                    self.last_schema = Some(schema.id());
                    self.buf.extend_from_slice(schema.header_line().as_bytes());
                    self.buf.push(b'\n');
                }
                for col in 0..schema.len() {
                    if col > 0 {
                        self.buf.push(b' ');
                    }
                    let v = render(r.value(col)).unwrap_or_else(|| "-".into());
                    self.buf.extend_from_slice(v.as_bytes());
                }
                self.buf.push(b'\n');
            }
            FilterFormat::Csv | FilterFormat::Jsonl => {
                if self.map.as_ref().is_none_or(|(id, _)| *id != schema.id()) {
                    let cols = self
                        .columns
                        .iter()
                        .map(|name| schema.columns().iter().position(|c| c.name() == name))
                        .collect();
                    self.map = Some((schema.id(), cols));
                }
                let (_, cols) = self.map.as_ref().expect("set above");
                if self.format == FilterFormat::Csv {
                    let cells: Vec<String> = cols
                        .iter()
                        .map(|c| {
                            c.and_then(|c| render(r.value(c)))
                                .map_or_else(String::new, |v| csv_cell(&v))
                        })
                        .collect();
                    self.buf.extend_from_slice(cells.join(",").as_bytes());
                    self.buf.push(b'\n');
                } else {
                    let mut obj = serde_json::Map::new();
                    for (name, c) in self.columns.iter().zip(cols) {
                        let col = c.map(|c| (c, &schema.columns()[c]));
                        let v = match col {
                            None => serde_json::Value::Null,
                            Some((c, column)) => match (r.value(c), column) {
                                (Value::Int(i), _) => serde_json::Value::from(i),
                                (Value::Text(t), Column::Known(f))
                                    if matches!(f.kind(), Kind::Int32 | Kind::Int64)
                                        && t != b"-" =>
                                {
                                    r.int(*f)?
                                        .map_or(serde_json::Value::Null, serde_json::Value::from)
                                }
                                (v, _) => render(v)
                                    .map_or(serde_json::Value::Null, serde_json::Value::from),
                            },
                        };
                        obj.insert(name.clone(), v);
                    }
                    serde_json::to_writer(&mut self.buf, &obj).expect("writing to a Vec");
                    self.buf.push(b'\n');
                }
            }
            FilterFormat::Parquet => unreachable!("parquet goes through the exporter"),
        }
        if self.buf.len() > 1 << 16 {
            self.flush();
        }
        Ok(())
    }

    fn merge(&mut self, mut other: Printer) {
        other.flush();
    }

    fn should_stop(&self) -> bool {
        self.out.error.lock().map(|e| e.is_some()).unwrap_or(true)
    }
}

impl Drop for Printer {
    fn drop(&mut self) {
        self.flush();
    }
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Runs the command.
pub fn run(args: crate::args::FilterCmdArgs) -> Result<Exit> {
    let inputs = config::inputs(&args.input)?;
    let opts = config::scan_options(&args.input, &args.filter)?;
    // One thread, so that records come out in input order.
    let pool = config::pool(Some(1))?;
    let found = config::discover(&inputs, &args.filter, &opts.filter);
    let layouts: Vec<Layout> = pool.install(|| export::plan(&found, opts.fields.as_ref()));
    if args.format == FilterFormat::Parquet {
        let Some(out) = &args.out else {
            anyhow::bail!("--format parquet needs --out DIR");
        };
        let exporter = pool.install(|| {
            Exporter::create(
                ExportOptions {
                    out: out.clone(),
                    codec: Codec::Snappy,
                    ..ExportOptions::default()
                },
                layouts,
            )
        })?;
        let scanner = Scanner::new(opts);
        let (sink, scan) = pool.install(|| scanner.run(&found, || exporter.sink()))?;
        let summary =
            pool.install(|| exporter.finish(sink, "s3://amzn-s3-demo-bucket/flowlogs/"))?;
        report::warnings(&scan);
        if !args.input.quiet {
            say!(
                "flowscan: {} matching records written to {} ({} files)",
                summary.vpc_rows + summary.tgw_rows,
                out.display(),
                summary.files.len()
            );
        }
        return Ok(report::exit_code(&scan));
    }
    let columns: Vec<String> = layouts
        .iter()
        .flat_map(|l| l.columns.iter().map(|c| c.source.name().to_string()))
        .fold(Vec::new(), |mut acc, n| {
            if !acc.contains(&n) {
                acc.push(n);
            }
            acc
        });
    let out = Out {
        w: Arc::new(Mutex::new(io::BufWriter::with_capacity(
            1 << 16,
            io::stdout(),
        ))),
        error: Arc::default(),
    };
    if args.format == FilterFormat::Csv {
        let mut w = out.w.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(
            w,
            "{}",
            columns
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(",")
        )?;
    }
    let columns = Arc::new(columns);
    let make = || Printer {
        out: out.clone(),
        format: args.format,
        columns: Arc::clone(&columns),
        buf: Vec::new(),
        last_schema: None,
        map: None,
    };
    let scanner = Scanner::new(opts);
    let (printer, scan) = pool.install(|| scanner.run(&found, make))?;
    drop(printer);
    if let Some(e) = out.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e.into());
    }
    out.w.lock().unwrap_or_else(|p| p.into_inner()).flush()?;
    report::warnings(&scan);
    if !args.input.quiet {
        report::brief(&scan);
    }
    Ok(report::exit_code(&scan))
}
