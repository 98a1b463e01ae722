//! Statistics of e2b-bench: the summary of one series ([`summarize`], the
//! `stats` block of a result document) and the comparison of two
//! ([`compare()`]). Written from scratch on `std`, deterministic: every
//! resampling procedure draws from a seeded generator ([`Rng`],
//! [`DEFAULT_SEED`]), so the same observations always give the same numbers.
//!
//! `docs/statistics.md` explains the methods and defaults for readers of the
//! results. In short:
//!
//! | figure | method | module |
//! |---|---|---|
//! | p50/p90/p95/p99 | Hyndman–Fan type 7 (numpy's default) | [`quantile`](mod@quantile) |
//! | `stddev` | sample (n − 1), corrected two-pass | [`summary`] |
//! | `ci95` | Student t interval of the mean | [`summary`], [`student_t`] |
//! | `outliers` | count outside Tukey's 1.5 × IQR fences | [`outliers`] |
//! | `median_ci95` | percentile bootstrap, 2000 replicates, fixed seed | [`bootstrap`] |
//! | batch means of long series | equal batches of consecutive observations, at most 100 | [`batch`] |
//! | `raw` of a long series | seeded uniform subset (reservoir), in measured order | [`reservoir`] |
//! | `histogram` of a long series | HdrHistogram bins at 3 significant digits; type-7 quantiles, merging | [`histogram`] |
//! | A/B verdict | permutation test p < 0.01 and a mean shift over 5% | [`compare`](mod@compare) |
//! | A/B p-value | permutation test of the difference of means: exact, random splits, tail bound | [`permutation`] |
//! | A/B p-value of large samples | normal limit of the permutation distribution, with guards | [`normal_limit`] |
//!
//! Non-finite observations (NaN, ±∞) are ignored everywhere; nothing here
//! panics on empty, short or non-finite input.
//!
//! ```
//! use bench_core::stats::{compare, summarize, CompareOptions, Direction, Verdict};
//!
//! let before = [10.1, 10.4, 9.8, 10.0, 10.3, 10.2, 9.9, 10.1, 10.0, 10.2];
//! let after: Vec<f64> = before.iter().map(|x| x * 0.8).collect();
//! let s = summarize(&before).unwrap();
//! assert_eq!(s.n, 10);
//! let c = compare(&before, &after, &CompareOptions {
//!     direction: Direction::from_unit("ms"),
//!     ..Default::default()
//! });
//! assert_eq!(c.verdict, Verdict::Faster);
//! ```

pub mod batch;
pub mod bootstrap;
pub mod compare;
pub mod histogram;
pub mod knee;
pub mod normal;
pub mod normal_limit;
pub mod outliers;
pub mod permutation;
pub mod quantile;
pub mod reservoir;
pub mod rng;
pub mod student_t;
pub mod summary;
pub mod tail_bound;
#[cfg(test)]
mod test_support;

pub use batch::{MAX_BATCHES, batch_means, batch_size};
pub use bootstrap::{
    BOOTSTRAP_RESAMPLES, CONFIDENCE, DEFAULT_SEED, bootstrap_median_ci, bootstrap_median_ci_sorted,
    percentile_interval,
};
pub use compare::{
    CompareOptions, Comparison, DEFAULT_NOISE_THRESHOLD, DEFAULT_RESAMPLES, DEFAULT_SIGNIFICANCE,
    Direction, Verdict, compare,
};
pub use histogram::{
    HistogramError, HistogramRanks, HistogramRecorder, Moments, SIGNIFICANT_DIGITS,
    summarize_histogram,
};
pub use normal_limit::{
    NORMAL_LIMIT_MAX_SHARE, NORMAL_LIMIT_MAX_SKEWNESS, NORMAL_LIMIT_WORK_BUDGET,
};
pub use outliers::{TUKEY_K, count_tukey_outliers, tukey_fences};
pub use permutation::{PValueMethod, PermutationTest, can_reach_significance, permutation_test};
pub use quantile::{median, quantile, quantile_sorted, sorted_finite};
pub use reservoir::reservoir_indices;
pub use rng::Rng;
pub use student_t::{
    ln_beta, ln_gamma, regularized_incomplete_beta, student_t_cdf, student_t_quantile,
};
pub use summary::{mean, mean_ci, sample_stddev, summarize};
