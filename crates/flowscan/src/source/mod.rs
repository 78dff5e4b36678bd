//! Where bytes come from: finding input files, and opening each one either as a
//! slice (plain files, memory-mapped) or as a stream (gzip, standard input).
//!
//! Compression is detected from the content (gzip's magic bytes), never from the
//! file name; decompression happens here, so the parser only ever sees text.

use std::fs::File;
use std::io::{self, BufRead, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::prune::Prune;

#[cfg(feature = "s3")]
pub mod s3;
mod whole;

pub(crate) use whole::{
    give_back, inflate_whole, release as release_spares, WHOLE_GZIP, WHOLE_TEXT,
};

/// One input as the caller names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file or a directory (walked recursively).
    Path(PathBuf),
    /// Standard input.
    Stdin,
    /// Every object under an S3 prefix (needs the `s3` feature).
    S3(S3Url),
}

/// An `s3://bucket/prefix` input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (no leading `/`; may be empty).
    pub prefix: String,
}

impl S3Url {
    /// Reads `s3://bucket[/prefix]`; `None` for anything else.
    pub fn parse(s: &str) -> Option<S3Url> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Url {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// How an object is shown: `s3://bucket/key`.
    pub fn show(bucket: &str, key: &str) -> PathBuf {
        PathBuf::from(format!("s3://{bucket}/{key}"))
    }
}

impl Input {
    /// `-` is standard input; `s3://bucket/prefix` is an S3 prefix; anything
    /// else is a path, taken as the OS gives it (a name that is not UTF-8 is
    /// kept as it is).
    pub fn from_arg(arg: impl AsRef<std::ffi::OsStr>) -> Input {
        let arg = arg.as_ref();
        if arg == "-" {
            return Input::Stdin;
        }
        match arg.to_str().and_then(S3Url::parse) {
            Some(url) => Input::S3(url),
            None => Input::Path(PathBuf::from(arg)),
        }
    }
}

/// A file to read, found by [`discover`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// The path (`-` for standard input).
    pub path: PathBuf,
    /// Size on disk, when known.
    pub size: Option<u64>,
    /// Whether this is standard input.
    pub stdin: bool,
    /// The S3 object, for an object of an S3 input.
    #[cfg(feature = "s3")]
    pub remote: Option<std::sync::Arc<s3::S3Object>>,
}

/// What [`discover`] found: files to read, in a stable order, and paths it could
/// not use.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read.
    pub sources: Vec<Source>,
    /// Paths that could not be walked or opened, with the reason.
    pub problems: Vec<(PathBuf, String)>,
    /// Entries of walked folders left alone (named pipes, sockets, devices),
    /// with the reason: reading them could block forever.
    pub skipped: Vec<(PathBuf, String)>,
    /// S3 listing requests made (for S3 inputs).
    pub list_requests: usize,
    /// Files and folders skipped because their paths show they cannot hold a
    /// wanted record.
    pub pruned: usize,
}

/// Expands inputs into files: directories are walked recursively in file-name
/// order, hidden entries (names starting with `.` or `_`) are skipped, symbolic links are
/// followed and loops among them reported, not followed forever.
pub fn discover(inputs: &[Input]) -> Discovery {
    discover_pruned(inputs, &Prune::default())
}

/// Like [`discover`], and skips files and folders whose paths show they cannot
/// hold a record `prune` wants (see [`crate::prune`]); counts them in
/// [`Discovery::pruned`]. Paths named by the caller are never skipped.
pub fn discover_pruned(inputs: &[Input], prune: &Prune) -> Discovery {
    discover_with(inputs, prune, &S3Access::default())
}

/// How S3 inputs are reached.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct S3Access {
    /// Send unsigned requests (public buckets), as the AWS CLI's
    /// `--no-sign-request` does.
    pub no_sign_request: bool,
}

impl S3Access {
    /// Access with unsigned requests on or off.
    pub fn new(no_sign_request: bool) -> S3Access {
        S3Access { no_sign_request }
    }
}

/// [`discover_pruned`], reaching S3 inputs with `s3`: the prefixes that
/// `prune` rules out by name are not even listed.
pub fn discover_with(inputs: &[Input], prune: &Prune, s3: &S3Access) -> Discovery {
    let mut d = Discovery::default();
    for input in inputs {
        match input {
            Input::Stdin => d.sources.push(Source {
                path: PathBuf::from("-"),
                size: None,
                stdin: true,
                #[cfg(feature = "s3")]
                remote: None,
            }),
            Input::Path(p) => walk(p, prune, &mut d),
            Input::S3(url) => list_s3(url, prune, s3, &mut d),
        }
    }
    d
}

