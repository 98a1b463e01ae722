//! STREAM 5.10's four kernels with its rules: Copy `c = a`, Scale
//! `b = s·c`, Add `c = a + b`, Triad `a = b + s·c` on `f64` arrays with
//! `s = 3.0`; 16 bytes counted per element for Copy and Scale, 24 for Add and
//! Triad; `ntimes` iterations of the four in that order; a kernel's rate is
//! its bytes over its best (minimum) time with the first iteration left out;
//! the arrays are checked afterwards against the values the same recurrence
//! gives on scalars (STREAM's `checkSTREAMresults`).
//!
//! Threads work like an OpenMP `parallel for` with a static schedule: one
//! persistent worker per thread, each owning a contiguous chunk of all
//! three arrays, which it first-touches (initialises) itself so its pages
//! are local to it. The calling thread is worker 0 and keeps the clock: a
//! kernel's time runs from releasing the workers to the last one done.
//!
//! The operations run with one [`StreamKernel`] (vector width and store
//! type, see [`super::kernel`]) for the whole run, so every thread count and
//! every tier that asks for the same kernel runs the same instructions.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::interrupt::Interrupt;
use crate::sys::simd::Op;

use super::kernel::StreamKernel;

/// STREAM's `scalar`.
pub const SCALAR: f64 = 3.0;
/// STREAM's tolerance for the average relative error of an array (double precision).
pub const EPSILON: f64 = 1e-13;
/// The initial values of `a`, `b`, `c`.
pub const INITIAL: [f64; 3] = [1.0, 2.0, 0.0];

/// One of STREAM's four kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// `c = a`
    Copy,
    /// `b = s·c`
    Scale,
    /// `c = a + b`
    Add,
    /// `a = b + s·c`
    Triad,
}

impl Kernel {
    /// The kernels in the order STREAM runs them.
    pub const ALL: [Kernel; 4] = [Kernel::Copy, Kernel::Scale, Kernel::Add, Kernel::Triad];

    /// The `op` label.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Copy => "copy",
            Kernel::Scale => "scale",
            Kernel::Add => "add",
            Kernel::Triad => "triad",
        }
    }

    /// Bytes STREAM counts per element: 2 arrays × 8 for Copy and Scale,
    /// 3 × 8 for Add and Triad (write-allocate traffic is not counted).
    pub fn bytes_per_element(self) -> u64 {
        match self {
            Kernel::Copy | Kernel::Scale => 2 * 8,
            Kernel::Add | Kernel::Triad => 3 * 8,
        }
    }

    /// Bytes counted for one pass over arrays of `elements`.
    pub fn bytes(self, elements: usize) -> f64 {
        self.bytes_per_element() as f64 * elements as f64
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// STREAM's best time: the minimum over the iterations after the first
/// (the first warms caches and TLBs). `None` with fewer than 2 iterations.
pub fn best_time(times: &[f64]) -> Option<f64> {
    times
        .get(1..)
        .filter(|t| !t.is_empty())?
        .iter()
        .copied()
        .reduce(f64::min)
}

/// The values every element of `a`, `b`, `c` holds after `ntimes`
/// iterations, computed by the same recurrence on scalars.
pub fn expected_values(ntimes: usize) -> [f64; 3] {
    let [mut a, mut b, mut c] = INITIAL;
    for _ in 0..ntimes {
        c = a;
        b = SCALAR * c;
        c = a + b;
        a = b + SCALAR * c;
    }
    [a, b, c]
}

/// STREAM's check: for each array, the average absolute error over
/// `elements` relative to the expected value must stay within
/// [`EPSILON`]. `error_sums` are the summed absolute errors of `a`, `b`, `c`.
pub fn check_results(
    error_sums: [f64; 3],
    elements: usize,
    expected: [f64; 3],
) -> Result<(), String> {
    let mut failed = Vec::new();
    for ((name, sum), want) in ["a", "b", "c"].iter().zip(error_sums).zip(expected) {
        let average = sum / elements.max(1) as f64;
        let relative = (average / want).abs();
        if relative.is_nan() || relative > EPSILON {
            failed.push(format!(
                "{name}: expected {want:e}, average error {average:e} (relative {relative:e})"
            ));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "STREAM results are wrong ({}); the kernels did not compute what was measured",
            failed.join("; ")
        ))
    }
}

/// Why a STREAM run produced no figures.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StreamError {
    /// Ctrl-C before the last kernel finished.
    #[error("interrupted")]
    Interrupted,
    /// The arrays do not hold the expected values afterwards.
    #[error("{0}")]
    Validation(String),
}

/// One STREAM run at one thread count.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamRun {
    /// Worker threads.
    pub threads: usize,
    /// Elements per array.
    pub elements: usize,
    /// Seconds per iteration and kernel (in [`Kernel::ALL`] order), the
    /// first iteration included.
    pub times: Vec<[f64; 4]>,
}

impl StreamRun {
    /// Every iteration's time of `kernel`, the first included.
    pub fn kernel_times(&self, kernel: Kernel) -> Vec<f64> {
        self.times.iter().map(|t| t[kernel.index()]).collect()
    }

