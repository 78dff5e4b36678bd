//! From an input to blocks: every input (a mapped or in-memory slice, a
//! decompressing stream, CloudWatch JSON or CSV, Parquet row groups) becomes a
//! sequence of blocks that end at line ends. This is the one place that carries
//! partial lines across reads, bounds line length and inflated size, and turns
//! read errors into what the report says.

use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cloudwatch::{self, CsvItem, Item, Shape};
use crate::schema::FieldSet;
#[cfg(feature = "parquet")]
use crate::schema::Schema;
use crate::source::{self, Bytes, Counted, Data, Members, Packing, Raw};

use super::lines::{marker, MAX_LINE};
use super::InputFormat;

/// Size of a block of a file cut for parallel reading: what one task parses,
/// and what one ordered part holds.
pub(crate) const BLOCK: usize = 4 << 20;

/// Size of a block of a file read whole by one task: nothing is gained by
/// larger ones, and each task in flight holds one.
pub(crate) const WHOLE_BLOCK: usize = 1 << 20;

/// How much decompressed text is looked at to tell JSON, CSV and text apart.
const SNIFF: usize = 64 << 10;

/// What a block holds.
pub(crate) enum Body<'a> {
    /// Text lines.
    Text(Data<'a>),
    /// CloudWatch messages, one per line, with [`marker`] lines.
    Messages(Data<'a>),
    /// Parquet rows, with the file's full format.
    #[cfg(feature = "parquet")]
    Rows(crate::columnar::Rows, Arc<Schema>),
}

/// A run of one input that ends at a line end (the last may not).
pub(crate) struct Block<'a> {
    pub body: Body<'a>,
    /// Offset of the first byte in the file's text (text blocks only).
    pub byte0: Option<u64>,
}

impl Block<'_> {
    /// The block without borrows (copying borrowed text, which a file never has).
    pub fn into_owned(self) -> Block<'static> {
        let own = |d: Data<'_>| match d {
            Data::Borrowed(b) => Data::Owned(Arc::new(b.to_vec())),
            Data::Shared(m, r) => Data::Shared(m, r),
            Data::Owned(v) => Data::Owned(v),
        };
        Block {
            body: match self.body {
                Body::Text(d) => Body::Text(own(d)),
                Body::Messages(d) => Body::Messages(own(d)),
                #[cfg(feature = "parquet")]
                Body::Rows(r, s) => Body::Rows(r, s),
            },
            byte0: self.byte0,
        }
    }

    /// Lines in the block, for numbering the lines of the blocks after it.
    pub fn lines(&self) -> u64 {
        match &self.body {
            Body::Text(d) | Body::Messages(d) => {
                let nl = memchr::memchr_iter(b'\n', d).count() as u64;
                nl + u64::from(d.last().is_some_and(|&b| b != b'\n'))
            }
            #[cfg(feature = "parquet")]
            Body::Rows(r, _) => r.len() as u64,
        }
    }
}

/// Whether the consumer wants more.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    Go,
    Stop,
}

/// How an input ended.
#[derive(Default)]
pub(crate) struct End {
    /// Text bytes produced.
    pub decoded: u64,
    /// Why it ended early (the report's "read only in part").
    pub error: Option<String>,
    /// Why it was not read at all ("not a flow log", a compression not read).
    pub skipped: Option<String>,
    /// On-disk bytes consumed, for inputs without a size (standard input).
    pub consumed: Option<u64>,
    /// A memory map to check for a truncation once every block is parsed.
    pub mapped: Option<Arc<Bytes>>,
}

/// An input as the scanner reads it.
pub(crate) enum Input<'a> {
    /// A file, by its OS name.
    Path(&'a Path),
    /// Standard input.
    Stdin,
    /// Bytes the caller holds.
    Slice(&'a [u8]),
    /// A reader the caller hands over (read once).
    Reader(Box<dyn Read + Send + 'a>),
}

/// What a producer needs to know.
#[derive(Clone, Copy)]
pub(crate) struct Options<'o> {
    pub input_format: Option<InputFormat>,
    pub max_inflate: Option<u64>,
    /// Parquet columns to decode.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    pub reads: FieldSet,
    /// Called with on-disk bytes as they are consumed.
    pub progress: &'o (dyn Fn(u64) + Sync),
    /// Block size (see [`BLOCK`]); smaller in tests, to cut small inputs.
    pub block: usize,
}

/// Fails a read once more than `limit` bytes have come through.
struct Ceiling<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Ceiling<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::other(format!(
                "stopped after {} bytes of text: the inflate limit",
                self.limit
            )));
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// A reader that fails once with a stored error, then reads as `inner`.
struct FailFirst<R> {
    error: Option<io::Error>,
    inner: R,
}

