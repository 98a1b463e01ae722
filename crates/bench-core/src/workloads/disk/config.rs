//! The disk probe's flags turned into a validated plan before anything runs:
//! every mistake (a block size that is not a multiple of 512, a missing
//! `--dir`, a `--file` that already exists, not enough free space) is a
//! one-line usage error naming the flag, in the first second of the run.

use std::ops::Bound;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::exit::Failure;
use crate::sys::fs::{self as sysfs, Space};
use crate::units::{POSITIVE_DURATION, format_size, parse_duration_in, parse_size};

use super::DiskArgs;

pub use crate::settings::DEFAULT_STORAGE_DIR;

/// Largest `--iodepth` (io_uring rings and thread pools stay reasonable).
pub const MAX_IODEPTH: u32 = 1024;

/// The alignment every buffer gets, and the granularity of `--block-size`
/// with `--direct true` when the device does not report its own.
pub const DIRECT_ALIGN: u64 = 4096;

/// An access pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Pattern {
    /// Sequential reads, wrapping at the end of the file.
    Read,
    /// Sequential writes, wrapping at the end of the file.
    Write,
    /// Reads at uniformly random block-aligned offsets.
    Randread,
    /// Writes at uniformly random block-aligned offsets.
    Randwrite,
}

impl Pattern {
    /// All four, in the default order.
    pub const ALL: [Pattern; 4] = [
        Pattern::Read,
        Pattern::Write,
        Pattern::Randread,
        Pattern::Randwrite,
    ];

    /// The `pattern` label (fio's `--rw` names).
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Read => "read",
            Pattern::Write => "write",
            Pattern::Randread => "randread",
            Pattern::Randwrite => "randwrite",
        }
    }

    /// Random offsets (as opposed to sequential).
    pub fn is_random(self) -> bool {
        matches!(self, Pattern::Randread | Pattern::Randwrite)
    }

    /// Writes (as opposed to reads).
    pub fn is_write(self) -> bool {
        matches!(self, Pattern::Write | Pattern::Randwrite)
    }

    /// Block size and queue depth of the default plan: 4 KiB at depth 32 for
    /// random patterns (IOPS), 1 MiB at depth 8 for sequential (bandwidth).
    pub fn default_shape(self) -> (u64, u32) {
        if self.is_random() {
            (4096, 32)
        } else {
            (1 << 20, 8)
        }
    }
}

/// Which I/O engine to use (`--engine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EngineChoice {
    /// io_uring when the kernel allows it, else threads.
    #[default]
    Auto,
    /// io_uring only (unavailable → the probe reports it).
    #[value(name = "io_uring")]
    IoUring,
    /// `iodepth` threads doing synchronous pread/pwrite.
    Threads,
}

/// One pattern of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternSpec {
    /// What to do.
    pub pattern: Pattern,
    /// Bytes per I/O.
    pub block_size: u64,
    /// I/Os in flight.
    pub iodepth: u32,
}

/// Where the probe does its I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A fresh, uniquely named scratch file in this directory.
    Scratch {
        /// The directory.
        dir: PathBuf,
    },
    /// `--file` naming a path that does not exist yet: created, then removed.
    NewFile {
        /// The path.
        path: PathBuf,
    },
    /// `--file` naming an existing regular file, with `--force`: used in
    /// place (overwritten), never removed.
    ExistingFile {
        /// The path.
        path: PathBuf,
    },
    /// `--file` naming a block device, with `--force`: used in place
    /// (overwritten).
    BlockDevice {
        /// The device node.
        path: PathBuf,
        /// Its logical sector size, when the kernel says.
        sector: Option<u32>,
    },
}

impl Target {
    /// The path shown in facts: the directory or the file.
    pub fn path(&self) -> &Path {
        match self {
            Target::Scratch { dir } => dir,
            Target::NewFile { path }
            | Target::ExistingFile { path }
            | Target::BlockDevice { path, .. } => path,
        }
    }

    /// The directory whose file system receives a file we create (free
    /// space is checked there); `None` for a target used in place.
    pub fn creation_dir(&self) -> Option<PathBuf> {
        match self {
            Target::Scratch { dir } => Some(dir.clone()),
            Target::NewFile { path } => Some(parent_dir(path)),
            _ => None,
        }
    }
}

