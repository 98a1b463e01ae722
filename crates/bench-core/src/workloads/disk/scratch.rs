//! The test file and its safety rules.
//!
//! A scratch file is created with `O_CREAT|O_EXCL` under a unique name
//! (`.e2b-bench-disk-<pid>-<random>`) and unlinked as soon as its
//! descriptors are open: the open descriptors keep it alive, and it vanishes
//! on every exit, even SIGKILL. Should the unlink fail, a guard removes it on
//! drop — but only while the name still points at our inode, so a file we
//! did not create is never removed. Existing files and block devices are
//! only used with `--force` (checked in [`super::config`]) and never removed.
//!
//! A created file is laid out with real, non-zero pseudo-random data before
//! the first pattern: reads of unwritten (sparse or fallocated) extents never
//! reach the device, so they would measure nothing.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::probe::{Context, ProbeError};
use crate::stats::Rng;
use crate::sys::fs::{self as sysfs, DioAlignment};
use crate::units::format_size;

use super::config::{Target, check_space, open_device, parent_dir, short_io};

/// Prefix of scratch file names (dot: hidden from a casual `ls`).
pub const SCRATCH_PREFIX: &str = ".e2b-bench-disk-";

/// Bytes per layout write.
const LAYOUT_CHUNK: usize = 4 << 20;

/// The file (or device) the patterns run on, with a buffered descriptor
/// and, when asked, an O_DIRECT one.
#[derive(Debug)]
pub struct TestFile {
    buffered: File,
    direct: Option<File>,
    path: PathBuf,
    size: u64,
    created: bool,
    block_device: bool,
    dio: Option<DioAlignment>,
    /// Present only when the unlink right after opening failed.
    guard: Option<RemoveGuard>,
}

impl TestFile {
    /// Creates or opens the target. `direct` also opens an O_DIRECT
    /// descriptor (a file system without O_DIRECT makes this unavailable).
    pub fn open(
        target: &Target,
        size: u64,
        direct: bool,
        seed: u64,
    ) -> Result<TestFile, ProbeError> {
        match target {
            Target::Scratch { dir } => Self::create(dir, &scratch_path(dir, seed)?, size, direct),
            Target::NewFile { path } => Self::create(&parent_dir(path), path, size, direct),
            Target::ExistingFile { path } => {
                let grow =
                    size.saturating_sub(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
                free_space(&parent_dir(path), grow)?;
                let open = |flags| {
                    OpenOptions::new()
                        .read(true)
                        .write(true)
                        .custom_flags(flags)
                        .open(path)
                        .map_err(|e| open_error(path, &e))
                };
                let buffered = open(0)?;
                let direct = direct.then(|| open(libc::O_DIRECT)).transpose()?;
                Ok(Self::assemble(
                    buffered, direct, path, size, false, false, None,
                ))
            }
            Target::BlockDevice { path, .. } => {
                // The first descriptor holds the exclusive claim (no mount can
                // start meanwhile); a second O_EXCL open would fail with EBUSY.
                let buffered = open_device(path, true).map_err(|e| open_error(path, &e))?;
                let direct = if direct {
                    let d = OpenOptions::new()
                        .read(true)
                        .write(true)
                        .custom_flags(libc::O_DIRECT)
                        .open(path)
                        .map_err(|e| open_error(path, &e))?;
                    Some(d)
                } else {
                    None
                };
                Ok(Self::assemble(
                    buffered, direct, path, size, false, true, None,
                ))
            }
        }
    }

    fn create(dir: &Path, path: &Path, size: u64, direct: bool) -> Result<TestFile, ProbeError> {
        free_space(dir, size)?;
        let buffered = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| open_error(path, &e))?;
        let meta = buffered
            .metadata()
            .map_err(|e| ProbeError::io("stat of the test file", &e))?;
        // From here on, any early return removes the file (guard drop).
        let mut guard = Some(RemoveGuard {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
        });
        let direct_fd = if direct {
            let d = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_DIRECT)
                .open(path)
                .map_err(|e| match e.raw_os_error() {
                    Some(libc::EINVAL) => ProbeError::Unavailable(format!(
                        "O_DIRECT is not supported by the {} file system of {}; use --direct false or another --dir",
                        fs_type_name(dir),
                        dir.display()
                    )),
                    _ => open_error(path, &e),
                })?;
            let m = d
                .metadata()
                .map_err(|e| ProbeError::io("stat of the test file", &e))?;
            if (m.dev(), m.ino()) != (meta.dev(), meta.ino()) {
                return Err(ProbeError::Failed(format!(
                    "{} was replaced while being opened; not using it",
                    path.display()
                )));
            }
            Some(d)
        } else {
            None
        };
        match std::fs::remove_file(path) {
            Ok(()) => guard = None,
            Err(e) => tracing::warn!(
                "disk: could not unlink {} right away ({}); it is removed at the end",
                path.display(),
                short_io(&e)
            ),
        }
        Ok(Self::assemble(
            buffered, direct_fd, path, size, true, false, guard,
        ))
    }

    fn assemble(
        buffered: File,
        direct: Option<File>,
        path: &Path,
        size: u64,
        created: bool,
        block_device: bool,
        guard: Option<RemoveGuard>,
    ) -> TestFile {
        let dio = direct.as_ref().and_then(sysfs::dio_alignment);
        TestFile {
            buffered,
            direct,
            path: path.to_path_buf(),
            size,
            created,
            block_device,
            dio,
            guard,
        }
    }

    /// Writes `[0, size)` with pseudo-random data in large sequential
    /// writes, syncs it and drops it from the page cache. Block devices are
    /// used as they are. Returns how long it took.
    pub fn lay_out(&self, seed: u64, ctx: &Context) -> Result<Duration, ProbeError> {
        let started = Instant::now();
        if self.block_device {
            return Ok(Duration::ZERO);
        }
        let mut rng = Rng::seed_from_u64(seed ^ 0x1A70_u64);
        let mut chunk = vec![0u8; LAYOUT_CHUNK];
        let mut offset = 0u64;
        while offset < self.size {
            ctx.check()?;
            let len = (self.size - offset).min(LAYOUT_CHUNK as u64) as usize;
            fill_random(&mut chunk[..len], &mut rng);
            write_all_at(&self.buffered, &chunk[..len], offset).map_err(|e| {
                ProbeError::io(
                    &format!("laying out {} at offset {offset}", self.path.display()),
                    &e,
                )
            })?;
            offset += len as u64;
        }
        self.settle()
            .map_err(|e| ProbeError::io(&format!("syncing {}", self.path.display()), &e))?;
        Ok(started.elapsed())
    }

    /// Flushes written data (fdatasync) and drops the file's pages from the
    /// page cache, so the next pattern starts cold.
    pub fn settle(&self) -> io::Result<()> {
        self.buffered.sync_data()?;
        sysfs::drop_page_cache(&self.buffered)
    }

    /// The descriptor for the patterns: O_DIRECT or buffered.
    pub fn io_file(&self, direct: bool) -> &File {
        match (&self.direct, direct) {
            (Some(d), true) => d,
            _ => &self.buffered,
        }
    }

    /// The buffered descriptor (fsync latency, layout).
    pub fn buffered(&self) -> &File {
        &self.buffered
    }

    /// Path shown in facts (already unlinked when we created it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes used.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Created (and removed) by us.
    pub fn created(&self) -> bool {
        self.created
    }

    /// A block device used in place.
    pub fn is_block_device(&self) -> bool {
        self.block_device
    }

    /// The kernel's O_DIRECT alignment for this file, when it reports one.
    pub(crate) fn dio_alignment(&self) -> Option<DioAlignment> {
        self.dio
    }

    /// Whether the name could not be unlinked right after opening.
    pub fn unlink_deferred(&self) -> bool {
        self.guard.is_some()
    }
}

