//! Text into blocks: a slice cut at line ends without copying, a stream read
//! with its partial last line carried from block to block.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::sync::Arc;

use crate::source::Data;

use super::block::{Block, Body, End, Flow, Options};
use super::rules::{marker, MAX_LINE};

/// Cuts text in memory into blocks of about `opts.block` bytes at line ends.
pub(super) fn slice_text<'a>(
    data: Data<'a>,
    opts: &Options<'_>,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let mut start = 0;
    let len = data.len();
    while start < len {
        let target = start + opts.block;
        let end = if target >= len {
            len
        } else {
            memchr::memchr(b'\n', &data[target..]).map_or(len, |i| target + i + 1)
        };
        let block = Block {
            body: Body::Text(data.slice(start..end)),
            byte0: Some(start as u64),
        };
        (opts.progress)((end - start) as u64);
        start = end;
        if push(block) == Flow::Stop {
            break;
        }
    }
    End {
        decoded: len as u64,
        ..End::default()
    }
}

/// How a fill of the buffer ended.
enum Fill {
    Full,
    Eof,
    Error(io::Error),
}

/// A stream read into line-aligned blocks, with the partial last line
/// carried in `buf`.
struct LineBlocks<'r> {
    r: Box<dyn Read + Send + 'r>,
    size: usize,
    /// Bytes read are `buf[..filled]`; past that, `buf` holds bytes of an
    /// earlier use, kept so that it need not be zeroed before each read.
    buf: Vec<u8>,
    filled: usize,
    decoded: u64,
    /// Dropping a line too long to keep, up to its end.
    skipping_long: bool,
    /// Blocks handed out, oldest first, held so that their buffers can be
    /// used again once the workers are done with them: a fresh buffer of a
    /// block's size is mapped, zeroed, faulted in page by page and unmapped
    /// (the allocator maps large blocks), all on the reading thread, which is
    /// the bottleneck of a gzip file.
    spent: VecDeque<Arc<Vec<u8>>>,
}

/// Blocks held for their buffers at most. Each idle one is resident memory:
/// measured on a 10 M-record gzip file, 16 held gave +30 MiB of peak RSS and
/// 4 gave +10 MiB, for the same time (1.86-1.91 s against 2.22-2.28 s with
/// none).
const SPENT: usize = 4;

/// Buffers kept per thread between streams (the files of a tree).
const SPARE: usize = 2;