impl<R: Read> Read for FailFirst<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.error.take() {
            Some(e) => Err(e),
            None => self.inner.read(buf),
        }
    }
}

/// Reads ahead at least `n` bytes (fewer at the end), and gives them back in
/// front of the rest: sniffing must not depend on how a pipe splits its reads.
/// A read error is kept for after those bytes, so that what came before it is
/// still read.
fn peek<'a>(mut r: Box<dyn Read + Send + 'a>, n: usize) -> (Vec<u8>, Box<dyn Read + Send + 'a>) {
    let mut head = vec![0u8; n];
    let mut got = 0;
    let mut error = None;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    head.truncate(got);
    let rest = FailFirst { error, inner: r };
    let back = io::Cursor::new(head.clone()).chain(rest);
    (head, Box::new(back))
}

/// An input after decompression.
enum Opened<'a> {
    /// Plain text in memory.
    Slice(Data<'a>),
    /// Text from a decoder or a pipe.
    Stream(Box<dyn Read + Send + 'a>),
    /// Parquet, in memory.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Parquet(Data<'a>),
    /// Parquet, in a file (read by ranges).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    ParquetFile(std::fs::File),
    /// Not read, and why.
    Skip(String),
}

fn unsupported(name: &str) -> String {
    format!("{name}-compressed: flowscan reads plain, gzip and zstd input; decompress it first")
}

/// Opens and decompresses an input. `consumed` counts on-disk bytes read.
fn open<'a>(
    input: Input<'a>,
    consumed: &Arc<AtomicU64>,
) -> io::Result<(Opened<'a>, Option<Arc<Bytes>>)> {
    let (data, mapped) = match input {
        Input::Path(p) => match source::open_path(p)? {
            Raw::Bytes(b) => {
                let b = Arc::new(b);
                let len = b.as_ref().as_ref().len();
                let mapped = matches!(*b, Bytes::Mapped(_)).then(|| b.clone());
                (Data::Shared(b, 0..len), mapped)
            }
            Raw::Read(r) => return open_stream(r, consumed).map(|o| (o, None)),
            Raw::File(f) => {
                let mut magic = [0u8; source::MAGIC];
                let n = source::read_up_to(&mut &f, &mut magic)?;
                if source::packing(&magic[..n]) == Packing::Parquet {
                    return Ok((Opened::ParquetFile(f), None));
                }
                let f = io::Cursor::new(magic[..n].to_vec()).chain(f);
                return open_stream(Box::new(f), consumed).map(|o| (o, None));
            }
        },
        Input::Slice(s) => (Data::Borrowed(s), None),
        Input::Stdin => return open_stream(Box::new(io::stdin()), consumed).map(|o| (o, None)),
        Input::Reader(r) => return open_stream(r, consumed).map(|o| (o, None)),
    };
    let counted = |d: Data<'a>| Counted {
        inner: io::Cursor::new(d),
        count: consumed.clone(),
    };
    let opened = match source::packing(&data[..data.len().min(source::MAGIC)]) {
        Packing::Plain => {
            consumed.fetch_add(data.len() as u64, Ordering::Relaxed);
            Opened::Slice(data)
        }
        Packing::Gzip => Opened::Stream(Box::new(Members::new(counted(data)))),
        Packing::Zstd => Opened::Stream(Box::new(zstd::stream::read::Decoder::with_buffer(
            counted(data),
        )?)),
        Packing::Parquet => Opened::Parquet(data),
        Packing::Unsupported(name) => Opened::Skip(unsupported(name)),
    };
    Ok((opened, mapped))
}

impl AsRef<[u8]> for Data<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

