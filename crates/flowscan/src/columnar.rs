//! Parquet flow logs as records: flowscan's own exports, AWS's Parquet delivery,
//! and files other tools wrote (pandas and Spark may store ports and counters as
//! strings with a literal `-`).
//!
//! Only the columns a command reads are decoded ([`ProjectionMask`]); each row is
//! presented through [`FlowRecord`], so filters and aggregates run unchanged.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use crate::record::{FlowRecord, Value};
use crate::schema::{Column, FieldSet, Kind, Schema};

/// Why a Parquet file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// It is Parquet, but not a flow log (no known field).
    NotFlowLog(String),
    /// It is damaged (cut short, corrupt footer), or holds a column flowscan
    /// must read in a type it does not read.
    Damaged(String),
}

/// An open Parquet flow log.
pub struct ParquetRows {
    /// Every column of the file, as a flow log format (for deciding whether the
    /// file can answer a command).
    pub full: Schema,
    /// Which of `full`'s columns are decoded, in the order of the batches' columns.
    decoded: Arc<Vec<usize>>,
    schema: Arc<Schema>,
    reader: ParquetRecordBatchReader,
}

/// Whether flowscan reads a column of this Arrow type.
fn readable(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => matches!(**v, DataType::Utf8 | DataType::LargeUtf8),
        t => t.is_integer() || matches!(t, DataType::Float32 | DataType::Float64),
    }
}

/// Opens Parquet (a file, or bytes in memory), decoding only the known
/// columns of `reads`.
pub fn open<T: parquet::file::reader::ChunkReader + 'static>(
    src: T,
    reads: FieldSet,
) -> Result<ParquetRows, OpenError> {
    open_with(src, reads, |_| Ok(()))
}

/// As [`open`], telling `will_read` which byte ranges (the chunks of the
/// decoded columns) will be read before any is: a remote source fetches
/// them together.
pub(crate) fn open_with<T: parquet::file::reader::ChunkReader + 'static>(
    src: T,
    reads: FieldSet,
    will_read: impl FnOnce(&[std::ops::Range<u64>]) -> Result<(), String>,
) -> Result<ParquetRows, OpenError> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(src)
        .map_err(|e| OpenError::Damaged(format!("damaged Parquet file: {e}")))?;
    let arrow = builder.schema().clone();
    let columns: Vec<Column> = arrow
        .fields()
        .iter()
        .map(|f| match Schema::known_name(f.name().as_bytes()) {
            Some(k) => Column::Known(k),
            None => Column::Other(f.name().clone()),
        })
        .collect();
    let full = Schema::new(columns.clone())
        .map_err(|e| OpenError::NotFlowLog(format!("not a flow log: {e}")))?;
    // A reader of every field (export, filter) gets the columns flowscan
    // does not know too, of a type it reads: a field newer than flowscan, or
    // one a re-export carries, came out null (and was lost by a re-export).
    let every = reads == FieldSet::ALL;
    let mut keep: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|&(i, c)| match c {
            Column::Known(f) => reads.contains(*f),
            Column::Other(_) => every && readable(arrow.fields()[i].data_type()),
        })
        .map(|(i, _)| i)
        .collect();
    for &i in &keep {
        let f = &arrow.fields()[i];
        if !readable(f.data_type()) {
            return Err(OpenError::Damaged(format!(
                "column `{}` has type {}, which flowscan does not read (integers, floats and strings)",
                f.name(),
                f.data_type()
            )));
        }
    }
    if keep.is_empty() {
        // Nothing the command reads is here; decode one column so rows still count.
        keep.push(0);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), keep.iter().copied());
    let chunks: Vec<_> = builder
        .metadata()
        .row_groups()
        .iter()
        .flat_map(|rg| rg.columns().iter().enumerate())
        .filter(|(leaf, _)| mask.leaf_included(*leaf))
        .map(|(_, c)| {
            let (start, len) = c.byte_range();
            start..start.saturating_add(len)
        })
        .collect();
    will_read(&chunks).map_err(OpenError::Damaged)?;
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()
        .map_err(|e| OpenError::Damaged(format!("damaged Parquet file: {e}")))?;
    Ok(ParquetRows {
        schema: Arc::new(full.clone()),
        full,
        decoded: Arc::new(keep),
        reader,
    })
}

impl ParquetRows {
    /// The next batch of rows, ready to be read through [`Rows`].
    pub fn next_batch(&mut self) -> Option<Result<Rows, String>> {
        let batch = self.reader.next()?;
        Some(
            batch
                .map_err(|e| e.to_string())
                .map(|b| Rows::new(b, &self.schema, &self.decoded)),
        )
    }
}

/// A number read from a float column: a whole number, or the text of one
/// that is not (which then fails to decode with that text in the message).
enum Num {
    Int(i64),
    Bad(Box<str>),
}

/// One column of a batch, resolved to a concrete array type once per batch.
enum Col {
    Int(Vec<Option<i64>>),
    Num(Vec<Option<Num>>),
    Str(arrow_array::StringArray),
    LargeStr(arrow_array::LargeStringArray),
    View(arrow_array::StringViewArray),
    /// Dictionary-encoded strings: the dictionary and each row's index in it.
    Dict(arrow_array::ArrayRef, Vec<usize>),
    /// Integers in a text column (pandas writes account ids so): kept as text.
    IntText(Vec<Option<String>>),
    /// Not decoded (the sink did not list its field in `reads`).
    Absent,
}

