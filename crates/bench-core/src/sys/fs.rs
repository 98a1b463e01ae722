//! File-system queries the disk workload needs and `std` lacks: free space
//! (statvfs), file-system type (statfs), the O_DIRECT alignment of a file
//! (statx `STATX_DIOALIGN`), a block device's logical sector size
//! (`BLKSSZGET`) and dropping a file's cached pages (`posix_fadvise`).
//!
//! nix's safe wrappers where it has them; statx is raw libc because nix has
//! no form of it (and none reports `STATX_DIOALIGN`).
#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};

/// Space on the file system holding a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Space {
    /// Bytes an unprivileged user may still write (`f_bavail × f_frsize`).
    pub available: u64,
    /// Size of the file system in bytes (`f_blocks × f_frsize`).
    pub total: u64,
}

/// statvfs(3) of `path`.
pub(crate) fn space(path: &Path) -> io::Result<Space> {
    let st = nix::sys::statvfs::statvfs(path)?;
    let frsize = st.fragment_size() as u64;
    Ok(Space {
        available: (st.blocks_available() as u64).saturating_mul(frsize),
        total: (st.blocks() as u64).saturating_mul(frsize),
    })
}

/// The file-system magic number (`statfs.f_type`) of `path`.
pub(crate) fn fs_magic(path: &Path) -> io::Result<u64> {
    let st = nix::sys::statfs::statfs(path)?;
    // f_type is signed on some targets; the magic numbers are 32-bit patterns.
    Ok(st.filesystem_type().0 as u64 & 0xFFFF_FFFF)
}

/// O_DIRECT alignment requirements reported by the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DioAlignment {
    /// Required alignment of the memory buffer.
    pub memory: u32,
    /// Required alignment of file offsets and lengths.
    pub offset: u32,
}

/// statx(2) `STATX_DIOALIGN` of an open file (Linux 6.1+ for regular files
/// on ext4/xfs/btrfs/f2fs, 6.11+ for block devices). `None` when the kernel
/// or the file system does not say, or says O_DIRECT is unsupported.
pub(crate) fn dio_alignment(file: &File) -> Option<DioAlignment> {
    // SAFETY: an all-zero `statx` is a valid value of this plain C struct.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    let empty = c"";
    // SAFETY: the fd is open for the duration of the call (borrowed from
    // `file`), `empty` is a NUL-terminated string and `st` is writable.
    let rc = unsafe {
        libc::statx(
            file.as_raw_fd(),
            empty.as_ptr(),
            libc::AT_EMPTY_PATH,
            libc::STATX_DIOALIGN,
            &mut st,
        )
    };
    if rc != 0 || st.stx_mask & libc::STATX_DIOALIGN == 0 || st.stx_dio_offset_align == 0 {
        return None;
    }
    Some(DioAlignment {
        memory: st.stx_dio_mem_align,
        offset: st.stx_dio_offset_align,
    })
}

// `blksszget(fd, &mut int)`: the BLKSSZGET ioctl, which writes one `int`.
nix::ioctl_read_bad!(blksszget, libc::BLKSSZGET, libc::c_int);

/// The logical sector size of a block device (`BLKSSZGET`).
pub(crate) fn logical_block_size(device: &File) -> io::Result<u32> {
    let mut size: libc::c_int = 0;
    // SAFETY: BLKSSZGET writes one `int` through the pointer, which points
    // to a live local; the fd is open for the call (borrowed from `device`).
    unsafe { blksszget(device.as_raw_fd(), &mut size) }?;
    u32::try_from(size).map_err(|_| io::Error::other("negative sector size"))
}

/// Drops the clean cached pages of `file` from the page cache
/// (`posix_fadvise(POSIX_FADV_DONTNEED)` over the whole file), so the next
/// buffered read goes to the device. Dirty pages are kept: sync first.
pub(crate) fn drop_page_cache(file: &File) -> io::Result<()> {
    posix_fadvise(file, 0, 0, PosixFadviseAdvice::POSIX_FADV_DONTNEED)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_of_a_temp_dir() {
        let dir = tempfile::tempdir().unwrap();
        let s = space(dir.path()).unwrap();
        assert!(s.total > 0 && s.available <= s.total, "{s:?}");
        assert!(space(Path::new("/no/such/dir")).is_err());
        assert!(fs_magic(dir.path()).unwrap() != 0);
    }

    #[test]
    fn fadvise_and_statx_on_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("f")).unwrap();
        drop_page_cache(&file).unwrap();
        if let Some(a) = dio_alignment(&file) {
            assert!(
                a.offset.is_power_of_two() && a.memory.is_power_of_two(),
                "{a:?}"
            );
        }
        // Not a block device.
        assert!(logical_block_size(&file).is_err());
    }
}
