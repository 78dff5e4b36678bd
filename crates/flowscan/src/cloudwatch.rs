//! Flow log records as CloudWatch Logs hands them out: JSON documents and the
//! console's CSV export. Each yields record *messages* (headerless lines) that the
//! scanner parses like text lines.
//!
//! JSON is read as a stream of values with a serde visitor, so an `events` array
//! of millions of entries is never held in memory, and a message is borrowed from
//! the input when the input is a slice and the message has no escapes. Accepted
//! shapes, alone, back to back, one per line, in arrays, and inside gzip:
//! `aws logs filter-log-events` pages (`{"events":[{"message":…}]}`), subscription
//! envelopes (`{"messageType":"DATA_MESSAGE","logEvents":[{"message":…}]}`), and
//! lines wrapped as `{"message":…}`.

use std::fmt;
use std::io::Read;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// What the JSON reader found.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A record message.
    Message(&'a str),
    /// A message of a CloudWatch control envelope (health checks), not a record.
    Control,
    /// A JSON value that holds no message (a number, an object without one).
    Foreign,
    /// Lone UTF-16 surrogate escapes were read as U+FFFD in the items
    /// handed out from here on (or, after a value read through a reader,
    /// in that value): a message may hold a U+FFFD its text did not.
    Mended,
}

/// Where a JSON document stopped being valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// 1-based line of the input.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What serde_json said.
    pub message: String,
}

