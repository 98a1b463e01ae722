//! Two-sample comparison: is run B faster, slower, or no different from
//! baseline run A?
//!
//! The decision follows Firecracker's A/B-test rule (`tools/ab_test.py` and
//! `tests/framework/ab_test.py` in firecracker-microvm/firecracker): a
//! permutation test on the difference of means, and a change counts only when
//! it is both **significant** (p < [`DEFAULT_SIGNIFICANCE`] = 0.01) and
//! **large** (|relative change of the means| > [`DEFAULT_NOISE_THRESHOLD`] =
//! 5%). Significance alone is not enough: with thousands of observations a
//! 0.3% drift is "significant" and irrelevant; size alone is not enough
//! either: two noisy runs of 10 observations can differ by 10% by chance.
//!
//! This module chooses how the test is run and turns its p-value and the
//! size of the change into a [`Verdict`]:
//!
//! - **p-value**: the two-sided permutation test of `mean(b) − mean(a)`
//!   ([`super::permutation`]): every split enumerated when there are at most
//!   `resamples`, else `resamples` random splits, or for large samples the
//!   normal limit of the permutation distribution
//!   ([`super::normal_limit`]).
//! - **Shortcuts that keep the verdict** (off with
//!   [`CompareOptions::exhaustive`]): a rigorous bound on the exact tail
//!   ([`super::tail_bound`]) settles a clearly significant test without
//!   drawing, and random splits stop once p ≥ the threshold is certain.
//!   [`PValueMethod`] tells which method produced a p-value.
//! - **Ratio of medians** median(b)/median(a), with a 95% percentile bootstrap
//!   interval from `resamples` replicates, each resampling a and b
//!   independently ([`super::bootstrap`]).
//! - **Relative change** `(mean(b) − mean(a)) / |mean(a)|`.
//! - **Direction**: whether higher or lower is better for the metric
//!   ([`Direction`], from the contract's metric table).

use serde::{Deserialize, Serialize};

use super::bootstrap::{DEFAULT_SEED, ratio_of_medians_ci};
use super::permutation::{permutation_test_finite, pooled_centre_sorted};
use super::quantile::{quantile_sorted, sorted_finite};

/// How a p-value was computed (the permutation test's; re-exported here as
/// the type of [`Comparison::method`]).
pub use super::permutation::PValueMethod;

/// Default p-value threshold (Firecracker's `--significance`).
pub const DEFAULT_SIGNIFICANCE: f64 = 0.01;

/// Default minimum |relative change of the means| (Firecracker's
/// `--noise-threshold`).
pub const DEFAULT_NOISE_THRESHOLD: f64 = 0.05;

/// Default number of random permutations and of bootstrap replicates
/// (Firecracker's and scipy's `n_resamples=9999`).
pub const DEFAULT_RESAMPLES: usize = 9999;

/// Mixed into the seed for the bootstrap stream, so the bootstrap and the
/// permutations of one comparison use unrelated random sequences.
const BOOTSTRAP_STREAM: u64 = 0xB007_5724_B007_5724;

/// Which way is good for a metric; the rules live with the metric names in
/// [`crate::contract`].
pub use crate::contract::Direction;

/// The outcome of a comparison, B relative to baseline A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// B is better than A (lower for a latency, higher for a throughput),
    /// significantly and beyond the noise threshold.
    Faster,
    /// B is worse than A, significantly and beyond the noise threshold.
    Slower,
    /// No significant change beyond the noise threshold, or too little data.
    NoDifference,
}

impl Verdict {
    /// `faster`, `slower` or `no_difference`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::NoDifference => "no_difference",
        }
    }
}