#[cfg(feature = "s3")]
fn list_s3(url: &S3Url, prune: &Prune, s3: &S3Access, d: &mut Discovery) {
    let remote = match s3::Remote::connect(&url.bucket, s3) {
        Ok(r) => r,
        Err(why) => {
            return d
                .problems
                .push((S3Url::show(&url.bucket, &url.prefix), why))
        }
    };
    let listing = remote.list(&url.prefix, prune);
    d.pruned += listing.pruned;
    d.list_requests += listing.requests;
    d.problems.extend(listing.problems);
    for o in listing.objects {
        d.sources.push(Source {
            path: o.path(),
            size: Some(o.size),
            stdin: false,
            remote: Some(o),
        });
    }
}

#[cfg(not(feature = "s3"))]
fn list_s3(url: &S3Url, _: &Prune, _: &S3Access, d: &mut Discovery) {
    d.problems.push((
        S3Url::show(&url.bucket, &url.prefix),
        "reading S3 needs flowscan built with the `s3` feature".into(),
    ));
}

fn walk(root: &Path, prune: &Prune, d: &mut Discovery) {
    // A partition folder or one file of an export, named on its own, is as
    // untrustworthy as the whole when the export did not finish: the nearest
    // manifest above it says. (The walk checks the folders at and below root.)
    let above = std::fs::canonicalize(root).ok();
    let manifest = above.as_deref().and_then(|p| {
        p.ancestors()
            .skip(1)
            .find(|a| a.join(EXPORT_MANIFEST).is_file())
    });
    if let Some(why) = manifest.and_then(unfinished_export) {
        d.problems.push((root.to_path_buf(), why));
    }
    let pruned = std::cell::Cell::new(0usize);
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            if e.depth() == 0 {
                return true;
            }
            if is_hidden(e.file_name()) {
                return false;
            }
            if prune.rules_out(e.path()) {
                pruned.set(pruned.get() + 1);
                return false;
            }
            true
        });
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_dir() => {
                if let Some(why) = unfinished_export(e.path()) {
                    d.problems.push((e.into_path(), why));
                }
            }
            Ok(e) if e.depth() > 0 && !e.file_type().is_file() => {
                d.skipped.push((
                    e.into_path(),
                    "not a regular file (a named pipe, socket or device): name it to read it"
                        .into(),
                ));
            }
            Ok(e) => {
                let size = e.metadata().ok().map(|m| m.len());
                d.sources.push(Source {
                    path: e.into_path(),
                    size,
                    stdin: false,
                    #[cfg(feature = "s3")]
                    remote: None,
                });
            }
            Err(err) => {
                let path = err
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let why = if let Some(ancestor) = err.loop_ancestor() {
                    format!(
                        "symbolic link loop back to {} (not followed)",
                        ancestor.display()
                    )
                } else if let Some(io) = err.io_error() {
                    io.to_string()
                } else {
                    err.to_string()
                };
                d.problems.push((path, why));
            }
        }
    }
    d.pruned += pruned.get();
}

/// The manifest a flowscan export writes in its output folder.
pub const EXPORT_MANIFEST: &str = "_flowscan_export.json";

/// Why the folder `dir` cannot be trusted to hold a whole export: its manifest
/// says the export did not finish (it was interrupted, or is still running).
fn unfinished_export(dir: &Path) -> Option<String> {
    let text = std::fs::read(dir.join(EXPORT_MANIFEST)).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    (v["complete"] == serde_json::Value::Bool(false)).then(|| {
        "an unfinished flowscan export (interrupted, or still being written): \
         its files may not hold every row; export again to complete it"
            .to_string()
    })
}

/// Names skipped in directory walks: dot-files, and `_`-prefixed names, which
/// Hive, Spark and Athena treat as metadata (`_SUCCESS`, flowscan's
/// `_flowscan_export.json` and `_athena_*.sql`).
fn is_hidden(name: &std::ffi::OsStr) -> bool {
    let n = name.to_string_lossy();
    n.starts_with('.') || n.starts_with('_')
}

/// Bytes held in memory: a memory map, or a buffer for small files.
pub enum Bytes {
    /// A read-only memory map of a whole file.
    Mapped(memmap2::Mmap),
    /// A file read into memory.
    Owned(Vec<u8>),
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

/// Text (or compressed bytes) held in memory: borrowed from the caller, or a
/// range of a shared map or buffer. Slicing never copies.
#[derive(Clone)]
pub(crate) enum Data<'a> {
    Borrowed(&'a [u8]),
    Shared(Arc<Bytes>, std::ops::Range<usize>),
    Owned(Arc<Vec<u8>>, std::ops::Range<usize>),
}

impl std::ops::Deref for Data<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Data::Borrowed(b) => b,
            Data::Shared(m, r) => &m.as_ref().as_ref()[r.clone()],
            Data::Owned(v, r) => &v[r.clone()],
        }
    }
}

