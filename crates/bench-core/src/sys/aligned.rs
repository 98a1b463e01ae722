//! A heap buffer with a chosen alignment, for O_DIRECT and io_uring: direct
//! I/O needs the memory aligned to the device's DMA alignment, which `Vec<u8>`
//! does not promise.
#![allow(unsafe_code)]

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr::NonNull;

/// An owned, zero-initialised byte buffer whose start is a multiple of
/// `align` (a power of two). It behaves like a `Box<[u8]>`.
pub(crate) struct AlignedBuf {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: the buffer owns its allocation exclusively (like `Box<[u8]>`), and
// all access goes through `&self`/`&mut self`, so moving it or sharing
// references across threads is as safe as for `Box<[u8]>`.
unsafe impl Send for AlignedBuf {}
// SAFETY: see `Send`; `&AlignedBuf` only hands out `&[u8]`.
unsafe impl Sync for AlignedBuf {}

impl AlignedBuf {
    /// `len` zero bytes aligned to `align`. `None` when `len` is 0, `align`
    /// is not a power of two, or the allocation fails.
    pub(crate) fn zeroed(len: usize, align: usize) -> Option<Self> {
        if len == 0 {
            return None;
        }
        let layout = Layout::from_size_align(len, align).ok()?;
        // SAFETY: the layout has a non-zero size (checked above).
        let raw = unsafe { alloc_zeroed(layout) };
        NonNull::new(raw).map(|ptr| AlignedBuf { ptr, layout })
    }

    /// Length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.layout.size()
    }

    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` initialised (zeroed at allocation)
        // bytes owned by `self`, alive as long as the borrow of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len()) }
    }

    /// The bytes, writable.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: as in `as_slice`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len()) }
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `alloc_zeroed` with exactly this layout and
        // is freed only here, once.
        unsafe { dealloc(self.ptr.as_ptr(), self.layout) }
    }
}

impl std::fmt::Debug for AlignedBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlignedBuf")
            .field("len", &self.layout.size())
            .field("align", &self.layout.align())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_zeroed_and_writable() {
        for align in [512, 4096, 65536] {
            let mut buf = AlignedBuf::zeroed(3 * align, align).unwrap();
            assert_eq!(buf.as_slice().as_ptr() as usize % align, 0);
            assert_eq!(buf.len(), 3 * align);
            assert!(buf.as_slice().iter().all(|&b| b == 0));
            buf.as_mut_slice()[align] = 7;
            assert_eq!(buf.as_slice()[align], 7);
        }
    }

    #[test]
    fn rejects_bad_requests() {
        assert!(AlignedBuf::zeroed(0, 4096).is_none());
        assert!(AlignedBuf::zeroed(4096, 3000).is_none());
    }
}