/// Parameters of [`compare`]; [`Default`] gives Firecracker's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareOptions {
    /// A change needs p below this ([`DEFAULT_SIGNIFICANCE`], 0.01).
    pub significance: f64,
    /// A change needs |relative change of the means| above this
    /// ([`DEFAULT_NOISE_THRESHOLD`], 0.05 = 5%).
    pub noise_threshold: f64,
    /// Random permutations (when the splits are too many to enumerate) and
    /// bootstrap replicates ([`DEFAULT_RESAMPLES`], 9999).
    pub resamples: usize,
    /// Seed of the permutations and the bootstrap ([`DEFAULT_SEED`]).
    pub seed: u64,
    /// Which way is better for this metric (default lower, as for latency).
    pub direction: Direction,
    /// Whether to bootstrap [`Comparison::ratio_ci95`] (true). A caller that
    /// needs only the verdict saves `2 × resamples` median draws.
    pub ratio_ci: bool,
    /// Draw every random split (false): no tail-bound shortcut and no early
    /// stop once p ≥ `significance` is certain. The verdicts are the same
    /// either way (see the module documentation); this is how that is
    /// checked, and how to get the p-values of fewer-than-all draws back to
    /// their full-precision Monte Carlo values.
    pub exhaustive: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            significance: DEFAULT_SIGNIFICANCE,
            noise_threshold: DEFAULT_NOISE_THRESHOLD,
            resamples: DEFAULT_RESAMPLES,
            seed: DEFAULT_SEED,
            direction: Direction::LowerIsBetter,
            ratio_ci: true,
            exhaustive: false,
        }
    }
}

/// The comparison of sample B against baseline sample A.
///
/// Fields that are undefined for the data (the mean of an empty sample, a
/// ratio over a zero median) are NaN or ±∞, which serde_json writes as
/// `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Finite observations in A.
    pub n_a: u64,
    /// Finite observations in B.
    pub n_b: u64,
    /// Mean of A (NaN when A is empty).
    pub mean_a: f64,
    /// Mean of B (NaN when B is empty).
    pub mean_b: f64,
    /// Type-7 median of A (NaN when A is empty).
    pub median_a: f64,
    /// Type-7 median of B (NaN when B is empty).
    pub median_b: f64,
    /// median(B) / median(A): 1.10 means B's median is 10% higher.
    pub ratio_of_medians: f64,
    /// 95% percentile-bootstrap interval of `ratio_of_medians`; `None` when a
    /// sample is empty, `resamples` is 0, a resampled median of A is 0, or
    /// [`CompareOptions::ratio_ci`] is off.
    pub ratio_ci95: Option<[f64; 2]>,
    /// (mean(B) − mean(A)) / |mean(A)|: +0.10 means B's mean is 10% higher.
    /// 0 when both means are 0, ±∞ when only A's is.
    pub relative_change: f64,
    /// Two-sided permutation-test p-value of the difference of means; 1 when
    /// a sample is empty.
    pub p_value: f64,
    /// How `p_value` was computed ([`PValueMethod::Exact`] when a sample is
    /// empty: p = 1 is then exact).
    pub method: PValueMethod,
    /// The decision for the options' direction.
    pub verdict: Verdict,
}

/// Mean of a finite slice (NaN when empty).
fn mean_of(xs: &[f64]) -> f64 {
    super::summary::mean(xs).unwrap_or(f64::NAN)
}

