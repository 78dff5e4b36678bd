//! Writing parts in input order: one Parquet file open per partition and
//! layout (a few at a time), written under a hidden temporary name and renamed
//! when complete.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::PathBuf;

use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use super::layout::Dataset;
use super::output::OutDir;
use super::part::{Batch, ExportPart};
use super::partition::{Fallbacks, PartKey};
use super::{ExportError, Partition, WrittenFile};

/// At most this many files are open at once (fewer when the process may open
/// few files); the least recently used is closed to make room. Input that is
/// not sorted by time (a CloudWatch export grouped by log stream) visits
/// every hour's partition over and over: with eight open files, each visit
/// opened a new file, and an export of 100 MB wrote 15,921 files.
const MAX_OPEN: usize = 256;

/// The memory the open files' row groups in progress may take together.
/// Past it, the largest ends its row group early (it stays open), so many
/// open partitions cost smaller row groups, not more files or memory.
const WRITE_MEMORY: usize = 128 << 20;

/// How many files may be open at once: a quarter of the descriptors the
/// process may open, within 8..=[`MAX_OPEN`], leaving the rest to inputs.
fn max_open() -> usize {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
            let quarter = usize::try_from(lim.rlim_cur / 4).unwrap_or(MAX_OPEN);
            return quarter.clamp(8, MAX_OPEN);
        }
    }
    MAX_OPEN
}

/// A Parquet file being written.
struct OpenFile {
    key: PartKey,
    layout: usize,
    writer: ArrowWriter<BufWriter<File>>,
    tmp: PathBuf,
    path: PathBuf,
    rows: u64,
    /// The writer's memory after its last write or flush.
    memory: usize,
    /// [`Files::rows`] when it was last written to.
    touched: u64,
}

/// The writing side of an export.
pub(crate) struct Files {
    pub dir: OutDir,
    pub props: WriterProperties,
    pub partition: Partition,
    pub target_bytes: u64,
    open: Vec<OpenFile>,
    max_open: usize,
    /// Rows written to any file so far.
    rows: u64,
    next: u64,
    pub written: Vec<WrittenFile>,
    /// Rows committed (VPC, Transit Gateway), and rows in closed files.
    pub committed: [u64; 2],
    pub closed: [u64; 2],
    pub fallbacks: Fallbacks,
    /// Partition folders that got a fallback row, for the warning.
    pub fallback_dirs: BTreeSet<PathBuf>,
}

