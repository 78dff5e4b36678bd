//! The output folder: nothing is written or deleted outside it, nothing is
//! followed through a symbolic link, and the manifest is the one record of
//! what an export wrote.
//!
//! An export locks the folder (an advisory lock on `_flowscan_export.lock`,
//! released by the system when the process ends, however it ends), then
//! writes its manifest, marked in progress, before any data. Data files carry
//! the export's run id in their names (`part-<run>-<n>.parquet`, written as
//! hidden `.part-<run>-<n>.parquet.tmp` and renamed when complete), so that
//! after a crash every file of the run can be told from anyone else's. The
//! manifest is replaced atomically (a temporary file, synced, then renamed).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ExportError;

/// The manifest: what an export wrote, so that `overwrite` deletes exactly that.
pub const MANIFEST: &str = crate::source::EXPORT_MANIFEST;
/// The lock file beside it.
pub const LOCK: &str = "_flowscan_export.lock";
/// DDL files an export writes beside the data.
pub const DDL_FILES: [&str; 2] = ["_athena_vpc_flow_logs.sql", "_athena_tgw_flow_logs.sql"];

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |error| ExportError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// What the manifest holds (the summary's fields ride along, unread here).
#[derive(Serialize, Deserialize, Default)]
pub(crate) struct Manifest {
    pub writer: String,
    pub run: String,
    pub complete: bool,
    #[serde(default)]
    pub files: Vec<ListedFile>,
    /// Files of the previous export this one replaces (with `overwrite`),
    /// deleted only once this one is complete: listed so that, if it never
    /// is, the next `overwrite` still knows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replacing: Vec<PathBuf>,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// A file the manifest lists.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct ListedFile {
    pub path: PathBuf,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

/// The output folder, locked for this export.
pub(crate) struct OutDir {
    pub root: PathBuf,
    pub run: String,
    _lock: File,
    /// The previous export's files (relative), kept until this one is
    /// complete (see [`OutDir::replace_previous`]).
    pub replacing: Vec<PathBuf>,
    /// The previous export's folders, removed with its files if empty then.
    old_dirs: Vec<PathBuf>,
    /// The previous export's manifest, put back if this one is abandoned.
    old_manifest: Option<Vec<u8>>,
}

/// A run id: unique enough that two exports never share file names.
fn run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:08x}", h.finish() as u32)
}

/// Whether `name` is a data or temporary file of run `run`.
fn of_run(name: &str, run: &str) -> bool {
    let data = name
        .strip_prefix("part-")
        .and_then(|r| r.strip_suffix(".parquet"));
    let tmp = name
        .strip_prefix(".part-")
        .and_then(|r| r.strip_suffix(".parquet.tmp"));
    data.or(tmp)
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(id, n)| id == run && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// A path from a manifest, checked to be a plain relative path inside the
/// folder (no root, no `..`, no `.`).
fn listed_path(root: &Path, rel: &Path) -> Result<PathBuf, ExportError> {
    let plain =
        !rel.as_os_str().is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(ExportError::Manifest(format!(
            "it lists {}, which is not a path inside the export folder; nothing was deleted",
            crate::display::path_text(rel)
        )));
    }
    Ok(root.join(rel))
}

/// The nearest existing ancestor of `p`, resolved, with the rest appended: a
/// path that compares by what it names, whether or not it exists yet.
fn resolved(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| p.to_path_buf(), |d| d.join(p))
    };
    let mut tail = Vec::new();
    let mut cur = abs.as_path();
    loop {
        if let Ok(c) = fs::canonicalize(cur) {
            return tail.iter().rev().fold(c, |acc: PathBuf, t| acc.join(t));
        }
        match (cur.parent(), cur.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_owned());
                cur = parent;
            }
            _ => return abs,
        }
    }
}

