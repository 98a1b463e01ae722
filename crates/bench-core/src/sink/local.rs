//! Local sinks: a directory with one file per suite, or one named file.
//!
//! A write is atomic: a temporary file in the same directory is written,
//! fsynced, renamed over the target, and the directory is fsynced. An earlier
//! file of another run is first hard-linked (or, where links are not
//! supported, copied) into `history/<run_id>/`, so the target never goes
//! missing and the earlier result is never lost.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use super::{
    HISTORY_DIR, Sink, SinkError, check_file_name, history_candidate, history_run_id, mtime_secs,
    previous_run_id, render_json,
};

/// Distinguishes temporary files of concurrent writes in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// How many numbered names are tried in one history slot before giving up.
const MAX_HISTORY_SUFFIX: u32 = 10_000;

/// A local directory with one file per suite (`--output-dir DIR`).
#[derive(Debug)]
pub struct LocalDirSink {
    dir: PathBuf,
    flag: &'static str,
    /// Serializes writes so history moves of one file cannot interleave.
    lock: Mutex<()>,
}

impl LocalDirSink {
    /// Creates `dir` (with parents) and proves it writable with a probe file.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, SinkError> {
        Self::open_for_flag(dir.as_ref(), "--output-dir")
    }

    pub(crate) fn open_for_flag(dir: &Path, flag: &'static str) -> Result<Self, SinkError> {
        prepare_dir(dir, flag)?;
        Ok(LocalDirSink {
            dir: dir.to_path_buf(),
            flag,
            lock: Mutex::new(()),
        })
    }

    /// The directory written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Sink for LocalDirSink {
    fn write_json(&self, file_name: &str, value: &Value) -> Result<String, SinkError> {
        check_file_name(file_name)?;
        let (bytes, run_id) = render_json(value)?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        // The directory may have been removed since `open`; recreate it.
        fs::create_dir_all(&self.dir).map_err(|source| SinkError::CreateDir {
            flag: self.flag,
            path: self.dir.clone(),
            source,
        })?;
        let target = self.dir.join(file_name);
        let temp = write_temp(&self.dir, file_name, &bytes)?;
        let published = keep_previous(&self.dir, file_name, &target, &run_id)
            .and_then(|()| publish(&temp, &target));
        if published.is_err() {
            let _ = fs::remove_file(&temp);
        }
        published?;
        Ok(target.display().to_string())
    }

    fn location(&self) -> String {
        self.dir.display().to_string()
    }
}

/// Exactly one file (`--output PATH`); every write atomically replaces it.
/// An existing device, pipe or socket (`/dev/stdout`, a fifo) is written in
/// place instead: renaming over it would replace the device node itself.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    lock: Mutex<()>,
    /// The open device or pipe, when the target is not a regular file.
    special: Option<File>,
}

impl FileSink {
    /// Creates the parent directory and proves it writable with a probe file.
    /// Fails when `path` is an existing directory.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        let path = path.as_ref();
        if path.as_os_str().is_empty() || path.is_dir() || path.file_name().is_none() {
            return Err(SinkError::InvalidDestination {
                flag: "--output",
                value: path.display().to_string(),
                reason: "not a file path; give a file name, `-` for stdout, or use --output-dir for a directory".to_owned(),
            });
        }
        let special = if fs::metadata(path).is_ok_and(|m| !m.is_file()) {
            Some(open_special(path)?)
        } else {
            prepare_dir(&parent_dir(path), "--output")?;
            None
        };
        Ok(FileSink {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
            special,
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Sink for FileSink {
    fn write_json(&self, _file_name: &str, value: &Value) -> Result<String, SinkError> {
        let (bytes, _) = render_json(value)?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut special) = self.special.as_ref() {
            special.write_all(&bytes).map_err(|source| SinkError::Io {
                path: self.path.clone(),
                action: "write",
                source,
            })?;
            return Ok(self.path.display().to_string());
        }
        let dir = parent_dir(&self.path);
        fs::create_dir_all(&dir).map_err(|source| SinkError::CreateDir {
            flag: "--output",
            path: dir.clone(),
            source,
        })?;
        let name = self
            .path
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let temp = write_temp(&dir, &name, &bytes)?;
        let published = publish(&temp, &self.path);
        if published.is_err() {
            let _ = fs::remove_file(&temp);
        }
        published?;
        Ok(self.path.display().to_string())
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn replaces(&self) -> bool {
        self.special.is_none()
    }
}

/// Opens an existing non-regular file (device, fifo) for writing.
fn open_special(path: &Path) -> Result<File, SinkError> {
    OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|source| SinkError::Io {
            path: path.to_path_buf(),
            action: "open for writing",
            source,
        })
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates `dir` and writes, fsyncs and removes a probe file in it.
fn prepare_dir(dir: &Path, flag: &'static str) -> Result<(), SinkError> {
    let created = match fs::metadata(dir) {
        // create_dir_all would only say "File exists".
        Ok(m) if !m.is_dir() => Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            "exists and is not a directory",
        )),
        _ => fs::create_dir_all(dir),
    };
    created.map_err(|source| SinkError::CreateDir {
        flag,
        path: dir.to_path_buf(),
        source,
    })?;
    let probe = dir.join(format!(
        ".e2b-bench-probe-{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| {
            f.write_all(b"probe\n")?;
            f.sync_all()
        });
    let removed = fs::remove_file(&probe);
    result
        .and(removed)
        .map_err(|source| SinkError::NotWritable {
            flag,
            path: dir.to_path_buf(),
            source,
        })
}

/// Writes `bytes` to a new temporary file next to the target and fsyncs it.
fn write_temp(dir: &Path, file_name: &str, bytes: &[u8]) -> Result<PathBuf, SinkError> {
    let temp = dir.join(format!(
        ".{file_name}.{}-{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(SinkError::Io {
            path: temp,
            action: "write temporary file",
            source,
        });
    }
    Ok(temp)
}