impl JsonError {
    /// The offset of the error's byte in `input`, the text it was found in.
    pub fn byte_in(&self, input: &[u8]) -> usize {
        let start = match self.line {
            0 | 1 => 0,
            _ => memchr::memchr_iter(b'\n', input)
                .nth(self.line - 2)
                .map_or(input.len(), |i| i + 1),
        };
        start.saturating_add(self.column.saturating_sub(1))
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid JSON at line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Calls `on` for every item of the JSON values in `input` (a slice: messages are
/// borrowed when they have no escapes). Stops at the first invalid value, or
/// when `on` returns false.
///
/// A lone UTF-16 surrogate escape (`\ud800` without its pair, as JavaScript
/// writes a string cut inside a character) is read as U+FFFD: serde_json
/// refuses it, which would end the document at a record that is merely damaged.
/// [`Item::Mended`] says so, before the first item that may hold one.
pub fn json_slice(input: &[u8], on: &mut dyn FnMut(Item<'_>) -> bool) -> Result<(), JsonError> {
    json_slice_mending(input, on, MEND_IN_MEMORY)
}

/// [`json_slice`], mending inputs of up to `in_memory` bytes into a copy.
fn json_slice_mending(
    input: &[u8],
    on: &mut dyn FnMut(Item<'_>) -> bool,
    in_memory: usize,
) -> Result<(), JsonError> {
    let mut handed = 0usize;
    let res = values(&mut serde_json::Deserializer::from_slice(input), &mut |i| {
        handed += 1;
        on(i)
    });
    let Err(e) = res else { return res };
    // A lone escape before the error's place (so a clean input costs nothing,
    // and a damaged one is not scanned past its error): the input is read
    // again with such escapes mended, skipping the items already handed out,
    // which the mend does not change. The mend keeps every byte's position,
    // so a later error is where it is in the original.
    let upto = e.byte_in(input).saturating_add(12).min(input.len());
    // Not at the end unless it is: a pair cut at `upto` is not lone (and the
    // escape that stopped serde_json ends at least 6 bytes before `upto`).
    let end = upto == input.len();
    if lone_surrogates(&input[..upto], end, &mut Vec::new(), 1) != usize::MAX {
        return Err(e);
    }
    if !on(Item::Mended) {
        return Ok(());
    }
    let mut skip = handed;
    let rest = &mut |i: Item<'_>| {
        if skip > 0 {
            skip -= 1;
            true
        } else {
            on(i)
        }
    };
    if input.len() <= in_memory {
        let mut mended = Vec::with_capacity(input.len());
        if Mended::new(input).read_to_end(&mut mended).is_err() {
            return Err(e);
        }
        values(&mut serde_json::Deserializer::from_slice(&mended), rest)
    } else {
        // Not copied: read through serde's reader, whose error columns
        // are one further than the slice reader's for some errors.
        values(
            &mut serde_json::Deserializer::from_reader(Mended::new(input)),
            rest,
        )
    }
}

/// The largest input that is mended into a copy rather than read through a
/// mending reader (a piece of a document, a block of a stream; a whole file
/// is larger).
const MEND_IN_MEMORY: usize = 16 << 20;

/// Pushes to `lone` where each lone surrogate escape of `text` starts, and
/// returns how much of `text` is decided: all of it at the `end` of the
/// input, else up to an escape that the bytes still to come could change
/// (at most 12 bytes are left undecided). What is left starts after an even
/// run of backslashes, so it reads the same without what came before it.
/// Stops early, returning `usize::MAX`, once `lone` holds `limit` escapes.
fn lone_surrogates(text: &[u8], end: bool, lone: &mut Vec<usize>, limit: usize) -> usize {
    let escape = |at: usize| -> Option<u16> {
        let hex = text.get(at..at + 6)?.strip_prefix(b"\\u")?;
        hex.iter().all(u8::is_ascii_hexdigit).then(|| {
            hex.iter().fold(0, |v, &h| {
                v << 4 | (h as char).to_digit(16).unwrap_or(0) as u16
            })
        })
    };
    let backslashes_before =
        |at: usize| text[..at].iter().rev().take_while(|&&b| b == b'\\').count();
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(&text[from..], b"\\u") {
        let at = from + found;
        from = at + 2;
        // Escaped only when an odd run of backslashes ends at the `u`
        // (`\\u` is a backslash and a letter).
        if backslashes_before(at) % 2 == 1 {
            continue;
        }
        if !end && at + 12 > text.len() {
            return at;
        }
        match escape(at) {
            Some(0xd800..=0xdbff) => match escape(at + 6) {
                Some(0xdc00..=0xdfff) => from = at + 12,
                _ => lone.push(at),
            },
            Some(0xdc00..=0xdfff) => lone.push(at),
            _ => {}
        }
        if lone.len() >= limit {
            return usize::MAX;
        }
    }
    if end {
        text.len()
    } else {
        // An odd run of backslashes at the end may begin an escape.
        text.len() - backslashes_before(text.len()) % 2
    }
}

/// Rewrites the escapes [`lone_surrogates`] found.
fn mend(text: &mut [u8], lone: &[usize]) {
    for &at in lone {
        text[at + 2..at + 6].copy_from_slice(b"fffd");
    }
}

/// A reader that passes its input on with lone surrogate escapes mended, for
/// the one JSON value too large to parse as a slice.
struct Mended<R> {
    inner: R,
    buf: Vec<u8>,
    /// Where the next read starts in `buf`.
    start: usize,
    /// How much of `buf` is decided (mended and safe to hand out).
    decided: usize,
    lone: Vec<usize>,
    end: bool,
    /// Escapes mended so far.
    mends: usize,
}

impl<R: Read> Mended<R> {
    fn new(inner: R) -> Self {
        Mended {
            inner,
            buf: Vec::new(),
            start: 0,
            decided: 0,
            lone: Vec::new(),
            end: false,
            mends: 0,
        }
    }
}

impl<R: Read> Read for Mended<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.start == self.decided && !self.end {
            self.buf.drain(..self.start);
            // Nothing is decided until the read is (a read error returns
            // before it, and a read after one must not hand out old bytes).
            (self.start, self.decided) = (0, 0);
            let len = self.buf.len();
            self.buf.resize(len + (64 << 10), 0);
            let n = match self.inner.read(&mut self.buf[len..]) {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            };
            self.buf.truncate(len + n);
            self.end = n == 0;
            self.lone.clear();
            self.decided = lone_surrogates(&self.buf, self.end, &mut self.lone, usize::MAX);
            mend(&mut self.buf, &self.lone);
            self.mends += self.lone.len();
        }
        let n = out.len().min(self.decided - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

/// Calls `on` for every item of the JSON values read from `input`.
///
/// The input is read in blocks and cut after complete top-level values, and
/// each run of complete values is parsed as a slice: serde_json reads a slice
/// several times faster than a reader (which it takes a byte at a time). A
/// single value larger than [`MAX_VALUE`] is read through the reader instead,
/// so memory stays bounded whatever the input.
pub fn json_reader<R: Read>(
    input: R,
    on: &mut dyn FnMut(Item<'_>) -> bool,
) -> Result<(), JsonError> {
    json_reader_held(input, on, MAX_VALUE)
}

/// [`json_reader`], holding values of up to `max_value` bytes in memory.
fn json_reader_held<R: Read>(
    mut input: R,
    on: &mut dyn FnMut(Item<'_>) -> bool,
    max_value: usize,
) -> Result<(), JsonError> {
    let stopped = std::cell::Cell::new(false);
    let on = &mut |i: Item<'_>| {
        let go = on(i);
        stopped.set(stopped.get() || !go);
        go
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut cuts = Cuts::default();
    let mut lines_before = 0usize;
    let shift = |mut e: JsonError, lines: usize| {
        e.line += lines;
        e
    };
    loop {
        let start = buf.len();
        buf.resize(start + BLOCK, 0);
        let n = loop {
            match input.read(&mut buf[start..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    buf.truncate(start);
                    // What came whole before the error is still read.
                    let cut = cuts.scan(&buf);
                    json_slice(&buf[..cut], on).map_err(|e| shift(e, lines_before))?;
                    lines_before += memchr::memchr_iter(b'\n', &buf[..cut]).count();
                    return Err(JsonError {
                        line: lines_before + 1,
                        column: 1,
                        message: format!("read error: {e}"),
                    });
                }
            }
        };
        buf.truncate(start + n);
        if n == 0 {
            // The end: whatever is left must parse (or say where it does not).
            return json_slice(&buf, on).map_err(|e| shift(e, lines_before));
        }
        let cut = cuts.scan(&buf);
        if cut > 0 {
            json_slice(&buf[..cut], on).map_err(|e| shift(e, lines_before))?;
            if stopped.get() {
                return Ok(());
            }
            lines_before += memchr::memchr_iter(b'\n', &buf[..cut]).count();
            buf.drain(..cut);
            cuts.rebase(cut);
        }
        if buf.len() > max_value {
            let rest = std::io::Cursor::new(std::mem::take(&mut buf)).chain(input);
            let mut mended = Mended::new(rest);
            let res = values(&mut serde_json::Deserializer::from_reader(&mut mended), on);
            // Said after the value, as the reader mends ahead of the parse.
            if mended.mends > 0 && !stopped.get() {
                on(Item::Mended);
            }
            return res.map_err(|e| shift(e, lines_before));
        }
    }
}

/// Read size for [`json_reader`].
const BLOCK: usize = 1 << 20;
/// Largest top-level JSON value held in memory to be parsed as a slice.
pub const MAX_VALUE: usize = 64 << 20;

/// Finds where complete top-level JSON values end, across reads: after a
/// closing bracket back at depth zero, or a newline at depth zero, outside
/// strings.
#[derive(Default)]
struct Cuts {
    pos: usize,
    depth: usize,
    in_string: bool,
    escape: bool,
    last: usize,
}

impl Cuts {
    /// Scans what is new in `buf`; returns the last cut point (0: none).
    fn scan(&mut self, buf: &[u8]) -> usize {
        for (i, &b) in buf.iter().enumerate().skip(self.pos) {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                } else if b == b'\\' {
                    self.escape = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        self.last = i + 1;
                    }
                }
                b'\n' if self.depth == 0 => self.last = i + 1,
                _ => {}
            }
        }
        self.pos = buf.len();
        self.last
    }

    /// The first `cut` bytes were consumed.
    fn rebase(&mut self, cut: usize) {
        self.pos -= cut;
        self.last -= cut;
    }
}

fn values<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    on: &mut dyn FnMut(Item<'_>) -> bool,
) -> Result<(), JsonError> {
    loop {
        // Only whitespace is left: the clean end of the input. (A value cut
        // short by the end, even a bare string or literal, is an error.) A
        // read error is the input's: a reader may not say it twice.
        match de.end() {
            Ok(()) => return Ok(()),
            Err(e) if e.is_io() => return Err(json_error(&e)),
            Err(_) => {}
        }
        let seed = Value {
            on: &mut *on,
            control: false,
        };
        match seed.deserialize(&mut *de) {
            Ok(()) => {}
            Err(e) if e.to_string().starts_with(STOP) => return Ok(()),
            Err(e) => return Err(json_error(&e)),
        }
    }
}

/// serde_json's error as a [`JsonError`].
fn json_error(e: &serde_json::Error) -> JsonError {
    // serde_json's text ends with the position, which JsonError shows itself.
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    JsonError {
        line: e.line(),
        column: e.column(),
        message: text.strip_suffix(&suffix).unwrap_or(&text).to_string(),
    }
}

/// The error a visitor returns when `on` asks to stop (not shown to users).
const STOP: &str = "\u{0}stop";

/// Any top-level value: an envelope, an event, a message string, or an array of those.
struct Value<'o> {
    on: &'o mut dyn FnMut(Item<'_>) -> bool,
    control: bool,
}

impl<'de> DeserializeSeed<'de> for Value<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Value<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudWatch Logs JSON document")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        // Control envelopes say so in `messageType`, which may come after
        // `logEvents` when a tool rewrote the JSON; their message says so too.
        let control = self.control || v.starts_with("CWL CONTROL MESSAGE");
        let go = (self.on)(if control {
            Item::Control
        } else {
            Item::Message(v)
        });
        if go {
            Ok(())
        } else {
            Err(E::custom(STOP))
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Value {
                on: &mut *self.on,
                control: self.control,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut control = self.control;
        let mut any = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Message => {
                    any = true;
                    map.next_value_seed(Value {
                        on: &mut *self.on,
                        control,
                    })?
                }
                Key::Events => {
                    any = true;
                    map.next_value_seed(Value {
                        on: &mut *self.on,
                        control,
                    })?
                }
                Key::MessageType => {
                    let t: MessageType = map.next_value()?;
                    control = t.0;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !any && !(self.on)(Item::Foreign) {
            return Err(de::Error::custom(STOP));
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.foreign()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.foreign()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.foreign()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.foreign()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.foreign()
    }
}

impl Value<'_> {
    fn foreign<E: de::Error>(self) -> Result<(), E> {
        if (self.on)(Item::Foreign) {
            Ok(())
        } else {
            Err(E::custom(STOP))
        }
    }
}

/// The keys that matter; everything else is skipped unparsed.
enum Key {
    Message,
    Events,
    MessageType,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "message" => Key::Message,
                    "events" | "logEvents" => Key::Events,
                    "messageType" => Key::MessageType,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// Whether `messageType` says CONTROL_MESSAGE.
struct MessageType(bool);

impl<'de> de::Deserialize<'de> for MessageType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MessageType, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MessageType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message type")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MessageType, E> {
                Ok(MessageType(v == "CONTROL_MESSAGE"))
            }
        }
        d.deserialize_str(V)
    }
}

