//! The inventory of a template storage root: every entry of
//! `e2b-template-storage/` classified (`ok`, `alias`, `invalid` with the
//! reason) and the cache directories sized. Read-only: files are opened for
//! reading only, with `O_NOATIME` where allowed, so not even an access time
//! changes.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use serde::Serialize;

use super::metadata::{self, Metadata};

/// Where the builds live under the storage root.
pub const BUILDS_DIR: &str = "e2b-template-storage";
/// The cache directories under the storage root (contract).
pub const CACHE_DIRS: [&str; 4] = [
    "e2b-template-cache",
    "e2b-chunk-cache",
    "e2b-sandbox-cache",
    "e2b-build-cache",
];
/// The plain rootfs image of a build.
pub const ROOTFS: &str = "rootfs.ext4";
const METADATA: &str = "metadata.json";
/// The files of a complete build (`shared/pkg/storage/paths.go`); a
/// compressed variant (`.lz4`, `.zstd`) counts as present.
const EXPECTED_FILES: [&str; 6] = [
    "metadata.json",
    "rootfs.ext4",
    "rootfs.ext4.header",
    "memfile",
    "memfile.header",
    "snapfile",
];
const COMPRESSED: [&str; 2] = ["lz4", "zstd"];
/// A metadata file larger than this is not a metadata file.
const METADATA_LIMIT: u64 = 16 << 20;

/// One entry of `e2b-template-storage/` (contract: the `templates` array).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Build {
    pub build_id: String,
    pub template_id: Option<String>,
    pub path: String,
    /// `ok`, `alias` or `invalid`.
    pub status: &'static str,
    pub reason: Option<String>,
    /// For a symlink: the build directory it points to.
    pub alias_of: Option<String>,
    pub kernel_version: Option<String>,
    pub firecracker_version: Option<String>,
    pub envd_version: Option<String>,
    /// `flat` or `v2`; null without readable metadata.
    pub metadata_format: Option<&'static str>,
    /// `version` of a v2 metadata file.
    pub metadata_version: Option<String>,
    /// Apparent size of the rootfs image (`rootfs.ext4`, else a compressed variant).
    pub rootfs_bytes: Option<u64>,
    /// Bytes the rootfs really occupies (st_blocks × 512; images are sparse).
    pub rootfs_allocated_bytes: Option<u64>,
    /// The rootfs file those sizes are of.
    pub rootfs_file: Option<String>,
    /// File name → apparent bytes.
    pub files: BTreeMap<String, u64>,
    /// Files of a complete build that are absent (neither plain nor compressed).
    pub missing_files: Vec<&'static str>,
    /// Allocated bytes of every file together.
    pub allocated_bytes: u64,
}

/// One cache directory (contract: the `caches` array).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cache {
    pub name: &'static str,
    pub path: String,
    pub present: bool,
    /// Apparent bytes of every file below it.
    pub bytes: u64,
    /// Bytes allocated on disk.
    pub allocated_bytes: u64,
    pub files: u64,
    /// Entries that could not be read (permission denied), when any.
    pub unreadable: u64,
}

/// Classifies every entry of `<root>/e2b-template-storage`, sorted by name.
pub fn builds(root: &Path) -> std::io::Result<Vec<Build>> {
    let dir = root.join(BUILDS_DIR);
    let mut names: Vec<String> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names.iter().map(|n| build(&dir, n)).collect())
}

fn empty(dir: &Path, name: &str) -> Build {
    Build {
        build_id: name.to_owned(),
        template_id: None,
        path: dir.join(name).display().to_string(),
        status: "ok",
        reason: None,
        alias_of: None,
        kernel_version: None,
        firecracker_version: None,
        envd_version: None,
        metadata_format: None,
        metadata_version: None,
        rootfs_bytes: None,
        rootfs_allocated_bytes: None,
        rootfs_file: None,
        files: BTreeMap::new(),
        missing_files: Vec::new(),
        allocated_bytes: 0,
    }
}

/// One entry, classified.
fn build(dir: &Path, name: &str) -> Build {
    let path = dir.join(name);
    let mut b = empty(dir, name);
    let mut reasons: Vec<String> = Vec::new();
    let link = match fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) => {
            b.status = "invalid";
            b.reason = Some(format!("cannot stat: {e}"));
            return b;
        }
    };
    let is_alias = link.file_type().is_symlink();
    if is_alias {
        let target = fs::read_link(&path).ok();
        b.alias_of = target.as_ref().map(|t| {
            t.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| t.display().to_string())
        });
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => reasons.push("symlink to something that is not a directory".to_owned()),
            Err(e) => reasons.push(format!(
                "symlink to {} which cannot be opened: {e}",
                target.map_or_else(|| "?".to_owned(), |t| t.display().to_string())
            )),
        }
    } else if !link.is_dir() {
        reasons.push("not a directory".to_owned());
    }
    if reasons.is_empty() {
        inspect(&path, name, is_alias, &mut b, &mut reasons);
    }
    b.status = match (reasons.is_empty(), is_alias) {
        (false, _) => "invalid",
        (true, true) => "alias",
        (true, false) => "ok",
    };
    if !reasons.is_empty() {
        b.reason = Some(reasons.join("; "));
    }
    b
}

