//! CloudWatch Logs exports into blocks of messages, one per line, with marker
//! lines for what is not a record.

use std::io::{self, Read};
use std::sync::Arc;

use crate::cloudwatch::{self, CsvItem, Item};
use crate::source::Data;

use super::block::{Block, Body, End, Flow};
use super::jsoncut::{Kind, Piece};
use super::rules::marker;
use super::text::push_message;

/// Collects CloudWatch items into message blocks.
struct Messages<'p, 'a> {
    buf: Vec<u8>,
    size: usize,
    push: &'p mut dyn FnMut(Block<'a>) -> Flow,
    flow: Flow,
}

impl<'p, 'a> Messages<'p, 'a> {
    fn new(size: usize, push: &'p mut dyn FnMut(Block<'a>) -> Flow) -> Self {
        Messages {
            buf: Vec::new(),
            size,
            push,
            flow: Flow::Go,
        }
    }

    fn marker(&mut self, code: u8, rest: &[u8]) -> bool {
        self.buf.extend_from_slice(&[0, code]);
        self.buf.extend_from_slice(rest);
        self.buf.push(b'\n');
        self.maybe_flush()
    }

    fn message(&mut self, m: &[u8]) -> bool {
        push_message(&mut self.buf, m);
        self.maybe_flush()
    }

    fn maybe_flush(&mut self) -> bool {
        if self.buf.len() >= self.size {
            self.flush();
        }
        self.flow == Flow::Go
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() && self.flow == Flow::Go {
            let body = Body::Messages(Data::owned(Arc::new(std::mem::take(&mut self.buf))));
            self.flow = (self.push)(Block { body, byte0: None });
        }
    }

    fn item(&mut self, i: Item<'_>) -> bool {
        write_item(&mut self.buf, i);
        self.maybe_flush()
    }
}

/// An item as a message line (or a marker line).
pub(super) fn write_item(buf: &mut Vec<u8>, i: Item<'_>) {
    match i {
        Item::Message(m) => push_message(buf, m.as_bytes()),
        Item::Control => buf.extend_from_slice(&[0, marker::CONTROL, b'\n']),
        Item::Foreign => buf.extend_from_slice(&[0, marker::FOREIGN, b'\n']),
        Item::Mended => buf.extend_from_slice(marker::MENDED_LINE),
    }
}

fn json_error(e: cloudwatch::JsonError, whole: Option<&[u8]>) -> String {
    let offset = whole.map(|b| format!(" (byte {})", e.byte_in(b)));
    format!(
        "{e}{}; the records before it are counted",
        offset.unwrap_or_default()
    )
}

pub(super) fn json_slice<'a>(
    data: Data<'a>,
    size: usize,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let mut m = Messages::new(size, push);
    let res = cloudwatch::json_slice(&data, &mut |i| m.item(i));
    m.flush();
    End {
        decoded: data.len() as u64,
        error: res.err().map(|e| json_error(e, Some(&data))),
        ..End::default()
    }
}

/// A JSON document in memory, handed out in pieces that the readers parse
/// (see [`jsoncut`](super::jsoncut)).
pub(super) fn json_pieces<'a>(
    data: Data<'a>,
    size: usize,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    super::jsoncut::cut(&data, size, &mut |p| {
        push(Block {
            body: Body::Json(p),
            byte0: None,
        }) == Flow::Go
    });
    End {
        decoded: data.len() as u64,
        ..End::default()
    }
}

