//! CloudWatch Logs exports into blocks of messages, one per line, with marker
//! lines for what is not a record.

use std::io::{self, Read};
use std::sync::Arc;

use crate::cloudwatch::{self, CsvItem, Item};
use crate::source::Data;

use super::block::{Block, Body, End, Flow};
use super::lines::marker;
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
            let body = Body::Messages(Data::Owned(Arc::new(std::mem::take(&mut self.buf))));
            self.flow = (self.push)(Block { body, byte0: None });
        }
    }

    fn item(&mut self, i: Item<'_>) -> bool {
        match i {
            Item::Message(m) => self.message(m.as_bytes()),
            Item::Control => self.marker(marker::CONTROL, b""),
            Item::Foreign => self.marker(marker::FOREIGN, b""),
        }
    }
}

fn json_error(e: cloudwatch::JsonError, whole: Option<&[u8]>) -> String {
    let offset = whole.map(|b| {
        // The start of the error's line, then its column.
        let start = if e.line <= 1 {
            0
        } else {
            memchr::memchr_iter(b'\n', b)
                .nth(e.line - 2)
                .map_or(b.len(), |i| i + 1)
        };
        format!(" (byte {})", start + e.column.saturating_sub(1))
    });
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
