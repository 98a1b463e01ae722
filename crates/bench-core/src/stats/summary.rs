//! Summary statistics of one series: the [`Stats`] block of every sample.
//!
//! - mean, and sample standard deviation with the n − 1 denominator, by the
//!   corrected two-pass algorithm (Chan, Golub & LeVeque, "Algorithms for
//!   computing the sample variance", The American Statistician 37(3), 1983);
//! - min, max, and p50/p90/p95/p99 as type-7 quantiles ([`super::quantile`](mod@super::quantile));
//! - `ci95`: the Student t interval of the mean,
//!   `mean ± t(0.975, n − 1)·s/√n` ([`super::student_t`]), which assumes the
//!   mean is roughly normal (true for large n by the central limit theorem;
//!   optimistic for small, skewed latency series, where `median_ci95` is the
//!   safer figure);
//! - `outliers`: the Tukey count ([`super::outliers`]);
//! - `median_ci95`: the seeded percentile bootstrap of the median
//!   ([`super::bootstrap`], [`BOOTSTRAP_RESAMPLES`] replicates,
//!   [`DEFAULT_SEED`]).

use crate::schema::Stats;

use super::bootstrap::{BOOTSTRAP_RESAMPLES, CONFIDENCE, DEFAULT_SEED, bootstrap_median_ci_sorted};
use super::outliers::count_tukey_outliers;
use super::quantile::{quantile_sorted, sorted_finite};
use super::student_t::student_t_quantile;

/// Mean and sum of squared deviations of a finite, non-empty slice (corrected
/// two-pass: the second pass also removes the rounding error of the first).
pub(crate) fn mean_and_ssd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m0 = xs.iter().sum::<f64>() / n;
    let (mut dev, mut sq) = (0.0, 0.0);
    for &x in xs {
        let d = x - m0;
        dev += d;
        sq += d * d;
    }
    (m0 + dev / n, (sq - dev * dev / n).max(0.0))
}

/// The arithmetic mean of the finite values of `xs`; `None` when there are
/// none.
pub fn mean(xs: &[f64]) -> Option<f64> {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| mean_and_ssd(&v).0)
}

/// The sample standard deviation (n − 1 denominator) of the finite values of
/// `xs`; `None` when fewer than two.
pub fn sample_stddev(xs: &[f64]) -> Option<f64> {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    (v.len() >= 2).then(|| (mean_and_ssd(&v).1 / (v.len() - 1) as f64).sqrt())
}

/// The Student t confidence interval `mean ± t((1 + c)/2, n − 1)·s/√n` of
/// the mean of `n` observations with sample standard deviation `s`.
/// `None` for n < 2 or a confidence outside (0, 1).
pub fn mean_ci(mean: f64, stddev: f64, n: u64, confidence: f64) -> Option<[f64; 2]> {
    if n < 2 || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let t = student_t_quantile(0.5 + 0.5 * confidence, (n - 1) as f64);
    let half = t * stddev / (n as f64).sqrt();
    Some([mean - half, mean + half])
}