fn open_stream<'a>(
    r: Box<dyn Read + Send + 'a>,
    consumed: &Arc<AtomicU64>,
) -> io::Result<Opened<'a>> {
    let r = Counted {
        inner: r,
        count: consumed.clone(),
    };
    let (head, r) = peek(Box::new(r), source::MAGIC);
    Ok(match source::packing(&head) {
        Packing::Plain => Opened::Stream(r),
        Packing::Gzip => {
            Opened::Stream(Box::new(Members::new(BufReader::with_capacity(1 << 20, r))))
        }
        Packing::Zstd => Opened::Stream(Box::new(zstd::stream::read::Decoder::new(r)?)),
        Packing::Parquet => {
            // Parquet needs to seek: read it into memory.
            let mut all = Vec::new();
            let mut r = r;
            r.read_to_end(&mut all)?;
            Opened::Parquet(Data::Owned(Arc::new(all)))
        }
        Packing::Unsupported(name) => Opened::Skip(unsupported(name)),
    })
}

const BOM: &[u8] = b"\xef\xbb\xbf";

/// Produces the blocks of `input`, calling `push` with each, until the end,
/// an error, or `push` says stop.
pub(crate) fn produce<'a>(
    input: Input<'a>,
    opts: &Options<'_>,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let consumed = Arc::new(AtomicU64::new(0));
    let stdin = matches!(input, Input::Stdin | Input::Reader(_));
    let (opened, mapped) = match open(input, &consumed) {
        Ok(o) => o,
        Err(e) => {
            return End {
                error: Some(format!("read error: {e}")),
                ..End::default()
            }
        }
    };
    let mut end = match opened {
        Opened::Skip(why) => End {
            skipped: Some(why),
            ..End::default()
        },
        Opened::Parquet(data) => {
            (opts.progress)(data.len() as u64);
            parquet(ParquetSrc::Bytes(&data), opts, push)
        }
        Opened::ParquetFile(f) => {
            (opts.progress)(f.metadata().map_or(0, |m| m.len()));
            parquet(ParquetSrc::File(f), opts, push)
        }
        Opened::Slice(data) => {
            let data = if data.starts_with(BOM) {
                data.slice(BOM.len()..data.len())
            } else {
                data
            };
            let shape = shape(&data[..data.len().min(SNIFF)], opts.input_format);
            consumed.store(0, Ordering::Relaxed);
            match shape {
                Ok(Shape::Text) => slice_text(data, opts, push),
                Ok(Shape::Json) => {
                    (opts.progress)(data.len() as u64);
                    json_slice(data, opts.block, push)
                }
                Ok(Shape::Csv) => {
                    (opts.progress)(data.len() as u64);
                    csv(io::Cursor::new(&*data), opts.block, push)
                }
                Err(why) => End {
                    skipped: Some(why),
                    ..End::default()
                },
            }
        }
        Opened::Stream(r) => {
            let r: Box<dyn Read + Send + 'a> = match opts.max_inflate {
                Some(limit) => Box::new(Ceiling {
                    inner: r,
                    left: limit,
                    limit,
                }),
                None => r,
            };
            let progress = Progressed {
                inner: r,
                consumed: &consumed,
                progress: opts.progress,
            };
            stream(progress, opts, push)
        }
    };
    if stdin {
        end.consumed = Some(consumed.load(Ordering::Relaxed));
    }
    end.mapped = mapped;
    end
}

/// Reports on-disk progress as a stream is read.
struct Progressed<'p, R> {
    inner: R,
    consumed: &'p AtomicU64,
    progress: &'p (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Progressed<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(self.consumed.swap(0, Ordering::Relaxed));
        Ok(n)
    }
}

fn stream<'a, 'r, R: Read + Send + 'r>(
    r: R,
    opts: &Options<'_>,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let (mut head, r) = peek(Box::new(r), SNIFF);
    let mut r = r;
    if head.starts_with(BOM) {
        let mut skip = [0u8; 3];
        let _ = source::read_up_to(&mut r, &mut skip);
        head.drain(..3);
    }
    match shape(&head, opts.input_format) {
        Ok(Shape::Text) => stream_text(r, opts.block, push),
        Ok(Shape::Json) => json_stream(r, opts.block, push),
        Ok(Shape::Csv) => csv(r, opts.block, push),
        Err(why) => End {
            skipped: Some(why),
            ..End::default()
        },
    }
}

/// The shape of text, from the forced input format or its first bytes.
fn shape(head: &[u8], format: Option<InputFormat>) -> Result<Shape, String> {
    match format {
        None => Ok(cloudwatch::sniff(head)),
        Some(InputFormat::Text) => Ok(Shape::Text),
        Some(InputFormat::CloudwatchJson) => Ok(Shape::Json),
        Some(InputFormat::Csv) => Ok(Shape::Csv),
        Some(InputFormat::Parquet) => Err("not Parquet (the input format given)".into()),
    }
}

