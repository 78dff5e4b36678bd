//! Evidence records: kept compact while scanning (the values and a reference
//! to the format), shown as labelled fields with their file and line.

use std::path::Path;

use foldhash::fast::RandomState;
use hashbrown::HashMap;
use serde::ser::SerializeMap;
use serde::Serialize;

use crate::parse::check_int;
use crate::record::{FlowRecord, Value};
use crate::schema::{Column, Field, Kind, Schema};
use crate::sink::Position;

/// Separates the values of a kept record (no value of a text record holds it).
const SEP: char = '\0';

/// A record kept as evidence while scanning.
#[derive(Clone, Debug)]
pub(super) struct Raw {
    /// Index into [`Formats`].
    format: u32,
    line: u64,
    file: usize,
    values: Box<str>,
}

impl Raw {
    /// Bytes it takes where it is kept: its slot in a finding's list, and
    /// its text with the allocator's overhead.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<((usize, u64), Raw)>() + self.values.len() + 32
    }
}

/// The formats and file names evidence refers to.
#[derive(Default)]
pub(super) struct Formats {
    by_id: HashMap<u64, u32, RandomState>,
    schemas: Vec<Schema>,
    paths: HashMap<usize, Box<Path>, RandomState>,
}

impl Formats {
    /// Keeps a record as evidence.
    pub fn keep<R: FlowRecord>(&mut self, r: &R, pos: &Position<'_>) -> Raw {
        let schema = r.schema();
        let format = match self.by_id.get(&schema.id()) {
            Some(&i) => i,
            None => {
                let i = self.schemas.len() as u32;
                self.by_id.insert(schema.id(), i);
                self.schemas.push(schema.clone());
                i
            }
        };
        self.paths
            .entry(pos.file)
            .or_insert_with(|| pos.path.into());
        let mut values = String::new();
        for c in 0..schema.len() {
            if c > 0 {
                values.push(SEP);
            }
            match r.value(c) {
                Value::Null => values.push('-'),
                Value::Int(v) => values.push_str(&v.to_string()),
                Value::Text(t) => values.push_str(&String::from_utf8_lossy(t).replace(SEP, " ")),
            }
        }
        Raw {
            format,
            line: pos.line.unwrap_or(0),
            file: pos.file,
            values: values.into(),
        }
    }

    /// Takes in another table; returns the map for its records' formats.
    pub fn merge(&mut self, o: Formats) -> Vec<u32> {
        self.paths.extend(o.paths);
        o.schemas
            .into_iter()
            .map(|s| match self.by_id.get(&s.id()) {
                Some(&i) => i,
                None => {
                    let i = self.schemas.len() as u32;
                    self.by_id.insert(s.id(), i);
                    self.schemas.push(s);
                    i
                }
            })
            .collect()
    }

    /// Renumbers a record kept by the table merged in.
    pub fn remap(raw: &mut Raw, map: &[u32]) {
        raw.format = map[raw.format as usize];
    }

    /// The record for people and programs.
    pub fn show(&self, raw: &Raw) -> Evidence {
        let schema = &self.schemas[raw.format as usize];
        let record = schema
            .columns()
            .iter()
            .zip(raw.values.split(SEP))
            .map(|(col, v)| (col.name().to_string(), typed(col, v)))
            .collect();
        Evidence {
            file: self
                .paths
                .get(&raw.file)
                .map_or_else(String::new, |p| crate::display::path_text(p)),
            line: raw.line,
            record,
        }
    }

    pub fn bytes(&self) -> usize {
        self.schemas.len() * 4096
            + self
                .paths
                .values()
                .map(|p| 64 + p.as_os_str().len())
                .sum::<usize>()
    }
}

fn typed(col: &Column, v: &str) -> EvidenceValue {
    if v == "-" {
        return EvidenceValue::Missing;
    }
    let Column::Known(f) = col else {
        return EvidenceValue::Text(v.to_string());
    };
    match (
        f.kind(),
        v.parse::<u64>().ok().and_then(|n| check_int(*f, n).ok()),
    ) {
        (Kind::Int32 | Kind::Int64, Some(n)) if matches!(f, Field::Start | Field::End) => {
            EvidenceValue::Time(n)
        }
        (Kind::Int32 | Kind::Int64, Some(n)) => EvidenceValue::Int(n),
        _ => EvidenceValue::Text(v.to_string()),
    }
}

/// One field of an evidence record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvidenceValue {
    /// `-`.
    Missing,
    /// A number.
    Int(u64),
    /// A time (`start`, `end`), Unix seconds; shown in UTC.
    Time(u64),
    /// Anything else, as written.
    Text(String),
}

impl std::fmt::Display for EvidenceValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvidenceValue::Missing => f.write_str("-"),
            EvidenceValue::Int(n) => write!(f, "{n}"),
            EvidenceValue::Time(t) => f.write_str(&crate::display::format_time(*t)),
            EvidenceValue::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for EvidenceValue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EvidenceValue::Missing => s.serialize_none(),
            EvidenceValue::Int(n) => s.serialize_u64(*n),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

/// A record a finding rests on, with where it was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// The file, as flowscan names files in messages.
    pub file: String,
    /// Its line (message or row) in that file.
    pub line: u64,
    /// The record's fields, in its format's order, labelled by the header.
    pub record: Vec<(String, EvidenceValue)>,
}

/// Serialises as `{"file", "line", "record": {field: value, …}}`.
impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Fields<'a>(&'a [(String, EvidenceValue)]);
        impl Serialize for Fields<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for (k, v) in self.0 {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("file", &self.file)?;
        m.serialize_entry("line", &self.line)?;
        m.serialize_entry("record", &Fields(&self.record))?;
        m.end()
    }
}