    /// STREAM's rate: bytes over the best time after the first iteration.
    pub fn best_rate(&self, kernel: Kernel) -> Option<f64> {
        let best = best_time(&self.kernel_times(kernel))?;
        (best > 0.0).then(|| kernel.bytes(self.elements) / best)
    }

    /// The rate of every iteration after the first.
    pub fn iteration_rates(&self, kernel: Kernel) -> Vec<f64> {
        let bytes = kernel.bytes(self.elements);
        self.kernel_times(kernel)
            .iter()
            .skip(1)
            .filter(|&&t| t > 0.0)
            .map(|t| bytes / t)
            .collect()
    }
}

/// What the workers do, in lock step.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// First touch: write the initial values.
    Init,
    Kernel(Kernel),
}

/// One worker's contiguous part of the three arrays.
struct Chunk<'a> {
    a: &'a mut [f64],
    b: &'a mut [f64],
    c: &'a mut [f64],
}

impl Chunk<'_> {
    fn run(&mut self, step: Step, kernel: StreamKernel) {
        match step {
            Step::Init => init(self.a, self.b, self.c),
            Step::Kernel(Kernel::Copy) => kernel.apply(Op::Copy, self.c, self.a, &[]),
            Step::Kernel(Kernel::Scale) => kernel.apply(Op::Scale, self.b, self.c, &[]),
            Step::Kernel(Kernel::Add) => kernel.apply(Op::Add, self.c, self.a, self.b),
            Step::Kernel(Kernel::Triad) => kernel.apply(Op::Triad, self.a, self.b, self.c),
        }
    }

    /// Summed absolute errors of `a`, `b`, `c` against `expected`.
    fn error_sums(&self, expected: [f64; 3]) -> [f64; 3] {
        let sum = |xs: &[f64], want: f64| xs.iter().map(|x| (x - want).abs()).sum::<f64>();
        [
            sum(self.a, expected[0]),
            sum(self.b, expected[1]),
            sum(self.c, expected[2]),
        ]
    }
}

#[inline(never)]
fn init(a: &mut [f64], b: &mut [f64], c: &mut [f64]) {
    a.fill(INITIAL[0]);
    b.fill(INITIAL[1]);
    c.fill(INITIAL[2]);
}

/// Lengths of `threads` contiguous chunks of `elements` (OpenMP's static
/// schedule: the first `elements % threads` get one more).
pub fn chunk_lengths(elements: usize, threads: usize) -> Vec<usize> {
    let threads = threads.max(1);
    let (base, extra) = (elements / threads, elements % threads);
    (0..threads)
        .map(|i| base + usize::from(i < extra))
        .collect()
}

/// Cuts `slice` into consecutive pieces of `lengths`.
fn split_chunks<'a>(mut slice: &'a mut [f64], lengths: &[usize]) -> Vec<&'a mut [f64]> {
    lengths
        .iter()
        .map(|&len| {
            let (head, tail) = std::mem::take(&mut slice).split_at_mut(len);
            slice = tail;
            head
        })
        .collect()
}