fn parquet_err(path: &std::path::Path, e: impl std::fmt::Display) -> ExportError {
    ExportError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

impl Files {
    pub fn new(
        dir: OutDir,
        props: WriterProperties,
        partition: Partition,
        target_bytes: u64,
    ) -> Files {
        Files {
            dir,
            props,
            partition,
            target_bytes,
            open: Vec::new(),
            max_open: max_open(),
            rows: 0,
            next: 0,
            written: Vec::new(),
            committed: [0; 2],
            closed: [0; 2],
            fallbacks: Fallbacks::default(),
            fallback_dirs: BTreeSet::new(),
        }
    }

    /// Writes a part's rows.
    pub fn commit(&mut self, mut part: ExportPart) -> Result<(), ExportError> {
        part.seal();
        self.fallbacks.add(&part.fallbacks);
        for i in 0..2 {
            self.committed[i] += part.rows[i];
        }
        for batch in std::mem::take(&mut part.batches) {
            self.write(batch)?;
        }
        Ok(())
    }

    fn write(&mut self, batch: Batch) -> Result<(), ExportError> {
        let i = match self
            .open
            .iter()
            .position(|f| f.key == batch.key && f.layout == batch.layout.id)
        {
            Some(i) => i,
            None => {
                if self.open.len() >= self.max_open {
                    let oldest = self.open.remove(0);
                    self.close(oldest)?;
                }
                let f = self.open_file(&batch)?;
                self.open.push(f);
                self.open.len() - 1
            }
        };
        // Most recently used last.
        let mut f = self.open.remove(i);
        for b in &batch.done {
            if let Err(e) = f.writer.write(b) {
                let tmp = f.tmp.clone();
                self.discard(f);
                return Err(parquet_err(&tmp, e));
            }
            f.rows += b.num_rows() as u64;
            self.rows += b.num_rows() as u64;
        }
        f.touched = self.rows;
        let size = (f.writer.bytes_written() + f.writer.in_progress_size()) as u64;
        if size >= self.target_bytes {
            self.close(f)
        } else {
            f.memory = f.writer.memory_size();
            self.open.push(f);
            self.limit_memory()
        }
    }

    /// Ends the row groups of files that a row group's worth of rows went
    /// past (time-sorted input has moved on from their partition), then the
    /// largest ones until the open files fit in [`WRITE_MEMORY`].
    fn limit_memory(&mut self) -> Result<(), ExportError> {
        let group = self.props.max_row_group_row_count().unwrap_or(usize::MAX) as u64;
        for i in 0..self.open.len() {
            let f = &self.open[i];
            if f.memory > 0 && self.rows - f.touched > group {
                self.end_row_group(i)?;
            }
        }
        while self.open.iter().map(|f| f.memory).sum::<usize>() > WRITE_MEMORY {
            let Some(i) = (0..self.open.len()).max_by_key(|&i| self.open[i].memory) else {
                break;
            };
            let before = self.open[i].memory;
            if self.end_row_group(i)? >= before {
                break;
            }
        }
        Ok(())
    }

    /// Ends the row group of open file `i`; returns the memory it holds after.
    fn end_row_group(&mut self, i: usize) -> Result<usize, ExportError> {
        let f = &mut self.open[i];
        if let Err(e) = f.writer.flush() {
            let f = self.open.remove(i);
            let tmp = f.tmp.clone();
            self.discard(f);
            return Err(parquet_err(&tmp, e));
        }
        f.memory = f.writer.memory_size();
        Ok(f.memory)
    }

    fn open_file(&mut self, batch: &Batch) -> Result<OpenFile, ExportError> {
        let rel = batch.key.dir(self.partition);
        let dir = self.dir.make_dir(&rel)?;
        if batch.key.account == super::partition::UNKNOWN
            || batch.key.region == super::partition::UNKNOWN
            || batch.key.bucket == super::partition::FALLBACK_TIME
        {
            self.fallback_dirs.insert(rel);
        }
        let name = format!("part-{}-{:05}.parquet", self.dir.run, self.next);
        self.next += 1;
        let path = dir.join(&name);
        // Hidden while incomplete: engines and flowscan itself skip dot-files.
        let tmp = dir.join(format!(".{name}.tmp"));
        let file = File::create(&tmp).map_err(|error| ExportError::Io {
            path: tmp.clone(),
            error,
        })?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            batch.layout.arrow.clone(),
            Some(self.props.clone()),
        )
        .map_err(|e| parquet_err(&tmp, e))?;
        Ok(OpenFile {
            key: batch.key.clone(),
            layout: batch.layout.id,
            writer,
            tmp,
            path,
            rows: 0,
            memory: 0,
            touched: 0,
        })
    }

    fn close(&mut self, f: OpenFile) -> Result<(), ExportError> {
        let OpenFile {
            key,
            writer,
            tmp,
            path,
            rows,
            ..
        } = f;
        let res = writer
            .into_inner()
            .map_err(|e| parquet_err(&tmp, e))
            .and_then(|w| {
                w.into_inner().map_err(|e| ExportError::Io {
                    path: tmp.clone(),
                    error: e.into_error(),
                })
            })
            .and_then(|file| {
                file.sync_all().map_err(|error| ExportError::Io {
                    path: tmp.clone(),
                    error,
                })
            });
        if let Err(e) = res {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, &path).map_err(|error| ExportError::Io {
            path: path.clone(),
            error,
        })?;
        let bytes = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        self.closed[(key.dataset == Dataset::TransitGateway) as usize] += rows;
        let rel = path
            .strip_prefix(&self.dir.root)
            .unwrap_or(&path)
            .to_path_buf();
        self.written.push(WrittenFile {
            path: rel,
            dataset: key.dataset,
            rows,
            bytes,
        });
        Ok(())
    }

    fn discard(&mut self, f: OpenFile) {
        drop(f.writer);
        let _ = fs::remove_file(&f.tmp);
    }

    /// Closes every open file.
    pub fn close_all(&mut self) -> Result<(), ExportError> {
        while let Some(f) = self.open.pop() {
            self.close(f)?;
        }
        Ok(())
    }

    /// Removes every file still being written.
    pub fn discard_open(&mut self) {
        while let Some(f) = self.open.pop() {
            self.discard(f);
        }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        self.discard_open();
    }
}
