//! From an input to blocks: every input (a mapped or in-memory slice, a
//! decompressing stream, CloudWatch JSON or CSV, Parquet row groups) becomes a
//! sequence of blocks that end at line ends. Opening, decompressing and telling
//! the shape happen here; `text`, `messages` and `parquet` cut each shape into
//! blocks. Together they are the one place that carries partial lines across
//! reads, bounds line length and inflated size, and turns read errors into
//! what the report says.

use std::io::{self, BufReader, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::cloudwatch::{self, Shape};
use crate::source::{self, Bytes, Counted, Data, Members, Packing, Raw};

use super::block::SNIFF;
pub(crate) use super::block::{
    Block, Body, End, Flow, Input, Options, BLOCK, STREAM_BLOCK, WHOLE_BLOCK,
};
use super::messages::{csv, json_pieces, json_slice, json_stream};
use super::parquet::{parquet, ParquetSrc};
use super::text::{slice_text, stream_text};
use super::InputFormat;

/// Fails a read once more than `limit` bytes have come through.
struct Ceiling<R> {
    inner: R,
    left: u64,
    limit: u64,
}

impl<R: Read> Read for Ceiling<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Text of exactly the limit is whole: only a byte more is over.
            let mut probe = [0u8; 1];
            if buf.is_empty() || self.inner.read(&mut probe)? == 0 {
                return Ok(0);
            }
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
    /// Text inflated whole from a gzip file of this many bytes.
    Inflated(Arc<Vec<u8>>, u64),
    /// Text from a decoder or a pipe.
    Stream(Box<dyn Read + Send + 'a>),
    /// Parquet, in memory.
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Parquet(Data<'a>),
    /// Parquet, in a file (read by ranges).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    ParquetFile(std::fs::File),
    /// Parquet in S3, read by ranges.
    #[cfg(all(feature = "s3", feature = "parquet"))]
    ParquetRemote(Arc<crate::source::s3::RangedParquet>),
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
    max_inflate: Option<u64>,
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
        #[cfg(feature = "s3")]
        Input::Remote(o) => {
            use crate::source::s3::Fetched;
            let bytes = match o.take().map_err(io::Error::other)? {
                Fetched::Whole(b) => b,
                #[cfg(feature = "parquet")]
                Fetched::Tail { start, bytes } if bytes.ends_with(b"PAR1") => {
                    let r = crate::source::s3::RangedParquet::new(o, start, bytes);
                    return Ok((Opened::ParquetRemote(r), None));
                }
                // Named `.parquet` but not Parquet: read it as anything else.
                Fetched::Tail { .. } => o.whole().map_err(io::Error::other)?,
            };
            (Data::owned(Arc::new(bytes)), None)
        }
        Input::Stdin => return open_stream(Box::new(io::stdin()), consumed).map(|o| (o, None)),
        Input::Reader(r) => return open_stream(r, consumed).map(|o| (o, None)),
    };
    open_bytes(data, mapped.as_ref(), consumed, max_inflate).map(|o| (o, mapped))
}

/// Opens input held whole: `data`, from the map `mapped` if it is one.
fn open_bytes<'a>(
    data: Data<'a>,
    mapped: Option<&Arc<Bytes>>,
    consumed: &Arc<AtomicU64>,
    max_inflate: Option<u64>,
) -> io::Result<Opened<'a>> {
    let counted = |d: Data<'a>| Counted {
        inner: io::Cursor::new(d),
        count: consumed.clone(),
    };
    let opened = match source::packing(&data[..data.len().min(source::MAGIC)]) {
        Packing::Plain => {
            consumed.fetch_add(data.len() as u64, Ordering::Relaxed);
            Opened::Slice(data)
        }
        Packing::Gzip => {
            let cap = max_inflate.map_or(source::WHOLE_TEXT, |m| {
                usize::try_from(m).map_or(source::WHOLE_TEXT, |m| m.min(source::WHOLE_TEXT))
            });
            let whole = (data.len() as u64 <= source::WHOLE_GZIP)
                .then(|| source::inflate_whole(&data, cap))
                .flatten();
            match (whole, mapped) {
                (Some(text), _) => Opened::Inflated(Arc::new(text), data.len() as u64),
                (None, None) => Opened::Stream(Box::new(Members::new(counted(data)))),
                // Cut while it was inflated whole: the missing pages of its
                // map now read as zeros, which a stream would inflate into
                // whatever they decode as.
                (None, Some(map)) if source::was_truncated(map) => {
                    return Err(io::Error::other(
                        "the file was cut short while it was read; nothing from it is counted",
                    ));
                }
                (None, Some(map)) => Opened::Stream(Box::new(Uncut {
                    inner: Members::new(counted(data)),
                    map: map.clone(),
                })),
            }
        }
        Packing::Zstd => Opened::Stream(Box::new(zstd::stream::read::Decoder::with_buffer(
            counted(data),
        )?)),
        Packing::Parquet => Opened::Parquet(data),
        Packing::Unsupported(name) => Opened::Skip(unsupported(name)),
    };
    Ok(opened)
}