/// Runs STREAM on three arrays of `elements` f64 with `threads` workers and
/// `ntimes` iterations of `kernel`, then validates the arrays. Polls
/// `interrupt` between kernels.
pub fn run_stream(
    elements: usize,
    threads: usize,
    ntimes: usize,
    kernel: StreamKernel,
    interrupt: &Interrupt,
) -> Result<StreamRun, StreamError> {
    let threads = threads.clamp(1, elements.max(1));
    // Zeroed allocations come straight from mmap and stay untouched until
    // each worker writes its own chunk (first touch).
    let mut a = vec![0.0f64; elements];
    let mut b = vec![0.0f64; elements];
    let mut c = vec![0.0f64; elements];
    let lengths = chunk_lengths(elements, threads);
    let mut chunks: Vec<Chunk<'_>> = split_chunks(&mut a, &lengths)
        .into_iter()
        .zip(split_chunks(&mut b, &lengths))
        .zip(split_chunks(&mut c, &lengths))
        .map(|((a, b), c)| Chunk { a, b, c })
        .collect();

    let steps: Vec<Step> = std::iter::once(Step::Init)
        .chain((0..ntimes).flat_map(|_| Kernel::ALL.map(Step::Kernel)))
        .collect();
    let expected = expected_values(ntimes);
    let release = Barrier::new(threads);
    let finished = Barrier::new(threads);
    let stop = AtomicBool::new(false);

    let mut own = chunks.remove(0);
    let (times, error_sums) = std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .into_iter()
            .map(|mut chunk| {
                let (steps, release, finished, stop) = (&steps, &release, &finished, &stop);
                scope.spawn(move || {
                    for &step in steps {
                        release.wait();
                        if stop.load(Ordering::Relaxed) {
                            return None;
                        }
                        chunk.run(step, kernel);
                        finished.wait();
                    }
                    Some(chunk.error_sums(expected))
                })
            })
            .collect();

        let mut times: Vec<[f64; 4]> = Vec::with_capacity(ntimes);
        let mut interrupted = false;
        for &step in &steps {
            if interrupt.is_set() {
                stop.store(true, Ordering::Relaxed);
                release.wait();
                interrupted = true;
                break;
            }
            let started = Instant::now();
            release.wait();
            own.run(step, kernel);
            finished.wait();
            let seconds = started.elapsed().as_secs_f64();
            if let Step::Kernel(kernel) = step {
                if kernel == Kernel::Copy {
                    times.push([0.0; 4]);
                }
                if let Some(iteration) = times.last_mut() {
                    iteration[kernel.index()] = seconds;
                }
            }
        }
        let mut sums = (!interrupted).then(|| own.error_sums(expected));
        for worker in workers {
            let result = worker
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            if let (Some(total), Some(part)) = (sums.as_mut(), result) {
                for (t, p) in total.iter_mut().zip(part) {
                    *t += p;
                }
            }
        }
        (times, sums)
    });
    let error_sums = error_sums.ok_or(StreamError::Interrupted)?;
    check_results(error_sums, elements, expected).map_err(StreamError::Validation)?;
    Ok(StreamRun {
        threads,
        elements,
        times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_counts_two_or_three_arrays_of_eight_bytes() {
        let per: Vec<u64> = Kernel::ALL.iter().map(|k| k.bytes_per_element()).collect();
        assert_eq!(per, [16, 16, 24, 24]);
        // STREAM's default 10M elements: 160 MB for copy, 240 MB for triad.
        assert_eq!(Kernel::Copy.bytes(10_000_000), 160e6);
        assert_eq!(Kernel::Triad.bytes(10_000_000), 240e6);
        let names: Vec<&str> = Kernel::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(names, ["copy", "scale", "add", "triad"]);
    }

    #[test]
    fn the_best_time_leaves_out_the_first_iteration() {
        assert_eq!(best_time(&[0.1, 0.5, 0.3, 0.4]), Some(0.3));
        assert_eq!(best_time(&[0.5, 0.9]), Some(0.9));
        assert_eq!(best_time(&[0.5]), None);
        assert_eq!(best_time(&[]), None);
        let run = StreamRun {
            threads: 1,
            elements: 1000,
            times: vec![
                [0.001; 4],
                [0.004, 0.004, 0.006, 0.003],
                [0.002, 0.004, 0.006, 0.006],
            ],
        };
        assert_eq!(run.kernel_times(Kernel::Copy), [0.001, 0.004, 0.002]);
        assert_eq!(run.best_rate(Kernel::Copy), Some(16_000.0 / 0.002));
        assert_eq!(run.best_rate(Kernel::Triad), Some(24_000.0 / 0.003));
        assert_eq!(run.iteration_rates(Kernel::Add), [4e6, 4e6]);
    }

    #[test]
    fn expected_values_follow_the_recurrence() {
        assert_eq!(expected_values(0), [1.0, 2.0, 0.0]);
        // c = 1, b = 3, c = 4, a = 15; each iteration multiplies by 15.
        assert_eq!(expected_values(1), [15.0, 3.0, 4.0]);
        assert_eq!(expected_values(2), [225.0, 45.0, 60.0]);
    }

    #[test]
    fn validation_accepts_exact_and_rejects_wrong_arrays() {
        let want = expected_values(3);
        assert!(check_results([0.0; 3], 100, want).is_ok());
        // One element of b off by 1: average error 0.01 relative to 675.
        let err = check_results([0.0, 1.0, 0.0], 100, want).unwrap_err();
        assert!(err.contains("b: expected"), "{err}");
        assert!(!err.contains("a: expected"), "{err}");
        assert!(check_results([f64::NAN, 0.0, 0.0], 100, want).is_err());
    }

    #[test]
    fn chunks_cover_the_arrays_contiguously() {
        assert_eq!(chunk_lengths(10, 3), [4, 3, 3]);
        assert_eq!(chunk_lengths(9, 3), [3, 3, 3]);
        assert_eq!(chunk_lengths(5, 1), [5]);
        let mut xs = [0.0; 10];
        let parts = split_chunks(&mut xs, &chunk_lengths(10, 3));
        assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [4, 3, 3]);
    }

    #[test]
    fn a_small_run_validates_and_times_every_kernel() {
        let kernels = StreamKernel::preference()
            .into_iter()
            .chain([StreamKernel::PORTABLE]);
        for (threads, kernel) in [1, 3]
            .into_iter()
            .flat_map(|t| kernels.clone().map(move |k| (t, k)))
        {
            let run = run_stream(10_007, threads, 4, kernel, &Interrupt::new()).unwrap();
            assert_eq!(run.threads, threads);
            assert_eq!(run.times.len(), 4);
            for kernel in Kernel::ALL {
                assert!(run.kernel_times(kernel).iter().all(|&t| t > 0.0));
                assert_eq!(run.iteration_rates(kernel).len(), 3);
                assert!(run.best_rate(kernel).unwrap() > 0.0);
            }
        }
    }

    #[test]
    fn an_interrupted_run_stops_every_worker() {
        let interrupt = Interrupt::new();
        interrupt.trigger();
        assert_eq!(
            run_stream(1000, 2, 3, StreamKernel::PORTABLE, &interrupt),
            Err(StreamError::Interrupted)
        );
    }
}
