//! Records themselves, as text, CSV or JSON Lines, in input order.
//!
//! [`RecordWriter`] is an [`OrderedSink`]: each block of input gets a
//! [`RecordPart`] that renders its records on a worker thread, and a
//! [`RecordOutput`] writes the parts in input order, so the output reads as
//! the input does whatever the thread count.

use std::io::{self, Write};
use std::sync::Arc;

use crate::parse::ValueError;
use crate::record::{FlowRecord, Value};
use crate::schema::{Column, FieldSet, Kind, Schema};
use crate::sink::{FileInfo, OrderedSink, Position, Sink, SinkError};

/// How records are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    /// As flow log lines (fields separated by single spaces), each run of
    /// records under the header line of its format.
    Text,
    /// One CSV row per record, under one header row of the planned columns.
    Csv,
    /// One JSON object per line, of the record's own fields in its header's
    /// order, numbers as numbers and `-` as null.
    Jsonl,
}

/// Renders records in input order (see the module documentation).
#[derive(Clone, Debug)]
pub struct RecordWriter {
    format: RecordFormat,
    /// The CSV header (unused by the other formats).
    columns: Arc<Vec<String>>,
}

impl RecordWriter {
    /// A writer of `format` whose CSV rows have `columns`. Fields a record
    /// has beyond them are left out of CSV and counted (see
    /// [`RecordOutput::unshown`]); text and JSON lines hold every field of
    /// each record, so they need none.
    pub fn new(format: RecordFormat, columns: Vec<String>) -> RecordWriter {
        RecordWriter {
            format,
            columns: Arc::new(columns),
        }
    }

    /// The union of the layouts' column names, in order: the columns of the
    /// inputs' first formats, as [`crate::export::plan`] finds them.
    #[cfg(feature = "parquet")]
    pub fn columns_of(layouts: &[crate::export::Layout]) -> Vec<String> {
        let mut columns: Vec<String> = Vec::new();
        for c in layouts.iter().flat_map(|l| &l.columns) {
            let n = c.source.name().to_string();
            if !columns.contains(&n) {
                columns.push(n);
            }
        }
        columns
    }

    /// The output the parts are committed to, over `w`. For CSV, the
    /// header row is written at once, so that it comes first even when no
    /// record matches.
    pub fn output<W: Write>(&self, mut w: W) -> io::Result<RecordOutput<W>> {
        if self.format == RecordFormat::Csv {
            let mut csv = csv::Writer::from_writer(&mut w);
            csv.write_record(self.columns.iter())
                .map_err(super::csv_err)?;
            csv.flush()?;
        }
        Ok(RecordOutput {
            w,
            last_header: None,
            unshown: 0,
        })
    }
}