/// Why the text of a mapped gzip file stopped: another process cut the file.
const CUT: &str =
    "the file was cut short while it was read; nothing inflated after the cut is counted";

/// Text inflated from a map, which fails at the first read after which the
/// map is found cut (a page met missing, or the file now shorter than the
/// map: cut inside a page, the rest of that page reads as zeros without a
/// fault): what that read gave may have been inflated from zeros.
struct Uncut<R> {
    inner: R,
    map: Arc<Bytes>,
}

impl<R: Read> Read for Uncut<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf);
        // Only this stream reads the map, so a fault flagged now was met by
        // this read; the zeros may have made it an error too, which the cut
        // explains.
        if source::was_truncated(&self.map) {
            return Err(io::Error::other(CUT));
        }
        read
    }
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
        Packing::Gzip => Opened::Stream(Box::new(Members::new(BufReader::with_capacity(
            STREAM_READ,
            r,
        )))),
        Packing::Zstd => Opened::Stream(Box::new(zstd::stream::read::Decoder::new(r)?)),
        Packing::Parquet => {
            // Parquet needs to seek: read it into memory.
            let mut all = Vec::new();
            let mut r = r;
            r.read_to_end(&mut all)?;
            Opened::Parquet(Data::owned(Arc::new(all)))
        }
        Packing::Unsupported(name) => Opened::Skip(unsupported(name)),
    })
}

