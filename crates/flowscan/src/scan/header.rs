//! Which line is a header, and what format a headerless input has.

use super::block::{Block, Body};
use crate::parse::Tokens;
use crate::schema::{Schema, SchemaError};

/// The format of a file whose first non-blank line (already split into `tokens`)
/// is not a header: the given field list if the token count fits, else the
/// default format when the line looks like one of its records; with a note
/// saying which.
pub(crate) fn headerless_format(
    line: &[u8],
    tokens: &Tokens,
    fields: Option<&Schema>,
) -> Result<(Schema, &'static str), String> {
    let n = tokens.len();
    if let Some(fields) = fields {
        if n == fields.len() {
            return Ok((fields.clone(), "no header: read with the given field list"));
        }
        return Err(format!(
            "not a flow log: first line has {n} fields, the field list names {}",
            fields.len()
        ));
    }
    if n == 14 && tokens.get(line, 0).iter().all(u8::is_ascii_digit) {
        return Ok((
            Schema::default_v2(),
            "no header: default format (version 2) assumed; give the field list if it is another",
        ));
    }
    Err("not a flow log: no header line, and the first line is not a default-format record (a headerless file needs its field list)".into())
}

/// Whether a line is a header, and the schema it declares; an error for a
/// line of field names that cannot be a schema (a name twice, too many).
/// Inlined where every line is read: records start with a digit in the usual
/// formats, so the answer is decided on one byte there.
#[inline(always)]
pub(crate) fn header_of(line: &[u8], tokens: &Tokens) -> Result<Option<Schema>, SchemaError> {
    let first = tokens.get(line, 0)[0];
    if !first.is_ascii_lowercase() {
        return Ok(None);
    }
    header_of_names(line)
}

/// [`header_of`] for a line that starts with a lowercase letter.
#[inline(never)]
fn header_of_names(line: &[u8]) -> Result<Option<Schema>, SchemaError> {
    if !looks_like_header(line) {
        return Ok(None);
    }
    match Schema::from_header(line) {
        Ok(s) => Ok(Some(s)),
        Err(e @ (SchemaError::Duplicate(_) | SchemaError::TooMany(_))) => Err(e),
        Err(_) => Ok(None),
    }
}

/// Whether no line of a block can change the format its lines are read with:
/// it holds text and none of its lines could be a header (the first token of
/// every line starts with something else than a lowercase letter, or the line
/// holds a byte no header has). Cheap on records, which start with a digit in
/// the usual formats.
pub(crate) fn cannot_change_format(block: &Block<'_>) -> bool {
    let (Body::Text(text) | Body::Messages(text)) = &block.body else {
        return false;
    };
    let text: &[u8] = text;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len())) {
        let line = &text[start..end];
        start = end + 1;
        let first = line.iter().find(|&&b| b != b' ' && b != b'\t');
        if first.is_some_and(u8::is_ascii_lowercase) && looks_like_header(line) {
            return false;
        }
    }
    true
}

/// Header lines hold only lowercase names, digits, `-`, `_` and whitespace: a
/// cheap test that keeps the full header parse off record lines.
#[inline]
fn looks_like_header(line: &[u8]) -> bool {
    line.iter().all(|&b| {
        b.is_ascii_lowercase()
            || b.is_ascii_digit()
            || matches!(b, b' ' | b'\t' | b'-' | b'_' | b'\r')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Block<'static> {
        Block {
            body: Body::Text(crate::source::Data::owned(std::sync::Arc::new(
                s.as_bytes().to_vec(),
            ))),
            byte0: Some(0),
        }
    }

    #[test]
    fn a_block_of_records_cannot_change_the_format() {
        let records = "2 123 eni-1 1.2.3.4 REJECT OK\n\n  \n2 123 eni-2 - ACCEPT OK";
        assert!(cannot_change_format(&text(records)));
        // A line that starts like a header and holds a byte no header has.
        assert!(cannot_change_format(&text("eni-1 10.0.0.1 REJECT\n2 x\n")));
        for header in [
            "version srcaddr\n",
            "2 1.2.3.4\nversion srcaddr",
            "2 1.2.3.4\n \tversion srcaddr\r\n2 5.6.7.8\n",
            "2 1.2.3.4\n\nunknown names\n",
        ] {
            assert!(!cannot_change_format(&text(header)), "{header:?}");
        }
    }

    #[test]
    fn header_precheck() {
        assert!(looks_like_header(b"version account-id interface-id\r"));
        assert!(!looks_like_header(b"eni-1 10.0.0.1"));
        assert!(!looks_like_header(b"2 123 eni-1 ACCEPT"));
    }
}