/// Cuts text in memory into blocks of about `opts.block` bytes at line ends.
fn slice_text<'a>(
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

/// Reads text into blocks of about `size` bytes that end at line ends,
/// carrying the partial last line to the next block. A line longer than
/// [`MAX_LINE`] is reported (a marker line) and skipped to its end; a read
/// error keeps what came before and reports the line it cut.
fn stream_text<'a>(
    mut r: Box<dyn Read + Send + '_>,
    size: usize,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let mut decoded = 0u64;
    let mut buf: Vec<u8> = Vec::with_capacity(size);
    let mut skipping_long = false;
    let mut cap = size;
    loop {
        // Fill the buffer (after the carried partial line).
        let mut filled = buf.len();
        buf.resize(cap.max(filled + 1), 0);
        let mut error = None;
        let mut eof = false;
        while filled < buf.len() {
            match r.read(&mut buf[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => {
                    decoded += n as u64;
                    if skipping_long {
                        if let Some(i) = memchr::memchr(b'\n', &buf[filled..filled + n]) {
                            buf.copy_within(filled + i + 1..filled + n, 0);
                            filled = n - i - 1;
                            skipping_long = false;
                        }
                        continue;
                    }
                    filled += n;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        buf.truncate(filled);
        let byte0 = decoded - filled as u64;
        if eof || error.is_some() {
            // Whole lines go out; a partial one is the last line (at the end)
            // or the line the error cut.
            let keep = if error.is_some() {
                memchr::memrchr(b'\n', &buf).map_or(0, |nl| nl + 1)
            } else {
                buf.len()
            };
            let cut = buf.split_off(keep);
            let mut flow = Flow::Go;
            if !buf.is_empty() && !skipping_long {
                flow = push(Block {
                    body: Body::Text(Data::Owned(Arc::new(buf))),
                    byte0: Some(byte0),
                });
            }
            let error = error.map(|e| {
                if flow == Flow::Go && !cut.is_empty() && !skipping_long {
                    push(marker_block(marker::CUT, &cut));
                }
                format!("read error after {decoded} bytes of text ({e}); the records before it are counted")
            });
            return End {
                decoded,
                error,
                ..End::default()
            };
        }
        match memchr::memrchr(b'\n', &buf) {
            Some(nl) => {
                let carry = buf[nl + 1..].to_vec();
                buf.truncate(nl + 1);
                let block = Block {
                    body: Body::Text(Data::Owned(Arc::new(std::mem::take(&mut buf)))),
                    byte0: Some(byte0),
                };
                cap = size;
                let flow = push(block);
                buf = Vec::with_capacity(size);
                buf.extend_from_slice(&carry);
                if flow == Flow::Stop {
                    return End {
                        decoded,
                        ..End::default()
                    };
                }
            }
            // A line longer than the buffer: grow, up to the limit.
            None if cap < MAX_LINE => cap *= 2,
            None => {
                if push(marker_block(marker::TOO_LONG, &buf[..256])) == Flow::Stop {
                    return End {
                        decoded,
                        ..End::default()
                    };
                }
                buf.clear();
                cap = size;
                skipping_long = true;
            }
        }
    }
}

/// A messages block of one marker line.
fn marker_block<'a>(code: u8, text: &[u8]) -> Block<'a> {
    let mut v = vec![0, code];
    push_message(&mut v, &text[..text.len().min(256)]);
    Block {
        body: Body::Messages(Data::Owned(Arc::new(v))),
        byte0: None,
    }
}

/// Appends a message as one line: a newline or NUL inside it would change the
/// line count or read as a marker, so they become a space and U+FFFD.
fn push_message(out: &mut Vec<u8>, m: &[u8]) {
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

fn json_slice<'a>(data: Data<'a>, size: usize, push: &mut dyn FnMut(Block<'a>) -> Flow) -> End {
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

fn json_stream<'a>(
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

fn csv<'a, R: Read>(r: R, size: usize, push: &mut dyn FnMut(Block<'a>) -> Flow) -> End {
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

/// Where Parquet bytes are.
#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
enum ParquetSrc<'d> {
    Bytes(&'d [u8]),
    File(std::fs::File),
}

#[cfg(feature = "parquet")]
fn parquet<'a>(
    src: ParquetSrc<'_>,
    opts: &Options<'_>,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    use crate::columnar::OpenError;
    let mut end = End::default();
    if matches!(opts.input_format, Some(f) if f != InputFormat::Parquet) {
        end.skipped = Some("Parquet, not the input format given".into());
        return end;
    }
    let opened = match src {
        ParquetSrc::Bytes(b) => {
            end.decoded = b.len() as u64;
            crate::columnar::open(bytes::Bytes::copy_from_slice(b), opts.reads)
        }
        ParquetSrc::File(f) => {
            end.decoded = f.metadata().map_or(0, |m| m.len());
            crate::columnar::open(f, opts.reads)
        }
    };
    let mut rows = match opened {
        Ok(r) => r,
        Err(OpenError::NotFlowLog(why)) => {
            end.skipped = Some(why);
            return end;
        }
        Err(OpenError::Damaged(why)) => {
            // Nothing of it was read: the file failed, it is not "read in part".
            end.decoded = 0;
            end.error = Some(why);
            return end;
        }
    };
    let full = Arc::new(rows.full.clone());
    let mut read = 0u64;
    while let Some(batch) = rows.next_batch() {
        match batch {
            Ok(b) => {
                read += b.len() as u64;
                let block = Block {
                    body: Body::Rows(b, full.clone()),
                    byte0: None,
                };
                if push(block) == Flow::Stop {
                    break;
                }
            }
            Err(e) => {
                end.error = Some(format!(
                    "Parquet read error after {read} rows ({e}); the rows before it are counted"
                ));
                break;
            }
        }
    }
    end
}

#[cfg(not(feature = "parquet"))]
fn parquet<'a>(_: ParquetSrc<'_>, _: &Options<'_>, _: &mut dyn FnMut(Block<'a>) -> Flow) -> End {
    End {
        skipped: Some("Parquet input needs flowscan built with the `parquet` feature".into()),
        ..End::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(text: &[u8], stream: bool) -> (Vec<Vec<u8>>, End) {
        let mut out = Vec::new();
        let opts = Options {
            input_format: None,
            max_inflate: None,
            reads: FieldSet::ALL,
            progress: &|_| {},
            block: BLOCK,
        };
        let input = if stream {
            Input::Reader(Box::new(io::Cursor::new(text.to_vec())))
        } else {
            Input::Slice(text)
        };
        let end = produce(input, &opts, &mut |b| {
            match b.body {
                Body::Text(d) => out.push(d.to_vec()),
                Body::Messages(d) => out.push([b"M:".as_slice(), &d].concat()),
                #[cfg(feature = "parquet")]
                Body::Rows(..) => unreachable!(),
            }
            Flow::Go
        });
        (out, end)
    }

    #[test]
    fn text_blocks_end_at_newlines_and_cover_everything() {
        let mut text = Vec::new();
        for i in 0..400_000 {
            text.extend_from_slice(format!("line {i} with some words\n").as_bytes());
        }
        text.extend_from_slice(b"last without newline");
        for stream in [false, true] {
            let (b, end) = blocks(&text, stream);
            assert!(b.len() > 1);
            assert_eq!(b.concat(), text);
            for x in &b[..b.len() - 1] {
                assert_eq!(x.last(), Some(&b'\n'));
            }
            assert_eq!(end.decoded, text.len() as u64);
        }
    }

    #[test]
    fn a_byte_order_mark_is_not_text() {
        let (b, _) = blocks(b"\xef\xbb\xbfversion\n", false);
        assert_eq!(b.concat(), b"version\n");
        let (b, _) = blocks(b"\xef\xbb\xbfversion\n", true);
        assert_eq!(b.concat(), b"version\n");
    }

    #[test]
    fn json_messages_become_lines_with_markers() {
        let (b, end) = blocks(
            br#"{"events":[{"message":"a b"},{"message":"x\ny\u0000"}]} 7 {"messageType":"CONTROL_MESSAGE","logEvents":[{"message":"m"}]}"#,
            true,
        );
        assert!(end.error.is_none());
        assert_eq!(
            String::from_utf8(b.concat()).unwrap(),
            "M:a b\nx y\u{fffd}\n\0F\n\0C\n"
        );
    }
}