/// What a CSV export's row holds.
#[derive(Debug, PartialEq, Eq)]
pub enum CsvItem<'a> {
    /// The header row.
    Header,
    /// A row's message.
    Message(&'a [u8]),
    /// A row without a message column value (wrong width).
    Bad(usize),
}

/// Reads the CloudWatch console's CSV export (`timestamp,message`, any column
/// order, quoted or not), calling `on` for the header row and each row's
/// message. Fails if the header has no `message` column.
pub fn csv_reader<R: Read>(
    input: R,
    on: &mut dyn FnMut(CsvItem<'_>) -> bool,
) -> Result<(), String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let headers = rdr.byte_headers().map_err(|e| e.to_string())?.clone();
    let col = headers
        .iter()
        .position(|h| h.eq_ignore_ascii_case(b"message") || h.eq_ignore_ascii_case(b"@message"))
        .ok_or("CSV without a message column")?;
    if !on(CsvItem::Header) {
        return Ok(());
    }
    let mut row = csv::ByteRecord::new();
    loop {
        let go = match rdr.read_byte_record(&mut row) {
            Ok(false) => return Ok(()),
            Ok(true) => match row.get(col) {
                Some(m) => on(CsvItem::Message(m)),
                None => on(CsvItem::Bad(row.len())),
            },
            Err(e) => {
                let at = e
                    .position()
                    .map_or(String::new(), |p| format!(" at line {}", p.line()));
                return Err(format!("invalid CSV{at}: {e}"));
            }
        };
        if !go {
            return Ok(());
        }
    }
}

