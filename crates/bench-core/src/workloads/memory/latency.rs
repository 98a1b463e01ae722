//! Random-access memory latency: a pointer chase through one random cycle
//! over cache-line-spaced slots of a buffer.
//!
//! Every load's address comes from the previous load, so neither the
//! out-of-order core nor the prefetchers can overlap them: the time per load
//! is the latency of wherever the buffer lives (DRAM and page walks for
//! buffers far beyond the last-level cache). Sattolo's shuffle makes the
//! chain a single cycle through every slot, so a round visits the whole
//! buffer instead of looping in a short sub-cycle that fits in cache.

use std::hint::black_box;
use std::time::Instant;

use crate::interrupt::Interrupt;
use crate::stats::rng::Rng;

/// Slot spacing: one cache line, so no two slots share a line.
pub const LINE_BYTES: usize = 64;
/// Words of the buffer per slot.
const SLOT_WORDS: usize = LINE_BYTES / size_of::<usize>();
/// A round is at least this many loads (whole cycles), long enough to time
/// precisely even when the buffer is small.
pub const MIN_LOADS_PER_ROUND: usize = 1 << 20;
/// Loads between two looks at the interrupt flag (well under a second).
const LOADS_PER_SEGMENT: usize = 1 << 16;
/// Fixed seed: the same chain on every run and machine.
const SEED: u64 = 0x5EED_C4A5;

/// Sattolo's algorithm on the values at `0, stride, 2·stride, …` of
/// `values`: a uniformly random permutation with exactly one cycle. Starting
/// with `values[i·stride] = i·stride`, following `p = values[p]` from any
/// slot then visits every slot before coming back.
pub fn sattolo_in_place(values: &mut [usize], stride: usize, rng: &mut Rng) {
    let slots = values.len() / stride.max(1);
    for i in (1..slots).rev() {
        // j < i (not ≤ i as in Fisher–Yates): this is what leaves one cycle.
        let j = rng.index(i);
        values.swap(i * stride, j * stride);
    }
}

/// A buffer of `bytes` (rounded down to whole slots, at least 2) holding one
/// random cycle through its cache-line slots; each slot's first word is the
/// index of the next slot's first word.
pub fn build_chain(bytes: usize, seed: u64) -> Vec<usize> {
    let slots = (bytes / LINE_BYTES).max(2);
    let mut buffer = vec![0usize; slots * SLOT_WORDS];
    for slot in 0..slots {
        buffer[slot * SLOT_WORDS] = slot * SLOT_WORDS;
    }
    sattolo_in_place(&mut buffer, SLOT_WORDS, &mut Rng::seed_from_u64(seed));
    buffer
}

/// Follows the chain for `loads` loads from `position`; returns where it ended.
#[inline(never)]
fn chase(chain: &[usize], mut position: usize, loads: usize) -> usize {
    for _ in 0..loads {
        position = chain[position];
    }
    position
}

/// What a latency run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyRun {
    /// Buffer size in bytes (whole slots).
    pub bytes: usize,
    /// Cache-line slots in the cycle.
    pub slots: usize,
    /// Dependent loads per timed round (whole cycles).
    pub loads_per_round: usize,
    /// Nanoseconds per load of each round.
    pub ns_per_load: Vec<f64>,
}

/// Chases a random cycle over a `bytes` buffer: one untimed warm-up round,
/// then `rounds` timed ones. `None` when interrupted.
pub fn run_latency(bytes: usize, rounds: usize, interrupt: &Interrupt) -> Option<LatencyRun> {
    let chain = build_chain(bytes, SEED);
    let slots = chain.len() / SLOT_WORDS;
    let loads_per_round = slots * MIN_LOADS_PER_ROUND.div_ceil(slots);
    let mut position = 0;
    let mut round = || -> Option<f64> {
        let started = Instant::now();
        let mut left = loads_per_round;
        while left > 0 {
            if interrupt.is_set() {
                return None;
            }
            let loads = left.min(LOADS_PER_SEGMENT);
            position = chase(&chain, black_box(position), loads);
            left -= loads;
        }
        let elapsed = started.elapsed().as_secs_f64();
        black_box(position);
        Some(elapsed * 1e9 / loads_per_round as f64)
    };
    round()?;
    let ns_per_load = (0..rounds).map(|_| round()).collect::<Option<Vec<f64>>>()?;
    Some(LatencyRun {
        bytes: slots * LINE_BYTES,
        slots,
        loads_per_round,
        ns_per_load,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slots visited from slot 0 until the chain returns to it.
    fn cycle_length(chain: &[usize], stride: usize) -> usize {
        let mut position = chain[0];
        let mut visited = 1;
        while position != 0 {
            assert_eq!(position % stride, 0, "points into a slot's middle");
            position = chain[position];
            visited += 1;
            assert!(visited <= chain.len(), "no way back to the start");
        }
        visited
    }

    #[test]
    fn sattolo_gives_a_single_cycle() {
        for n in [2, 3, 10, 1000] {
            for seed in 0..5 {
                let mut values: Vec<usize> = (0..n).collect();
                sattolo_in_place(&mut values, 1, &mut Rng::seed_from_u64(seed));
                assert_eq!(cycle_length(&values, 1), n, "n {n} seed {seed}");
                let mut sorted = values.clone();
                sorted.sort_unstable();
                assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "a permutation");
                assert!(
                    values.iter().enumerate().all(|(i, &v)| i != v),
                    "no fixed point"
                );
            }
        }
    }

    #[test]
    fn the_chain_visits_every_cache_line_once() {
        let chain = build_chain(64 * 1024, 7);
        assert_eq!(chain.len() * size_of::<usize>(), 64 * 1024);
        assert_eq!(cycle_length(&chain, SLOT_WORDS), 1024);
        // Tiny buffers still form a cycle of two slots.
        assert_eq!(cycle_length(&build_chain(1, 7), SLOT_WORDS), 2);
    }

    #[test]
    fn rounds_are_whole_cycles_and_take_time() {
        let run = run_latency(256 * 1024, 3, &Interrupt::new()).unwrap();
        assert_eq!(run.slots, 4096);
        assert_eq!(run.bytes, 256 * 1024);
        assert_eq!(run.loads_per_round % run.slots, 0);
        assert!(run.loads_per_round >= MIN_LOADS_PER_ROUND);
        assert_eq!(run.ns_per_load.len(), 3);
        assert!(run.ns_per_load.iter().all(|&ns| ns > 0.0 && ns < 10_000.0));
    }

    #[test]
    fn interruption_stops_the_chase() {
        let interrupt = Interrupt::new();
        interrupt.trigger();
        assert!(run_latency(64 * 1024, 3, &interrupt).is_none());
    }
}