/// Summary statistics of a series, or `None` when it has fewer than two
/// finite observations (the result-document contract: `stats` is present
/// whenever there is more than one observation).
///
/// Non-finite values (NaN, ±∞) are ignored and not counted in `n`
/// ([`crate::schema::Sample::from_series`] drops them before calling this).
/// A constant series gives `stddev` 0 and zero-width intervals at the value.
///
/// Cost: one sort (O(n log n)) plus [`BOOTSTRAP_RESAMPLES`] O(1) bootstrap
/// replicates; 100 000 observations take a few milliseconds in release.
///
/// ```
/// let s = bench_core::stats::summarize(&[10.0, 12.0, 9.0, 11.0, 13.0]).unwrap();
/// assert_eq!((s.n, s.mean, s.p50, s.outliers), (5, 11.0, 11.0, 0));
/// ```
pub fn summarize(xs: &[f64]) -> Option<Stats> {
    let sorted = sorted_finite(xs);
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    let (min, max) = (sorted[0], sorted[n - 1]);
    let (mean, stddev) = if min == max {
        (min, 0.0)
    } else {
        let (m, ssd) = mean_and_ssd(&sorted);
        // Rounding can put the mean a hair outside [min, max] for nearly
        // constant series; it never belongs there.
        (m.clamp(min, max), (ssd / (n - 1) as f64).sqrt())
    };
    let n64 = n as u64;
    Some(Stats {
        n: n64,
        mean,
        stddev,
        min,
        max,
        p50: quantile_sorted(&sorted, 0.50),
        p90: quantile_sorted(&sorted, 0.90),
        p95: quantile_sorted(&sorted, 0.95),
        p99: quantile_sorted(&sorted, 0.99),
        ci95: mean_ci(mean, stddev, n64, CONFIDENCE).unwrap_or([mean, mean]),
        outliers: count_tukey_outliers(&sorted),
        median_ci95: bootstrap_median_ci_sorted(&sorted, BOOTSTRAP_RESAMPLES, DEFAULT_SEED),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: f64, want: f64, tol: f64) {
        assert!(
            (got - want).abs() <= tol * want.abs().max(1.0),
            "got {got}, want {want}"
        );
    }

    #[test]
    fn small_series_by_hand() {
        // [10, 12, 9, 11, 13]: mean 11; deviations −1, 1, −2, 0, 2, squares
        // sum 10, s = √(10/4) = 1.5811388300841898; s/√5 = 0.7071067811865476;
        // t(0.975, 4) = 2.7764451051977934 (scipy.stats.t.ppf), half-width
        // 0.7071067811865476 · 2.7764451051977934 = 1.963243161477557, CI
        // [9.036756838522443, 12.963243161477557] (scipy 1.17.1:
        // scipy.stats.t.interval(0.95, 4, loc=11, scale=scipy.stats.sem(x))).
        // Sorted [9, 10, 11, 12, 13], h = 4q: p50 = 11, p90 = 12 + 0.6 = 12.6,
        // p95 = 12.8, p99 = 12.96.
        let s = summarize(&[10.0, 12.0, 9.0, 11.0, 13.0]).unwrap();
        assert_eq!(s.n, 5);
        assert_close(s.mean, 11.0, 1e-15);
        assert_close(s.stddev, 1.581_138_830_084_189_8, 1e-14);
        assert_eq!((s.min, s.max), (9.0, 13.0));
        assert_close(s.p50, 11.0, 1e-15);
        assert_close(s.p90, 12.6, 1e-14);
        assert_close(s.p95, 12.8, 1e-14);
        assert_close(s.p99, 12.96, 1e-14);
        assert_close(s.ci95[0], 9.036_756_838_522_443, 1e-12);
        assert_close(s.ci95[1], 12.963_243_161_477_557, 1e-12);
        assert_eq!(s.outliers, 0);
        let m = s.median_ci95.unwrap();
        assert!(m[0] <= 11.0 && 11.0 <= m[1]);
        assert!(m[0] >= 9.0 && m[1] <= 13.0);
    }

    #[test]
    fn two_observations() {
        // [1, 3]: mean 2, s = √2, t(0.975, 1) = 12.706204736174694, half-width
        // 12.7062·√2/√2 = 12.706204736174694.
        let s = summarize(&[3.0, 1.0]).unwrap();
        assert_eq!(s.n, 2);
        assert_close(s.stddev, std::f64::consts::SQRT_2, 1e-15);
        assert_close(s.ci95[0], 2.0 - 12.706_204_736_174_694, 1e-12);
        assert_close(s.ci95[1], 2.0 + 12.706_204_736_174_694, 1e-12);
        // p50 of [1, 3] = 2; p99 at h = 0.99 → 2.98.
        assert_close(s.p50, 2.0, 1e-15);
        assert_close(s.p99, 2.98, 1e-14);
    }

    #[test]
    fn constant_series_has_zero_width_intervals() {
        let s = summarize(&[0.1; 17]).unwrap();
        assert_eq!(s.mean, 0.1);
        assert_eq!(s.stddev, 0.0);
        assert_eq!(s.ci95, [0.1, 0.1]);
        assert_eq!(s.median_ci95, Some([0.1, 0.1]));
        assert_eq!((s.p50, s.p90, s.p95, s.p99), (0.1, 0.1, 0.1, 0.1));
        assert_eq!(s.outliers, 0);
    }

    #[test]
    fn planted_outliers_are_counted() {
        // 40 values 100..=139 plus 400 and 1000 (n = 42, h = 41q):
        // Q1 at h = 10.25 → 110.25, Q3 at h = 30.75 → 130.75 (numpy.percentile
        // agrees), IQR 20.5, fences 79.5 and 161.5 → 2 outliers.
        let mut xs: Vec<f64> = (100..140).map(f64::from).collect();
        xs.extend([400.0, 1000.0]);
        let s = summarize(&xs).unwrap();
        assert_eq!(s.outliers, 2);
        assert_eq!(s.n, 42);
    }

    #[test]
    fn too_few_or_non_finite() {
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[5.0]), None);
        assert_eq!(summarize(&[5.0, f64::NAN]), None);
        assert_eq!(
            summarize(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
            None
        );
        let s = summarize(&[1.0, f64::NAN, 3.0, f64::INFINITY]).unwrap();
        assert_eq!(s.n, 2);
        assert_eq!(s.mean, 2.0);
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[f64::NAN, 4.0]), Some(4.0));
        assert_eq!(sample_stddev(&[4.0]), None);
        assert_eq!(mean_ci(1.0, 1.0, 1, 0.95), None);
        assert_eq!(mean_ci(1.0, 1.0, 5, 1.0), None);
    }

    #[test]
    fn stable_with_large_offset() {
        // 1e9 + [1, 2, 3, 4]: s = √(5/3) = 1.2909944487358056 regardless of
        // the offset (a one-pass Σx² formula would lose all digits here).
        let xs: Vec<f64> = (1..=4).map(|i| 1e9 + f64::from(i)).collect();
        let s = summarize(&xs).unwrap();
        assert_close(s.stddev, 1.290_994_448_735_805_6, 1e-9);
        assert_eq!(s.mean, 1e9 + 2.5);
    }

    #[test]
    fn deterministic() {
        let xs: Vec<f64> = (0..500).map(|i| f64::from((i * 7919) % 1000)).collect();
        assert_eq!(summarize(&xs), summarize(&xs));
    }
}