/// Compares sample `b` against baseline sample `a` (see the module
/// documentation for the method). Non-finite observations are ignored.
/// Never panics: with an empty sample the result has p = 1 and
/// [`Verdict::NoDifference`]; with one observation per sample the exact
/// test cannot reach p < 0.01, so the verdict is also `NoDifference`.
///
/// ```
/// use bench_core::stats::{compare, CompareOptions, Direction, Verdict};
/// let a: Vec<f64> = (0..30).map(|i| 100.0 + f64::from(i % 7)).collect();
/// let b: Vec<f64> = a.iter().map(|x| x * 1.2).collect();
/// let opts = CompareOptions { direction: Direction::from_unit("ms"), ..Default::default() };
/// let c = compare(&a, &b, &opts);
/// assert_eq!(c.verdict, Verdict::Slower);
/// assert!((c.ratio_of_medians - 1.2).abs() < 1e-12);
/// ```
pub fn compare(a: &[f64], b: &[f64], opts: &CompareOptions) -> Comparison {
    let sa = sorted_finite(a);
    let sb = sorted_finite(b);
    let (mean_a, mean_b) = (mean_of(&sa), mean_of(&sb));
    let (median_a, median_b) = (quantile_sorted(&sa, 0.5), quantile_sorted(&sb, 0.5));
    let relative_change = if mean_a == 0.0 && mean_b == 0.0 {
        0.0
    } else {
        (mean_b - mean_a) / mean_a.abs()
    };
    let (p_value, method) = if sa.is_empty() || sb.is_empty() {
        (1.0, PValueMethod::Exact)
    } else {
        let centre = pooled_centre_sorted(&sa, &sb);
        let decide_at = (!opts.exhaustive).then_some(opts.significance);
        let t = permutation_test_finite(&sa, &sb, opts.resamples, opts.seed, centre, decide_at);
        (t.p_value, t.method)
    };
    let verdict = if p_value < opts.significance && relative_change.abs() > opts.noise_threshold {
        let b_higher = relative_change > 0.0;
        if b_higher == (opts.direction == Direction::HigherIsBetter) {
            Verdict::Faster
        } else {
            Verdict::Slower
        }
    } else {
        Verdict::NoDifference
    };
    Comparison {
        n_a: sa.len() as u64,
        n_b: sb.len() as u64,
        mean_a,
        mean_b,
        median_a,
        median_b,
        ratio_of_medians: median_b / median_a,
        ratio_ci95: if opts.ratio_ci {
            ratio_of_medians_ci(&sa, &sb, opts.resamples, opts.seed ^ BOOTSTRAP_STREAM)
        } else {
            None
        },
        relative_change,
        p_value,
        method,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::permutation::permutation_test;
    use crate::stats::rng::Rng;
    use crate::stats::test_support::{decision_cases, rel_err};

    /// `n` draws from Normal(mean, sd) with a seeded generator.
    fn normal_sample(rng: &mut Rng, n: usize, mean: f64, sd: f64) -> Vec<f64> {
        (0..n).map(|_| mean + sd * rng.normal()).collect()
    }

    /// Firecracker's options for a metric in `unit` (`ms`: lower is better,
    /// `ops/s`: higher is better).
    fn options_for(unit: &str) -> CompareOptions {
        CompareOptions {
            direction: Direction::from_unit(unit),
            ..Default::default()
        }
    }

    #[test]
    fn ten_percent_shift_is_flagged() {
        // n = 50 per sample, Normal(100, 10) vs Normal(110, 10): the mean
        // difference has sd 10·√(2/50) = 2, so a 10-unit shift is 5 sd (p at
        // its floor 2/10 000) and the relative change ≈ 0.10 > 0.05.
        let mut rng = Rng::seed_from_u64(2024);
        let a = normal_sample(&mut rng, 50, 100.0, 10.0);
        let b = normal_sample(&mut rng, 50, 110.0, 10.0);
        let latency = options_for("ms");
        let c = compare(&a, &b, &latency);
        assert_eq!(c.verdict, Verdict::Slower, "{c:?}");
        assert!(c.p_value < 0.01);
        assert!(c.relative_change > 0.05);
        let ci = c.ratio_ci95.unwrap();
        assert!(ci[0] <= c.ratio_of_medians && c.ratio_of_medians <= ci[1]);
        assert!(ci[0] > 1.0, "{ci:?}");
        let throughput = options_for("ops/s");
        assert_eq!(compare(&a, &b, &throughput).verdict, Verdict::Faster);
        // Swapping the samples swaps the verdict.
        assert_eq!(compare(&b, &a, &latency).verdict, Verdict::Faster);
    }

    #[test]
    fn same_distribution_is_rarely_flagged() {
        // 100 seeded trials of two n = 50 samples from Normal(100, 10), full
        // 9999 resamples: a false difference needs p < 0.01 and a > 5% mean
        // shift (2.5 sd), about 1% of trials; allow 5.
        let opts = CompareOptions::default();
        let mut flagged = 0;
        for seed in 0..100 {
            let mut rng = Rng::seed_from_u64(seed);
            let a = normal_sample(&mut rng, 50, 100.0, 10.0);
            let b = normal_sample(&mut rng, 50, 100.0, 10.0);
            if compare(&a, &b, &CompareOptions { seed, ..opts }).verdict != Verdict::NoDifference {
                flagged += 1;
            }
        }
        assert!(flagged <= 5, "{flagged} of 100 flagged");
    }

    #[test]
    fn noise_threshold_and_significance_both_needed() {
        // 2% shift with tiny noise: significant but under the 5% threshold.
        let a: Vec<f64> = (0..40).map(|i| 100.0 + 0.01 * f64::from(i % 5)).collect();
        let b: Vec<f64> = a.iter().map(|x| x * 1.02).collect();
        let c = compare(&a, &b, &CompareOptions::default());
        assert!(c.p_value < 0.01);
        assert_eq!(c.verdict, Verdict::NoDifference);
        // 20% apart but only 2 + 2 points: the exact test floor is 2/6.
        let c = compare(&[100.0, 101.0], &[120.0, 121.0], &CompareOptions::default());
        assert!((c.p_value - 2.0 / 6.0).abs() < 1e-12);
        assert_eq!(c.verdict, Verdict::NoDifference);
    }

    #[test]
    fn deterministic_for_seed() {
        let mut rng = Rng::seed_from_u64(8);
        let a = normal_sample(&mut rng, 40, 5.0, 1.0);
        let b = normal_sample(&mut rng, 45, 5.3, 1.0);
        let opts = CompareOptions::default();
        assert_eq!(compare(&a, &b, &opts), compare(&a, &b, &opts));
        let other = compare(&a, &b, &CompareOptions { seed: 9, ..opts });
        assert_ne!(compare(&a, &b, &opts).ratio_ci95, other.ratio_ci95);
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let opts = CompareOptions::default();
        let c = compare(&[], &[], &opts);
        assert_eq!(
            (c.n_a, c.n_b, c.p_value, c.verdict),
            (0, 0, 1.0, Verdict::NoDifference)
        );
        assert!(c.mean_a.is_nan() && c.ratio_ci95.is_none());
        let c = compare(&[1.0], &[], &opts);
        assert_eq!((c.p_value, c.verdict), (1.0, Verdict::NoDifference));
        let c = compare(&[1.0], &[2.0], &opts);
        assert_eq!(c.p_value, 1.0);
        assert_eq!(c.verdict, Verdict::NoDifference);
        assert_eq!(c.ratio_ci95, Some([2.0, 2.0]));
        let c = compare(
            &[f64::NAN, 1.0, 2.0],
            &[f64::INFINITY, 3.0, f64::NAN],
            &opts,
        );
        assert_eq!((c.n_a, c.n_b), (2, 1));
        assert_eq!(c.mean_b, 3.0);
        // Zero baseline: relative change is infinite, the ratio CI absent.
        let c = compare(&[0.0; 5], &[1.0; 5], &opts);
        assert_eq!(c.relative_change, f64::INFINITY);
        assert_eq!(c.ratio_ci95, None);
        let c = compare(&[0.0; 5], &[0.0; 5], &opts);
        assert_eq!((c.relative_change, c.verdict), (0.0, Verdict::NoDifference));
        // Identical constant samples: every split ties, p = 1.
        let c = compare(&[3.0; 20], &[3.0; 20], &opts);
        assert_eq!((c.p_value, c.verdict), (1.0, Verdict::NoDifference));
        assert_eq!(permutation_test(&[], &[1.0], 10, 0), None);
        assert_eq!(
            permutation_test(&[1.0, 2.0], &[3.0], 0, 0).unwrap().p_value,
            1.0
        );
        // NaN serialises as null.
        let json = serde_json::to_value(compare(&[], &[1.0], &opts)).unwrap();
        assert!(json["mean_a"].is_null());
        assert_eq!(json["verdict"], "no_difference");
    }

    #[test]
    fn serde_names() {
        assert_eq!(
            serde_json::to_value(Verdict::NoDifference).unwrap(),
            "no_difference"
        );
        assert_eq!(serde_json::to_value(Verdict::Faster).unwrap(), "faster");
        assert_eq!(serde_json::to_value(Verdict::Slower).unwrap(), "slower");
        assert_eq!(
            serde_json::to_value(Direction::HigherIsBetter).unwrap(),
            "higher_is_better"
        );
        for v in [Verdict::Faster, Verdict::Slower, Verdict::NoDifference] {
            assert_eq!(serde_json::to_value(v).unwrap(), v.as_str());
        }
        let o: CompareOptions = serde_json::from_str(r#"{"significance": 0.05}"#).unwrap();
        assert_eq!(o.significance, 0.05);
        assert_eq!(o.resamples, DEFAULT_RESAMPLES);
    }

    #[test]
    fn large_samples_use_the_normal_limit() {
        let mut rng = Rng::seed_from_u64(100);
        let a = normal_sample(&mut rng, 100_000, 100.0, 10.0);
        let b = normal_sample(&mut rng, 100_000, 100.0, 10.0);
        let latency = options_for("ms");
        let throughput = options_for("ops/s");
        let same = compare(&a, &b, &latency);
        assert_eq!(same.method, PValueMethod::NormalLimit, "{same:?}");
        assert_eq!(same.verdict, Verdict::NoDifference);
        assert!(same.p_value > 0.01, "{}", same.p_value);
        // Identical samples: the statistic is exactly 0, p exactly 1.
        let identical = compare(&a, &a, &latency);
        assert_eq!(identical.method, PValueMethod::NormalLimit);
        assert_eq!(
            (identical.p_value, identical.verdict),
            (1.0, Verdict::NoDifference)
        );
        let slower: Vec<f64> = b.iter().map(|x| x * 1.1).collect();
        let faster: Vec<f64> = b.iter().map(|x| x * 0.9).collect();
        for (b, latency_verdict) in [(&slower, Verdict::Slower), (&faster, Verdict::Faster)] {
            let c = compare(&a, b, &latency);
            assert_eq!(c.method, PValueMethod::NormalLimit);
            assert_eq!(c.verdict, latency_verdict, "{c:?}");
            // About 220 standard deviations: p underflows to 0.
            assert!(c.p_value < 1e-300, "{}", c.p_value);
            let other = compare(&a, b, &throughput).verdict;
            assert_eq!(other == Verdict::Faster, latency_verdict == Verdict::Slower);
        }
        // permutation_test takes the same path on unsorted input.
        let t = permutation_test(&a, &b, DEFAULT_RESAMPLES, 0).unwrap();
        assert_eq!(
            (t.method, t.exact, t.permutations),
            (PValueMethod::NormalLimit, false, 0)
        );
        assert!(
            rel_err(t.p_value, same.p_value) < 1e-9,
            "{} {}",
            t.p_value,
            same.p_value
        );
        let json = serde_json::to_value(&same).unwrap();
        assert_eq!(json["method"], "normal_limit");
    }

    #[test]
    fn shortcuts_give_the_verdicts_of_every_split() {
        let (mut bounded, mut stopped) = (0, 0);
        for (i, (a, b)) in decision_cases().into_iter().enumerate() {
            for noise_threshold in [0.0, 0.001] {
                let fast = CompareOptions {
                    noise_threshold,
                    ratio_ci: false,
                    seed: i as u64,
                    ..CompareOptions::default()
                };
                let full = CompareOptions {
                    exhaustive: true,
                    ..fast
                };
                let (f, e) = (compare(&a, &b, &fast), compare(&a, &b, &full));
                assert_eq!(f.verdict, e.verdict, "case {i}: {f:?} vs {e:?}");
                assert_eq!(e.method, PValueMethod::Random);
                let significant = e.p_value < fast.significance;
                assert_eq!(f.p_value < fast.significance, significant, "case {i}");
                match f.method {
                    // Bounded: the exact p is at most the bound.
                    PValueMethod::TailBound => {
                        assert!(significant);
                        assert!(f.p_value >= 0.0 && f.p_value < fast.significance);
                        bounded += 1;
                    }
                    // Drawn in full (the same p) or stopped once p ≥ 0.01
                    // was certain.
                    PValueMethod::Random if f.p_value == e.p_value => {}
                    PValueMethod::Random => {
                        assert!(!significant && f.p_value >= fast.significance);
                        stopped += 1;
                    }
                    m => panic!("case {i}: {m:?}"),
                }
            }
        }
        // Both shortcuts were exercised, not just allowed.
        assert!(bounded > 40, "{bounded}");
        assert!(stopped > 40, "{stopped}");
    }
}