/// Removes a path on drop while it still names the inode we created.
#[derive(Debug)]
struct RemoveGuard {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for RemoveGuard {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino);
        if ours && let Err(e) = std::fs::remove_file(&self.path) {
            tracing::warn!(
                "disk: could not remove {}: {}",
                self.path.display(),
                short_io(&e)
            );
        }
    }
}

/// A fresh scratch path in `dir`: pid plus 64 random bits, so neither a
/// concurrent run nor a leftover collides (creation uses O_EXCL anyway).
fn scratch_path(dir: &Path, seed: u64) -> Result<PathBuf, ProbeError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng = Rng::seed_from_u64(nanos ^ seed ^ u64::from(std::process::id()).rotate_left(32));
    let pid = std::process::id();
    // O_EXCL decides; look for a free name only to keep the error rare.
    for _ in 0..16 {
        let path = dir.join(format!("{SCRATCH_PREFIX}{pid}-{:016x}", rng.next_u64()));
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(path);
        }
    }
    Err(ProbeError::Failed(format!(
        "no free scratch file name in {}",
        dir.display()
    )))
}

/// Refuses to create `needed` bytes in `dir` without the headroom.
fn free_space(dir: &Path, needed: u64) -> Result<(), ProbeError> {
    let space = sysfs::space(dir)
        .map_err(|e| ProbeError::Unavailable(format!("{}: {}", dir.display(), short_io(&e))))?;
    check_space(needed, space, dir).map_err(ProbeError::Unavailable)
}

fn open_error(path: &Path, e: &io::Error) -> ProbeError {
    let message = format!("cannot open {}: {}", path.display(), short_io(e));
    match e.kind() {
        io::ErrorKind::PermissionDenied | io::ErrorKind::NotFound => {
            ProbeError::Unavailable(message)
        }
        _ => match e.raw_os_error() {
            Some(libc::EBUSY | libc::EROFS) => ProbeError::Unavailable(message),
            _ => ProbeError::Failed(message),
        },
    }
}