/// Files, metadata and rootfs of a build directory (through an alias: of its target).
fn inspect(path: &Path, name: &str, is_alias: bool, b: &mut Build, reasons: &mut Vec<String>) {
    let entries = match fs::read_dir(path) {
        Ok(rd) => rd,
        Err(e) => {
            reasons.push(format!("directory unreadable: {e}"));
            return;
        }
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Ok(m) = fs::symlink_metadata(entry.path()) {
            b.files.insert(file, m.len());
            b.allocated_bytes += m.blocks() * 512;
        }
    }
    if b.files.is_empty() {
        reasons.push("empty directory".to_owned());
        return;
    }
    b.missing_files = EXPECTED_FILES
        .into_iter()
        .filter(|name| {
            !b.files.contains_key(*name)
                && !COMPRESSED
                    .iter()
                    .any(|ext| b.files.contains_key(&format!("{name}.{ext}")))
        })
        .collect();
    match read_metadata(&path.join(METADATA)) {
        Ok(None) => reasons.push("no metadata.json".to_owned()),
        Ok(Some(m)) => apply(b, &m, name, is_alias, reasons),
        Err(reason) => reasons.push(reason),
    }
    let rootfs = if b.files.contains_key(ROOTFS) {
        Some(ROOTFS.to_owned())
    } else {
        b.files
            .keys()
            .find(|f| f.starts_with("rootfs.ext4.") && !f.contains("header"))
            .cloned()
    };
    match rootfs {
        None => reasons.push("no rootfs.ext4".to_owned()),
        Some(f) => match fs::metadata(path.join(&f)) {
            Ok(m) => {
                if m.len() == 0 {
                    reasons.push(format!("{f} is empty"));
                }
                b.rootfs_bytes = Some(m.len());
                b.rootfs_allocated_bytes = Some(m.blocks() * 512);
                b.rootfs_file = Some(f);
            }
            Err(e) => reasons.push(format!("{f}: {e}")),
        },
    }
}

/// Copies what the metadata says and checks its build id.
fn apply(b: &mut Build, m: &Metadata, name: &str, is_alias: bool, reasons: &mut Vec<String>) {
    b.metadata_format = Some(m.format.as_str());
    b.metadata_version = m.version.clone();
    b.template_id = m.template_id.clone();
    b.kernel_version = m.kernel_version.clone();
    b.firecracker_version = m.firecracker_version.clone();
    b.envd_version = m.envd_version.clone();
    // An alias is named after the template, not the build it points to.
    let expected = if is_alias {
        b.alias_of.as_deref().unwrap_or(name)
    } else {
        name
    };
    match m.build_id.as_deref() {
        Some(id) if id != expected => reasons.push(format!(
            "build id in metadata.json ({id}) is not the directory name ({expected})"
        )),
        _ => {}
    }
}

/// The parsed metadata file, None when there is none, Err(reason) when it
/// cannot be read or parsed.
fn read_metadata(path: &Path) -> Result<Option<Metadata>, String> {
    let file = match open_read_only(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("metadata.json unreadable: {e}")),
    };
    let mut text = Vec::new();
    file.take(METADATA_LIMIT)
        .read_to_end(&mut text)
        .map_err(|e| format!("metadata.json unreadable: {e}"))?;
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err("metadata.json is empty".to_owned());
    }
    metadata::parse(&text).map(Some)
}

/// Opens for reading with `O_NOATIME` (no access-time update: nothing on the
/// storage disk changes), falling back to a plain read-only open where the
/// kernel refuses it (files of another user without CAP_FOWNER).
pub fn open_read_only(path: &Path) -> std::io::Result<File> {
    match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOATIME)
        .open(path)
    {
        Err(e) if e.raw_os_error() == Some(libc::EPERM) => File::open(path),
        other => other,
    }
}

/// Sizes the cache directories under `root` (absent ones with `present: false`).
pub fn caches(root: &Path) -> Vec<Cache> {
    CACHE_DIRS
        .iter()
        .map(|&name| {
            let path = root.join(name);
            let mut c = Cache {
                name,
                path: path.display().to_string(),
                present: path.is_dir(),
                bytes: 0,
                allocated_bytes: 0,
                files: 0,
                unreadable: 0,
            };
            if c.present {
                walk(&path, &mut c);
            }
            c
        })
        .collect()
}

/// Adds every regular file below `dir` (symlinks not followed).
fn walk(dir: &Path, c: &mut Cache) {
    let Ok(entries) = fs::read_dir(dir) else {
        c.unreadable += 1;
        return;
    };
    for entry in entries {
        let Ok(entry) = entry else {
            c.unreadable += 1;
            continue;
        };
        let Ok(m) = fs::symlink_metadata(entry.path()) else {
            c.unreadable += 1;
            continue;
        };
        if m.is_dir() {
            walk(&entry.path(), c);
        } else if m.is_file() {
            c.files += 1;
            c.bytes += m.len();
            c.allocated_bytes += m.blocks() * 512;
        }
    }
}
