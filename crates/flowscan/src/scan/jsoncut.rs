//! Cutting a JSON document into pieces that can be parsed apart, on the
//! worker threads: between top-level values, and between the elements of a
//! large `events`/`logEvents` array (a `filter-log-events` page is one object
//! holding one array of millions of events).
//!
//! The cut needs only where strings are and how deep each bracket is, found
//! 64 bytes at a time with the quote bits and a prefix XOR (a block with a
//! backslash is walked byte by byte); no value is decoded here. Parsing is
//! left to the pieces' readers, which is why a piece is always something
//! serde can read from its first byte: complete top-level values, array
//! elements (read inside brackets), or the object around a cut-out array with
//! the array left empty (a *shell*, so that its other keys are still read).

use std::sync::Arc;

use crate::source::Data;

/// What a piece holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Complete top-level values.
    Values,
    /// Elements of an array, each followed by its comma, the last by a comma
    /// or the array's closing bracket; `first` when they follow the opening one.
    Elements { first: bool },
}

/// Where a piece's own bytes start in the document, for error positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    /// Offset of the first own byte.
    pub byte: u64,
    /// 1-based line of the first own byte.
    pub line: u64,
    /// Bytes before it on its line.
    pub column: u64,
    /// Bytes put in front of the own bytes (a shell's opening).
    pub synth: usize,
}

/// A part of a JSON document that can be read alone.
pub(crate) struct Piece<'a> {
    pub data: Data<'a>,
    pub kind: Kind,
    pub at: At,
}

const START: At = At {
    byte: 0,
    line: 1,
    column: 0,
    synth: 0,
};

/// The opening of a shell after its array: the key stays, so the object still
/// holds events (and is not read as a value without a message).
const SUFFIX_OPEN: &[u8] = b"{\"events\":[]";

/// An array whose elements may be cut apart.
struct Array {
    open: usize,
    /// Depth inside it.
    inner: i64,
    /// It is the value of a key of a top-level object (else a top-level array).
    in_object: bool,
    /// Its elements are being cut out (the array turned out large).
    cut: bool,
    /// Start of the elements not yet handed out.
    from: Mark,
}

/// An offset and where it is.
#[derive(Clone, Copy)]
struct Mark {
    i: usize,
    at: At,
}

struct Cutter<'d, 'a, 'e> {
    doc: &'d Data<'a>,
    size: usize,
    emit: &'e mut dyn FnMut(Piece<'a>) -> bool,
    go: bool,
    /// Start of the top-level values not yet handed out.
    from: Mark,
    /// Start of the current top-level value.
    value: Mark,
    array: Option<Array>,
    /// An object whose array was cut out: where its rest starts (at the `]`).
    suffix: Option<Mark>,
    depth: i64,
    /// Newlines before the current block, and the offset of the last one.
    lines: u64,
    last_nl: Option<usize>,
    /// Newline bits of the current block, and its offset.
    nl_bits: u64,
    base: usize,
}

impl<'a> Cutter<'_, 'a, '_> {
    /// Offset `i` (in the current block, or just after it) and where it is.
    fn mark(&self, i: usize) -> Mark {
        let k = i - self.base;
        let below = if k >= 64 {
            self.nl_bits
        } else {
            self.nl_bits & ((1u64 << k) - 1)
        };
        let last = if below != 0 {
            Some(self.base + 63 - below.leading_zeros() as usize)
        } else {
            self.last_nl
        };
        Mark {
            i,
            at: At {
                byte: i as u64,
                line: self.lines + u64::from(below.count_ones()) + 1,
                column: (i - last.map_or(0, |l| l + 1)) as u64,
                synth: 0,
            },
        }
    }

    fn send(&mut self, from: Mark, to: usize, kind: Kind) {
        if !self.go || (kind == Kind::Values && is_blank(&self.doc[from.i..to])) {
            return;
        }
        let data = self.doc.slice(from.i..to);
        self.go = (self.emit)(Piece {
            data,
            kind,
            at: from.at,
        });
    }

