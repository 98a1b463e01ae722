//! Which code runs STREAM's four operations: a vector width (SSE2, AVX2,
//! AVX-512F on x86-64, chosen at run time so one static binary does its best
//! on every cloud CPU) and a store type (ordinary, or non-temporal stores
//! that skip the write-allocate read of the destination — what `icc
//! -qopt-streaming-stores` emits and what glibc's `memcpy` does for large
//! copies).
//!
//! `auto` calibrates: each kernel this CPU runs does a few Triad passes over
//! the real arrays, in rotating order, and the run uses the first kernel in
//! [`StreamKernel::preference`] order within [`CALIBRATION_TOLERANCE`] of
//! the fastest. The preference (narrow before wide, ordinary before
//! non-temporal) makes host and sandbox land on the same kernel whenever the
//! difference does not matter, so their ratio compares like with like.

use std::time::Instant;

use crate::interrupt::Interrupt;
use crate::sys::simd::{self, Op, Width};

use super::stream::SCALAR;

/// A kernel within this share of the fastest counts as just as fast.
pub const CALIBRATION_TOLERANCE: f64 = 0.05;
/// Timed Triad passes per kernel during calibration (after one untimed).
pub const CALIBRATION_PASSES: usize = 3;

/// A way of running the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamKernel {
    /// `None`: the portable loops (non-x86 targets).
    width: Option<Width>,
    nontemporal: bool,
}

impl StreamKernel {
    /// The portable Rust loops, for targets without intrinsics here.
    pub const PORTABLE: StreamKernel = StreamKernel {
        width: None,
        nontemporal: false,
    };

    /// Every kernel this build knows, in preference order.
    fn all() -> Vec<StreamKernel> {
        if cfg!(target_arch = "x86_64") {
            [false, true]
                .into_iter()
                .flat_map(|nontemporal| {
                    [Width::Sse2, Width::Avx2, Width::Avx512].map(|w| StreamKernel {
                        width: Some(w),
                        nontemporal,
                    })
                })
                .collect()
        } else {
            vec![StreamKernel::PORTABLE]
        }
    }

    /// The kernels this CPU runs, in preference order: ordinary stores
    /// before non-temporal, then narrow before wide.
    pub fn preference() -> Vec<StreamKernel> {
        Self::all().into_iter().filter(|k| k.runs_here()).collect()
    }

    /// Whether this CPU has the kernel's instructions.
    pub fn runs_here(self) -> bool {
        self.width.is_none_or(Width::detected)
    }

    /// The name in `--kernel` and `parameters.memory.kernel`: `sse2`,
    /// `avx2-nt`, `avx512`, …, or `portable`.
    pub fn name(self) -> String {
        let width = match self.width {
            None => return "portable".to_owned(),
            Some(Width::Sse2) => "sse2",
            Some(Width::Avx2) => "avx2",
            Some(Width::Avx512) => "avx512",
        };
        if self.nontemporal {
            format!("{width}-nt")
        } else {
            width.to_owned()
        }
    }

    /// The kernel called `name`, if this build knows it.
    pub fn from_name(name: &str) -> Option<StreamKernel> {
        Self::all().into_iter().find(|k| k.name() == name)
    }

    /// Whether stores bypass the caches.
    pub fn nontemporal(self) -> bool {
        self.nontemporal
    }

    /// `dst = f(x, y)` for one STREAM operation over one chunk.
    pub(crate) fn apply(self, op: Op, dst: &mut [f64], x: &[f64], y: &[f64]) {
        if let Some(width) = self.width {
            // Kernels are only chosen when `runs_here`, and the chunks of
            // one array have equal lengths, so this always runs.
            if simd::run(width, self.nontemporal, op, dst, x, y, SCALAR) {
                return;
            }
        }
        portable(op, dst, x, y);
    }
}

/// The plain loops: LLVM vectorises them for the target's baseline.
fn portable(op: Op, dst: &mut [f64], x: &[f64], y: &[f64]) {
    match op {
        Op::Copy => dst.iter_mut().zip(x).for_each(|(d, &x)| *d = x),
        Op::Scale => dst.iter_mut().zip(x).for_each(|(d, &x)| *d = SCALAR * x),
        Op::Add => dst
            .iter_mut()
            .zip(x.iter().zip(y))
            .for_each(|(d, (&x, &y))| *d = x + y),
        Op::Triad => dst
            .iter_mut()
            .zip(x.iter().zip(y))
            .for_each(|(d, (&x, &y))| *d = x + SCALAR * y),
    }
}

/// What `auto` measured and chose.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// The kernel the run uses.
    pub chosen: StreamKernel,
    /// Each candidate's best single-thread Triad rate, bytes/s, in preference order.
    pub rates: Vec<(StreamKernel, f64)>,
}

/// The first of `rates` (in preference order) within the tolerance of the fastest.
pub fn pick(rates: &[(StreamKernel, f64)]) -> Option<StreamKernel> {
    let fastest = rates.iter().map(|&(_, r)| r).fold(f64::NAN, f64::max);
    rates
        .iter()
        .find(|&&(_, r)| r >= fastest * (1.0 - CALIBRATION_TOLERANCE))
        .map(|&(k, _)| k)
}