impl<'a> Data<'a> {
    /// All of a buffer.
    pub fn owned(v: Arc<Vec<u8>>) -> Data<'a> {
        let len = v.len();
        Data::Owned(v, 0..len)
    }

    /// The bytes in `range` (relative to this data), sharing the storage.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Data<'a> {
        let within = |r: &std::ops::Range<usize>| {
            assert!(range.end <= r.len(), "slice out of range");
            r.start + range.start..r.start + range.end
        };
        match self {
            Data::Borrowed(b) => Data::Borrowed(&b[range]),
            Data::Shared(m, r) => Data::Shared(m.clone(), within(r)),
            Data::Owned(v, r) => Data::Owned(v.clone(), within(r)),
        }
    }

    /// Lets the kernel drop this range's whole pages from the process's page
    /// tables, when it is part of a map: called once a block is parsed, by
    /// the thread that parsed it, so that the map's teardown is spread over
    /// the scan's threads instead of being one thread's work when it ends
    /// (about 50 ms for a 1.1 GB file, with every other thread idle).
    pub(crate) fn release_pages(&self) {
        #[cfg(unix)]
        if let Data::Shared(bytes, r) = self {
            if let Bytes::Mapped(map) = bytes.as_ref() {
                const PAGE: usize = 4096;
                let start = r.start.next_multiple_of(PAGE);
                let end = r.end / PAGE * PAGE;
                if start < end {
                    // SAFETY: the map is of a file, shared and read-only, so
                    // a page dropped from the page tables is faulted in again
                    // from the page cache, with the same bytes, if anything
                    // reads it later (a block read again, another block's
                    // line on a page it shares, when the system's pages are
                    // larger than 4 KiB): no reference ever sees other data
                    // than the file holds, which is what the map shows anyway.
                    // A failure only leaves the pages mapped.
                    let _ = unsafe {
                        map.unchecked_advise_range(
                            memmap2::UncheckedAdvice::DontNeed,
                            start,
                            end - start,
                        )
                    };
                }
            }
        }
    }
}

/// Whether bytes start with Parquet's magic number.
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

/// Whether bytes start with gzip's magic number.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// Compression formats told from their magic bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Packing {
    Plain,
    Gzip,
    Zstd,
    /// A format flowscan recognises but does not read: its name.
    Unsupported(&'static str),
    Parquet,
}

/// What the first bytes of an input say it is.
pub(crate) fn packing(head: &[u8]) -> Packing {
    if is_gzip(head) {
        Packing::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Packing::Zstd
    } else if is_parquet(head) {
        Packing::Parquet
    } else if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        Packing::Unsupported("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Packing::Unsupported("xz")
    } else if head.starts_with(b"PK\x03\x04") {
        Packing::Unsupported("zip")
    } else {
        Packing::Plain
    }
}

/// Bytes of magic needed to tell every [`Packing`] apart.
pub(crate) const MAGIC: usize = 6;

/// Files smaller than this are read rather than mapped: for them a map's setup and
/// teardown cost more than the copy.
const MAP_THRESHOLD: u64 = 1 << 20;

/// Counts the bytes read through it, so that progress can be told in on-disk
/// bytes while a decoder consumes them.
pub(crate) struct Counted<R> {
    pub inner: R,
    pub count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, n: usize) {
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        self.inner.consume(n);
    }
}

/// A file as opened: in memory (small files read; large plain ones, and gzip
/// files of a few megabytes, mapped), a large compressed or Parquet file left
/// as a file (read once in order, or by ranges: a map would only keep its
/// pages resident), or a reader (pipes, character devices).
pub(crate) enum Raw {
    Bytes(Bytes),
    File(File),
    Read(Box<dyn Read + Send>),
}

/// Opens the file at `path` (by its OS name: no lossy conversion).
pub(crate) fn open_path(path: &Path) -> io::Result<Raw> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::other("is a directory"));
    }
    if !meta.is_file() {
        // Pipes, character devices: no size, no map.
        return Ok(Raw::Read(Box::new(file)));
    }
    if meta.len() >= MAP_THRESHOLD {
        let mut magic = [0u8; MAGIC];
        let n = read_up_to(&mut &file, &mut magic)?;
        (&file).seek(io::SeekFrom::Start(0))?;
        match packing(&magic[..n]) {
            // A gzip file of a few megabytes is inflated whole (see `whole`),
            // from its map: read into a buffer instead, the buffers of the
            // files in flight were 4 MB of a 10 M-record tree's heap.
            Packing::Plain => {}
            Packing::Gzip if meta.len() <= whole::WHOLE_GZIP => {}
            _ => return Ok(Raw::File(file)),
        }
        // SAFETY: the map is read-only and lives as long as this value. If
        // another process truncates the file while we read it, the access
        // can fault (SIGBUS); `crate::mapguard` turns that fault into a
        // read error for this file instead of a crash.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        if crate::mapguard::register(&map, &file) {
            return Ok(Raw::Bytes(Bytes::Mapped(map)));
        }
    }
    let mut v = Vec::with_capacity(meta.len() as usize);
    (&file).read_to_end(&mut v)?;
    Ok(Raw::Bytes(Bytes::Owned(v)))
}

