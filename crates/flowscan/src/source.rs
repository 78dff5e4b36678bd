//! Where bytes come from: finding input files, and opening each one either as a
//! slice (plain files, memory-mapped) or as a stream (gzip, standard input).
//!
//! Compression is detected from the content (gzip's magic bytes), never from the
//! file name; decompression happens here, so the parser only ever sees text.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

use crate::prune::Prune;

/// One input as the caller names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file or a directory (walked recursively).
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

impl Input {
    /// `-` is standard input; anything else is a path.
    pub fn from_arg(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::Path(PathBuf::from(arg))
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
}

/// What [`discover`] found: files to read, in a stable order, and paths it could
/// not use.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Files to read.
    pub sources: Vec<Source>,
    /// Paths that could not be walked or opened, with the reason.
    pub problems: Vec<(PathBuf, String)>,
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
    let mut d = Discovery::default();
    for input in inputs {
        match input {
            Input::Stdin => d.sources.push(Source {
                path: PathBuf::from("-"),
                size: None,
                stdin: true,
            }),
            Input::Path(p) => walk(p, prune, &mut d),
        }
    }
    d
}

fn walk(root: &Path, prune: &Prune, d: &mut Discovery) {
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
            Ok(e) if e.file_type().is_dir() => {}
            Ok(e) => {
                let size = e.metadata().ok().map(|m| m.len());
                d.sources.push(Source {
                    path: e.into_path(),
                    size,
                    stdin: false,
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

/// An opened input, ready to parse.
pub enum Opened {
    /// Plain text, all of it addressable at once.
    Slice(Bytes),
    /// Text produced by a decoder or a pipe, read in blocks.
    Stream(Box<dyn Read + Send>),
    /// A Parquet file (detected by its `PAR1` magic), read by column.
    Parquet(File),
}

/// Whether bytes start with Parquet's magic number.
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

/// Files smaller than this are read rather than mapped: for them a map's setup and
/// teardown cost more than the copy.
const MAP_THRESHOLD: u64 = 1 << 20;

/// Whether bytes start with gzip's magic number.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// Counts the bytes read through it, so that progress can be told in on-disk
/// bytes while a decoder consumes them.
struct Counted<R> {
    inner: R,
    count: Arc<AtomicU64>,
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

fn stream<R: BufRead + Send + 'static>(
    mut reader: R,
    consumed: &Arc<AtomicU64>,
) -> io::Result<Opened> {
    let gz = is_gzip(reader.fill_buf()?);
    let reader = Counted {
        inner: reader,
        count: Arc::clone(consumed),
    };
    Ok(if gz {
        Opened::Stream(Box::new(MultiGzDecoder::new(reader)))
    } else {
        Opened::Stream(Box::new(reader))
    })
}

/// Opens a source. Plain files become slices; gzip (detected by its magic bytes,
/// any number of members) and standard input become streams. As a stream is read,
/// `consumed` counts the on-disk bytes it has used, for progress.
pub fn open(source: &Source, consumed: &Arc<AtomicU64>) -> io::Result<Opened> {
    if source.stdin {
        return stream(BufReader::with_capacity(1 << 16, io::stdin()), consumed);
    }
    let mut file = File::open(&source.path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(io::Error::other("is a directory"));
    }
    if meta.is_file() && meta.len() >= MAP_THRESHOLD {
        // Large compressed files are read, not mapped: they are consumed once,
        // in order, and a map would hold all their pages resident.
        let mut magic = [0u8; 4];
        let n = read_up_to(&mut file, &mut magic)?;
        file.seek(io::SeekFrom::Start(0))?;
        if is_gzip(&magic[..n]) {
            return stream(BufReader::with_capacity(1 << 20, file), consumed);
        }
        if is_parquet(&magic[..n]) {
            return Ok(Opened::Parquet(file));
        }
    }
    let bytes = if meta.is_file() && meta.len() >= MAP_THRESHOLD {
        // SAFETY: the map is read-only and lives as long as this value. If another
        // process truncates the file while we read it, the access can fault
        // (SIGBUS); like ripgrep, we accept that for the speed of reading large
        // files without copies, and read small files instead.
        Bytes::Mapped(unsafe { memmap2::Mmap::map(&file)? })
    } else if meta.is_file() {
        let mut v = Vec::with_capacity(meta.len() as usize);
        (&file).read_to_end(&mut v)?;
        Bytes::Owned(v)
    } else {
        // Pipes, character devices: no size, no map.
        return stream(BufReader::with_capacity(1 << 16, file), consumed);
    };
    if is_parquet(bytes.as_ref()) {
        drop(bytes);
        return Ok(Opened::Parquet(file));
    }
    if is_gzip(bytes.as_ref()) {
        stream(Cursor::new(bytes), consumed)
    } else {
        Ok(Opened::Slice(bytes))
    }
}

/// Reads until `buf` is full or the end of the file; returns how much was read.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
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

    #[test]
    fn gzip_is_detected_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain-name.log");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"hello\n").unwrap();
        let mut data = enc.finish().unwrap();
        // A second member, as Firehose writes.
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"world\n").unwrap();
        data.extend(enc.finish().unwrap());
        std::fs::write(&path, data).unwrap();
        let src = Source {
            path,
            size: None,
            stdin: false,
        };
        match open(&src, &Arc::default()).unwrap() {
            Opened::Stream(mut r) => {
                let mut s = String::new();
                r.read_to_string(&mut s).unwrap();
                assert_eq!(s, "hello\nworld\n");
            }
            _ => panic!("gzip not detected"),
        }
    }
}
