//! Parquet flow logs as records: flowscan's own exports, AWS's Parquet delivery,
//! and files other tools wrote (pandas and Spark may store ports and counters as
//! strings with a literal `-`).
//!
//! Only the columns a command reads are decoded ([`ProjectionMask`]); each row is
//! presented through [`FlowRecord`], so filters and aggregates run unchanged.

use std::fs::File;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type,
    UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use crate::record::{FlowRecord, Value};
use crate::schema::{Column, FieldSet, Kind, Schema};

/// An open Parquet flow log.
pub struct ParquetRows {
    /// Every column of the file, as a flow log format (for deciding whether the
    /// file can answer a command).
    pub full: Schema,
    /// The decoded columns, in the order of `batch.columns()`.
    projected: Arc<Schema>,
    reader: ParquetRecordBatchReader,
}

/// Opens `file`, decoding only the columns of `reads`.
pub fn open(file: File, reads: FieldSet) -> Result<ParquetRows, String> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    let arrow = builder.schema().clone();
    let columns: Vec<Column> = arrow
        .fields()
        .iter()
        .map(|f| match Schema::known_name(f.name().as_bytes()) {
            Some(k) => Column::Known(k),
            None => Column::Other(f.name().clone()),
        })
        .collect();
    let full = Schema::new(columns.clone()).map_err(|e| format!("not a flow log: {e}"))?;
    let keep: Vec<usize> = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, Column::Known(f) if reads.contains(*f)))
        .map(|(i, _)| i)
        .collect();
    let projected: Vec<Column> = keep.iter().map(|&i| columns[i].clone()).collect();
    let projected = if projected.is_empty() {
        // Nothing the command reads is here; keep one column so rows still count.
        vec![columns[0].clone()]
    } else {
        projected
    };
    let keep = if keep.is_empty() { vec![0] } else { keep };
    let mask = ProjectionMask::roots(builder.parquet_schema(), keep);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(8192)
        .build()
        .map_err(|e| e.to_string())?;
    let projected = match Schema::new(projected.clone()) {
        Ok(s) => s,
        // A projection of only unknown columns: a format with no known field is
        // refused by Schema::new, so keep the full schema's first known one.
        Err(_) => full.clone(),
    };
    Ok(ParquetRows {
        full,
        projected: Arc::new(projected),
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
                .map(|b| Rows::new(b, &self.projected)),
        )
    }
}

/// One column of a batch, resolved to a concrete array type once per batch.
enum Col {
    Int(Vec<Option<i64>>),
    Str(arrow_array::StringArray),
    LargeStr(arrow_array::LargeStringArray),
    View(arrow_array::StringViewArray),
    /// Integers in a text column (pandas writes account ids so): kept as text.
    IntText(Vec<Option<String>>),
    Unsupported,
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
        // pandas turns integer columns with missing values into floats.
        DataType::Float64 => a
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(|f| if f.fract() == 0.0 { f as i64 } else { -1 }))
            .collect(),
        _ => return None,
    })
}

impl Rows {
    fn new(batch: RecordBatch, schema: &Arc<Schema>) -> Rows {
        let cols = batch
            .columns()
            .iter()
            .zip(schema.columns())
            .map(|(a, c)| {
                let text_field = match c {
                    Column::Known(f) => matches!(f.kind(), Kind::Text | Kind::Addr),
                    Column::Other(_) => true,
                };
                match a.data_type() {
                    DataType::Utf8 => Col::Str(a.as_string::<i32>().clone()),
                    DataType::LargeUtf8 => Col::LargeStr(a.as_string::<i64>().clone()),
                    DataType::Utf8View => Col::View(a.as_string_view().clone()),
                    DataType::Dictionary(_, v) if **v == DataType::Utf8 => {
                        let d = a.as_any_dictionary();
                        let values = d.values().as_string::<i32>();
                        let keys = d.normalized_keys();
                        Col::IntText(
                            (0..a.len())
                                .map(|i| (!a.is_null(i)).then(|| values.value(keys[i]).to_string()))
                                .collect(),
                        )
                    }
                    _ => match ints(a.as_ref()) {
                        Some(v) if text_field => {
                            Col::IntText(v.into_iter().map(|x| x.map(|x| x.to_string())).collect())
                        }
                        Some(v) => Col::Int(v),
                        None => Col::Unsupported,
                    },
                }
            })
            .collect();
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
            Col::Str(a) => text(a.is_null(i), || a.value(i)),
            Col::LargeStr(a) => text(a.is_null(i), || a.value(i)),
            Col::View(a) => text(a.is_null(i), || a.value(i)),
            Col::IntText(v) => v[i]
                .as_deref()
                .map_or(Value::Null, |s| Value::Text(s.as_bytes())),
            // Visible, not silent: a number field reading this is malformed.
            Col::Unsupported => Value::Text(b"(unsupported Parquet type)"),
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