    fn send_shell(&mut self, before: &[u8], from: Mark, to: usize, after: &[u8]) {
        if !self.go {
            return;
        }
        let mut v = Vec::with_capacity(before.len() + (to - from.i) + after.len());
        v.extend_from_slice(before);
        v.extend_from_slice(&self.doc[from.i..to]);
        v.extend_from_slice(after);
        let piece = Piece {
            data: Data::owned(Arc::new(v)),
            kind: Kind::Values,
            at: At {
                synth: before.len(),
                ..from.at
            },
        };
        self.go = (self.emit)(piece);
    }

    fn open(&mut self, i: usize, bracket: u8) {
        if self.depth == 0 {
            self.value = self.mark(i);
        }
        let events_array = bracket == b'['
            && self.array.is_none()
            && self.suffix.is_none()
            && (self.depth == 0
                || (self.depth == 1
                    && self.doc[self.value.i] == b'{'
                    && events_key(self.doc, i)
                    && !may_be_control(&self.doc[self.value.i..i])));
        if events_array {
            self.array = Some(Array {
                open: i,
                inner: self.depth + 1,
                in_object: self.depth == 1,
                cut: false,
                from: self.mark(i + 1),
            });
        }
        self.depth += 1;
    }

    fn close(&mut self, i: usize) {
        self.depth -= 1;
        if let Some(a) = self.array.take_if(|a| a.inner == self.depth + 1) {
            if a.cut {
                if self.doc[i] != b']' {
                    // A mismatched bracket: the rest is read in one piece,
                    // for its reader to say what is wrong and where.
                    self.rest_of_array(&a, self.doc.len());
                    self.go = false;
                    return;
                }
                self.send(a.from, i + 1, Kind::Elements { first: false });
                if a.in_object {
                    // The rest of the object is read as a shell.
                    self.suffix = Some(self.mark(i + 1));
                } else {
                    // The closing bracket ends the value.
                    self.from = self.mark(i + 1);
                    return;
                }
            }
        }
        if self.depth == 0 {
            if let Some(s) = self.suffix.take() {
                self.send_shell(SUFFIX_OPEN, s, i + 1, b"");
                self.from = self.mark(i + 1);
            } else if i + 1 - self.from.i >= self.size {
                self.send(self.from, i + 1, Kind::Values);
                self.from = self.mark(i + 1);
            }
        }
    }

    /// The rest of a cut array, from its next element to `end`, as one piece
    /// that leaves its reader where a reader of the whole document would be:
    /// inside the array, after a comma.
    fn rest_of_array(&mut self, a: &Array, end: usize) {
        let open: &[u8] = if a.in_object {
            b"{\"events\":[[],"
        } else {
            b"[[],"
        };
        self.send_shell(open, a.from, end, b"");
    }

    fn comma(&mut self, i: usize) {
        let Some(a) = self.array.as_ref().filter(|a| a.inner == self.depth) else {
            return;
        };
        let (cut, from, open, in_object) = (a.cut, a.from, a.open, a.in_object);
        if cut {
            if i - from.i >= self.size {
                self.send(from, i + 1, Kind::Elements { first: false });
                let next = self.mark(i + 1);
                if let Some(a) = self.array.as_mut() {
                    a.from = next;
                }
            }
        } else if i - self.from.i >= self.size {
            // Large: hand out what came before the array, then its elements.
            if in_object {
                self.send(self.from, self.value.i, Kind::Values);
                self.send_shell(b"", self.value, open + 1, b"]}");
            } else {
                self.send(self.from, open, Kind::Values);
            }
            self.send(from, i + 1, Kind::Elements { first: true });
            let next = self.mark(i + 1);
            if let Some(a) = self.array.as_mut() {
                a.cut = true;
                a.from = next;
            }
        }
    }

    /// Whether a block (at `base`, with these unquoted brackets) inside a cut
    /// array can be passed over by counting its brackets: it cannot close the
    /// array, and no element in it can end a piece. This is the usual block
    /// of a large `events` array, so the cut costs little more than the scan.
    #[inline(always)]
    fn skips(&mut self, base: usize, opens: u64, closes: u64) -> bool {
        let Some(a) = self.array.as_ref().filter(|a| a.cut) else {
            return false;
        };
        let (o, c) = (
            i64::from(opens.count_ones()),
            i64::from(closes.count_ones()),
        );
        if base + 64 - a.from.i >= self.size || self.depth - c < a.inner {
            return false;
        }
        self.depth += o - c;
        true
    }