fn write_all_at(file: &File, data: &[u8], offset: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    file.write_all_at(data, offset)
}

/// Fills `buf` with pseudo-random bytes (non-zero with overwhelming
/// probability, incompressible, not deduplicable).
pub fn fill_random(buf: &mut [u8], rng: &mut Rng) {
    let mut words = buf.chunks_exact_mut(8);
    for w in &mut words {
        w.copy_from_slice(&rng.next_u64().to_le_bytes());
    }
    let tail = words.into_remainder();
    let last = rng.next_u64().to_le_bytes();
    let n = tail.len();
    tail.copy_from_slice(&last[..n]);
}

/// The file-system type of `path` by its statfs magic, for facts.
pub fn fs_type_name(path: &Path) -> String {
    let Ok(magic) = sysfs::fs_magic(path) else {
        return "unknown".to_owned();
    };
    let name = match magic {
        0xEF53 => "ext4",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794C_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        0xF2F5_2010 => "f2fs",
        0x6969 => "nfs",
        0x6573_5546 => "fuse",
        0x0102_1997 => "9p",
        0x0027_E0EB => "cgroup",
        0x5346_544E => "ntfs",
        0x4D44 => "vfat",
        0x00C3_6400 => "ceph",
        0x6A65_6A65 => "virtiofs",
        0x8584_58F6 => "ramfs",
        0xFF53_4D42 => "cifs",
        other => return format!("0x{other:x}"),
    };
    name.to_owned()
}

/// A human description of the file for logs: `1G scratch file in /data`.
pub fn describe(file: &TestFile, target: &Target) -> String {
    let what = match target {
        Target::Scratch { dir } => format!("scratch file in {}", dir.display()),
        Target::NewFile { path } | Target::ExistingFile { path } => path.display().to_string(),
        Target::BlockDevice { path, .. } => format!("block device {}", path.display()),
    };
    format!("{} {what}", format_size(file.size()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn scratch_file_is_unlinked_at_once_and_laid_out() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Scratch {
            dir: dir.path().into(),
        };
        let file = TestFile::open(&target, 1 << 20, false, 1).unwrap();
        assert!(
            entries(dir.path()).is_empty(),
            "unlinked right after opening"
        );
        assert!(file.created() && !file.unlink_deferred());
        assert!(
            file.path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(SCRATCH_PREFIX)
        );
        file.lay_out(1, &Context::uninterruptible()).unwrap();
        let meta = file.buffered().metadata().unwrap();
        assert_eq!(meta.len(), 1 << 20);
        assert!(meta.blocks() * 512 >= 1 << 20, "not sparse");
        let mut head = vec![0u8; 4096];
        std::os::unix::fs::FileExt::read_exact_at(file.buffered(), &mut head, 0).unwrap();
        assert!(head.iter().filter(|&&b| b == 0).count() < 100, "real data");
    }

    #[test]
    fn interrupted_layout_stops() {
        let dir = tempfile::tempdir().unwrap();
        let target = Target::Scratch {
            dir: dir.path().into(),
        };
        let file = TestFile::open(&target, 8 << 20, false, 1).unwrap();
        let interrupt = crate::interrupt::Interrupt::new();
        interrupt.trigger();
        let err = file.lay_out(1, &Context::new(interrupt)).unwrap_err();
        assert_eq!(err, ProbeError::Interrupted);
    }

    #[test]
    fn guard_removes_only_our_inode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, b"ours").unwrap();
        let m = std::fs::metadata(&path).unwrap();
        drop(RemoveGuard {
            path: path.clone(),
            dev: m.dev(),
            ino: m.ino(),
        });
        assert!(!path.exists(), "our file is removed");
        std::fs::write(&path, b"someone else's").unwrap();
        let other = std::fs::metadata(&path).unwrap();
        drop(RemoveGuard {
            path: path.clone(),
            dev: other.dev(),
            ino: other.ino() + 1,
        });
        assert!(path.exists(), "a different inode under the same name stays");
    }

    #[test]
    fn new_file_path_is_created_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("named");
        let file = TestFile::open(&Target::NewFile { path: path.clone() }, 1 << 20, true, 2);
        match file {
            Ok(f) => assert!(f.created()),
            Err(ProbeError::Unavailable(m)) => assert!(m.contains("O_DIRECT"), "{m}"),
            Err(e) => panic!("{e}"),
        }
        assert!(!path.exists());
        // An existing file is opened in place and kept.
        std::fs::write(&path, vec![1u8; 8192]).unwrap();
        let f =
            TestFile::open(&Target::ExistingFile { path: path.clone() }, 8192, false, 2).unwrap();
        assert!(!f.created());
        drop(f);
        assert!(path.exists());
    }

    #[test]
    fn random_fill_has_no_zero_runs() {
        let mut buf = vec![0u8; 4099];
        fill_random(&mut buf, &mut Rng::seed_from_u64(1));
        assert!(buf.iter().filter(|&&b| b == 0).count() < 64);
    }
}