/// The validated plan of one disk probe run.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskConfig {
    /// Where.
    pub target: Target,
    /// Bytes of the test file (or of the device used).
    pub size: u64,
    /// Patterns, in order.
    pub patterns: Vec<PatternSpec>,
    /// O_DIRECT.
    pub direct: bool,
    /// Measured time per pattern.
    pub runtime: Duration,
    /// Unmeasured warm-up before each pattern.
    pub ramp: Duration,
    /// Write + fdatasync operations for `disk.fsync_latency_us` (0 skips).
    pub fsync_ops: u32,
    /// Requested engine.
    pub engine: EngineChoice,
    /// Seed of every offset and data generator (fixed: runs are repeatable).
    pub seed: u64,
    /// How the directory was chosen (`--dir`, `$E2B_STORAGE_DIR`, …).
    pub dir_source: &'static str,
}

/// The fixed seed of offsets and data.
pub const DEFAULT_SEED: u64 = 0x00D1_5C0B_E4C4_5EED;

impl DiskConfig {
    /// What the run is asked to do (the document's `parameters.disk`).
    pub fn parameters(&self) -> Value {
        let patterns: Vec<Value> = self
            .patterns
            .iter()
            .map(|p| json!({"pattern": p.pattern.as_str(), "block_size": p.block_size, "iodepth": p.iodepth}))
            .collect();
        let (kind, path) = match &self.target {
            Target::Scratch { dir } => ("scratch file", dir),
            Target::NewFile { path } => ("new file", path),
            Target::ExistingFile { path } => ("existing file", path),
            Target::BlockDevice { path, .. } => ("block device", path),
        };
        json!({
            "target": kind,
            "path": path.display().to_string(),
            "dir_source": self.dir_source,
            "size_bytes": self.size,
            "patterns": patterns,
            "direct": self.direct,
            "runtime_s": self.runtime.as_secs_f64(),
            "ramp_s": self.ramp.as_secs_f64(),
            "fsync_ops": self.fsync_ops,
            "engine_requested": match self.engine {
                EngineChoice::Auto => "auto",
                EngineChoice::IoUring => "io_uring",
                EngineChoice::Threads => "threads",
            },
        })
    }
}

/// Flag values after parsing, before looking at the file system.
#[derive(Debug, Clone, PartialEq)]
struct Parsed {
    size: Option<u64>,
    patterns: Vec<PatternSpec>,
    direct: bool,
    runtime: Duration,
    ramp: Duration,
    fsync_ops: u32,
}

/// Turns the flags into a plan; `storage_dir` is `$E2B_STORAGE_DIR`.
pub fn resolve(
    args: &DiskArgs,
    quick: bool,
    storage_dir: Option<&str>,
) -> Result<DiskConfig, Failure> {
    let parsed = parse_flags(args, quick)?;
    let t = &args.target;
    let (target, dir_source) = match (&t.file, &t.dir) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage(
                "--file and --dir: give one (--dir makes a scratch file, --file names the file or device)",
            ));
        }
        (Some(file), None) => (file_target(file, t.force)?, "--file"),
        (None, Some(dir)) => {
            check_dir(dir, "--dir")?;
            (Target::Scratch { dir: dir.clone() }, "--dir")
        }
        (None, None) => default_dir(storage_dir),
    };
    let default_size = if quick { 256 << 20 } else { 1 << 30 };
    let size = match &target {
        Target::BlockDevice { path, .. } => {
            let device = device_size(path)
                .map_err(|e| Failure::usage(format!("--file {}: {e}", path.display())))?;
            if device == 0 {
                return Err(Failure::usage(format!(
                    "--file {}: the device is empty (size 0); attach it first or pick another",
                    path.display()
                )));
            }
            match parsed.size {
                Some(s) if s > device => {
                    return Err(Failure::usage(format!(
                        "--size {}: larger than the device {} ({}); use a smaller --size or leave it out",
                        format_size(s),
                        path.display(),
                        format_size(device)
                    )));
                }
                Some(s) => s,
                None => device,
            }
        }
        Target::ExistingFile { path } => match parsed.size {
            Some(s) => s,
            None => match std::fs::metadata(path).map(|m| m.len()) {
                Ok(len) if len > 0 => len,
                _ => default_size,
            },
        },
        _ => parsed.size.unwrap_or(default_size),
    };
    // Whole 4 KiB blocks, so every offset works with O_DIRECT.
    let size = size / DIRECT_ALIGN * DIRECT_ALIGN;
    if size == 0 {
        return Err(Failure::usage(
            "--size: must be at least 4k; use e.g. 256M or 1G",
        ));
    }
    let sector = match &target {
        Target::BlockDevice { sector, .. } => sector.map(u64::from),
        _ => None,
    };
    check_blocks(&parsed, size, sector)?;
    check_free_space(&target, size)?;
    Ok(DiskConfig {
        target,
        size,
        patterns: parsed.patterns,
        direct: parsed.direct,
        runtime: parsed.runtime,
        ramp: parsed.ramp,
        fsync_ops: parsed.fsync_ops,
        engine: args.engine.unwrap_or_default(),
        seed: DEFAULT_SEED,
        dir_source,
    })
}

