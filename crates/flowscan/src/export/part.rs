//! One block's rows, encoded into Arrow batches per partition by a worker
//! thread, waiting to be written in input order.

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};

use super::layout::{ColumnType, Dataset, Registered, Registry};
use super::partition::{self, Fallbacks, PartKey, UNKNOWN};
use super::Partition;
use crate::parse::{check_int, decode_addr, decode_int, is_missing, ValueError};
use crate::record::{FlowRecord, Value};
use crate::schema::{Column, Field, FieldSet, Kind, Schema};
use crate::sink::{FileInfo, OrderedSink, Position, Sink, SinkError};

/// Rows a partition's batch has room for at first: a block of input that
/// is not sorted by time spreads its rows over many partitions, each with a
/// batch, so they start small and grow.
const FIRST_ROWS: usize = 256;
/// Rows per Arrow batch.
const BATCH_ROWS: usize = 8192;

/// What every part of an export shares: the layouts and the partition rules.
#[derive(Debug)]
pub(crate) struct Shared {
    pub registry: Registry,
    pub partition: Partition,
    pub default_account: Option<String>,
    pub default_region: Option<String>,
}

/// The encoding side of an export: an [`OrderedSink`] whose parts are the
/// rows of one block, as Arrow batches per partition.
#[derive(Clone, Debug)]
pub struct Encoder {
    pub(crate) shared: Arc<Shared>,
}

impl OrderedSink for Encoder {
    type Part = ExportPart;

    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn part(&self, file: &FileInfo<'_>) -> ExportPart {
        let facts = crate::prune::facts(file.path);
        let valid = |v: Option<String>, ok: fn(&[u8]) -> bool| v.filter(|v| ok(v.as_bytes()));
        ExportPart {
            shared: self.shared.clone(),
            path_account: valid(facts.account, partition::valid_account),
            path_region: valid(facts.region, partition::valid_region),
            batches: Vec::new(),
            last: None,
            maps: Vec::new(),
            cells: Vec::new(),
            rows: [0; 2],
            fallbacks: Fallbacks::default(),
        }
    }
}

/// Column builders of one partition's pending batch.
enum Builder {
    I32(Int32Builder),
    I64(Int64Builder),
    Str(StringBuilder),
}

/// A partition's rows in this part.
pub(crate) struct Batch {
    pub key: PartKey,
    pub layout: Arc<Registered>,
    cols: Vec<Builder>,
    rows: usize,
    pub done: Vec<RecordBatch>,
}

impl Batch {
    fn new(key: PartKey, layout: Arc<Registered>) -> Batch {
        let cols = layout
            .layout
            .columns
            .iter()
            .map(|c| match c.ty {
                ColumnType::Int32 => Builder::I32(Int32Builder::with_capacity(FIRST_ROWS)),
                ColumnType::Int64 => Builder::I64(Int64Builder::with_capacity(FIRST_ROWS)),
                ColumnType::Utf8 => {
                    Builder::Str(StringBuilder::with_capacity(FIRST_ROWS, FIRST_ROWS * 16))
                }
            })
            .collect();
        Batch {
            key,
            layout,
            cols,
            rows: 0,
            done: Vec::new(),
        }
    }

