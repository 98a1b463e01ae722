//! The io_uring engine: one ring of `iodepth` entries, one aligned buffer per
//! slot, exactly `iodepth` I/Os in flight. It follows fio's io_uring loop
//! with default options, so the two measure the same thing: each I/O is
//! submitted on its own (`iodepth_batch_submit=1`) with a clock read after
//! the submission (fio's issue time); when the queue is full it reaps what
//! is ready, sleeping for one completion only when nothing is, and stamps
//! the whole reaped batch with one clock read. Nothing is allocated per I/O.
//!
//! Submitting one by one costs a syscall per I/O but keeps the thread from
//! sleeping between completions: batching every refill into the wait made
//! this loop ~10% slower than fio in a microVM, where each sleep and wake-up
//! of a vCPU is a VM exit.

use std::io;
use std::time::{Duration, Instant};

use crate::interrupt::Interrupt;
use crate::probe::ProbeError;
use crate::stats::Rng;
use crate::sys::uring::{BlockRing, Completion, Direction};

use super::Job;
use super::measure::{Offsets, Recorder, Window};
use super::scratch::fill_random;

/// Longest wait before the interrupt flag and the clock are looked at again.
const POLL: Duration = Duration::from_millis(100);

/// Runs one pattern; `Err(Interrupted)` when the flag was set (after every
/// in-flight I/O has completed). Also returns the ring's setup flags.
pub(crate) fn run(
    job: &Job<'_>,
    interrupt: &Interrupt,
) -> Result<(Recorder, &'static str), ProbeError> {
    let bs = job.spec.block_size as usize;
    let depth = job.spec.iodepth as usize;
    let pattern = job.spec.pattern;
    let direction = if pattern.is_write() {
        Direction::Write
    } else {
        Direction::Read
    };
    let mut ring = BlockRing::new(job.file, depth, bs, job.align)
        .map_err(|e| ProbeError::io("io_uring setup", &e))?;
    if pattern.is_write() {
        let mut rng = Rng::seed_from_u64(job.seed ^ 0xDA7A);
        for slot in 0..depth {
            if let Some(buf) = ring.buffer_mut(slot) {
                fill_random(buf, &mut rng);
            }
        }
    }
    let mut offsets = Offsets::new(pattern.is_random(), job.spec.block_size, job.size, job.seed);
    let mut slot_offset = vec![0u64; depth];
    // Bytes already transferred by a slot's I/O (short reads/writes resume).
    let mut slot_done = vec![0usize; depth];
    let window = Window::starting_now(job.ramp, job.runtime);
    let mut submitted_at = vec![window.start; depth];
    let mut recorder = Recorder::new(window);
    let queue_error = |e: io::Error| ProbeError::io("io_uring queue", &e);

    let submit_error = |e: io::Error| ProbeError::io("io_uring_enter", &e);
    for slot in 0..depth {
        slot_offset[slot] = offsets.next_offset();
        ring.queue(slot, direction, slot_offset[slot], 0..bs)
            .map_err(queue_error)?;
        ring.submit().map_err(submit_error)?;
        submitted_at[slot] = Instant::now();
    }
    let mut completions: Vec<Completion> = Vec::with_capacity(depth);
    let mut stopping = false;
    let mut interrupted = false;
    loop {
        completions.clear();
        ring.reap(&mut completions);
        if completions.is_empty() {
            ring.submit_and_wait(1, Some(POLL)).map_err(submit_error)?;
            ring.reap(&mut completions);
        }
        let now = Instant::now();
        if !stopping {
            interrupted = interrupt.is_set();
            stopping = interrupted || now >= window.end;
        }
        for c in &completions {
            let slot = c.slot;
            if c.result <= 0 {
                let why = if c.result == 0 {
                    "unexpected end of file".to_owned()
                } else {
                    io::Error::from_raw_os_error(-c.result).to_string()
                };
                return Err(ProbeError::Failed(format!(
                    "{} of {bs} bytes at offset {}: {why}",
                    pattern.as_str(),
                    slot_offset[slot]
                )));
            }
            slot_done[slot] += c.result as usize;
            if slot_done[slot] < bs {
                // Short transfer: queue the rest; the latency runs on.
                if !stopping {
                    let done = slot_done[slot];
                    ring.queue(slot, direction, slot_offset[slot] + done as u64, done..bs)
                        .map_err(queue_error)?;
                    ring.submit().map_err(submit_error)?;
                }
                continue;
            }
            slot_done[slot] = 0;
            recorder.record(now, now - submitted_at[slot]);
            if !stopping {
                slot_offset[slot] = offsets.next_offset();
                ring.queue(slot, direction, slot_offset[slot], 0..bs)
                    .map_err(queue_error)?;
                ring.submit().map_err(submit_error)?;
                submitted_at[slot] = Instant::now();
            }
        }
        if stopping && ring.in_flight() == 0 {
            break;
        }
    }
    if interrupted {
        return Err(ProbeError::Interrupted);
    }
    Ok((recorder, ring.setup()))
}