/// Everything that needs no file system: sizes, durations, ranges.
fn parse_flags(args: &DiskArgs, quick: bool) -> Result<Parsed, Failure> {
    let size = args
        .target
        .size
        .as_deref()
        .map(|s| parse_size(s).map_err(|e| Failure::usage(format!("--size {e}"))))
        .transpose()?;
    let block_size = args
        .block_size
        .as_deref()
        .map(|s| parse_size(s).map_err(|e| Failure::usage(format!("--block-size {e}"))))
        .transpose()?;
    if let Some(bs) = block_size {
        if bs == 0 || !bs.is_multiple_of(512) {
            return Err(Failure::usage(format!(
                "--block-size {bs}: must be a positive multiple of 512 bytes; use e.g. 4k or 1M"
            )));
        }
        if bs > 64 << 20 {
            return Err(Failure::usage(format!(
                "--block-size {}: at most 64M per I/O",
                format_size(bs)
            )));
        }
    }
    if let Some(depth) = args.iodepth
        && !(1..=MAX_IODEPTH).contains(&depth)
    {
        return Err(Failure::usage(format!(
            "--iodepth {depth}: must be between 1 and {MAX_IODEPTH}"
        )));
    }
    let duration = |flag: &str, text: Option<&str>, default: f64, range| match text {
        None => Ok(Duration::from_secs_f64(default)),
        Some(t) => parse_duration_in(t, range).map_err(|e| Failure::usage(format!("{flag} {e}"))),
    };
    let runtime = duration(
        "--runtime",
        args.runtime.as_deref(),
        if quick { 1.5 } else { 30.0 },
        POSITIVE_DURATION,
    )?;
    let ramp = duration(
        "--ramp",
        args.ramp.as_deref(),
        if quick { 0.25 } else { 5.0 },
        (Bound::Unbounded, Bound::Unbounded),
    )?;
    if runtime + ramp > Duration::from_secs(24 * 3600) {
        return Err(Failure::usage(
            "--runtime/--ramp: more than a day per pattern; use e.g. 30s",
        ));
    }
    let mut chosen: Vec<Pattern> = Vec::new();
    for &p in if args.pattern.is_empty() {
        &Pattern::ALL[..]
    } else {
        &args.pattern[..]
    } {
        if !chosen.contains(&p) {
            chosen.push(p);
        }
    }
    let patterns = chosen
        .into_iter()
        .map(|pattern| {
            let (bs, depth) = pattern.default_shape();
            PatternSpec {
                pattern,
                block_size: block_size.unwrap_or(bs),
                iodepth: args.iodepth.unwrap_or(depth),
            }
        })
        .collect();
    Ok(Parsed {
        size,
        patterns,
        direct: args.direct.unwrap_or(true),
        runtime,
        ramp,
        fsync_ops: args.fsync_ops.unwrap_or(if quick { 50 } else { 200 }),
    })
}

/// Block sizes against the file size and the O_DIRECT granularity.
fn check_blocks(parsed: &Parsed, size: u64, sector: Option<u64>) -> Result<(), Failure> {
    let granularity = if parsed.direct {
        sector.unwrap_or(DIRECT_ALIGN)
    } else {
        512
    };
    for p in &parsed.patterns {
        if p.block_size > size {
            return Err(Failure::usage(format!(
                "--block-size {}: larger than the test file ({}); use a larger --size",
                format_size(p.block_size),
                format_size(size)
            )));
        }
        if !p.block_size.is_multiple_of(granularity) {
            return Err(Failure::usage(format!(
                "--block-size {}: with --direct true it must be a multiple of {granularity} bytes; use e.g. 4k, or --direct false",
                p.block_size
            )));
        }
    }
    Ok(())
}