    /// Moves the pending rows into a finished batch.
    pub fn seal(&mut self) {
        if self.rows == 0 {
            return;
        }
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|b| -> ArrayRef {
                match b {
                    Builder::I32(b) => Arc::new(b.finish()),
                    Builder::I64(b) => Arc::new(b.finish()),
                    Builder::Str(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        let batch = RecordBatch::try_new(self.layout.arrow.clone(), arrays)
            .expect("builders follow the layout");
        self.done.push(batch);
    }
}

/// How one input format maps onto a layout.
struct Mapping {
    /// The format's [`Schema::id`].
    schema: u64,
    layout: Arc<Registered>,
    cols: Vec<Option<usize>>,
}

/// One block's rows, by partition. See [`Encoder`].
pub struct ExportPart {
    shared: Arc<Shared>,
    path_account: Option<String>,
    path_region: Option<String>,
    pub(crate) batches: Vec<Batch>,
    last: Option<usize>,
    maps: Vec<Mapping>,
    cells: Vec<Cell>,
    /// Rows taken: VPC, Transit Gateway.
    pub(crate) rows: [u64; 2],
    pub(crate) fallbacks: Fallbacks,
}

/// What pass one found in a column, to append in pass two.
#[derive(Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    /// Text to read again from the record (found to be UTF-8 in pass one).
    Text,
    /// Text that is not UTF-8, in a column flowscan does not know: written with
    /// U+FFFD in place of the bad bytes.
    Lossy,
}

fn check_text(t: &[u8], known: bool) -> Result<Cell, &'static str> {
    if is_missing(t) {
        Ok(Cell::Null)
    } else if std::str::from_utf8(t).is_ok() {
        Ok(Cell::Text)
    } else if known {
        Err("invalid UTF-8 in")
    } else {
        Ok(Cell::Lossy)
    }
}

/// Where a part of a record's partition key comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeySource<'r> {
    /// The input's S3 path.
    Path,
    /// The record's own (validated) value.
    Record(&'r [u8]),
    /// `--default-account` or `--default-region`.
    Default,
    /// None of those: the `unknown` partition.
    Unknown,
}

impl<'r> KeySource<'r> {
    /// The text it stands for, given the part's path value and default.
    fn text(self, path: &'r Option<String>, default: &'r Option<String>) -> &'r [u8] {
        let s = match self {
            KeySource::Path => path.as_deref(),
            KeySource::Default => default.as_deref(),
            // Validated values are ASCII: their bytes are their text.
            KeySource::Record(v) => return v,
            KeySource::Unknown => None,
        };
        s.unwrap_or(UNKNOWN).as_bytes()
    }
}

/// A record's partition key, borrowed from the record and the part.
struct KeyRef<'r> {
    dataset: Dataset,
    account: KeySource<'r>,
    region: KeySource<'r>,
    bucket: u64,
}

/// Decodes one value for its output column.
fn cell(v: Value<'_>, field: Option<Field>) -> Result<Cell, ValueError> {
    Ok(match (v, field) {
        (Value::Null, _) => Cell::Null,
        (Value::Text(t), Some(f)) => match f.kind() {
            Kind::Int32 | Kind::Int64 => {
                decode_int(f, t)?.map_or(Cell::Null, |v| Cell::Int(v as i64))
            }
            Kind::Addr => decode_addr(f, t)?.map_or(Cell::Null, |_| Cell::Text),
            Kind::Text => check_text(t, true).map_err(|p| ValueError::new(f, p, t))?,
        },
        (Value::Text(t), None) => check_text(t, false).unwrap_or(Cell::Lossy),
        (Value::Int(v), Some(f)) if matches!(f.kind(), Kind::Int32 | Kind::Int64) => {
            let u = u64::try_from(v)
                .map_err(|_| ValueError::new(f, "negative number", v.to_string().as_bytes()))?;
            Cell::Int(check_int(f, u)? as i64)
        }
        // A number in a text column (a columnar source typed it): kept as text.
        (Value::Int(v), _) => Cell::Int(v),
    })
}

impl ExportPart {
    fn mapping(&mut self, schema: &Schema) -> usize {
        let id = schema.id();
        if let Some(i) = self.maps.iter().position(|m| m.schema == id) {
            return i;
        }
        let layout = self.shared.registry.resolve(schema);
        let cols = layout.layout.mapping(schema);
        self.maps.push(Mapping {
            schema: id,
            layout,
            cols,
        });
        self.maps.len() - 1
    }

