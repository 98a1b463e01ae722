//! The significance test behind every verdict of the report and of
//! `compare`: bench-core's [`compare`](fn@bench_core::stats::compare) on the raw
//! observations in the order they were taken, with long series reduced to
//! batch means first ([`bench_core::stats::batch`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bench_core::stats::{self, CompareOptions, Comparison, MAX_BATCHES};

/// Calls of [`test`](fn@test) and the time spent in them, summed over threads: the
/// share of a render's CPU time the verdicts cost (`-v` prints it;
/// scripts/bench-report.sh reads it).
static CALLS: AtomicU64 = AtomicU64::new(0);
static SPENT_NS: AtomicU64 = AtomicU64::new(0);

/// Tests run so far and the time spent in them, summed over threads.
pub fn spent() -> (u64, Duration) {
    (
        CALLS.load(Ordering::Relaxed),
        Duration::from_nanos(SPENT_NS.load(Ordering::Relaxed)),
    )
}

/// A comparison and the batch size it was run at.
#[derive(Debug, Clone)]
pub struct Tested {
    /// bench-core's comparison of the (batched) series.
    pub comparison: Comparison,
    /// Observations per batch (1: compared as they are).
    pub batch_size: usize,
}

/// Fewer observations than this on either side get no verdict: one
/// observation (a single cold start) is not a distribution, whatever p a
/// long series on the other side could give it.
pub const MIN_OBSERVATIONS: usize = 2;

/// Compares `b` against baseline `a` (raw observations, in order); `None`
/// when a side has fewer than [`MIN_OBSERVATIONS`], or when there are too few
/// (batches of) observations for p to get below the significance threshold
/// at all ([`stats::can_reach_significance`]).
pub fn test(a: &[f64], b: &[f64], opts: &CompareOptions) -> Option<Tested> {
    let start = Instant::now();
    let tested = test_untimed(a, b, opts);
    CALLS.fetch_add(1, Ordering::Relaxed);
    let spent = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    SPENT_NS.fetch_add(spent, Ordering::Relaxed);
    tested
}

fn test_untimed(a: &[f64], b: &[f64], opts: &CompareOptions) -> Option<Tested> {
    if a.len() < MIN_OBSERVATIONS || b.len() < MIN_OBSERVATIONS {
        return None;
    }
    let size = stats::batch_size(a.len(), b.len(), MAX_BATCHES);
    let (a, b) = (stats::batch_means(a, size), stats::batch_means(b, size));
    // The report shows value ÷ baseline value, not the bootstrap interval.
    let opts = CompareOptions {
        ratio_ci: false,
        ..*opts
    };
    stats::can_reach_significance(a.len(), b.len(), opts.significance).then(|| Tested {
        comparison: stats::compare(&a, &b, &opts),
        batch_size: size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bench_core::stats::{Direction, Verdict};

    #[test]
    fn long_series_are_batched_and_a_shift_is_found() {
        let a: Vec<f64> = (0..50_000).map(|i| 100.0 + f64::from(i % 13)).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.1).collect();
        let opts = CompareOptions {
            direction: Direction::LowerIsBetter,
            ..CompareOptions::default()
        };
        let t = test(&a, &b, &opts).unwrap();
        assert_eq!(t.batch_size, 500);
        assert_eq!(t.comparison.n_a, 100);
        assert_eq!(t.comparison.verdict, Verdict::Slower);
        let same = test(&a, &a, &opts).unwrap();
        assert_eq!(same.comparison.verdict, Verdict::NoDifference);
        assert!(test(&a[..3], &b[..3], &opts).is_none());
        // One observation against a long series: never a verdict, even
        // where C(n + 1, 1) alone would allow p < 0.01.
        assert!(test(&[1000.0], &a[..500], &opts).is_none());
        assert!(test(&a[..500], &[1000.0], &opts).is_none());
    }
}
