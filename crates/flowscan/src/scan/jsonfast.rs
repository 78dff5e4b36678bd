//! The usual piece of a `filter-log-events` array read without serde: flat
//! event objects whose strings are plain ASCII (no escape, no control
//! character) and whose other values are integers.
//!
//! It either writes exactly the message lines serde_json's reading of the
//! piece would ([`super::messages::json_piece`] in its brackets) or declines,
//! having accepted only a subset of what that reading accepts. Anything else
//! (an escape, a byte above 127, a nested value, a literal, a fraction, an
//! event without a message, a key that changes how events are read, an error)
//! is declined and the caller reads the piece with serde_json, which gives
//! the answer and any error with its words and position. Declining costs the
//! work done so far, so it is for the rare piece, not the usual one.

use super::text::push_message;

/// Writes the message lines of `data`, the elements of an array cut after a
/// comma (`first`: right after the array's `[`), to `out`; false (with `out`
/// in an unspecified state) when the piece is not of the usual shape.
pub(super) fn events(data: &[u8], first: bool, out: &mut Vec<u8>) -> bool {
    events_inner(data, first, out).is_some()
}

fn events_inner(data: &[u8], first: bool, out: &mut Vec<u8>) -> Option<()> {
    // The piece is read as if bracketed: ending with `]` it closes the array,
    // otherwise it ends after a comma (or holds no element at all).
    let closing = data.last() == Some(&b']');
    let len = data.len();
    let mut i = ws(data, 0);
    if i == len {
        return (!closing).then_some(());
    }
    if data[i] == b']' {
        // `[]`; after a comma (`[[],]`) it would be a trailing comma.
        return (first && i + 1 == len).then_some(());
    }
    loop {
        i = event(data, i, out)?;
        i = ws(data, i);
        match data.get(i)? {
            b',' => {
                i = ws(data, i + 1);
                if i == len {
                    return (!closing).then_some(());
                }
            }
            b']' => return (closing && i + 1 == len).then_some(()),
            _ => return None,
        }
    }
}

/// What a key means to the reader of events.
#[derive(PartialEq)]
enum Key {
    Message,
    /// Skipped unread.
    Other,
}

/// Reads one event object at `i`, writing its messages; the index after it.
fn event(data: &[u8], mut i: usize, out: &mut Vec<u8>) -> Option<usize> {
    if data.get(i) != Some(&b'{') {
        return None;
    }
    let mut messages = 0;
    i = ws(data, i + 1);
    loop {
        let (key, end) = string(data, i)?;
        let key = match key {
            b"message" => Key::Message,
            // Keys that nest events or mark control envelopes.
            b"events" | b"logEvents" | b"messageType" => return None,
            _ => Key::Other,
        };
        i = ws(data, end);
        if data.get(i) != Some(&b':') {
            return None;
        }
        i = ws(data, i + 1);
        match data.get(i)? {
            b'"' => {
                let (value, end) = string(data, i)?;
                if key == Key::Message {
                    messages += 1;
                    message(value, out);
                }
                i = end;
            }
            b'-' | b'0'..=b'9' if key == Key::Other => i = integer(data, i)?,
            _ => return None,
        }
        i = ws(data, i);
        match data.get(i)? {
            b',' => i = ws(data, i + 1),
            // An event without a message is a "foreign" value: declined.
            b'}' if messages > 0 => return Some(i + 1),
            _ => return None,
        }
    }
}

/// As the serde reader hands a message on: a control message is not a record.
fn message(m: &[u8], out: &mut Vec<u8>) {
    if m.starts_with(b"CWL CONTROL MESSAGE") {
        out.extend_from_slice(&[0, super::rules::marker::CONTROL, b'\n']);
    } else {
        push_message(out, m);
    }
}

/// JSON whitespace skipped from `i`.
#[inline]
fn ws(data: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = data.get(i) {
        i += 1;
    }
    i
}

/// A string at `i` with only printable ASCII between its quotes: its content
/// and the index after its closing quote.
#[inline]
fn string(data: &[u8], i: usize) -> Option<(&[u8], usize)> {
    if data.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    // Eight bytes at a time: a word with no quote, backslash, control byte or
    // byte above 127 is skipped whole.
    while j + 8 <= data.len() {
        let w = u64::from_le_bytes(data[j..j + 8].try_into().expect("8 bytes"));
        let stop = below(w, 0x20) | equal(w, b'"') | equal(w, b'\\') | (w & HIGH);
        if stop != 0 {
            // The lowest flagged byte is a true one (a borrow only flags
            // bytes above a true match).
            j += stop.trailing_zeros() as usize / 8;
            return (data[j] == b'"').then(|| (&data[start..j], j + 1));
        }
        j += 8;
    }
    while let Some(&b) = data.get(j) {
        match b {
            b'"' => return Some((&data[start..j], j + 1)),
            b'\\' | 0..=0x1f | 0x80.. => return None,
            _ => j += 1,
        }
    }
    None
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// High bit set in bytes of `w` below `n` (at most 128), and maybe in bytes
/// above such a byte.
#[inline]
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * n as u64) & !w & HIGH
}

/// High bit set in bytes of `w` equal to `b`, and maybe in bytes above one.
#[inline]
fn equal(w: u64, b: u8) -> u64 {
    below(w ^ (ONES * b as u64), 1)
}