/// `--dir` (or the default directory) exists and is a directory.
fn check_dir(dir: &Path, flag: &str) -> Result<(), Failure> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Failure::usage(format!(
            "{flag} {}: not a directory",
            dir.display()
        ))),
        Err(e) => Err(Failure::usage(format!(
            "{flag} {}: {}; give an existing directory",
            dir.display(),
            short_io(&e)
        ))),
    }
}

/// `$E2B_STORAGE_DIR` when it is a directory, else the contract's default
/// storage root when it exists (a node), else the current directory.
fn default_dir(storage_dir: Option<&str>) -> (Target, &'static str) {
    if let Some(dir) = storage_dir.filter(|d| Path::new(d).is_dir()) {
        return (Target::Scratch { dir: dir.into() }, "$E2B_STORAGE_DIR");
    }
    if storage_dir.is_none() && Path::new(DEFAULT_STORAGE_DIR).is_dir() {
        return (
            Target::Scratch {
                dir: DEFAULT_STORAGE_DIR.into(),
            },
            "default storage dir",
        );
    }
    (Target::Scratch { dir: ".".into() }, "current directory")
}

/// What `--file PATH` means: a new file, or (with `--force`) an existing
/// regular file or block device. Anything else is refused.
fn file_target(path: &Path, force: bool) -> Result<Target, Failure> {
    let shown = path.display();
    let meta = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            check_dir(&parent_dir(path), "--file")?;
            return Ok(Target::NewFile { path: path.into() });
        }
        Err(e) => return Err(Failure::usage(format!("--file {shown}: {}", short_io(&e)))),
        Ok(m) => m,
    };
    // Follow a symlink only to classify what it points at.
    let meta = if meta.file_type().is_symlink() {
        std::fs::metadata(path)
            .map_err(|e| Failure::usage(format!("--file {shown}: {}", short_io(&e))))?
    } else {
        meta
    };
    let kind = meta.file_type();
    if kind.is_file() {
        if !force {
            return Err(Failure::usage(format!(
                "--file {shown}: the file exists and would be overwritten; add --force to use it, or name a new file"
            )));
        }
        return Ok(Target::ExistingFile { path: path.into() });
    }
    if kind.is_block_device() {
        if !force {
            return Err(Failure::usage(format!(
                "--file {shown}: a block device (its data would be overwritten); add --force to use it"
            )));
        }
        // O_EXCL on a block device fails with EBUSY while it is mounted or
        // held by the kernel (RAID, device mapper, swap).
        let device = open_device(path, false).map_err(|e| match e.raw_os_error() {
            Some(libc::EBUSY) => Failure::usage(format!(
                "--file {shown}: the device is in use (mounted or held by the kernel); refusing to overwrite it"
            )),
            _ => Failure::usage(format!("--file {shown}: {}", short_io(&e))),
        })?;
        let sector = sysfs::logical_block_size(&device).ok();
        return Ok(Target::BlockDevice {
            path: path.into(),
            sector,
        });
    }
    Err(Failure::usage(format!(
        "--file {shown}: not a regular file or a block device; name a new file or a block device"
    )))
}

/// Opens a block device exclusively (`O_EXCL`), read-only or read-write.
pub(crate) fn open_device(path: &Path, write: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_EXCL)
        .open(path)
}

/// Size of a block device (seeking to its end works without an ioctl).
fn device_size(path: &Path) -> std::io::Result<u64> {
    use std::io::Seek;
    let mut device = open_device(path, false)?;
    device.seek(std::io::SeekFrom::End(0))
}

/// Headroom left free on a file system we write to: 2% of it, at most 1
/// GiB, so a benchmark never fills a node's storage.
pub fn headroom(total: u64) -> u64 {
    (total / 50).min(1 << 30)
}