thread_local! {
    /// A piece in its brackets. Kept per thread because a fresh buffer of a
    /// block's size per piece costs more in page faults than its parse.
    static WRAPPED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Writes the messages of a piece of a JSON document to `out` (cleared
/// first), and says where the document stops being valid if it does in this
/// piece (with the same words and position as when the whole document is
/// read in one go).
pub(super) fn json_piece(p: &Piece<'_>, out: &mut Vec<u8>) -> Option<String> {
    out.clear();
    if let Kind::Elements { first } = p.kind {
        if super::jsonfast::events(&p.data, first, out) {
            return None;
        }
        out.clear();
    }
    let mut on = |i: Item<'_>| {
        write_item(out, i);
        true
    };
    let (res, synth) = match p.kind {
        Kind::Values => (cloudwatch::json_slice(&p.data, &mut on), p.at.synth),
        Kind::Elements { first } => {
            // In brackets, after an empty array when after a comma, and before
            // one when the last comma is not the array's end: the reader is
            // where a reader of the whole document would be.
            let open: &[u8] = if first { b"[" } else { b"[[]," };
            let close: &[u8] = if p.data.last() == Some(&b']') {
                b""
            } else {
                b"[]]"
            };
            let mut w = WRAPPED.take();
            w.clear();
            w.extend_from_slice(open);
            w.extend_from_slice(&p.data);
            w.extend_from_slice(close);
            let res = cloudwatch::json_slice(&w, &mut on);
            WRAPPED.set(w);
            (res, open.len())
        }
    };
    res.err().map(|e| {
        let own = match p.kind {
            Kind::Elements { .. } => &p.data[..],
            Kind::Values => &p.data[p.at.synth.min(p.data.len())..],
        };
        let (line, column, byte) = if e.line <= 1 {
            let column = p.at.column + e.column.saturating_sub(synth) as u64;
            (
                p.at.line,
                column,
                p.at.byte - p.at.column + column.saturating_sub(1),
            )
        } else {
            // Pieces add no line ends: line `e.line` of the piece starts after
            // its own `e.line - 1`th.
            let start = memchr::memchr_iter(b'\n', own)
                .nth(e.line - 2)
                .map_or(own.len(), |i| i + 1);
            let byte = p.at.byte + (start + e.column.saturating_sub(1)) as u64;
            (p.at.line + e.line as u64 - 1, e.column as u64, byte)
        };
        let e = cloudwatch::JsonError {
            line: line as usize,
            column: column as usize,
            message: e.message,
        };
        format!("{e} (byte {byte}); the records before it are counted")
    })
}

/// Counts the bytes read through it.
struct CountingRead<R> {
    inner: R,
    n: u64,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

pub(super) fn json_stream<'a>(
    r: Box<dyn Read + Send + '_>,
    size: usize,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let mut m = Messages::new(size, push);
    let mut counted = CountingRead { inner: r, n: 0 };
    let res = cloudwatch::json_reader(&mut counted, &mut |i| m.item(i));
    m.flush();
    End {
        decoded: counted.n,
        error: res.err().map(|e| json_error(e, None)),
        ..End::default()
    }
}

pub(super) fn csv<'a, R: Read>(r: R, size: usize, push: &mut dyn FnMut(Block<'a>) -> Flow) -> End {
    let mut m = Messages::new(size, push);
    let mut counted = CountingRead { inner: r, n: 0 };
    let mut rows = 0u64;
    let res = cloudwatch::csv_reader(&mut counted, &mut |i| {
        rows += 1;
        match i {
            CsvItem::Header => m.marker(marker::CSV_HEADER, b""),
            CsvItem::Message(msg) => m.message(msg),
            CsvItem::Bad(n) => m.marker(marker::CSV_BAD, n.to_string().as_bytes()),
        }
    });
    m.flush();
    let mut end = End {
        decoded: counted.n,
        ..End::default()
    };
    match res {
        Ok(()) => {}
        // Without a message column it is not a flow log; an error mid-file
        // keeps the rows before it.
        Err(why) if rows == 0 => end.skipped = Some(format!("not a flow log: {why}")),
        Err(why) => end.error = Some(format!("{why}; the records before it are counted")),
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The messages and the error of a document read in one go.
    fn whole(doc: &[u8]) -> (Vec<u8>, Option<String>) {
        let mut out = Vec::new();
        let res = cloudwatch::json_slice(doc, &mut |i| {
            write_item(&mut out, i);
            true
        });
        (out, res.err().map(|e| json_error(e, Some(doc))))
    }

    /// The same, read in pieces of about `size` bytes.
    fn in_pieces(doc: &[u8], size: usize) -> (Vec<u8>, Option<String>) {
        let mut out = Vec::new();
        let mut error = None;
        super::super::jsoncut::cut(&Data::Borrowed(doc), size, &mut |p| {
            let mut m = Vec::new();
            error = json_piece(&p, &mut m);
            out.extend_from_slice(&m);
            error.is_none()
        });
        (out, error)
    }

    fn string() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("a".to_string()),
                Just("2 123456789010 eni-1 ".to_string()),
                Just("}".to_string()),
                Just("],[".to_string()),
                Just("\\\"".to_string()),
                Just("\\\\".to_string()),
                Just("\\n".to_string()),
                Just(",".to_string()),
                Just("é".to_string()),
                // Surrogates: a pair, and each half alone.
                Just("\\ud83d\\ude00".to_string()),
                Just("\\ud83d".to_string()),
                Just("\\ude00".to_string()),
            ],
            0..6,
        )
        .prop_map(|v| format!("\"{}\"", v.concat()))
    }

    fn value() -> BoxedStrategy<String> {
        value_of(string().boxed())
    }

    /// Values whose strings have no escapes, the usual blocks of real pages.
    fn plain_value() -> BoxedStrategy<String> {
        value_of(
            "[a-z0-9 ,:}{\\]\\[é-]{0,16}"
                .prop_map(|s| format!("\"{s}\""))
                .boxed(),
        )
    }

    fn value_of(string: BoxedStrategy<String>) -> BoxedStrategy<String> {
        let leaf = prop_oneof![
            string,
            Just("7".to_string()),
            Just("null".to_string()),
            Just("\"CONTROL_MESSAGE\"".to_string()),
            Just("true".to_string()),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            let key = prop_oneof![
                Just("\"message\"".to_string()),
                Just("\"events\"".to_string()),
                Just("\"logEvents\"".to_string()),
                Just("\"messageType\"".to_string()),
                Just("\"x\\\"events\"".to_string()),
                Just("\"other\"".to_string()),
            ];
            let ws = prop_oneof![Just(""), Just(" "), Just("\n  ")];
            prop_oneof![
                prop::collection::vec((ws.clone(), inner.clone()), 0..6).prop_map(|v| {
                    let items: Vec<String> =
                        v.into_iter().map(|(w, x)| format!("{w}{x}")).collect();
                    format!("[{}]", items.join(","))
                }),
                prop::collection::vec((key, ws, inner), 0..5).prop_map(|v| {
                    let items: Vec<String> = v
                        .into_iter()
                        .map(|(k, w, x)| format!("{k}:{w}{x}"))
                        .collect();
                    format!("{{{}}}", items.join(","))
                }),
            ]
        })
        .boxed()
    }

    fn document() -> impl Strategy<Value = Vec<u8>> {
        damaged(prop::collection::vec(value(), 1..5).prop_map(|v| v.join("\n")))
    }

    /// A page with a long `events` array (or a long top-level array), so
    /// that pieces much larger than a 64-byte block are cut inside it.
    fn page() -> impl Strategy<Value = Vec<u8>> {
        let event = prop_oneof![4 => plain_value(), 1 => value()];
        let events = prop::collection::vec(event, 0..80).prop_map(|v| v.join(","));
        damaged((events, any::<bool>()).prop_map(|(events, top)| {
            if top {
                format!("[{events}]")
            } else {
                format!("{{\"messageType\":\"DATA_MESSAGE\",\"events\":[{events}],\"other\":[1]}}")
            }
        }))
    }

    fn damaged(values: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<u8>> {
        let damage = prop_oneof![
            3 => Just(None),
            1 => any::<prop::sample::Index>().prop_map(|i| Some((i, None::<u8>))),
            1 => (any::<prop::sample::Index>(), prop::sample::select(&b"{}[],\":x \\"[..]))
                .prop_map(|(i, b)| Some((i, Some(b)))),
        ];
        (values, damage).prop_map(|(doc, damage)| {
            let mut doc = doc.into_bytes();
            match damage {
                // Cut short.
                Some((i, None)) => doc.truncate(i.index(doc.len() + 1)),
                // One byte changed.
                Some((i, Some(b))) if !doc.is_empty() => {
                    let i = i.index(doc.len());
                    doc[i] = b;
                }
                _ => {}
            }
            doc
        })
    }

    #[test]
    fn control_envelopes_are_read_whole() {
        let events: Vec<String> = (0..50)
            .map(|i| format!(r#"{{"message":"2 1 eni-{i} x"}}"#))
            .collect();
        for kind in ["CONTROL_MESSAGE", "CONTROL\\u005fMESSAGE", "DATA_MESSAGE"] {
            let doc = format!(
                r#"{{"messageType":"{kind}","logEvents":[{}],"owner":"1"}}"#,
                events.join(",")
            );
            for size in [1, 64, 300] {
                agrees(doc.as_bytes(), size).unwrap();
            }
        }
    }

    /// Read in pieces of about `size` bytes, `doc` gives what it gives whole.
    /// Each piece says its own mends (a note, said once per file): whether
    /// there was one is what must agree, in a valid document. (In an
    /// invalid one, the whole is read again mended after an error that
    /// follows a lone escape serde_json let pass in a value it skipped, and
    /// a piece that holds the escape but not the error is not.)
    fn agrees(doc: &[u8], size: usize) -> Result<(), TestCaseError> {
        let w = whole(doc);
        let p = in_pieces(doc, size);
        let ((p_text, p_said), (w_text, w_said)) = (unmended(&p.0), unmended(&w.0));
        prop_assert_eq!(
            (&p_text, &p.1),
            (&w_text, &w.1),
            "{}",
            String::from_utf8_lossy(doc)
        );
        if w.1.is_none() {
            prop_assert_eq!(p_said, w_said, "{}", String::from_utf8_lossy(doc));
        }
        Ok(())
    }

    /// Message lines without the mend markers, and whether there was one.
    fn unmended(lines: &[u8]) -> (String, bool) {
        let text = String::from_utf8_lossy(lines);
        let marker = std::str::from_utf8(marker::MENDED_LINE).unwrap();
        (text.replace(marker, ""), text.contains(marker))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Read in pieces, a document gives the same messages, and stops at
        /// the same error with the same words, as read in one go.
        #[test]
        fn pieces_read_as_the_whole(doc in document(), size in 1usize..40) {
            agrees(&doc, size)?;
        }

        #[test]
        fn long_arrays_read_as_the_whole(doc in page(), size in 1usize..700) {
            agrees(&doc, size)?;
        }
    }
}