/// Bytes read at once from a compressed stream. The inflater reads them
/// soon after, so they should still be in the core's cache: with 1 MiB, the
/// kernel's copy into the buffer took 6.5 % of the inflating thread's time
/// on a 10 M-record gzip file, with 128 KiB 1.5 %, as in a plain inflate.
const STREAM_READ: usize = 128 << 10;

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
    let (opened, mapped) = match open(input, &consumed, opts.max_inflate) {
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
        #[cfg(all(feature = "s3", feature = "parquet"))]
        Opened::ParquetRemote(r) => {
            (opts.progress)(r.size());
            parquet(ParquetSrc::Remote(r), opts, push)
        }
        Opened::Slice(data) => {
            consumed.store(0, Ordering::Relaxed);
            from_slice(data, opts, push)
        }
        Opened::Inflated(text, disk) => {
            // Progress counts bytes on disk: all of them are read.
            (opts.progress)(disk);
            let quiet = Options {
                progress: &|_| {},
                ..*opts
            };
            let end = from_slice(Data::owned(text.clone()), &quiet, push);
            // Read in order on this thread, its blocks are gone by now (not
            // those of a file the driver cut for the pool: then it is freed).
            if let Ok(text) = Arc::try_unwrap(text) {
                source::give_back(text);
            }
            end
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

/// The blocks of input held whole in memory (mapped, read, or given):
/// text, CloudWatch JSON or CSV, told from its start.
fn from_slice<'a>(
    data: Data<'a>,
    opts: &Options<'_>,
    push: &mut dyn FnMut(Block<'a>) -> Flow,
) -> End {
    let data = if data.starts_with(BOM) {
        data.slice(BOM.len()..data.len())
    } else {
        data
    };
    match shape(&data[..data.len().min(SNIFF)], opts.input_format) {
        Ok(Shape::Text) => slice_text(data, opts, push),
        Ok(Shape::Json) => {
            (opts.progress)(data.len() as u64);
            if opts.json_pieces {
                json_pieces(data, opts.block, push)
            } else {
                json_slice(data, opts.block, push)
            }
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
        Ok(Shape::Text) => stream_text(r, opts.block.min(STREAM_BLOCK), push),
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
        // A document that does not even open a value is not one with an
        // error in it: the file is skipped (as text that is not a flow log
        // is), not read in part.
        Some(InputFormat::CloudwatchJson) => match cloudwatch::significant(head).first() {
            None | Some(b'{' | b'[') => Ok(Shape::Json),
            Some(_) => Err(
                "not CloudWatch Logs JSON (the input format given): it does not start with `{` or `[`"
                    .into(),
            ),
        },
        Some(InputFormat::Csv) => Ok(Shape::Csv),
        Some(InputFormat::Parquet) => Err("not Parquet (the input format given)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::FieldSet;

    /// A file in `dir` of records of varied numbers, gzipped into 1 to 4 MB,
    /// with `tail` after its member; its text; and its map as `open` holds
    /// it (which `source::open_path` maps, to be inflated whole).
    #[cfg(unix)]
    fn mapped_gzip(
        dir: &std::path::Path,
        tail: &[u8],
    ) -> (std::path::PathBuf, Vec<u8>, Data<'static>, Arc<Bytes>) {
        use std::io::Write;
        let mut text = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..60_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            writeln!(
                text,
                "2 1 eni-1 10.0.{}.{} {} 6 {} ACCEPT OK",
                x % 256,
                x >> 56,
                x >> 20,
                x % 9973
            )
            .unwrap();
        }
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&text).unwrap();
        let mut data = e.finish().unwrap();
        data.extend_from_slice(tail);
        assert!(
            (1 << 20..=source::WHOLE_GZIP).contains(&(data.len() as u64)),
            "{}",
            data.len()
        );
        let path = dir.join("cut.log.gz");
        std::fs::write(&path, &data).unwrap();
        let Ok(Raw::Bytes(bytes)) = source::open_path(&path) else {
            panic!("not opened as bytes");
        };
        assert!(matches!(bytes, Bytes::Mapped(_)));
        let bytes = Arc::new(bytes);
        let len = bytes.as_ref().as_ref().len();
        (path, text, Data::Shared(bytes.clone(), 0..len), bytes)
    }

    /// A mapped gzip file cut after it was mapped and before it is inflated
    /// whole gives no text: the zeros in place of its missing pages are not
    /// inflated as a stream.
    #[cfg(unix)]
    #[test]
    fn a_mapped_gzip_file_cut_before_its_whole_inflate_gives_no_text() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _, data, map) = mapped_gzip(dir.path(), b"");
        crate::mapguard::cut(&path, 1 << 16);
        let consumed = Arc::new(AtomicU64::new(0));
        match open_bytes(data, Some(&map), &consumed, None) {
            Err(e) => assert!(e.to_string().contains("cut short"), "{e}"),
            Ok(_) => panic!("opened"),
        }
    }

    /// A mapped gzip file that is streamed (its whole inflate refused it for
    /// the junk after its member) and cut while streamed gives a prefix of
    /// its text, then an error: nothing inflated from the zeros.
    #[cfg(unix)]
    #[test]
    fn a_mapped_gzip_stream_cut_under_it_stops_at_the_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (path, text, data, map) = mapped_gzip(dir.path(), b"junk");
        let consumed = Arc::new(AtomicU64::new(0));
        let Ok(Opened::Stream(mut r)) = open_bytes(data, Some(&map), &consumed, None) else {
            panic!("not a stream");
        };
        crate::mapguard::cut(&path, 1 << 16);
        let (mut got, mut buf) = (Vec::new(), vec![0; 1 << 20]);
        let err = loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("read to the end of a cut file"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains("cut short"), "{err}");
        assert!(text.starts_with(&got), "{} bytes not a prefix", got.len());
    }

    #[test]
    fn the_inflate_limit_is_a_ceiling_not_a_floor() {
        let read = |text: &[u8], limit: u64| {
            let mut c = Ceiling {
                inner: text,
                left: limit,
                limit,
            };
            let mut out = Vec::new();
            c.read_to_end(&mut out)
                .map(|_| out)
                .map_err(|e| e.to_string())
        };
        assert_eq!(read(b"abcd", 4), Ok(b"abcd".to_vec()));
        assert_eq!(read(b"", 0), Ok(Vec::new()));
        let over = read(b"abcde", 4).unwrap_err();
        assert!(over.contains("stopped after 4 bytes"), "{over}");
        assert!(read(b"a", 0).is_err());
    }

    fn blocks(text: &[u8], stream: bool) -> (Vec<Vec<u8>>, End) {
        let mut out = Vec::new();
        let opts = Options {
            input_format: None,
            max_inflate: None,
            reads: FieldSet::ALL,
            progress: &|_| {},
            block: BLOCK,
            json_pieces: false,
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
                Body::Json(..) => unreachable!("no pieces asked for"),
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