/// Renames `temp` over `target` and fsyncs the directory.
fn publish(temp: &Path, target: &Path) -> Result<(), SinkError> {
    fs::rename(temp, target).map_err(|source| SinkError::Io {
        path: target.to_path_buf(),
        action: "rename the temporary file over",
        source,
    })?;
    sync_dir(&parent_dir(target));
    Ok(())
}

/// Best-effort fsync of a directory (makes renames and links durable).
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// When `target` exists and was written by another run than `new_run_id`
/// (or cannot be read as a result), keeps it under
/// `history/<old_run_id>/`. The target itself is left in place; the caller
/// renames the new version over it.
fn keep_previous(
    dir: &Path,
    file_name: &str,
    target: &Path,
    new_run_id: &str,
) -> Result<(), SinkError> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(SinkError::Io {
                path: target.to_path_buf(),
                action: "inspect the earlier result",
                source,
            });
        }
    };
    if meta.is_dir() {
        return Err(SinkError::Io {
            path: target.to_path_buf(),
            action: "replace",
            source: io::Error::new(
                io::ErrorKind::IsADirectory,
                "a directory is in the way of the result file",
            ),
        });
    }
    let previous = fs::read(target).ok();
    if let Some(bytes) = &previous
        && previous_run_id(bytes).as_deref() == Some(new_run_id)
    {
        // The same run rewriting its own result: plain replace.
        return Ok(());
    }
    let run_dir = dir
        .join(HISTORY_DIR)
        .join(history_run_id(previous.as_deref(), mtime_secs(target)));
    fs::create_dir_all(&run_dir).map_err(|source| SinkError::Io {
        path: run_dir.clone(),
        action: "create the history directory",
        source,
    })?;
    for n in 0..MAX_HISTORY_SUFFIX {
        let slot = run_dir.join(history_candidate(file_name, n));
        match link_or_copy(target, &slot) {
            Ok(()) => {
                sync_dir(&run_dir);
                sync_dir(&dir.join(HISTORY_DIR));
                sync_dir(dir);
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(source) => {
                return Err(SinkError::Io {
                    path: slot,
                    action: "keep the earlier result in history",
                    source,
                });
            }
        }
    }
    Err(SinkError::Io {
        path: run_dir,
        action: "keep the earlier result in history",
        source: io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{MAX_HISTORY_SUFFIX} earlier copies already there"),
        ),
    })
}

/// Hard-links `from` to the new name `to`; where links are not supported,
/// copies it into a new file. Never replaces an existing `to`
/// (`AlreadyExists`).
fn link_or_copy(from: &Path, to: &Path) -> io::Result<()> {
    match fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            let mut src = File::open(from)?;
            let mut dst = OpenOptions::new().write(true).create_new(true).open(to)?;
            let copied = io::copy(&mut src, &mut dst).and_then(|_| dst.sync_all());
            if copied.is_err() {
                let _ = fs::remove_file(to);
            }
            copied
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_of_bare_name_is_cwd() {
        assert_eq!(parent_dir(Path::new("r.json")), PathBuf::from("."));
        assert_eq!(parent_dir(Path::new("a/r.json")), PathBuf::from("a"));
    }

    #[test]
    fn link_or_copy_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        fs::write(&a, "A").unwrap();
        fs::write(&b, "B").unwrap();
        let e = link_or_copy(&a, &b).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&b).unwrap(), "B");
        link_or_copy(&a, &dir.path().join("c")).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("c")).unwrap(), "A");
    }
}