impl OutDir {
    /// Prepares `root` for an export: refuses a folder that overlaps an
    /// input, is not empty (unless `overwrite` and it holds only a previous
    /// flowscan export, which is replaced once this one is complete), or is
    /// being written by another export; locks it and writes the in-progress
    /// manifest.
    pub fn prepare(
        root: &Path,
        overwrite: bool,
        inputs: &[PathBuf],
    ) -> Result<OutDir, ExportError> {
        let out = resolved(root);
        for input in inputs {
            let i = resolved(input);
            if i.starts_with(&out) || out.starts_with(&i) {
                return Err(ExportError::Overlap {
                    out: root.to_path_buf(),
                    input: input.clone(),
                });
            }
        }
        match fs::symlink_metadata(root) {
            Ok(m) if !m.is_dir() && !m.file_type().is_symlink() => {
                return Err(io_err(root)(io::Error::other("not a folder")));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(root).map_err(io_err(root))?;
            }
            Err(e) => return Err(io_err(root)(e)),
        }
        let lock_path = root.join(LOCK);
        let mut open = fs::OpenOptions::new();
        open.create(true).truncate(false).write(true);
        // A lock file that is a link would be followed out of the folder.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut open, libc::O_NOFOLLOW);
        let made = !lock_path.exists();
        let lock = open.open(&lock_path).map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(ExportError::Busy(root.to_path_buf())),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        let mut dir = OutDir {
            root: root.to_path_buf(),
            run: run_id(),
            _lock: lock,
            replacing: Vec::new(),
            old_dirs: Vec::new(),
            old_manifest: None,
        };
        if let Err(e) = dir.survey_previous(overwrite) {
            // A folder refused is left as it was found.
            if made {
                let _ = fs::remove_file(&lock_path);
            }
            return Err(e);
        }
        dir.write_manifest(&Manifest {
            writer: writer(),
            run: dir.run.clone(),
            complete: false,
            replacing: dir.replacing.clone(),
            ..Manifest::default()
        })?;
        Ok(dir)
    }