    /// The partition of a record: validated values, or the fallbacks (counted).
    /// Borrowed: a key is copied only when it starts a new batch.
    fn key<'r, R: FlowRecord>(
        &mut self,
        r: &'r R,
        dataset: Dataset,
    ) -> Result<KeyRef<'r>, ValueError> {
        let time = r.int(Field::Start)?.or(r.int(Field::End)?);
        let (bucket, late) = partition::bucket(time, self.shared.partition);
        let pick = |path: bool, rec: Option<&'r [u8]>, default: bool, ok: fn(&[u8]) -> bool| {
            if path {
                KeySource::Path
            } else if let Some(v) = rec.filter(|v| ok(v)) {
                KeySource::Record(v)
            } else if default {
                KeySource::Default
            } else {
                KeySource::Unknown
            }
        };
        let account = pick(
            self.path_account.is_some(),
            r.text(Field::AccountId),
            self.shared.default_account.is_some(),
            partition::valid_account,
        );
        let region = pick(
            self.path_region.is_some(),
            r.text(Field::Region),
            self.shared.default_region.is_some(),
            partition::valid_region,
        );
        let hive = self.shared.partition != Partition::None;
        self.fallbacks.time += u64::from(late);
        self.fallbacks.account += u64::from(hive && account == KeySource::Unknown);
        self.fallbacks.region += u64::from(hive && region == KeySource::Unknown);
        Ok(KeyRef {
            dataset,
            account,
            region,
            bucket,
        })
    }

    fn batch_for(&mut self, key: &KeyRef<'_>, layout: &Arc<Registered>) -> usize {
        let account = key
            .account
            .text(&self.path_account, &self.shared.default_account);
        let region = key
            .region
            .text(&self.path_region, &self.shared.default_region);
        let same = |b: &Batch| {
            b.layout.id == layout.id
                && b.key.bucket == key.bucket
                && b.key.dataset == key.dataset
                && b.key.account.as_bytes() == account
                && b.key.region.as_bytes() == region
        };
        let found = match self.last.filter(|&i| same(&self.batches[i])) {
            Some(i) => Some(i),
            None => self.batches.iter().position(same),
        };
        let i = match found {
            Some(i) => i,
            None => {
                let key = PartKey {
                    dataset: key.dataset,
                    account: String::from_utf8_lossy(account).into_owned(),
                    region: String::from_utf8_lossy(region).into_owned(),
                    bucket: key.bucket,
                };
                self.batches.push(Batch::new(key, layout.clone()));
                self.batches.len() - 1
            }
        };
        self.last = Some(i);
        i
    }

    /// Seals every pending batch (before writing).
    pub(crate) fn seal(&mut self) {
        for b in &mut self.batches {
            b.seal();
        }
    }
}

impl Sink for ExportPart {
    fn needs(&self) -> FieldSet {
        FieldSet::EMPTY
    }

    fn record<R: FlowRecord>(&mut self, r: &R, _pos: &Position<'_>) -> Result<(), SinkError> {
        let m = self.mapping(r.schema());
        let layout = self.maps[m].layout.clone();
        // Pass one: decode and check every value, so that a bad one leaves the
        // batches untouched.
        self.cells.clear();
        for (src, out) in self.maps[m].cols.iter().zip(&layout.layout.columns) {
            let field = match out.source {
                Column::Known(f) => Some(f),
                Column::Other(_) => None,
            };
            let c = match *src {
                Some(src) => cell(r.value(src), field)?,
                None => Cell::Null,
            };
            self.cells.push(c);
        }
        let dataset = layout.layout.dataset;
        let key = self.key(r, dataset)?;
        let b = self.batch_for(&key, &layout);
        // Pass two: append.
        let batch = &mut self.batches[b];
        let srcs = &self.maps[m].cols;
        for ((c, col), src) in self.cells.iter().zip(batch.cols.iter_mut()).zip(srcs) {
            let text = || match src.map(|c| r.value(c)) {
                Some(Value::Text(t)) => t,
                _ => &[][..],
            };
            match (col, *c) {
                (Builder::I32(c), Cell::Int(v)) => c.append_value(v as i32),
                (Builder::I64(c), Cell::Int(v)) => c.append_value(v),
                (Builder::I32(c), _) => c.append_null(),
                (Builder::I64(c), _) => c.append_null(),
                (Builder::Str(c), Cell::Text) => {
                    // SAFETY: pass one made `Cell::Text` only for these same
                    // bytes found to be UTF-8 (`check_text`), or for an address
                    // that parsed (ASCII); checking them again cost 4 % of an
                    // export.
                    c.append_value(unsafe { std::str::from_utf8_unchecked(text()) })
                }
                (Builder::Str(c), Cell::Lossy) => c.append_value(String::from_utf8_lossy(text())),
                (Builder::Str(c), Cell::Int(v)) => c.append_value(v.to_string()),
                (Builder::Str(c), Cell::Null) => c.append_null(),
            }
        }
        batch.rows += 1;
        if batch.rows >= BATCH_ROWS {
            batch.seal();
        }
        self.rows[(dataset == Dataset::TransitGateway) as usize] += 1;
        Ok(())
    }
}
