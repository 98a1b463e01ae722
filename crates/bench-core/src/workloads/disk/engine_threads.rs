//! The fallback engine where io_uring is unavailable (old kernels, seccomp,
//! `kernel.io_uring_disabled`): `iodepth` threads, each doing synchronous
//! pread/pwrite with its own aligned buffer, so `iodepth` I/Os are in flight
//! as with the ring. Sequential patterns share one block counter, so the
//! threads together walk the file in order.

use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use crate::interrupt::Interrupt;
use crate::probe::ProbeError;
use crate::stats::Rng;
use crate::sys::aligned::AlignedBuf;

use super::Job;
use super::measure::{Offsets, Recorder, Window};
use super::scratch::fill_random;

/// Stack of each I/O thread: they only loop over syscalls.
const STACK: usize = 256 << 10;

/// Runs one pattern; `Err(Interrupted)` when the flag was set.
pub(crate) fn run(job: &Job<'_>, interrupt: &Interrupt) -> Result<Recorder, ProbeError> {
    let depth = job.spec.iodepth as usize;
    let stop = AtomicBool::new(false);
    let next_block = AtomicU64::new(0);
    let window = Window::starting_now(job.ramp, job.runtime);
    let results: Vec<Result<Recorder, ProbeError>> = std::thread::scope(|scope| {
        let mut handles = Vec::with_capacity(depth);
        for thread in 0..depth {
            let (stop, next_block) = (&stop, &next_block);
            let spawned = std::thread::Builder::new()
                .name(format!("disk-io-{thread}"))
                .stack_size(STACK)
                .spawn_scoped(scope, move || {
                    worker(job, thread as u64, window, interrupt, stop, next_block)
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    handles.clear();
                    return vec![Err(ProbeError::io("starting I/O threads", &e))];
                }
            }
        }
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(ProbeError::Failed("an I/O thread panicked".to_owned()))
                })
            })
            .collect()
    });
    let mut total = Recorder::new(window);
    let mut interrupted = false;
    for result in results {
        match result {
            Ok(r) => total.merge(r),
            Err(ProbeError::Interrupted) => interrupted = true,
            Err(e) => return Err(e),
        }
    }
    if interrupted || interrupt.is_set() {
        return Err(ProbeError::Interrupted);
    }
    Ok(total)
}

fn worker(
    job: &Job<'_>,
    thread: u64,
    window: Window,
    interrupt: &Interrupt,
    stop: &AtomicBool,
    next_block: &AtomicU64,
) -> Result<Recorder, ProbeError> {
    let bs = job.spec.block_size;
    let pattern = job.spec.pattern;
    let mut buf = AlignedBuf::zeroed(bs as usize, job.align)
        .ok_or_else(|| ProbeError::Failed("cannot allocate an I/O buffer".to_owned()))?;
    // Distinct streams per thread from one seed.
    let seed = job.seed ^ thread.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    if pattern.is_write() {
        fill_random(buf.as_mut_slice(), &mut Rng::seed_from_u64(seed ^ 0xDA7A));
    }
    let mut offsets = Offsets::new(true, bs, job.size, seed);
    let blocks = (job.size / bs).max(1);
    let mut recorder = Recorder::new(window);
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(recorder);
        }
        if interrupt.is_set() {
            stop.store(true, Ordering::Relaxed);
            return Err(ProbeError::Interrupted);
        }
        let offset = if pattern.is_random() {
            offsets.next_offset()
        } else {
            (next_block.fetch_add(1, Ordering::Relaxed) % blocks) * bs
        };
        let started = Instant::now();
        if started >= window.end {
            return Ok(recorder);
        }
        let result = if pattern.is_write() {
            job.file.write_all_at(buf.as_slice(), offset)
        } else {
            job.file.read_exact_at(buf.as_mut_slice(), offset)
        };
        if let Err(e) = result {
            stop.store(true, Ordering::Relaxed);
            return Err(ProbeError::io(
                &format!("{} of {bs} bytes at offset {offset}", pattern.as_str()),
                &e,
            ));
        }
        let done = Instant::now();
        recorder.record(done, done - started);
    }
}