/// Bytes the new test file will take beyond what exists already.
fn bytes_to_allocate(target: &Target, size: u64) -> u64 {
    match target {
        Target::ExistingFile { path } => {
            size.saturating_sub(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
        }
        Target::BlockDevice { .. } => 0,
        _ => size,
    }
}

/// Refuses a size the file system cannot hold with its headroom left free.
pub(crate) fn check_space(needed: u64, space: Space, dir: &Path) -> Result<(), String> {
    let reserve = headroom(space.total);
    if needed == 0 || needed.saturating_add(reserve) <= space.available {
        return Ok(());
    }
    Err(format!(
        "not enough free space in {}: the test file needs {} plus {} headroom, {} is available; use a smaller --size or another --dir",
        dir.display(),
        format_size(needed),
        format_size(reserve),
        format_size(space.available)
    ))
}

fn check_free_space(target: &Target, size: u64) -> Result<(), Failure> {
    let needed = bytes_to_allocate(target, size);
    let dir = match target {
        Target::ExistingFile { path } => parent_dir(path),
        other => match other.creation_dir() {
            Some(dir) => dir,
            None => return Ok(()),
        },
    };
    let space = sysfs::space(&dir)
        .map_err(|e| Failure::usage(format!("--dir {}: {}", dir.display(), short_io(&e))))?;
    check_space(needed, space, &dir)
        .map_err(|m| Failure::usage(format!("--size {}: {m}", format_size(size))))
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// An I/O error without the "(os error N)" suffix, for one-line messages.
pub(crate) fn short_io(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::disk::DiskTarget;

    fn args(dir: &Path) -> DiskArgs {
        DiskArgs {
            target: DiskTarget {
                dir: Some(dir.into()),
                size: Some("16M".into()),
                ..DiskTarget::default()
            },
            ..DiskArgs::default()
        }
    }

    fn usage(args: &DiskArgs) -> String {
        let f = resolve(args, true, None).unwrap_err();
        assert_eq!(f.code, crate::exit::USAGE);
        assert_eq!(f.message.lines().count(), 1, "{}", f.message);
        f.message
    }

    #[test]
    fn defaults_follow_quick_and_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path());
        a.target.size = None;
        let quick = resolve(&a, true, None).unwrap();
        assert_eq!(quick.size, 256 << 20);
        assert_eq!(quick.runtime, Duration::from_millis(1500));
        assert_eq!(quick.ramp, Duration::from_millis(250));
        assert_eq!(quick.fsync_ops, 50);
        assert!(quick.direct);
        assert_eq!(quick.engine, EngineChoice::Auto);
        let shapes: Vec<_> = quick
            .patterns
            .iter()
            .map(|p| (p.pattern, p.block_size, p.iodepth))
            .collect();
        assert_eq!(
            shapes,
            vec![
                (Pattern::Read, 1 << 20, 8),
                (Pattern::Write, 1 << 20, 8),
                (Pattern::Randread, 4096, 32),
                (Pattern::Randwrite, 4096, 32),
            ]
        );
        let full = resolve(&a, false, None).unwrap();
        assert_eq!(full.size, 1 << 30);
        assert_eq!(
            (full.runtime.as_secs(), full.ramp.as_secs(), full.fsync_ops),
            (30, 5, 200)
        );
        assert_eq!(full.dir_source, "--dir");
    }

    #[test]
    fn explicit_shape_applies_to_every_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = args(dir.path());
        a.block_size = Some("64k".into());
        a.iodepth = Some(4);
        a.pattern = vec![Pattern::Randwrite, Pattern::Read, Pattern::Randwrite];
        a.direct = Some(false);
        a.runtime = Some("500ms".into());
        a.ramp = Some("0".into());
        let c = resolve(&a, false, None).unwrap();
        assert_eq!(c.patterns.len(), 2, "duplicates dropped, order kept");
        assert_eq!(c.patterns[0].pattern, Pattern::Randwrite);
        assert!(
            c.patterns
                .iter()
                .all(|p| p.block_size == 65536 && p.iodepth == 4)
        );
        assert!(!c.direct);
        assert_eq!(c.runtime, Duration::from_millis(500));
        assert!(c.ramp.is_zero());
        assert_eq!(c.size, 16 << 20);
    }

    #[test]
    fn bad_flags_are_one_line_usage_errors() {
        let dir = tempfile::tempdir().unwrap();
        let base = args(dir.path());
        type Edit = Box<dyn Fn(&mut DiskArgs)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|a| a.block_size = Some("1000".into())),
                "--block-size",
            ),
            (
                Box::new(|a| a.block_size = Some("0".into())),
                "--block-size",
            ),
            (
                Box::new(|a| a.block_size = Some("4x".into())),
                "--block-size",
            ),
            (
                Box::new(|a| a.block_size = Some("32M".into())),
                "larger than the test file",
            ),
            (
                Box::new(|a| {
                    a.block_size = Some("1536".into());
                    a.direct = Some(true);
                }),
                "multiple of 4096",
            ),
            (Box::new(|a| a.iodepth = Some(0)), "--iodepth"),
            (Box::new(|a| a.iodepth = Some(1025)), "--iodepth"),
            (Box::new(|a| a.runtime = Some("0".into())), "--runtime"),
            (Box::new(|a| a.runtime = Some("soon".into())), "--runtime"),
            (Box::new(|a| a.ramp = Some("-1".into())), "--ramp"),
            (Box::new(|a| a.target.size = Some("1k".into())), "--size"),
            (
                Box::new(|a| a.target.size = Some("1000T".into())),
                "not enough free space",
            ),
            (
                Box::new(|a| a.target.dir = Some("/no/such/dir".into())),
                "--dir /no/such/dir",
            ),
            (
                Box::new(|a| a.target.file = Some("/no/such/dir/f".into())),
                "--file and --dir",
            ),
        ];
        for (edit, needle) in cases {
            let mut a = base.clone();
            edit(&mut a);
            let message = usage(&a);
            assert!(message.contains(needle), "{needle:?} not in {message:?}");
        }
        // 1536 is fine without O_DIRECT.
        let mut a = base.clone();
        a.block_size = Some("1536".into());
        a.direct = Some(false);
        assert!(resolve(&a, true, None).is_ok());
    }

    #[test]
    fn file_targets_and_force() {
        let dir = tempfile::tempdir().unwrap();
        let existing = dir.path().join("data");
        std::fs::write(&existing, vec![1u8; 8192]).unwrap();
        let with_file = |path: &Path, force: bool| DiskArgs {
            target: DiskTarget {
                file: Some(path.into()),
                force,
                ..DiskTarget::default()
            },
            block_size: Some("4k".into()),
            ..DiskArgs::default()
        };
        let m = usage(&with_file(&existing, false));
        assert!(m.contains("exists") && m.contains("--force"), "{m}");
        let c = resolve(&with_file(&existing, true), true, None).unwrap();
        assert_eq!(
            c.target,
            Target::ExistingFile {
                path: existing.clone()
            }
        );
        assert_eq!(c.size, 8192, "an existing file keeps its size");
        let fresh = dir.path().join("new");
        let c = resolve(&with_file(&fresh, false), true, None).unwrap();
        assert_eq!(c.target, Target::NewFile { path: fresh });
        assert!(
            usage(&with_file(Path::new("/no/such/dir/f"), false)).contains("--file /no/such/dir")
        );
        // A character device is refused even with --force.
        let char_device = ["/dev/zero", "/dev/full", "/dev/urandom", "/dev/null"]
            .into_iter()
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device()));
        if let Some(device) = char_device {
            let m = usage(&with_file(Path::new(device), true));
            assert!(m.contains("not a regular file or a block device"), "{m}");
        }
        let plain = dir.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let mut a = args(dir.path());
        a.target.dir = Some(plain);
        assert!(usage(&a).contains("not a directory"));
    }

    #[test]
    fn default_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        assert_eq!(
            default_dir(Some(d)),
            (Target::Scratch { dir: d.into() }, "$E2B_STORAGE_DIR")
        );
        assert_eq!(
            default_dir(Some("/no/such/dir")),
            (Target::Scratch { dir: ".".into() }, "current directory")
        );
    }

    #[test]
    fn free_space_rule() {
        let space = Space {
            available: 10 << 30,
            total: 100 << 30,
        };
        assert!(check_space(8 << 30, space, Path::new("/d")).is_ok());
        // 9.5 GiB + 1 GiB headroom > 10 GiB.
        let m = check_space(9728 << 20, space, Path::new("/d")).unwrap_err();
        assert!(
            m.contains("9.5G") && m.contains("1G headroom") && m.contains("10G is available"),
            "{m}"
        );
        assert_eq!(headroom(1 << 30), (1 << 30) / 50);
        assert!(
            check_space(
                0,
                Space {
                    available: 0,
                    total: 1
                },
                Path::new("/d")
            )
            .is_ok()
        );
    }
}
