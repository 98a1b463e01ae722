//! `--read`: sequential read bandwidth of a rootfs image, cold (the file's
//! pages dropped from the page cache with `posix_fadvise(DONTNEED)` first)
//! and warm (read again straight after). Reads only; `O_NOATIME` where allowed.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use bench_core::probe::{Context, ProbeError};
use nix::fcntl::{PosixFadviseAdvice, posix_fadvise};

use super::scan::open_read_only;

/// Read size: E2B fetches template chunks in 4 MiB pieces.
const BLOCK: usize = 4 << 20;
/// One `raw` observation per this many bytes read.
const SEGMENT: u64 = 64 << 20;

/// One pass over a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    pub bytes: u64,
    pub seconds: f64,
    /// Bytes/s of each 64 MiB segment (the last one may be shorter).
    pub segments: Vec<f64>,
    /// False when the kernel refused to drop the cached pages (cold only).
    pub dropped: bool,
}

impl Pass {
    /// Bytes per second over the whole pass.
    pub fn bandwidth(&self) -> f64 {
        if self.seconds > 0.0 {
            self.bytes as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// Reads `path` from start to end; `cold` drops its cached pages first.
pub fn pass(path: &Path, cold: bool, ctx: &Context) -> Result<Pass, ProbeError> {
    let shown = path.display();
    let mut file =
        open_read_only(path).map_err(|e| ProbeError::io(&format!("open {shown}"), &e))?;
    let dropped =
        cold && posix_fadvise(&file, 0, 0, PosixFadviseAdvice::POSIX_FADV_DONTNEED).is_ok();
    let mut buf = vec![0u8; BLOCK];
    let mut bytes = 0u64;
    let mut segments = Vec::new();
    let started = Instant::now();
    let mut segment_start = started;
    let mut segment_bytes = 0u64;
    loop {
        ctx.check()?;
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ProbeError::io(&format!("read {shown}"), &e)),
        };
        bytes += n as u64;
        segment_bytes += n as u64;
        if segment_bytes >= SEGMENT {
            segments.push(rate(segment_bytes, segment_start.elapsed().as_secs_f64()));
            segment_start = Instant::now();
            segment_bytes = 0;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    if segment_bytes > 0 {
        segments.push(rate(segment_bytes, segment_start.elapsed().as_secs_f64()));
    }
    Ok(Pass {
        bytes,
        seconds,
        segments,
        dropped: !cold || dropped,
    })
}

fn rate(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes as f64 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_byte_of_a_sparse_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rootfs.ext4");
        let f = std::fs::File::create(&path).unwrap();
        f.set_len((64 << 20) + 5).unwrap();
        let ctx = Context::uninterruptible();
        let cold = pass(&path, true, &ctx).unwrap();
        assert_eq!(cold.bytes, (64 << 20) + 5);
        assert_eq!(cold.segments.len(), 2);
        assert!(cold.bandwidth() > 0.0);
        let warm = pass(&path, false, &ctx).unwrap();
        assert!(warm.dropped);
        assert_eq!(warm.bytes, cold.bytes);
    }

    #[test]
    fn interrupted_read_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r");
        std::fs::write(&path, b"x").unwrap();
        let interrupt = bench_core::interrupt::Interrupt::new();
        interrupt.trigger();
        let err = pass(&path, true, &Context::new(interrupt)).unwrap_err();
        assert_eq!(err, ProbeError::Interrupted);
    }
}