/// An integer at `i` (`-`, then `0` or digits not led by `0`), not followed by
/// a fraction or an exponent; the index after it.
fn integer(data: &[u8], mut i: usize) -> Option<usize> {
    if data[i] == b'-' {
        i += 1;
    }
    match data.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => {
            while let Some(b'0'..=b'9') = data.get(i) {
                i += 1;
            }
        }
        _ => return None,
    }
    match data.get(i) {
        Some(b'.' | b'e' | b'E' | b'0'..=b'9') => None,
        _ => Some(i),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &str, first: bool) -> Option<String> {
        let mut out = Vec::new();
        events(data.as_bytes(), first, &mut out).then(|| String::from_utf8(out).unwrap())
    }

    #[test]
    fn the_usual_shape_is_read() {
        let e = r#"{"logStreamName":"eni-1-all","timestamp":1764000000000,"message":"2 1 eni-1 x","ingestionTime":-3,"eventId":"38"}"#;
        assert_eq!(
            read(&format!("{e}, {e},"), true).unwrap(),
            "2 1 eni-1 x\n".repeat(2)
        );
        assert_eq!(read(&format!("{e}\n]"), false).unwrap(), "2 1 eni-1 x\n");
        assert_eq!(read(" ]", true).unwrap(), "");
        assert_eq!(
            read(r#"{"message":"CWL CONTROL MESSAGE: x"},"#, true).unwrap(),
            "\0C\n"
        );
    }

    #[test]
    fn anything_else_is_declined() {
        for piece in [
            r#"{"message":"a\"b"},"#,
            r#"{"message":"é"},"#,
            "{\"message\":\"a\u{1}\"},",
            r#"{"message":"a","n":1.5},"#,
            r#"{"message":"a","n":01},"#,
            r#"{"message":"a","n":1e3},"#,
            r#"{"message":"a","n":null},"#,
            r#"{"message":"a","n":{}},"#,
            r#"{"message":7},"#,
            r#"{"other":"a"},"#,
            r#"{},"#,
            r#"{"message":"a",},"#,
            r#"{"messageType":"DATA_MESSAGE","message":"a"},"#,
            r#"{"message":"a"}"#,
            r#"{"message":"a"},]"#,
            r#"{"message":"a"}]x"#,
            r#"{"message":"a"} {"message":"b"},"#,
            r#"{"message":"a"#,
        ] {
            assert_eq!(read(piece, true), None, "{piece}");
        }
        // After a comma, `]` alone would end the array with a trailing comma.
        assert_eq!(read("]", false), None);
    }

    use proptest::prelude::*;

    /// Mostly events of the usual shape, each part sometimes something else.
    fn flat_event() -> impl Strategy<Value = String> {
        let key = prop_oneof![
            8 => prop::sample::select(vec!["message", "logStreamName", "timestamp"]),
            1 => prop::sample::select(vec!["events", "messageType", "mess\\u0061ge", " message", "logEvents"]),
        ];
        let plain = prop::collection::vec(
            prop::sample::select(vec![
                "a",
                "2 1 eni-1 x ",
                "CWL CONTROL MESSAGE",
                ",",
                "}",
                "]",
                ":",
            ]),
            0..4,
        );
        let odd = prop::collection::vec(
            prop::sample::select(vec!["a", "é", "\\\"", "\\n", "\u{1}", "\t", "\u{7f}"]),
            1..3,
        );
        let text = prop_oneof![8 => plain, 1 => odd].prop_map(|v| format!("\"{}\"", v.concat()));
        let value = prop_oneof![
            8 => text,
            3 => prop::sample::select(vec!["0", "-1", "1764000000000", "-0"]).prop_map(String::from),
            1 => prop::sample::select(vec!["01", "1.5", "1e3", "-", "00", "null", "true", "{}", "[]", "{\"message\":\"a\"}"])
                .prop_map(String::from),
        ];
        let ws = prop_oneof![6 => Just(""), 1 => Just(" "), 1 => Just("\n\t")];
        let fields = prop::collection::vec((key, ws.clone(), value, ws), 0..5);
        (fields, prop::option::weighted(0.85, 0usize..5)).prop_map(|(v, message)| {
            let mut fields: Vec<String> = v
                .into_iter()
                .map(|(k, a, x, b)| format!("\"{k}\"{a}:{b}{x}{a}"))
                .collect();
            if let Some(at) = message {
                fields.insert(at.min(fields.len()), r#""message":"2 1 eni-1 x""#.into());
            }
            format!("{{{}}}", fields.join(","))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(5000))]
        /// What the fast reader takes, serde_json reads the same in the
        /// piece's brackets, message for message.
        #[test]
        fn what_it_reads_serde_reads_alike(
            events_ in prop::collection::vec(flat_event(), 0..5),
            ws in prop::sample::select(vec!["", " ", "\n "]),
            end in prop_oneof![4 => Just(","), 3 => Just("]"), 1 => prop::sample::select(vec!["", ", ]", "]x"])],
            first in any::<bool>(),
            damage in proptest::option::weighted(0.2, (any::<prop::sample::Index>(), prop::sample::select(b"{}[],\":x \\0.-".to_vec()))),
        ) {
            let mut data = format!("{ws}{}{end}", events_.join(&format!(",{ws}"))).into_bytes();
            if let (Some((i, b)), false) = (damage, data.is_empty()) {
                let i = i.index(data.len());
                data[i] = b;
            }
            let mut fast = Vec::new();
            if events(&data, first, &mut fast) {
                let open: &[u8] = if first { b"[" } else { b"[[]," };
                let close: &[u8] = if data.last() == Some(&b']') { b"" } else { b"[]]" };
                let wrapped = [open, &data, close].concat();
                let mut slow = Vec::new();
                let res = crate::cloudwatch::json_slice(&wrapped, &mut |i| {
                    super::super::messages::write_item(&mut slow, i);
                    true
                });
                prop_assert!(res.is_ok(), "{:?}: {}", res, String::from_utf8_lossy(&data));
                prop_assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&slow),
                    "{}",
                    String::from_utf8_lossy(&data)
                );
            }
        }
    }
}