/// A batch of Parquet rows.
pub struct Rows {
    schema: Arc<Schema>,
    cols: Vec<Col>,
    len: usize,
}

fn ints(a: &dyn Array) -> Option<Vec<Option<i64>>> {
    macro_rules! conv {
        ($t:ty) => {
            a.as_primitive::<$t>()
                .iter()
                .map(|v| v.map(|v| v as i64))
                .collect()
        };
    }
    Some(match a.data_type() {
        DataType::Int8 => conv!(Int8Type),
        DataType::Int16 => conv!(Int16Type),
        DataType::Int32 => conv!(Int32Type),
        DataType::Int64 => conv!(Int64Type),
        DataType::UInt8 => conv!(UInt8Type),
        DataType::UInt16 => conv!(UInt16Type),
        DataType::UInt32 => conv!(UInt32Type),
        // Values past i64::MAX become negative and are refused as out of range.
        DataType::UInt64 => conv!(UInt64Type),
        _ => return None,
    })
}

/// pandas turns integer columns with missing values into floats: whole
/// numbers within range read as integers; anything else keeps its text, so
/// that decoding it fails with a message that shows it.
fn floats(a: &dyn Array) -> Option<Vec<Option<Num>>> {
    let num = |f: f64| {
        if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 {
            Num::Int(f as i64)
        } else {
            Num::Bad(f.to_string().into())
        }
    };
    Some(match a.data_type() {
        DataType::Float64 => a
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(num))
            .collect(),
        DataType::Float32 => a
            .as_primitive::<Float32Type>()
            .iter()
            .map(|v| v.map(|f| num(f as f64)))
            .collect(),
        _ => return None,
    })
}

fn column(a: &arrow_array::ArrayRef, c: &Column) -> Col {
    let text_field = match c {
        Column::Known(f) => matches!(f.kind(), Kind::Text | Kind::Addr),
        Column::Other(_) => true,
    };
    match a.data_type() {
        DataType::Utf8 => Col::Str(a.as_string::<i32>().clone()),
        DataType::LargeUtf8 => Col::LargeStr(a.as_string::<i64>().clone()),
        DataType::Utf8View => Col::View(a.as_string_view().clone()),
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            Col::Dict(d.values().clone(), d.normalized_keys())
        }
        _ => {
            if let Some(v) = ints(a.as_ref()) {
                if text_field {
                    Col::IntText(v.into_iter().map(|x| x.map(|x| x.to_string())).collect())
                } else {
                    Col::Int(v)
                }
            } else if let Some(v) = floats(a.as_ref()) {
                Col::Num(v)
            } else {
                // Refused when the file was opened.
                Col::Absent
            }
        }
    }
}

impl Rows {
    fn new(batch: RecordBatch, schema: &Arc<Schema>, decoded: &[usize]) -> Rows {
        let mut cols: Vec<Col> = (0..schema.len()).map(|_| Col::Absent).collect();
        for (a, &i) in batch.columns().iter().zip(decoded) {
            cols[i] = column(a, &schema.columns()[i]);
        }
        Rows {
            schema: Arc::clone(schema),
            cols,
            len: batch.num_rows(),
        }
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row `i` as a record.
    pub fn row(&self, i: usize) -> Row<'_> {
        Row { rows: self, i }
    }
}

/// One Parquet row, read through [`FlowRecord`].
pub struct Row<'a> {
    rows: &'a Rows,
    i: usize,
}

impl FlowRecord for Row<'_> {
    fn schema(&self) -> &Schema {
        &self.rows.schema
    }

    #[inline]
    fn value(&self, col: usize) -> Value<'_> {
        let i = self.i;
        match &self.rows.cols[col] {
            Col::Int(v) => v[i].map_or(Value::Null, Value::Int),
            Col::Num(v) => match &v[i] {
                None => Value::Null,
                Some(Num::Int(n)) => Value::Int(*n),
                Some(Num::Bad(t)) => Value::Text(t.as_bytes()),
            },
            Col::Str(a) => text(a.is_null(i), || a.value(i)),
            Col::LargeStr(a) => text(a.is_null(i), || a.value(i)),
            Col::View(a) => text(a.is_null(i), || a.value(i)),
            Col::Dict(values, keys) => {
                if values.is_null(keys[i]) {
                    return Value::Null;
                }
                match values.data_type() {
                    DataType::LargeUtf8 => {
                        Value::Text(values.as_string::<i64>().value(keys[i]).as_bytes())
                    }
                    _ => Value::Text(values.as_string::<i32>().value(keys[i]).as_bytes()),
                }
            }
            Col::IntText(v) => v[i]
                .as_deref()
                .map_or(Value::Null, |s| Value::Text(s.as_bytes())),
            Col::Absent => {
                debug_assert!(
                    false,
                    "column {} of a Parquet file was read but not decoded: list its field in Sink::reads",
                    self.rows.schema.columns()[col].name()
                );
                Value::Null
            }
        }
    }
}

#[inline]
fn text<'a>(null: bool, v: impl FnOnce() -> &'a str) -> Value<'a> {
    if null {
        Value::Null
    } else {
        Value::Text(v().as_bytes())
    }
}