    fn structural(&mut self, i: usize) {
        match self.doc[i] {
            b @ (b'{' | b'[') => self.open(i, b),
            b'}' | b']' => self.close(i),
            b',' => self.comma(i),
            _ => {}
        }
    }

    /// What is left once every block is read.
    fn finish(&mut self, end: usize) {
        if let Some(a) = self.array.take().filter(|a| a.cut) {
            // The document ends inside the array.
            self.rest_of_array(&a, end);
        } else if let Some(s) = self.suffix.take() {
            self.send_shell(SUFFIX_OPEN, s, end, b"");
        } else {
            self.send(self.from, end, Kind::Values);
        }
    }
}

fn is_blank(b: &[u8]) -> bool {
    b.iter().all(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
}

/// Whether an object's text before its events array may say
/// `"messageType":"CONTROL_MESSAGE"` (plainly or with escapes): its events
/// are control messages, which only a reader of the whole object knows, so
/// such an array is never cut out of its object.
fn may_be_control(prefix: &[u8]) -> bool {
    memchr::memmem::find(prefix, b"CONTROL").is_some()
        || memchr::memmem::find(prefix, b"\\u").is_some()
}

/// Whether the `[` at `i` opens the value of a key `events` or `logEvents`
/// (written without escapes, as CloudWatch writes them).
fn events_key(doc: &[u8], i: usize) -> bool {
    let before = doc[..i].trim_ascii_end();
    let Some(before) = before.strip_suffix(b":") else {
        return false;
    };
    let before = before.trim_ascii_end();
    [&b"\"events\""[..], b"\"logEvents\""].iter().any(|k| {
        before.ends_with(k) && before.len() > k.len() && {
            // The key's opening quote must not be an escaped one.
            let q = before.len() - k.len();
            doc[q - 1] != b'\\'
        }
    })
}

/// The bytes of a 64-byte block that matter to the cut, one bit per byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Masks {
    nl: u64,
    backslash: u64,
    quote: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
    comma: u64,
}

/// Classifies a block. `{`/`[` and `}`/`]` differ only in bit 0x20, so one
/// comparison after setting that bit finds each pair.
#[inline(always)]
fn classify(block: &[u8; 64]) -> Masks {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
            _mm_set1_epi8,
        };
        let mut m = [0u64; 6];
        for k in 0..4 {
            // SAFETY: SSE2 is part of every x86_64 target (the cfg above); the
            // unaligned load reads 16 bytes at 16 * k, inside the 64-byte block.
            unsafe {
                let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
                let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
                let eq = |x: __m128i, b: u8| {
                    u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(b as i8))) as u16)
                };
                m[0] |= eq(v, b'\n') << (16 * k);
                m[1] |= eq(v, b'\\') << (16 * k);
                m[2] |= eq(v, b'"') << (16 * k);
                m[3] |= eq(folded, b'{') << (16 * k);
                m[4] |= eq(folded, b'}') << (16 * k);
                m[5] |= eq(v, b',') << (16 * k);
            }
        }
        Masks {
            nl: m[0],
            backslash: m[1],
            quote: m[2],
            open: m[3],
            close: m[4],
            comma: m[5],
        }
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    {
        let bits = |f: &dyn Fn(u8) -> bool| {
            block
                .iter()
                .enumerate()
                .fold(0u64, |bits, (k, &c)| bits | (u64::from(f(c)) << k))
        };
        Masks {
            nl: bits(&|c| c == b'\n'),
            backslash: bits(&|c| c == b'\\'),
            quote: bits(&|c| c == b'"'),
            open: bits(&|c| c | 0x20 == b'{'),
            close: bits(&|c| c | 0x20 == b'}'),
            comma: bits(&|c| c == b','),
        }
    }
}

