//! Anonymous memory mappings as an owned value that unmaps itself on drop.
//!
//! The hugepages probe times how fast pages fault in (base pages, 2 MiB
//! hugetlb pages, transparent hugepages) and the KVM probe needs page-aligned
//! zeroed guest memory; both go through [`Mapping`], so the only raw pointer
//! handling is here.

#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;
use std::num::NonZeroUsize;
use std::ptr::NonNull;

use nix::sys::mman::{MapFlags, MmapAdvise, ProtFlags, madvise, mmap_anonymous, munmap};
use nix::unistd::{SysconfVar, sysconf};

/// Size of an x86-64 (and arm64 4k-granule) huge page: 2 MiB.
pub const HUGE_2M: usize = 2 << 20;

/// The kernel's base page size (4 KiB on x86-64).
pub fn base_page_size() -> usize {
    sysconf(SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|size| usize::try_from(size).ok())
        .unwrap_or(4096)
        .max(1)
}

/// Advice for the kernel about transparent hugepages in a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HugepageAdvice {
    /// `MADV_HUGEPAGE`: back this range with THP where possible (the mode
    /// `madvise` only promotes ranges that asked).
    Use,
    /// `MADV_NOHUGEPAGE`: base pages only, even when THP is `always`.
    Avoid,
}

/// A private anonymous mapping, read-write, unmapped when dropped.
///
/// The memory is zero-filled by the kernel and faults in on first write.
#[derive(Debug)]
pub struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    /// `len` bytes of base pages.
    pub fn anonymous(len: usize) -> io::Result<Self> {
        Self::map(len, MapFlags::empty())
    }

    /// `len` bytes (a multiple of 2 MiB) backed by 2 MiB hugetlb pages from
    /// the pool (`MAP_HUGETLB | MAP_HUGE_2MB`). The pages are reserved now, so
    /// a pool without enough free pages fails here with `ENOMEM` rather than
    /// with SIGBUS at the first touch.
    pub fn hugetlb_2m(len: usize) -> io::Result<Self> {
        if !len.is_multiple_of(HUGE_2M) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "hugetlb mapping length must be a multiple of 2 MiB",
            ));
        }
        Self::map(len, MapFlags::MAP_HUGETLB | MapFlags::MAP_HUGE_2MB)
    }

    /// `len` bytes of anonymous memory starting at a multiple of `align` (a
    /// power of two), so that every aligned 2 MiB of it can be one THP.
    /// Over-allocates by `align` and unmaps the unaligned head and tail.
    pub fn anonymous_aligned(len: usize, align: usize) -> io::Result<Self> {
        if !align.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "alignment must be a power of two",
            ));
        }
        let padded = len
            .checked_add(align)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "mapping too large"))?;
        let whole = Self::map(padded, MapFlags::empty())?;
        let base = whole.addr();
        let start = base.next_multiple_of(align);
        let head = start - base;
        let tail = padded - head - len;
        // The trimmed pieces are unmapped below; `whole` must not unmap again.
        std::mem::forget(whole);
        // SAFETY: [base, base + head) and [start + len, base + padded) lie in
        // the mapping just created, which nothing references (`whole` was
        // forgotten and the new `Mapping` covers only [start, start + len)).
        // munmap of a range inside a live mapping cannot fail; a failure
        // would only leave the piece mapped.
        unsafe {
            if let Some(head_ptr) = NonNull::new(base as *mut c_void).filter(|_| head > 0) {
                let _ = munmap(head_ptr, head);
            }
            if let Some(tail_ptr) = NonNull::new((start + len) as *mut c_void).filter(|_| tail > 0)
            {
                let _ = munmap(tail_ptr, tail);
            }
        }
        let ptr = NonNull::new(start as *mut u8)
            .ok_or_else(|| io::Error::other("mmap returned a null address"))?;
        Ok(Mapping { ptr, len })
    }

    fn map(len: usize, extra_flags: MapFlags) -> io::Result<Self> {
        let length = NonZeroUsize::new(len).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "mapping length must not be zero",
            )
        })?;
        // SAFETY: an anonymous mapping at an address of the kernel's choosing
        // cannot alias any existing Rust object; nix checks for MAP_FAILED.
        let addr = unsafe {
            mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE | extra_flags,
            )
        }?;
        Ok(Mapping {
            ptr: addr.cast::<u8>(),
            len,
        })
    }

    /// Asks the kernel to use (or avoid) transparent hugepages here.
    pub fn advise(&self, advice: HugepageAdvice) -> io::Result<()> {
        let flag = match advice {
            HugepageAdvice::Use => MmapAdvise::MADV_HUGEPAGE,
            HugepageAdvice::Avoid => MmapAdvise::MADV_NOHUGEPAGE,
        };
        // SAFETY: the range is exactly this live mapping; madvise with these
        // flags changes paging policy, never the contents.
        unsafe { madvise(self.ptr.cast::<c_void>(), self.len, flag) }?;
        Ok(())
    }

    /// Writes one byte every `stride` bytes from the start (the first write
    /// to a page faults it in). Returns how many bytes were written.
    pub fn touch(&mut self, stride: usize) -> usize {
        let stride = stride.max(1);
        let base = self.ptr.as_ptr();
        let mut written = 0;
        for offset in (0..self.len).step_by(stride) {
            // SAFETY: offset < len, so the byte is inside this read-write
            // mapping; `&mut self` guarantees no other reference to it. The
            // volatile write cannot be optimised away.
            unsafe { base.add(offset).write_volatile(1) };
            written += 1;
        }
        written
    }

    /// The mapping as mutable bytes.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is len read-write bytes (zero-filled until
        // written) for as long as `self` lives; `&mut self` makes this the
        // only reference.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }

    /// Start address (for /proc/self/smaps lookups and KVM memory slots).
    pub fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: ptr/len describe a mapping this value owns; after drop no
        // slice into it can exist (they borrow `self`).
        // A failure (impossible for a mapping we own) would only leak it.
        let _ = unsafe { munmap(self.ptr.cast::<c_void>(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_mapping_is_zeroed_writable_and_touch_counts_pages() {
        let page = base_page_size();
        let mut m = Mapping::anonymous(16 * page).unwrap();
        assert_eq!(m.len(), 16 * page);
        assert!(m.as_mut_slice().iter().all(|&b| b == 0));
        assert_eq!(m.touch(page), 16);
        assert_eq!(m.as_mut_slice()[0], 1);
        assert_eq!(m.as_mut_slice()[page], 1);
        assert_eq!(m.as_mut_slice()[1], 0);
        m.as_mut_slice()[5] = 7;
        assert_eq!(m.as_mut_slice()[5], 7);
        assert_eq!(m.touch(0), 16 * page, "stride 0 is treated as 1");
    }

    #[test]
    fn aligned_mapping_starts_on_the_boundary_and_can_take_advice() {
        let m = Mapping::anonymous_aligned(4 * HUGE_2M, HUGE_2M).unwrap();
        assert_eq!(m.addr() % HUGE_2M, 0);
        assert_eq!(m.len(), 4 * HUGE_2M);
        m.advise(HugepageAdvice::Use).unwrap();
        m.advise(HugepageAdvice::Avoid).unwrap();
        assert!(Mapping::anonymous_aligned(HUGE_2M, 3).is_err());
    }

    #[test]
    fn bad_lengths_are_errors_not_panics() {
        assert!(Mapping::anonymous(0).is_err());
        assert!(Mapping::hugetlb_2m(4096).is_err());
        assert!(Mapping::anonymous(usize::MAX).is_err());
    }
}