/// Times single-thread Triad passes of every kernel that runs here over
/// three arrays of `elements` and picks one; `None` when interrupted.
pub fn calibrate(elements: usize, interrupt: &Interrupt) -> Option<Calibration> {
    let candidates = StreamKernel::preference();
    if candidates.len() == 1 {
        return Some(Calibration {
            chosen: candidates[0],
            rates: Vec::new(),
        });
    }
    let elements = elements.max(1);
    let (mut a, b, c) = (
        vec![super::stream::INITIAL[0]; elements],
        vec![super::stream::INITIAL[1]; elements],
        vec![super::stream::INITIAL[2]; elements],
    );
    let mut best = vec![f64::INFINITY; candidates.len()];
    // Pass 0 warms up (untimed); then each round starts one kernel later, so
    // none always follows the same neighbour.
    for pass in 0..=CALIBRATION_PASSES {
        for j in 0..candidates.len() {
            if interrupt.is_set() {
                return None;
            }
            let i = (pass + j) % candidates.len();
            let started = Instant::now();
            candidates[i].apply(Op::Triad, &mut a, &b, &c);
            let seconds = started.elapsed().as_secs_f64();
            if pass > 0 {
                best[i] = best[i].min(seconds);
            }
        }
    }
    let bytes = super::stream::Kernel::Triad.bytes(elements);
    let rates: Vec<(StreamKernel, f64)> = candidates
        .into_iter()
        .zip(best)
        .map(|(k, t)| (k, if t > 0.0 { bytes / t } else { 0.0 }))
        .collect();
    let chosen = pick(&rates).unwrap_or(StreamKernel::PORTABLE);
    Some(Calibration { chosen, rates })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sse2_runs_on_every_x86_64() {
        for k in StreamKernel::all() {
            assert_eq!(StreamKernel::from_name(&k.name()), Some(k));
        }
        assert_eq!(StreamKernel::from_name("avx3"), None);
        let here: Vec<String> = StreamKernel::preference()
            .iter()
            .map(|k| k.name())
            .collect();
        if cfg!(target_arch = "x86_64") {
            assert_eq!(here[0], "sse2");
            assert!(here.contains(&"sse2-nt".to_owned()));
            // Ordinary stores come first, non-temporal after.
            let first_nt = here.iter().position(|n| n.ends_with("-nt")).unwrap();
            assert!(
                here[first_nt..].iter().all(|n| n.ends_with("-nt")),
                "{here:?}"
            );
        } else {
            assert_eq!(here, ["portable"]);
        }
    }

    #[test]
    fn the_choice_is_the_first_within_five_percent_of_the_fastest() {
        let k = |n: &str| StreamKernel::from_name(n).unwrap_or(StreamKernel::PORTABLE);
        let (sse2, avx2, sse2_nt) = (k("sse2"), k("avx2"), k("sse2-nt"));
        // A wider kernel 4% faster does not displace the narrow one …
        assert_eq!(
            pick(&[(sse2, 100.0), (avx2, 104.0), (sse2_nt, 101.0)]),
            Some(sse2)
        );
        // … but non-temporal stores 30% faster do.
        assert_eq!(
            pick(&[(sse2, 100.0), (avx2, 99.0), (sse2_nt, 130.0)]),
            Some(sse2_nt)
        );
        assert_eq!(pick(&[]), None);
    }

    #[test]
    fn calibration_measures_every_candidate_and_keeps_the_arrays_correct() {
        let cal = calibrate(50_000, &Interrupt::new()).unwrap();
        let candidates = StreamKernel::preference();
        if candidates.len() > 1 {
            let measured: Vec<StreamKernel> = cal.rates.iter().map(|&(k, _)| k).collect();
            assert_eq!(measured, candidates);
            assert!(cal.rates.iter().all(|&(_, r)| r > 0.0 && r.is_finite()));
            assert_eq!(pick(&cal.rates), Some(cal.chosen));
        }
        assert!(cal.chosen.runs_here());
        let interrupt = Interrupt::new();
        interrupt.trigger();
        if candidates.len() > 1 {
            assert_eq!(calibrate(1000, &interrupt), None);
        }
    }

    #[test]
    fn every_kernel_matches_the_portable_loops() {
        let x: Vec<f64> = (0..1037).map(|i| i as f64 * 0.5).collect();
        let y: Vec<f64> = (0..1037).map(|i| 7.0 - i as f64).collect();
        for kernel in StreamKernel::preference() {
            for op in [Op::Copy, Op::Scale, Op::Add, Op::Triad] {
                let (mut got, mut want) = (vec![0.0; 1037], vec![0.0; 1037]);
                kernel.apply(op, &mut got, &x, &y);
                portable(op, &mut want, &x, &y);
                assert_eq!(got, want, "{} {op:?}", kernel.name());
            }
        }
    }
}