impl OrderedSink for RecordWriter {
    type Part = RecordPart;

    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn part(&self, _: &FileInfo<'_>) -> RecordPart {
        RecordPart {
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

/// One block's records, rendered; committed with [`RecordOutput::commit`].
#[derive(Debug)]
pub struct RecordPart {
    format: RecordFormat,
    columns: Arc<Vec<String>>,
    /// Text output: the header the first record needs (written only if the
    /// output's last one differs), and the last one used.
    first_header: Option<String>,
    last_header: Option<String>,
    text: Vec<u8>,
    csv: csv::Writer<Vec<u8>>,
    /// The last schema seen (by id) and, for each output column, the
    /// record's column that feeds it.
    map: Option<(u64, Vec<Option<usize>>)>,
    /// Values of fields the CSV header does not have (a mid-file header
    /// named them after the header row was written).
    unshown: u64,
}

/// A value as output text; `None` for a missing one (`-` in the logs).
fn text_of(v: Value<'_>) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Int(i) => Some(i.to_string()),
        Value::Text(t) if t == b"-" => None,
        Value::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

impl RecordPart {
    fn text_record<R: FlowRecord>(&mut self, r: &R) {
        let schema = r.schema();
        let header = schema.header_line();
        if self.last_header.as_deref() != Some(&header) {
            if self.last_header.is_some() {
                self.text.extend_from_slice(header.as_bytes());
                self.text.push(b'\n');
            } else {
                // The output knows whether the block before ended with it.
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
                    .extend_from_slice(text_of(v).unwrap_or_else(|| "-".into()).as_bytes()),
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
            .map(|c| c.and_then(|c| text_of(r.value(c))).unwrap_or_default())
            .collect();
        self.csv.write_record(&row).map_err(io::Error::other)
    }

    fn json_record<R: FlowRecord>(&mut self, r: &R) -> Result<(), ValueError> {
        let schema = r.schema();
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
                (v, _) => text_of(v).map_or(serde_json::Value::Null, serde_json::Value::from),
            })
        };
        // The record's own fields, in its header's order: not the planned
        // columns, which differ with how the input is read (from a path, its
        // header is planned; from standard input, every field AWS defines),
        // so the same record would print differently.
        for (c, col) in schema.columns().iter().enumerate() {
            obj.insert(col.name().to_string(), value(c)?);
        }
        serde_json::to_writer(&mut self.text, &obj).expect("writing to a Vec");
        self.text.push(b'\n');
        Ok(())
    }
}

impl Sink for RecordPart {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _: &Position<'_>) -> Result<(), SinkError> {
        match self.format {
            RecordFormat::Text => self.text_record(r),
            RecordFormat::Csv => self.csv_record(r).map_err(SinkError::stop)?,
            RecordFormat::Jsonl => self.json_record(r)?,
        }
        Ok(())
    }
}

/// Writes [`RecordPart`]s to `W` in the order they are committed (the
/// scan's input order).
#[derive(Debug)]
pub struct RecordOutput<W: Write> {
    w: W,
    /// Text output: the header line last written (or implied), so that a
    /// part continuing the same format does not repeat it.
    last_header: Option<String>,
    unshown: u64,
}

impl<W: Write> RecordOutput<W> {
    /// Writes one part after those committed before it.
    pub fn commit(&mut self, mut p: RecordPart) -> io::Result<()> {
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

    /// Values left out of the CSV so far: fields that a header in the middle
    /// of an input named after the CSV header row was written.
    pub fn unshown(&self) -> u64 {
        self.unshown
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Tokens;
    use crate::record::Record;

    fn write(format: RecordFormat, columns: &[&str], lines: &[(&str, &str)]) -> (String, u64) {
        let columns = columns.iter().map(|c| c.to_string()).collect();
        let writer = RecordWriter::new(format, columns);
        let mut out = writer.output(Vec::new()).unwrap();
        let path = std::path::Path::new("t");
        let mut tokens = Tokens::default();
        for (header, line) in lines {
            let schema = Schema::parse(header).unwrap();
            tokens.split(line.as_bytes());
            let rec = Record::new(line.as_bytes(), &tokens, &schema).unwrap();
            // One part per record: the output joins parts as blocks.
            let mut part = writer.part(&FileInfo { index: 0, path });
            let pos = Position::new(path, 0, Some(1), None);
            part.record(&rec, &pos).unwrap();
            out.commit(part).unwrap();
        }
        let unshown = out.unshown();
        (String::from_utf8(out.into_inner()).unwrap(), unshown)
    }

    const H1: &str = "srcaddr dstport action";
    const H2: &str = "srcaddr dstport action bytes";

    #[test]
    fn text_repeats_a_header_only_when_the_format_changes() {
        let lines = [
            (H1, "10.0.0.1 22 REJECT"),
            (H1, "10.0.0.2 - ACCEPT"),
            (H2, "10.0.0.3 443 ACCEPT 90"),
        ];
        let (text, _) = write(RecordFormat::Text, &[], &lines);
        assert_eq!(
            text,
            "srcaddr dstport action\n10.0.0.1 22 REJECT\n10.0.0.2 - ACCEPT\n\
             srcaddr dstport action bytes\n10.0.0.3 443 ACCEPT 90\n"
        );
    }

    #[test]
    fn csv_keeps_its_columns_and_counts_the_rest() {
        let cols = ["srcaddr", "dstport", "action"];
        let lines = [(H1, "10.0.0.1 - REJECT"), (H2, "10.0.0.3 443 ACCEPT 90")];
        let (text, unshown) = write(RecordFormat::Csv, &cols, &lines);
        assert_eq!(
            text,
            "srcaddr,dstport,action\n10.0.0.1,,REJECT\n10.0.0.3,443,ACCEPT\n"
        );
        assert_eq!(unshown, 1);
    }

    #[test]
    fn json_lines_type_numbers_and_hold_each_records_own_fields() {
        // `bytes` is planned, but only the second format has it.
        let cols = ["srcaddr", "dstport", "action", "bytes"];
        let lines = [(H1, "10.0.0.1 - REJECT"), (H2, "10.0.0.3 443 ACCEPT 90")];
        let (text, unshown) = write(RecordFormat::Jsonl, &cols, &lines);
        assert_eq!(
            text,
            "{\"srcaddr\":\"10.0.0.1\",\"dstport\":null,\"action\":\"REJECT\"}\n\
             {\"srcaddr\":\"10.0.0.3\",\"dstport\":443,\"action\":\"ACCEPT\",\"bytes\":90}\n"
        );
        assert_eq!(unshown, 0);
    }
}