thread_local! {
    /// Buffers of finished streams, for the next stream read on this thread.
    static SPARES: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Frees the buffers kept on this thread for the next input (its streamed
/// blocks and whole-file buffers), once a scan has read its last input.
pub(super) fn release_spares() {
    SPARES.take();
    crate::source::release_spares();
}

impl LineBlocks<'_> {
    /// Reads until `cap` bytes are held, the input ends, or an error.
    fn fill(&mut self, cap: usize) -> Fill {
        let target = cap.max(self.filled + 1);
        if self.buf.len() < target {
            self.buf.resize(target, 0);
        }
        loop {
            if self.filled == target {
                break Fill::Full;
            }
            match self.r.read(&mut self.buf[self.filled..target]) {
                Ok(0) => break Fill::Eof,
                Ok(n) => {
                    self.decoded += n as u64;
                    self.filled = self.skip_long(self.filled, n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Fill::Error(e),
            }
        }
    }

    /// The bytes read and not yet handed out.
    fn held(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    /// The fill level after `n` new bytes at `filled`: while a long line is
    /// skipped, only what follows its end is kept.
    fn skip_long(&mut self, filled: usize, n: usize) -> usize {
        if !self.skipping_long {
            return filled + n;
        }
        match memchr::memchr(b'\n', &self.buf[filled..filled + n]) {
            Some(i) => {
                self.buf.copy_within(filled + i + 1..filled + n, 0);
                self.skipping_long = false;
                n - i - 1
            }
            None => 0,
        }
    }

    /// The first `n` bytes as a block; the rest stays for the next one.
    fn take(&mut self, n: usize) -> Block<'static> {
        let byte0 = self.decoded - self.filled as u64;
        let rest = self.filled - n;
        let mut next = self.fresh();
        if next.len() < rest {
            next.resize(rest, 0);
        }
        next[..rest].copy_from_slice(&self.buf[n..self.filled]);
        let mut block = std::mem::replace(&mut self.buf, next);
        block.truncate(n);
        self.filled = rest;
        let block = Arc::new(block);
        if self.spent.len() == SPENT {
            self.spent.pop_front();
        }
        self.spent.push_back(block.clone());
        Block {
            body: Body::Text(Data::owned(block)),
            byte0: Some(byte0),
        }
    }

    /// A buffer to read into (its bytes are not cleared): that of the oldest
    /// block nothing else holds any more, or one a finished stream left on
    /// this thread, or a new one.
    fn fresh(&mut self) -> Vec<u8> {
        let free = self.spent.iter().position(|b| Arc::strong_count(b) == 1);
        if let Some(Ok(v)) = free.and_then(|i| self.spent.remove(i)).map(Arc::try_unwrap) {
            return v;
        }
        SPARES
            .with_borrow_mut(Vec::pop)
            .unwrap_or_else(|| Vec::with_capacity(self.size))
    }

    /// The end of the input: the rest is the last line; after an error,
    /// whole lines go out and the line it cut is reported.
    fn finish<'a>(
        mut self,
        error: Option<io::Error>,
        push: &mut dyn FnMut(Block<'a>) -> Flow,
    ) -> End {
        let keep = match &error {
            Some(_) => memchr::memrchr(b'\n', self.held()).map_or(0, |nl| nl + 1),
            None => self.filled,
        };
        let mut flow = Flow::Go;
        if keep > 0 && !self.skipping_long {
            flow = push(self.take(keep));
        }
        let decoded = self.decoded;
        let error = error.map(|e| {
            if flow == Flow::Go && self.filled > 0 && !self.skipping_long {
                push(marker_block(marker::CUT, self.held()));
            }
            format!(
                "read error after {decoded} bytes of text ({e}); the records before it are counted"
            )
        });
        End {
            decoded,
            error,
            ..End::default()
        }
    }
}

impl Drop for LineBlocks<'_> {
    /// Leaves buffers no block holds any more for the next stream on this
    /// thread.
    fn drop(&mut self) {
        let done = self
            .spent
            .drain(..)
            .filter_map(|b| Arc::try_unwrap(b).ok())
            .chain(Some(std::mem::take(&mut self.buf)));
        SPARES.with_borrow_mut(|spares| {
            for v in done {
                if spares.len() < SPARE && (self.size..=2 * self.size).contains(&v.capacity()) {
                    spares.push(v);
                }
            }
        });
    }
}

/// Reads text into blocks of about `size` bytes that end at line ends,
/// carrying the partial last line to the next block. A line longer than
/// [`MAX_LINE`] is reported (a marker line) and skipped to its end; a read
/// error keeps what came before and reports the line it cut.
pub(super) fn stream_text<'a>(
    r: Box<dyn Read + Send + '_>,
    size: usize,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let mut lb = LineBlocks {
        r,
        size,
        buf: Vec::new(),
        filled: 0,
        decoded: 0,
        skipping_long: false,
        spent: VecDeque::new(),
    };
    let mut cap = size;
    loop {
        match lb.fill(cap) {
            Fill::Eof => return lb.finish(None, push),
            Fill::Error(e) => return lb.finish(Some(e), push),
            Fill::Full => {}
        }
        let flow = match memchr::memrchr(b'\n', lb.held()) {
            Some(nl) => {
                cap = size;
                push(lb.take(nl + 1))
            }
            // A line longer than the buffer: grow, up to the limit.
            None if cap < MAX_LINE => {
                cap *= 2;
                Flow::Go
            }
            None => {
                let flow = push(marker_block(marker::TOO_LONG, &lb.buf[..256]));
                lb.filled = 0;
                cap = size;
                lb.skipping_long = true;
                flow
            }
        };
        if flow == Flow::Stop {
            return End {
                decoded: lb.decoded,
                ..End::default()
            };
        }
    }
}

/// A messages block of one marker line.
pub(super) fn marker_block<'a>(code: u8, text: &[u8]) -> Block<'a> {
    let mut v = vec![0, code];
    push_message(&mut v, &text[..text.len().min(256)]);
    Block {
        body: Body::Messages(Data::owned(Arc::new(v))),
        byte0: None,
    }
}

/// Appends a message as one line: a newline or NUL inside it would change the
/// line count or read as a marker, so they become a space and U+FFFD.
pub(super) fn push_message(out: &mut Vec<u8>, m: &[u8]) {
    if memchr::memchr3(b'\n', b'\r', 0, m).is_none() {
        out.extend_from_slice(m);
    } else {
        for &b in m {
            match b {
                b'\n' | b'\r' => out.push(b' '),
                0 => out.extend_from_slice("\u{fffd}".as_bytes()),
                b => out.push(b),
            }
        }
    }
    out.push(b'\n');
}