/// Bit `k` set where an odd number of bits `0..=k` of `x` are set: from
/// quote bits, the bytes from an opening quote up to (not including) its
/// closing one.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    for s in [1, 2, 4, 8, 16, 32] {
        x ^= x << s;
    }
    x
}

/// The structural bits of a block that holds a backslash (or starts inside
/// an escape), found byte by byte: the quote masks cannot tell an escaped
/// quote from one that ends a string.
#[inline]
fn escaped_block(block: &[u8], in_string: &mut bool, escape: &mut bool) -> u64 {
    let mut bits = 0u64;
    for (k, &b) in block.iter().enumerate() {
        if *escape {
            *escape = false;
        } else if *in_string {
            match b {
                b'\\' => *escape = true,
                b'"' => *in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => *in_string = true,
                b'{' | b'}' | b'[' | b']' | b',' => bits |= 1 << k,
                _ => {}
            }
        }
    }
    bits
}

/// Calls `emit` with the pieces of `doc`, in order, each about `size` bytes
/// or more (a value or element is never cut), until it returns false.
pub(crate) fn cut<'a>(doc: &Data<'a>, size: usize, emit: &mut dyn FnMut(Piece<'a>) -> bool) {
    let mut c = Cutter {
        doc,
        size: size.max(1),
        emit,
        go: true,
        from: Mark { i: 0, at: START },
        value: Mark { i: 0, at: START },
        array: None,
        suffix: None,
        depth: 0,
        lines: 0,
        last_nl: None,
        nl_bits: 0,
        base: 0,
    };
    let bytes: &[u8] = doc;
    let (mut in_string, mut escape) = (false, false);
    let mut base = 0;
    while base < bytes.len() && c.go {
        let n = (bytes.len() - base).min(64);
        let mut tail = [b' '; 64];
        crate::parse::prefetch(bytes, base + crate::parse::PREFETCH);
        let block: &[u8; 64] = match bytes[base..].first_chunk() {
            Some(b) => b,
            None => {
                tail[..n].copy_from_slice(&bytes[base..]);
                &tail
            }
        };
        let m = classify(block);
        let (nl, backslash) = (m.nl, m.backslash);
        let structural = if backslash == 0 && !escape {
            let quotes = m.quote;
            let mut inside = prefix_xor(quotes);
            if in_string {
                inside = !inside;
            }
            in_string = inside >> 63 == 1;
            let opens = m.open & !inside;
            let closes = m.close & !inside;
            if c.skips(base, opens, closes) {
                c.lines += u64::from(nl.count_ones());
                if nl != 0 {
                    c.last_nl = Some(base + 63 - nl.leading_zeros() as usize);
                }
                base += 64;
                continue;
            }
            opens | closes | (m.comma & !inside)
        } else {
            escaped_block(&block[..n], &mut in_string, &mut escape)
        };
        c.nl_bits = nl;
        c.base = base;
        let mut s = structural;
        while s != 0 && c.go {
            let k = s.trailing_zeros() as usize;
            s &= s - 1;
            c.structural(base + k);
        }
        if nl != 0 {
            c.last_nl = Some(base + 63 - nl.leading_zeros() as usize);
        }
        c.lines += u64::from(nl.count_ones());
        c.nl_bits = 0;
        base += 64;
    }
    if c.go {
        c.base = bytes.len();
        c.nl_bits = 0;
        c.finish(bytes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(doc: &str, size: usize) -> Vec<(Kind, String, At)> {
        let mut out = Vec::new();
        cut(&Data::Borrowed(doc.as_bytes()), size, &mut |p| {
            out.push((p.kind, String::from_utf8(p.data.to_vec()).unwrap(), p.at));
            true
        });
        out
    }

    #[test]
    fn a_large_events_array_is_cut_between_elements() {
        let doc = r#"{"messageType":"X","events":[{"message":"a"},{"message":"b,}]"},{"message":"c"}],"searchedLogStreams":[]}"#;
        let p = pieces(doc, 1);
        let texts: Vec<_> = p.iter().map(|(k, t, _)| (*k, t.as_str())).collect();
        assert_eq!(
            texts,
            [
                (Kind::Values, r#"{"messageType":"X","events":[]}"#),
                (Kind::Elements { first: true }, r#"{"message":"a"},"#),
                (Kind::Elements { first: false }, r#"{"message":"b,}]"},"#),
                (Kind::Elements { first: false }, r#"{"message":"c"}]"#),
                (Kind::Values, r#"{"events":[],"searchedLogStreams":[]}"#),
            ]
        );
        // The suffix shell's own bytes start after the `]`.
        assert_eq!(p[4].2.byte as usize, doc.find(",\"search").unwrap());
        assert_eq!(p[4].2.synth, SUFFIX_OPEN.len());
    }

    #[test]
    fn small_documents_are_one_piece_and_values_are_cut_between() {
        let doc = "{\"message\":\"a\"}\n{\"message\":\"b\"}\n";
        assert_eq!(pieces(doc, 1 << 20).len(), 1);
        let p = pieces(doc, 1);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].1, "\n{\"message\":\"b\"}");
        assert_eq!(p[1].2.line, 1);
        assert_eq!(p[1].2.column, 15);
        let top = r#"[{"message":"a"},{"message":"b"}] 7"#;
        let texts: Vec<_> = pieces(top, 1).into_iter().map(|(k, t, _)| (k, t)).collect();
        assert_eq!(
            texts,
            [
                (
                    Kind::Elements { first: true },
                    r#"{"message":"a"},"#.to_string()
                ),
                (
                    Kind::Elements { first: false },
                    r#"{"message":"b"}]"#.to_string()
                ),
                (Kind::Values, " 7".to_string()),
            ]
        );
    }

    #[test]
    fn escapes_and_keys_that_only_look_like_events() {
        // An escaped quote inside a string, across a block boundary.
        let long = "x".repeat(60);
        let doc = format!(
            r#"{{"a\"events":[1,2],"events":[{{"message":"{long}\"]}},"}},{{"message":"q"}}]}}"#
        );
        let p = pieces(&doc, 1);
        let elements: Vec<_> = p
            .iter()
            .filter(|(k, ..)| matches!(k, Kind::Elements { .. }))
            .collect();
        assert_eq!(elements.len(), 2, "{p:?}");
        assert!(elements[0].1.ends_with(r#"\"]},"},"#), "{p:?}");
    }

    #[test]
    fn positions_count_lines_and_columns() {
        let doc = "{\"events\": [\n  {\"message\": \"a\"},\n  {\"message\": \"b\"}\n]}";
        let p = pieces(doc, 1);
        let b = p.iter().find(|(_, t, _)| t.contains("\"b\"")).unwrap();
        assert_eq!(
            b.2.byte as usize,
            doc.find(",\n  {\"message\": \"b").unwrap() + 1
        );
        assert_eq!((b.2.line, b.2.column), (2, 19));
    }

    #[test]
    fn the_bit_masks_agree_with_a_byte_walk() {
        let mut seed = 7u64;
        for _ in 0..2000 {
            let mut block = [0u8; 64];
            for b in &mut block {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                // Half from the bytes that matter, half any byte at all.
                let r = (seed >> 33) as usize;
                *b = if r.is_multiple_of(2) {
                    b"{}[],\"\\ a\n"[r / 2 % 10]
                } else {
                    (r >> 8) as u8
                };
            }
            let want = |f: &dyn Fn(u8) -> bool| {
                block
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (k, &b)| m | (u64::from(f(b)) << k))
            };
            let m = classify(&block);
            assert_eq!(m.nl, want(&|b| b == b'\n'));
            assert_eq!(m.backslash, want(&|b| b == b'\\'));
            assert_eq!(m.quote, want(&|b| b == b'"'));
            assert_eq!(m.open, want(&|b| b == b'{' || b == b'['));
            assert_eq!(m.close, want(&|b| b == b'}' || b == b']'));
            assert_eq!(m.comma, want(&|b| b == b','));
            let q = m.quote;
            let mut inside = false;
            for k in 0..64 {
                inside ^= q >> k & 1 == 1;
                assert_eq!(prefix_xor(q) >> k & 1 == 1, inside);
            }
        }
    }
}