    /// Finds what a previous export in the folder wrote, to be replaced, or
    /// refuses (a folder that is not empty without `overwrite`, or that holds
    /// anything a previous export did not write). Nothing is deleted yet: an
    /// export that fails or reads nothing leaves the previous one whole.
    fn survey_previous(&mut self, overwrite: bool) -> Result<(), ExportError> {
        let root = &self.root;
        let mut entries = fs::read_dir(root).map_err(io_err(root))?;
        let nonempty = entries.any(|e| e.is_ok_and(|e| e.file_name() != LOCK));
        if !nonempty {
            return Ok(());
        }
        if !overwrite {
            return Err(ExportError::Exists(root.clone()));
        }
        let manifest = root.join(MANIFEST);
        let text = fs::read(&manifest).map_err(|_| ExportError::Foreign(root.clone()))?;
        let old: Manifest =
            serde_json::from_slice(&text).map_err(|_| ExportError::Foreign(root.clone()))?;
        let mut listed = std::collections::HashSet::new();
        for p in old.files.iter().map(|f| &f.path).chain(&old.replacing) {
            listed.insert(listed_path(root, p)?);
        }
        // Every file must be the old export's, or nothing is replaced.
        let mut doomed = Vec::new();
        let mut dirs = Vec::new();
        self.survey(root, &old.run, &listed, &mut doomed, &mut dirs)?;
        // The manifest is replaced, not deleted.
        doomed.retain(|p| *p != manifest);
        self.replacing = doomed
            .iter()
            .filter_map(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
            .collect();
        self.old_dirs = dirs;
        self.old_manifest = Some(text);
        Ok(())
    }

    /// Deletes the previous export's files (this one being complete), and
    /// its folders left empty.
    pub fn replace_previous(&mut self) -> Result<(), ExportError> {
        for rel in std::mem::take(&mut self.replacing) {
            let f = self.root.join(rel);
            match fs::remove_file(&f) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&f)(e)),
            }
        }
        // Deepest first; a folder that is not empty is someone's: keep it.
        let mut dirs = std::mem::take(&mut self.old_dirs);
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in dirs {
            let _ = fs::remove_dir(d);
        }
        Ok(())
    }

    /// Puts the previous export's manifest back (or removes this one's when
    /// there was none): the folder is as it was, but for this export's data
    /// files, which the caller has deleted.
    pub fn restore_previous(&self) -> Result<(), ExportError> {
        match &self.old_manifest {
            Some(text) => self.write_atomic(MANIFEST, text),
            None => match fs::remove_file(self.root.join(MANIFEST)) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_err(&self.root.join(MANIFEST))(e)),
            },
        }
    }

    /// Walks `dir` without following links: files of the old export go to
    /// `doomed`, its folders to `dirs`; anything else is refused.
    fn survey(
        &self,
        dir: &Path,
        run: &str,
        listed: &std::collections::HashSet<PathBuf>,
        doomed: &mut Vec<PathBuf>,
        dirs: &mut Vec<PathBuf>,
    ) -> Result<(), ExportError> {
        for e in fs::read_dir(dir).map_err(io_err(dir))? {
            let e = e.map_err(io_err(dir))?;
            let path = e.path();
            let ty = e.file_type().map_err(io_err(&path))?;
            let name = e.file_name();
            let name = name.to_string_lossy();
            let top = dir == self.root;
            if ty.is_symlink() {
                return Err(ExportError::Foreign(path));
            } else if ty.is_dir() {
                self.survey(&path, run, listed, doomed, dirs)?;
                dirs.push(path);
            } else if top && name == LOCK {
            } else if listed.contains(&path)
                || (!run.is_empty() && of_run(&name, run))
                || (top && (name == MANIFEST || DDL_FILES.contains(&&*name)))
            {
                doomed.push(path);
            } else {
                return Err(ExportError::Foreign(path));
            }
        }
        Ok(())
    }

    /// Replaces the manifest atomically.
    pub fn write_manifest(&self, m: &Manifest) -> Result<(), ExportError> {
        let text = serde_json::to_vec_pretty(m).expect("serialisable");
        self.write_atomic(MANIFEST, &text)
    }

    /// Writes `name` in the folder's root through a synced temporary file.
    pub fn write_atomic(&self, name: &str, bytes: &[u8]) -> Result<(), ExportError> {
        let tmp = self.root.join(format!(".{name}.{}.tmp", self.run));
        let path = self.root.join(name);
        let res = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        if let Err(e) = res {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(&path)(e));
        }
        fs::rename(&tmp, &path).map_err(io_err(&path))
    }

    /// Creates the folder `rel` (plain components) under the root, refusing
    /// to go through a symbolic link or a file.
    pub fn make_dir(&self, rel: &Path) -> Result<PathBuf, ExportError> {
        let mut p = self.root.clone();
        for c in rel.components() {
            let Component::Normal(name) = c else {
                return Err(ExportError::Manifest(format!(
                    "refusing to write to {}: not a plain path",
                    crate::display::path_text(rel)
                )));
            };
            p.push(name);
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(ExportError::Foreign(p)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => match fs::create_dir(&p) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists && p.is_dir() => {}
                    Err(e) => return Err(io_err(&p)(e)),
                },
                Err(e) => return Err(io_err(&p)(e)),
            }
        }
        Ok(p)
    }
}

/// The writer's name, for the manifest and Parquet's `created_by`.
pub(crate) fn writer() -> String {
    format!("flowscan {}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_files_are_told_apart() {
        assert!(of_run("part-1a2b3c4d-00012.parquet", "1a2b3c4d"));
        assert!(of_run(".part-1a2b3c4d-7.parquet.tmp", "1a2b3c4d"));
        assert!(!of_run("part-ffffffff-00012.parquet", "1a2b3c4d"));
        assert!(!of_run("part-1a2b3c4d-.parquet", "1a2b3c4d"));
        assert!(!of_run("data.parquet", "1a2b3c4d"));
    }

    #[test]
    fn manifest_paths_must_stay_inside() {
        let root = Path::new("/out");
        assert!(listed_path(root, Path::new("a/b.parquet")).is_ok());
        for bad in ["../x", "/etc/passwd", "a/../../x", "./a", ""] {
            assert!(listed_path(root, Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlap_is_found_whether_or_not_the_output_exists() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("logs");
        fs::create_dir(&input).unwrap();
        for out in [
            input.clone(),
            input.join("parquet"),
            dir.path().to_path_buf(),
        ] {
            let e = OutDir::prepare(&out, true, std::slice::from_ref(&input));
            assert!(matches!(e, Err(ExportError::Overlap { .. })), "{out:?}");
        }
        assert!(OutDir::prepare(&dir.path().join("elsewhere"), false, &[input]).is_ok());
    }
}