impl Drop for Bytes {
    fn drop(&mut self) {
        if let Bytes::Mapped(m) = self {
            crate::mapguard::unregister(m);
        }
    }
}

/// Whether the bytes of a map were cut by a truncation while being read.
pub(crate) fn was_truncated(bytes: &Bytes) -> bool {
    match bytes {
        Bytes::Mapped(m) => crate::mapguard::truncated(m),
        Bytes::Owned(_) => false,
    }
}

/// Reads until `buf` is full or the end of the input; returns how much was read.
pub(crate) fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads gzip members back to back, as `gzip -d` does: a member may follow
/// another, and zero bytes after the last one are padding (tape archives and
/// some uploaders leave them), not an error.
pub(crate) struct Members<R: BufRead> {
    inner: Option<flate2::bufread::GzDecoder<R>>,
}

impl<R: BufRead> Members<R> {
    pub fn new(r: R) -> Members<R> {
        Members {
            inner: Some(flate2::bufread::GzDecoder::new(r)),
        }
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(dec) = self.inner.as_mut() else {
                return Ok(0);
            };
            let n = dec.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // This member is done: another one, padding, or the end.
            let mut r = self.inner.take().expect("present").into_inner();
            loop {
                let head = r.fill_buf()?;
                if head.is_empty() {
                    return Ok(0);
                }
                if head[0] == 0x1f {
                    self.inner = Some(flate2::bufread::GzDecoder::new(r));
                    break;
                }
                match head.iter().position(|&b| b != 0) {
                    Some(_) => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "data after the end of the gzip stream is neither a gzip member nor zero padding",
                        ))
                    }
                    None => {
                        let n = head.len();
                        r.consume(n);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn walks_in_name_order_skipping_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for f in [
            "b/c/2.log",
            "b/1.log",
            "a.log",
            ".hidden.log",
            ".git/x",
            "b/.h",
        ] {
            std::fs::write(root.join(f), "x").unwrap();
        }
        let d = discover(&[Input::Path(root.to_path_buf())]);
        let names: Vec<_> = d
            .sources
            .iter()
            .map(|s| {
                s.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a.log", "b/1.log", "b/c/2.log"]);
        assert!(d.problems.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_reported_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("d")).unwrap();
        std::fs::write(root.join("d/f.log"), "x").unwrap();
        std::os::unix::fs::symlink(root.join("d"), root.join("d/loop")).unwrap();
        let d = discover(&[Input::Path(root.to_path_buf())]);
        assert_eq!(d.sources.len(), 1);
        assert_eq!(d.problems.len(), 1);
        assert!(d.problems[0].1.contains("loop"), "{:?}", d.problems);
    }

    #[test]
    fn missing_paths_are_problems() {
        let d = discover(&[Input::Path("/no/such/path".into())]);
        assert!(d.sources.is_empty());
        assert_eq!(d.problems.len(), 1);
    }

    fn gz(text: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_members_back_to_back_and_zero_padding() {
        let mut data = gz(b"hello\n");
        // A second member, as Firehose writes, then padding.
        data.extend(gz(b"world\n"));
        data.extend([0u8; 700]);
        let mut s = String::new();
        Members::new(std::io::Cursor::new(&data))
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "hello\nworld\n");
        data.extend(b"junk");
        let mut s = String::new();
        let e = Members::new(std::io::Cursor::new(&data))
            .read_to_string(&mut s)
            .unwrap_err();
        assert!(e.to_string().contains("neither a gzip member"), "{e}");
    }

    #[test]
    fn compression_is_named() {
        assert_eq!(packing(&gz(b"x")), Packing::Gzip);
        assert_eq!(packing(b"BZh91AY&SY"), Packing::Unsupported("bzip2"));
        assert_eq!(
            packing(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Packing::Unsupported("xz")
        );
        assert_eq!(packing(b"PK\x03\x04rest"), Packing::Unsupported("zip"));
        assert_eq!(packing(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Packing::Zstd);
        assert_eq!(packing(b"PAR1"), Packing::Parquet);
        assert_eq!(packing(b"version"), Packing::Plain);
    }
}
