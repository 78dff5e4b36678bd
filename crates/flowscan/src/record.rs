//! A flow log record: fields borrowed from the input, decoded when asked.

use std::net::IpAddr;

use crate::parse::{
    check_int, decode_addr, decode_int, decode_int_at, is_missing, Tokens, ValueError,
};
use crate::schema::{Field, Schema};

/// One column's value as a record source holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// No value (a null in a columnar source; text sources write `-`).
    Null,
    /// Text, to be decoded according to the field's type (`-` is missing).
    Text(&'a [u8]),
    /// An integer already decoded by the source.
    Int(i64),
}

/// Typed access to one record's fields, whatever the record was read from.
///
/// Aggregates and filters are written against this trait, so they run unchanged on
/// text records and on rows of other formats. A source implements [`schema`] and
/// [`value`]; the typed getters follow from them. Every getter returns `None`
/// when the field is absent from the record's schema or missing in the record.
///
/// [`schema`]: FlowRecord::schema
/// [`value`]: FlowRecord::value
pub trait FlowRecord {
    /// The columns of the record.
    fn schema(&self) -> &Schema;

    /// The value in column `col` (less than `schema().len()`).
    fn value(&self, col: usize) -> Value<'_>;

    /// The field's raw text (`None` for `-`, nulls, and integers held as such).
    #[inline]
    fn text(&self, field: Field) -> Option<&[u8]> {
        match self.value(self.schema().column_of(field)?) {
            Value::Text(t) if !is_missing(t) => Some(t),
            _ => None,
        }
    }

    /// The field as an unsigned integer (range-checked for its type; `start` and
    /// `end` in seconds).
    #[inline]
    fn int(&self, field: Field) -> Result<Option<u64>, ValueError> {
        let Some(col) = self.schema().column_of(field) else {
            return Ok(None);
        };
        match self.value(col) {
            Value::Text(t) => decode_int(field, t),
            Value::Int(v) => match u64::try_from(v) {
                Ok(v) => check_int(field, v).map(Some),
                Err(_) => Err(ValueError::new(
                    field,
                    "negative number",
                    v.to_string().as_bytes(),
                )),
            },
            Value::Null => Ok(None),
        }
    }

    /// The field as an IP address.
    #[inline]
    fn addr(&self, field: Field) -> Result<Option<IpAddr>, ValueError> {
        let Some(col) = self.schema().column_of(field) else {
            return Ok(None);
        };
        match self.value(col) {
            Value::Text(t) => decode_addr(field, t),
            Value::Int(v) => Err(ValueError::new(
                field,
                "not an IP address",
                v.to_string().as_bytes(),
            )),
            Value::Null => Ok(None),
        }
    }

    /// Whether the record's schema has the field at all (even if this record holds `-`).
    #[inline]
    fn has(&self, field: Field) -> bool {
        self.schema().has(field)
    }
}

/// One text record: a line and its token boundaries, read through a schema.
///
/// Nothing is copied: every field is a slice of the line, which borrows from the
/// memory map or the read buffer.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    line: &'a [u8],
    tokens: &'a Tokens,
    schema: &'a Schema,
}

impl<'a> Record<'a> {
    /// A record over `line`, already split into `tokens` (with
    /// [`Tokens::split`]), read through `schema`; an error unless there are
    /// exactly as many tokens as the schema has columns.
    pub fn new(
        line: &'a [u8],
        tokens: &'a Tokens,
        schema: &'a Schema,
    ) -> Result<Record<'a>, crate::error::Error> {
        if tokens.len() != schema.len() {
            return Err(crate::error::Error::FieldCount {
                expected: schema.len(),
                found: tokens.len(),
            });
        }
        Ok(Record::checked(line, tokens, schema))
    }

    /// [`Record::new`] for callers that have compared the counts already.
    #[inline]
    pub(crate) fn checked(line: &'a [u8], tokens: &'a Tokens, schema: &'a Schema) -> Record<'a> {
        debug_assert_eq!(tokens.len(), schema.len());
        Record {
            line,
            tokens,
            schema,
        }
    }

    /// The token of a field, `-` included; `None` if the schema lacks the field.
    #[inline]
    pub fn raw(&self, field: Field) -> Option<&'a [u8]> {
        let col = self.schema.column_of(field)?;
        Some(self.tokens.get(self.line, col))
    }

    /// The token in column `col`.
    #[inline]
    pub fn column(&self, col: usize) -> &'a [u8] {
        self.tokens.get(self.line, col)
    }

    /// The whole line.
    pub fn line(&self) -> &'a [u8] {
        self.line
    }
}

impl FlowRecord for Record<'_> {
    #[inline]
    fn schema(&self) -> &Schema {
        self.schema
    }

    /// As the trait's, reading short numbers a word at a time from the line.
    #[inline(always)]
    fn int(&self, field: Field) -> Result<Option<u64>, ValueError> {
        let Some(col) = self.schema.column_of(field) else {
            return Ok(None);
        };
        let (start, end) = self.tokens.span(col);
        decode_int_at(field, self.line, start, end)
    }

    #[inline]
    fn value(&self, col: usize) -> Value<'_> {
        Value::Text(self.tokens.get(self.line, col))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_by_header_not_position() {
        let schema = Schema::parse("bytes srcaddr action dstport start").unwrap();
        let line = b"5000000000 2001:db8::1 REJECT - 1566848875000";
        let mut t = Tokens::default();
        t.split(line);
        let r = Record::new(line, &t, &schema).unwrap();
        assert_eq!(r.int(Field::Bytes), Ok(Some(5_000_000_000)));
        assert_eq!(r.text(Field::Action), Some(&b"REJECT"[..]));
        assert_eq!(r.int(Field::DstPort), Ok(None));
        assert_eq!(r.raw(Field::DstPort), Some(&b"-"[..]));
        assert_eq!(r.int(Field::Start), Ok(Some(1_566_848_875)));
        assert_eq!(
            r.addr(Field::SrcAddr).unwrap(),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(r.text(Field::InterfaceId), None);
        assert!(!r.has(Field::InterfaceId) && r.has(Field::DstPort));
    }

    #[test]
    fn a_short_line_after_a_long_one_is_an_error_not_a_panic() {
        let schema = Schema::default_v2();
        let mut t = Tokens::default();
        t.split(b"2 123 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK extra tokens here");
        t.split(b"2 123");
        let e = Record::new(b"2 123", &t, &schema).unwrap_err();
        assert_eq!(e.to_string(), "expected 14 fields, found 2");
    }
}