/// Input formats a file can have.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Space-separated text lines.
    Text,
    /// CloudWatch Logs JSON.
    Json,
    /// The console's CSV export.
    Csv,
}

/// The text from its first byte that is not a byte-order mark or white space.
pub(crate) fn significant(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    &head[start..]
}

/// Tells the shape of text from its first bytes: JSON starts with `{` or `[`;
/// the CSV export's first line names a `message` column.
pub fn sniff(head: &[u8]) -> Shape {
    let head = significant(head);
    match head.first() {
        Some(b'{') | Some(b'[') => return Shape::Json,
        None => return Shape::Text,
        _ => {}
    }
    let first = head.split(|&b| b == b'\n').next().unwrap_or(head);
    let first = first.strip_suffix(b"\r").unwrap_or(first);
    let cols: Vec<Vec<u8>> = first
        .split(|&b| b == b',')
        .map(|c| {
            c.iter()
                .filter(|&&b| b != b'"')
                .map(u8::to_ascii_lowercase)
                .collect()
        })
        .collect();
    if cols.len() >= 2 && cols.iter().any(|c| c == b"message" || c == b"@message") {
        Shape::Csv
    } else {
        Shape::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A reader that returns a few bytes at a time.
    struct Dribble<'a>(&'a [u8], usize);
    impl Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.1.min(out.len()).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    proptest! {
        /// Mended as a stream, in reads of any size, the text is what it
        /// is mended whole.
        #[test]
        fn streamed_mends_are_whole_mends(
            text in prop::collection::vec(
                prop::sample::select(vec![
                    "\\", "\\u", "d83d", "de00", "dbff", "dc00", "0041", "u", "\"", "x",
                ]),
                0..40,
            ),
            step in 1usize..16,
        ) {
            let text = text.concat().into_bytes();
            let mut whole = text.clone();
            let mut lone = Vec::new();
            lone_surrogates(&text, true, &mut lone, usize::MAX);
            mend(&mut whole, &lone);
            let mut streamed = Vec::new();
            Mended::new(Dribble(&text, step)).read_to_end(&mut streamed).unwrap();
            prop_assert_eq!(streamed, whole);
        }
    }

    /// The items of a document as text (a mend as `<mended>`), and how it ended.
    fn collect(
        read: impl FnOnce(&mut dyn FnMut(Item<'_>) -> bool) -> Result<(), JsonError>,
    ) -> (Vec<String>, Result<(), JsonError>) {
        let mut out = Vec::new();
        let res = read(&mut |i| {
            out.push(match i {
                Item::Message(m) => m.to_string(),
                Item::Control => "<control>".into(),
                Item::Foreign => "<foreign>".into(),
                Item::Mended => "<mended>".into(),
            });
            true
        });
        (out, res)
    }

    /// The items without the mends, and whether there was one.
    fn unmended(items: &[String]) -> (Vec<String>, bool) {
        let kept: Vec<String> = items.iter().filter(|m| *m != "<mended>").cloned().collect();
        let mended = kept.len() < items.len();
        (kept, mended)
    }

    /// The items of a document, the same by every path that reads one.
    /// A mend is said before the first item it may change, or (through
    /// serde's reader) after the value: the paths agree on whether there
    /// was one, unless the document is invalid.
    fn items(json: &str) -> (Vec<String>, Result<(), JsonError>) {
        items_mended(json).0
    }

    /// [`items`], and whether a mend was said.
    fn items_mended(json: &str) -> ((Vec<String>, Result<(), JsonError>), bool) {
        let doc = json.as_bytes();
        let (out, res) = collect(|on| json_slice(doc, on));
        let (out, said) = unmended(&out);
        // Mended through a reader, as a damaged input too large to copy is
        // (whose error columns may differ: serde's readers count them apart).
        let (mended, mended_res) = collect(|on| json_slice_mending(doc, on, 0));
        assert_eq!((out.clone(), said), unmended(&mended));
        assert_eq!(
            res.as_ref().map_err(|e| e.line),
            mended_res.as_ref().map_err(|e| e.line)
        );
        // As a stream: held in memory, and read through serde's reader (as a
        // value too large to hold is).
        for (max_value, step) in [(MAX_VALUE, usize::MAX), (0, 3)] {
            let got = collect(|on| json_reader_held(Dribble(doc, step), on, max_value));
            let (got_items, got_said) = unmended(&got.0);
            assert_eq!((&out, &res), (&got_items, &got.1), "{max_value}");
            if res.is_ok() {
                assert_eq!(said, got_said, "{max_value}");
            }
        }
        ((out, res), said)
    }

    #[test]
    fn every_cloudwatch_shape() {
        let (m, r) = items(
            r#"{"events":[{"timestamp":1,"message":"a b"},{"message":"c\"d"}],"nextToken":"x"}"#,
        );
        assert_eq!(m, ["a b", "c\"d"]);
        assert!(r.is_ok());
        let (m, _) = items(
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","logStream":"eni-1","logEvents":[{"id":"1","timestamp":2,"message":"x"}]}{"messageType":"CONTROL_MESSAGE","logEvents":[{"message":"CWL CONTROL MESSAGE"}]}"#,
        );
        assert_eq!(m, ["x", "<control>"]);
        let (m, _) = items(
            r#"{"logEvents":[{"message":"CWL CONTROL MESSAGE: health"}],"messageType":"CONTROL_MESSAGE"}"#,
        );
        assert_eq!(m, ["<control>"]);
        let (m, _) = items("{\"message\":\"l1\"}\n{\"message\":\"l2\"}\n\n");
        assert_eq!(m, ["l1", "l2"]);
        let (m, _) = items(r#"[{"message":"a"},{"events":[{"message":"b"}]}] 42 {"other":1}"#);
        assert_eq!(m, ["a", "b", "<foreign>", "<foreign>"]);
        let (m, r) = items("");
        assert!(m.is_empty() && r.is_ok());
    }

    /// Whitespace after the last value is the end; a value the end cuts
    /// short, of any kind, is an error (a bare string was read as the end).
    #[test]
    fn a_value_cut_by_the_end_is_an_error() {
        let (m, r) = items("{\"message\":\"a\"} \n\t\r\n");
        assert_eq!(m, ["a"]);
        assert!(r.is_ok());
        // What came whole before the end is handed out, as before any error.
        let cuts: [(&str, &[&str]); 5] = [
            ("\"2 1 eni", &["a"]),
            ("tru", &["a"]),
            ("[\"b\"", &["a", "b"]),
            ("{\"message\":\"b", &["a"]),
            ("\"x\\", &["a"]),
        ];
        for (cut, before) in cuts {
            let (m, r) = items(&format!("{{\"message\":\"a\"}}\n{cut}"));
            assert_eq!(m, before, "{cut}");
            let e = r.expect_err(cut);
            assert_eq!(e.line, 2, "{cut}");
            assert!(e.message.contains("EOF"), "{cut}: {e}");
        }
    }

    /// A read error where only whitespace was left is the reader's error,
    /// not a value cut short: a reader (a gzip member's trailer, say) says
    /// it once and then reads as the end.
    #[test]
    fn a_read_error_after_the_last_value_is_the_readers() {
        struct Failing<'a>(&'a [u8], bool);
        impl Read for Failing<'_> {
            fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
                if !self.0.is_empty() {
                    let n = out.len().min(self.0.len());
                    out[..n].copy_from_slice(&self.0[..n]);
                    self.0 = &self.0[n..];
                    Ok(n)
                } else if std::mem::replace(&mut self.1, true) {
                    Ok(0)
                } else {
                    Err(std::io::Error::other("disk on fire"))
                }
            }
        }
        // Spaces after the value: what is left past the last whole value
        // is read through serde's reader (a value over the limit, here 0).
        let doc = br#"{"message":"a"}  "#;
        let (m, r) = collect(|on| json_reader_held(Failing(doc, false), on, 0));
        assert_eq!(m, ["a"]);
        let e = r.unwrap_err();
        assert!(e.message.contains("disk on fire"), "{e}");
        // The mending reader, read again after the error, reads as the end
        // (it handed out bytes of its earlier buffer, past its end).
        let mut mended = Mended::new(Failing(doc, false));
        let mut out = Vec::new();
        assert!(mended.read_to_end(&mut out).is_err());
        assert_eq!(out, doc);
        assert_eq!(mended.read(&mut [0; 64]).unwrap(), 0);
    }

    #[test]
    fn reader_blocks_cut_at_value_boundaries() {
        // Values straddling every possible block boundary.
        let text = r#"{"message":"a } ] \" {"} [{"message":"b"},{"events":[{"message":"c\n"}]}]
{"message":"d"} "e" 7"#;
        for step in [1, 2, 3, 7, 1000] {
            let mut got = Vec::new();
            json_reader(Dribble(text.as_bytes(), step), &mut |i| {
                got.push(format!("{i:?}"));
                true
            })
            .unwrap();
            assert_eq!(
                got,
                [
                    "Message(\"a } ] \\\" {\")",
                    "Message(\"b\")",
                    "Message(\"c\\n\")",
                    "Message(\"d\")",
                    "Message(\"e\")",
                    "Foreign"
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn the_callback_can_stop_the_reader() {
        let text = r#"{"events":[{"message":"a"},{"message":"b"},{"message":"c"}]} "d""#;
        let mut got = 0;
        json_slice(text.as_bytes(), &mut |_| {
            got += 1;
            got < 2
        })
        .unwrap();
        assert_eq!(got, 2);
        let mut got = 0;
        json_reader(text.as_bytes(), &mut |_| {
            got += 1;
            got < 2
        })
        .unwrap();
        assert_eq!(got, 2);
    }

    #[test]
    fn invalid_json_keeps_what_came_before_and_says_where() {
        let (m, r) = items("{\"message\":\"ok\"}\n{\"message\": oops}");
        assert_eq!(m, ["ok"]);
        let e = r.unwrap_err();
        assert_eq!((e.line, e.column), (2, 13));
        let (m, r) = items(r#"{"events":[{"message":"a"},{"message":"b"#);
        assert_eq!(m, ["a"]);
        assert!(r.is_err());
    }

    #[test]
    fn lone_surrogates_are_read_as_replacement_characters() {
        let ((m, r), said) = items_mended(concat!(
            r#"{"message":"first"}"#,
            r#"{"message":"a\ud800b"}"#,
            r#"{"message":"\udc00"}"#,
            r#"{"message":"\ud83d\ude00"}"#,
            r#"{"message":"\uD800\uD83D\uDE00\uDBFF"}"#,
            r#"{"message":"\\ud800 \\\ud800"}"#,
            r#"{"message":"end"}"#,
        ));
        r.unwrap();
        assert_eq!(
            m,
            [
                "first",
                "a\u{fffd}b",
                "\u{fffd}",
                "\u{1f600}",
                "\u{fffd}\u{1f600}\u{fffd}",
                "\\ud800 \\\u{fffd}",
                "end"
            ]
        );
        assert!(said, "a mend is said");
        // Pairs, and escaped backslashes before `u`, are no mend.
        let ((m, _), said) =
            items_mended(r#"{"message":"\\ud800 \ud83d\ude00"}{"message":"\\\\ud800"}"#);
        assert_eq!(m, ["\\ud800 \u{1f600}", "\\\\ud800"]);
        assert!(!said);
        // Positions of later errors are unchanged by the mend.
        let (m, r) = items("{\"message\":\"\\ud800\"}\n{\"message\": oops}");
        assert_eq!(m, ["\u{fffd}"]);
        let e = r.unwrap_err();
        assert_eq!((e.line, e.column), (2, 13));
        // A pair just after a real error is no reason to read again (which,
        // through serde's reader, would move the error's column).
        let doc = br#"{"messageType":5,"\ud83d\ude00":1}"#;
        let (_, slice) = collect(|on| json_slice_mending(doc, on, 0));
        assert_eq!(slice.unwrap_err().column, 16);
        // A bad escape that is not a surrogate is still an error.
        assert!(items(r#"{"message":"\u12"}"#).1.is_err());
    }

    #[test]
    fn slices_borrow_messages_without_escapes() {
        let input = br#"{"message":"plain"}"#;
        let mut borrowed = false;
        json_slice(input, &mut |i| {
            if let Item::Message(m) = i {
                let r = input.as_ptr_range();
                borrowed = r.contains(&m.as_ptr());
            }
            true
        })
        .unwrap();
        assert!(borrowed);
    }

    #[test]
    fn csv_export() {
        let text = "timestamp,message\n1709000000000,2 123 eni-1 - - - - - - - 1 2 - NODATA\n\"1709000000001\",\"2 123 eni-2 x\"\n";
        let mut got = Vec::new();
        csv_reader(text.as_bytes(), &mut |i| {
            got.push(match i {
                CsvItem::Header => "<h>".to_string(),
                CsvItem::Message(m) => String::from_utf8_lossy(m).into_owned(),
                CsvItem::Bad(n) => format!("<bad {n}>"),
            });
            true
        })
        .unwrap();
        assert_eq!(
            got,
            [
                "<h>",
                "2 123 eni-1 - - - - - - - 1 2 - NODATA",
                "2 123 eni-2 x"
            ]
        );
        assert!(csv_reader("a,b\n1,2\n".as_bytes(), &mut |_| true).is_err());
    }

    #[test]
    fn shapes() {
        assert_eq!(sniff(b"  \n{\"events\":[]}"), Shape::Json);
        assert_eq!(sniff(b"[1]"), Shape::Json);
        assert_eq!(sniff(b"timestamp,message\n1,x"), Shape::Csv);
        assert_eq!(sniff(b"\"timestamp\",\"message\"\r\n"), Shape::Csv);
        assert_eq!(sniff(b"version account-id\n2 1"), Shape::Text);
        assert_eq!(sniff(b""), Shape::Text);
    }
}
