//! The two-sample permutation test of the difference of means: is
//! `mean(b) − mean(a)` larger than splitting the pooled observations at
//! random would give? As `scipy.stats.permutation_test(...,
//! permutation_type="independent", alternative="two-sided")`.
//!
//! - **Exact**: when the number of distinct splits of the pooled
//!   observations into groups of n_a and n_b, C(n_a + n_b, n_a), is at most
//!   `resamples`, every split is enumerated and p is exact.
//! - **Random splits** otherwise: `resamples` random splits are drawn and
//!   `p = (count + 1)/(resamples + 1)` (the observed split counts once, so p
//!   is never 0).
//! - **Normal limit** of the permutation distribution in place of the random
//!   splits when those would be expensive and its guards hold
//!   ([`super::normal_limit`]).
//!
//! Two-sided p is `2·min(p_less, p_greater)`, capped at 1, where null
//! statistics within 100 machine epsilons (relative) of the observed one
//! count as ties on both sides, exactly as scipy does. [`PValueMethod`] tells
//! which method produced a p-value.
//!
//! Given a significance threshold (as [`compare`](super::compare()) passes
//! unless [`CompareOptions::exhaustive`](super::CompareOptions::exhaustive)),
//! two shortcuts keep the decision at that threshold: a rigorous bound on the
//! exact tail ([`super::tail_bound`]) settles a clearly significant test
//! without drawing, and the random splits stop once p ≥ the threshold is
//! certain. The public [`permutation_test`] never takes them.
//!
//! References: P. Good, *Permutation, Parametric, and Bootstrap Tests of
//! Hypotheses*, 3rd ed., Springer, 2005, §3; B. Phipson, G. K. Smyth,
//! "Permutation p-values should never be zero", Stat. Appl. Genet. Mol.
//! Biol. 9(1), 2010 (the +1 correction); J. Besag, P. Clifford, "Sequential
//! Monte Carlo p-values", Biometrika 78(2), 1991 (the early stop).

use serde::{Deserialize, Serialize};

use super::normal_limit::{normal_limit, random_work_exceeds_budget};
use super::rng::Rng;
use super::tail_bound;

/// Relative tolerance under which a permuted statistic ties with the observed
/// one: 100 × f64 machine epsilon, as in `scipy.stats.permutation_test`.
const TIE_TOLERANCE: f64 = 100.0 * f64::EPSILON;

/// How a p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PValueMethod {
    /// Every split of the pooled observations enumerated: p is exact.
    Exact,
    /// `resamples` random splits: p = (count + 1)/(resamples + 1).
    Random,
    /// Normal limit of the permutation distribution, with its exact mean and
    /// variance (large samples, see
    /// [`NORMAL_LIMIT_WORK_BUDGET`](super::NORMAL_LIMIT_WORK_BUDGET)).
    NormalLimit,
    /// A rigorous bound on the exact tail (Bernstein's or the exact Chernoff
    /// bound, [`super::tail_bound`]), small enough that the random splits
    /// could only confirm significance; p is twice the bound, an upper bound
    /// on the exact p.
    TailBound,
}

impl PValueMethod {
    /// `exact`, `random`, `normal_limit` or `tail_bound`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            PValueMethod::Exact => "exact",
            PValueMethod::Random => "random",
            PValueMethod::NormalLimit => "normal_limit",
            PValueMethod::TailBound => "tail_bound",
        }
    }
}

/// The result of [`permutation_test`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PermutationTest {
    /// The observed statistic mean(b) − mean(a).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// True when every split was enumerated (p is exact).
    pub exact: bool,
    /// Splits evaluated: C(n_a + n_b, n_a) when exact, the resamples when
    /// random, 0 for the normal limit.
    pub permutations: u64,
    /// How `p_value` was computed.
    pub method: PValueMethod,
}

/// C(n, k) when it is at most `limit`, else `None`.
fn binomial_at_most(n: usize, k: usize, limit: u64) -> Option<u64> {
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        // C(n, i + 1) = C(n, i)·(n − i)/(i + 1), exact in integers; the
        // sequence increases up to k ≤ n/2, so stopping early is safe.
        c = c * (n - i) as u128 / (i + 1) as u128;
        if c > u128::from(limit) {
            return None;
        }
    }
    u64::try_from(c).ok().filter(|&c| c <= limit)
}

/// True when a permutation test of `n_a` against `n_b` observations can
/// give p below `significance` at all. Its smallest two-sided p is
/// 2 / C(n_a + n_b, n_a) (the observed split and its mirror), so with 4 + 4
/// observations (70 splits) p never gets below 0.028, and a caller can skip
/// the test and say "too few observations" instead.
///
/// ```
/// use bench_core::stats::can_reach_significance;
/// assert!(can_reach_significance(5, 5, 0.01)); // C(10, 5) = 252 > 200
/// assert!(!can_reach_significance(4, 4, 0.01)); // C(8, 4) = 70
/// ```
pub fn can_reach_significance(n_a: usize, n_b: usize, significance: f64) -> bool {
    if n_a == 0 || n_b == 0 || significance.is_nan() || significance <= 0.0 {
        return false;
    }
    // p_min < significance ⇔ C > 2 / significance ⇔ C > ⌊2 / significance⌋.
    let limit = (2.0 / significance).floor().min(u64::MAX as f64) as u64;
    binomial_at_most(n_a + n_b, n_a, limit).is_none()
}

/// Advances `idx` (ascending indices below n) to the next combination in
/// lexicographic order; false after the last one.
pub(super) fn next_combination(idx: &mut [usize], n: usize) -> bool {
    let k = idx.len();
    let mut i = k;
    while i > 0 {
        i -= 1;
        if idx[i] < n - k + i {
            idx[i] += 1;
            for j in i + 1..k {
                idx[j] = idx[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Counts null statistics at or below / at or above the observed one, with
/// scipy's tie tolerance.
#[derive(Debug)]
struct TailCounter {
    observed: f64,
    gamma: f64,
    less: u64,
    greater: u64,
}

impl TailCounter {
    fn new(observed: f64) -> Self {
        TailCounter {
            observed,
            gamma: (TIE_TOLERANCE * observed).abs(),
            less: 0,
            greater: 0,
        }
    }

    fn add(&mut self, stat: f64) {
        if stat <= self.observed + self.gamma {
            self.less += 1;
        }
        if stat >= self.observed - self.gamma {
            self.greater += 1;
        }
    }

    /// Two-sided p with `adjustment` (0 exact, 1 random) over `total` splits.
    fn p_value(&self, total: u64, adjustment: u64) -> f64 {
        let denom = (total + adjustment) as f64;
        let p_less = (self.less + adjustment) as f64 / denom;
        let p_greater = (self.greater + adjustment) as f64 / denom;
        (2.0 * p_less.min(p_greater)).min(1.0)
    }
}

/// The pooled value of rank ⌊n/2⌋ (0-based, `f64::total_cmp` order) of `a`
/// and `b`, in any order: the centre of the permutation tests. Centring on a
/// pooled data value near the middle does not change the statistic, sums
/// lose less precision for data far from 0 (timestamps, 1e9 + small),
/// integer data stay integers so ties stay exact, and identical values
/// centre to exactly 0.
pub(super) fn pooled_centre(a: &[f64], b: &[f64]) -> f64 {
    let mut tmp: Vec<f64> = a.iter().chain(b).copied().collect();
    let k = tmp.len() / 2;
    *tmp.select_nth_unstable_by(k, f64::total_cmp).1
}

/// [`pooled_centre`] of two ascending (`f64::total_cmp`) slices, the same
/// value, by binary search in O(log n) instead of a copy and a selection.
pub(super) fn pooled_centre_sorted(a: &[f64], b: &[f64]) -> f64 {
    let k = (a.len() + b.len()) / 2;
    // The k + 1 smallest of the union are a[..i] and b[..k + 1 − i] for the
    // smallest i with a[i] ≥ b[k − i]; "a[i] < b[k − i]" holds for every i
    // below that one and for none above, so bisect on it.
    let (mut lo, mut hi) = ((k + 1).saturating_sub(b.len()), (k + 1).min(a.len()));
    while lo < hi {
        let i = lo + (hi - lo) / 2;
        if a[i].total_cmp(&b[k - i]).is_lt() {
            lo = i + 1;
        } else {
            hi = i;
        }
    }
    let last_a = lo.checked_sub(1).map(|i| a[i]);
    let last_b = (k + 1 - lo).checked_sub(1).map(|j| b[j]);
    last_a
        .into_iter()
        .chain(last_b)
        .max_by(f64::total_cmp)
        .unwrap_or(f64::NAN)
}

/// The pooled observations a then b, minus `centre`.
fn centred_pooled(a: &[f64], b: &[f64], centre: f64) -> Vec<f64> {
    a.iter().chain(b).map(|x| x - centre).collect()
}

/// Two-sided permutation test of mean(b) − mean(a), on finite, non-empty
/// slices, centred on `centre` ([`pooled_centre`]): exact, normal limit or
/// random splits (see the module documentation).
///
/// With `decide_at` (a significance threshold), random splits are
/// avoided or cut short where the decision at that threshold is already
/// known: [`tail_bound`] settles a significant result, and the draws stop
/// once p ≥ the threshold is certain (see [`random_test`]).
pub(super) fn permutation_test_finite(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
    centre: f64,
    decide_at: Option<f64>,
) -> PermutationTest {
    let (na, nb) = (a.len(), b.len());
    if let Some(splits) = binomial_at_most(na + nb, na, resamples as u64) {
        return exact_test(a, b, centre, splits);
    }
    if random_work_exceeds_budget(na, nb, resamples) {
        let limit = normal_limit(a, b, centre);
        if limit.trustworthy() {
            return limit.test;
        }
    }
    if let Some(significance) = decide_at
        && let Some(test) = tail_bound_test(a, b, resamples, centre, significance)
    {
        return test;
    }
    random_test(a, b, resamples, seed, centre, decide_at)
}

/// The tail-bound shortcut: `Some` when Bernstein's bound on the exact tail
/// of the smaller group's sum makes `resamples` random splits certain (all
/// but [`tail_bound::MAX_FLIP_PROBABILITY`]) to be significant at
/// `significance`; p is then twice the bound.
fn tail_bound_test(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    centre: f64,
    significance: f64,
) -> Option<PermutationTest> {
    let (na, nb) = (a.len(), b.len());
    let pooled = centred_pooled(a, b, centre);
    let total: f64 = pooled.iter().sum();
    let sum_a: f64 = pooled[..na].iter().sum();
    let statistic = (total - sum_a) / nb as f64 - sum_a / na as f64;
    // The group random_test draws: the smaller one.
    let group = if na <= nb {
        &pooled[..na]
    } else {
        &pooled[na..]
    };
    // A split within the tie tolerance of the observed statistic counts as
    // extreme, so shrink the distance by it (in sum units: D moves by
    // n/(n_a·n_b) per unit of a group sum), and by a generous allowance for
    // the rounding of the sums.
    let scale = pooled.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    let slack = (TIE_TOLERANCE * statistic).abs() * (na * nb) as f64 / (na + nb) as f64
        + 1e-9 * scale * group.len() as f64;
    let tail = tail_bound::subset_sum_tail(&pooled, group.len(), group.iter().sum(), slack);
    tail_bound::settles_significance(tail, resamples as u64, significance).then_some(
        PermutationTest {
            statistic,
            p_value: (2.0 * tail).min(1.0),
            exact: false,
            permutations: 0,
            method: PValueMethod::TailBound,
        },
    )
}

/// Exact test over all `splits` = C(n_a + n_b, n_a) splits.
fn exact_test(a: &[f64], b: &[f64], centre: f64, splits: u64) -> PermutationTest {
    let (na, nb) = (a.len(), b.len());
    let n = na + nb;
    let pooled = centred_pooled(a, b, centre);
    let total: f64 = pooled.iter().sum();
    let stat = |sum_a: f64| (total - sum_a) / nb as f64 - sum_a / na as f64;
    let mut idx: Vec<usize> = (0..na).collect();
    let observed = stat(idx.iter().map(|&i| pooled[i]).sum());
    let mut counter = TailCounter::new(observed);
    loop {
        counter.add(stat(idx.iter().map(|&i| pooled[i]).sum()));
        if !next_combination(&mut idx, n) {
            break;
        }
    }
    PermutationTest {
        statistic: observed,
        p_value: counter.p_value(splits, 0),
        exact: true,
        permutations: splits,
        method: PValueMethod::Exact,
    }
}

/// Random-split test: `resamples` splits from a generator seeded with
/// `seed`, p = (count + 1)/(resamples + 1) per side.
///
/// With `stop_at` (a significance threshold) the draws stop as soon as the
/// p of all `resamples` is certain to be at least the threshold: the tail
/// counts only grow, so once p computed with the full denominator reaches
/// it, the full run's p would too, and the decision is the one the full run
/// makes (the same generator, the same splits). p is then
/// (count + 1)/(drawn + 1) per side over the splits drawn, as Besag and
/// Clifford's sequential p-value; it is at least the threshold too.
pub(super) fn random_test(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
    centre: f64,
    stop_at: Option<f64>,
) -> PermutationTest {
    let (na, nb) = (a.len(), b.len());
    let n = na + nb;
    let mut pooled = centred_pooled(a, b, centre);
    let total: f64 = pooled.iter().sum();
    let stat = |sum_a: f64| (total - sum_a) / nb as f64 - sum_a / na as f64;
    let limit = resamples as u64;

    // A partial Fisher–Yates shuffle puts a uniformly random subset of the
    // smaller group's size first (whatever the current order).
    let k = na.min(nb);
    let choose_a = k == na;
    let sum_a_of = |head_sum: f64| if choose_a { head_sum } else { total - head_sum };
    let observed = if choose_a {
        stat(sum_a_of(pooled[..na].iter().sum()))
    } else {
        stat(sum_a_of(pooled[na..].iter().sum()))
    };
    let mut counter = TailCounter::new(observed);
    let mut rng = Rng::seed_from_u64(seed);
    let mut drawn = 0;
    while drawn < limit {
        // The head's sum in the order `pooled[..k].iter().sum()` adds it
        // (from -0.0, left to right), as each element is placed.
        let mut head_sum = -0.0;
        for i in 0..k {
            let j = i + rng.index(n - i);
            pooled.swap(i, j);
            head_sum += pooled[i];
        }
        counter.add(stat(sum_a_of(head_sum)));
        drawn += 1;
        if let Some(threshold) = stop_at
            && counter.p_value(limit, 1) >= threshold
        {
            break;
        }
    }
    PermutationTest {
        statistic: observed,
        p_value: counter.p_value(drawn, 1),
        exact: false,
        permutations: drawn,
        method: PValueMethod::Random,
    }
}

/// Two-sided permutation test of the difference of means mean(b) − mean(a),
/// like `scipy.stats.permutation_test((a, b), statistic, n_resamples=resamples,
/// permutation_type="independent")`: exact when C(n_a + n_b, n_a) ≤
/// `resamples`; else the normal limit of the permutation distribution when
/// random splits would cost more than [`NORMAL_LIMIT_WORK_BUDGET`] and the
/// guards [`NORMAL_LIMIT_MAX_SHARE`] and [`NORMAL_LIMIT_MAX_SKEWNESS`] hold;
/// else `resamples` random splits from a generator seeded with `seed`
/// ([`PermutationTest::method`] says which). Non-finite values are ignored;
/// `None` when a or b has no finite value.
///
/// Cost: O(C(n_a + n_b, n_a) · n_a) exact; O(n_a + n_b) for the normal limit
/// (about 0.6 ms in release for 100 000 against 100 000 observations, plus
/// the copy and selection of the centre here; [`compare`](super::compare())
/// on sorted data takes about 7 ms in all, mostly sorting);
/// O(resamples · min(n_a, n_b))
/// random, at most [`NORMAL_LIMIT_WORK_BUDGET`] = 2·10^7 element operations
/// (about 0.1 s) unless the guards reject the normal limit for large
/// samples: then 9999 resamples of 100 000 against 100 000 observations are
/// 10^9 operations, 2–5 s.
///
/// ```
/// use bench_core::stats::permutation_test;
/// // 2 of the C(6, 3) = 20 splits are as extreme as the observed one.
/// let t = permutation_test(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], 9999, 0).unwrap();
/// assert!(t.exact);
/// assert!((t.p_value - 0.1).abs() < 1e-15);
/// ```
///
/// [`NORMAL_LIMIT_WORK_BUDGET`]: super::NORMAL_LIMIT_WORK_BUDGET
/// [`NORMAL_LIMIT_MAX_SHARE`]: super::NORMAL_LIMIT_MAX_SHARE
/// [`NORMAL_LIMIT_MAX_SKEWNESS`]: super::NORMAL_LIMIT_MAX_SKEWNESS
pub fn permutation_test(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<PermutationTest> {
    let a: Vec<f64> = a.iter().copied().filter(|x| x.is_finite()).collect();
    let b: Vec<f64> = b.iter().copied().filter(|x| x.is_finite()).collect();
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let centre = pooled_centre(&a, &b);
    Some(permutation_test_finite(
        &a, &b, resamples, seed, centre, None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::bootstrap::DEFAULT_SEED;
    use crate::stats::compare::{CompareOptions, compare};
    use crate::stats::test_support::decision_cases;

    #[test]
    fn reachability_of_the_significance_threshold() {
        // C(10, 5) = 252 > 200: p can be 2/252 < 0.01.
        assert!(can_reach_significance(5, 5, 0.01));
        // C(8, 4) = 70: the smallest p is 0.029.
        assert!(!can_reach_significance(4, 4, 0.01));
        assert!(!can_reach_significance(1, 100, 0.01));
        assert!(can_reach_significance(1, 300, 0.01));
        assert!(!can_reach_significance(0, 10, 0.01));
        // Exactly 200 splits: p = 0.01 is not below 0.01.
        assert!(!can_reach_significance(1, 199, 0.01));
        assert!(!can_reach_significance(5, 5, 0.0));
        assert!(!can_reach_significance(5, 5, f64::NAN));
    }

    #[test]
    fn exact_p_for_disjoint_triples() {
        // a = [1, 2, 3], b = [4, 5, 6]: C(6, 3) = 20 splits. Observed
        // mean(b) − mean(a) = 3; only the observed split reaches +3 and only
        // the swapped one (a = [4, 5, 6]) reaches −3, so p_greater = 1/20,
        // p_less = 20/20, p = 2·min = 0.1 (scipy.stats.permutation_test gives
        // pvalue 0.1 and statistic 3.0).
        let t = permutation_test(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], 9999, 1).unwrap();
        assert!(t.exact);
        assert_eq!(t.permutations, 20);
        assert_eq!(t.statistic, 3.0);
        assert!((t.p_value - 0.1).abs() < 1e-15, "{}", t.p_value);
    }

    #[test]
    fn exact_matches_scipy_with_ties() {
        // scipy 1.17.1: permutation_test((a, b), lambda x, y, axis:
        //   np.mean(y, axis=axis) - np.mean(x, axis=axis), vectorized=True,
        //   n_resamples=9999, permutation_type='independent')
        // a = [1.2, 3.4, 2.2, 5.0], b = [4.1, 6.3, 5.5, 7.7, 3.3]
        //   → 126 splits, statistic 2.43 (5.38 − 2.95), pvalue
        //   0.07936507936507936 (= 10/126)
        let t =
            permutation_test(&[1.2, 3.4, 2.2, 5.0], &[4.1, 6.3, 5.5, 7.7, 3.3], 9999, 1).unwrap();
        assert!(t.exact);
        assert_eq!(t.permutations, 126);
        assert!((t.statistic - 2.43).abs() < 1e-12);
        assert!((t.p_value - 10.0 / 126.0).abs() < 1e-12, "{}", t.p_value);
        // Integer data with ties: a = [1, 2, 2, 3], b = [2, 3, 3, 4] → 70
        // splits, statistic 1.0, pvalue 0.2857142857142857 (= 20/70) with
        // scipy.
        let t = permutation_test(&[1.0, 2.0, 2.0, 3.0], &[2.0, 3.0, 3.0, 4.0], 9999, 1).unwrap();
        assert!(t.exact);
        assert_eq!(t.permutations, 70);
        assert!((t.p_value - 20.0 / 70.0).abs() < 1e-12, "{}", t.p_value);
    }

    #[test]
    fn random_permutations_match_scipy() {
        // C(24, 12) = 2 704 156 > 9999, so both use 9999 random splits.
        // scipy 1.17.1 (same call as above, rng=0): statistic 1.2583333,
        // pvalue 0.0108; with n_resamples=10**6 it is 0.011712, the
        // reference here. A 9999-resample estimate of p ≈ 0.0117 has sd
        // ≈ 2·√(0.00586·0.994/9999) ≈ 0.0015; allow 4 sd = 0.006.
        let a = [
            10.2, 11.9, 9.7, 10.8, 12.4, 10.1, 9.9, 11.1, 10.6, 13.0, 10.4, 9.5,
        ];
        let b = [
            11.4, 12.8, 10.9, 12.1, 13.7, 11.0, 12.6, 10.7, 11.8, 14.2, 11.5, 12.0,
        ];
        let t = permutation_test(&a, &b, 9999, DEFAULT_SEED).unwrap();
        assert!(!t.exact);
        assert_eq!(t.permutations, 9999);
        assert!((t.statistic - 1.258_333_333_333_333).abs() < 1e-12);
        assert!((t.p_value - 0.011_712).abs() < 0.006, "{}", t.p_value);
        // Same seed, same p; p is a multiple of 2/10 000.
        assert_eq!(permutation_test(&a, &b, 9999, DEFAULT_SEED).unwrap(), t);
        let k = t.p_value * 10_000.0 / 2.0;
        assert!((k - k.round()).abs() < 1e-9);
    }

    #[test]
    fn binomial_limits() {
        assert_eq!(binomial_at_most(6, 3, 9999), Some(20));
        assert_eq!(binomial_at_most(14, 7, 9999), Some(3432));
        assert_eq!(binomial_at_most(16, 8, 9999), None); // 12 870
        assert_eq!(binomial_at_most(10_000, 1, 9999), None);
        assert_eq!(binomial_at_most(9999, 9998, 9999), Some(9999));
        assert_eq!(binomial_at_most(5, 0, 9999), Some(1));
        let mut idx = vec![0, 1];
        let mut count = 1;
        while next_combination(&mut idx, 4) {
            count += 1;
        }
        assert_eq!(count, 6);
    }

    #[test]
    fn sorted_centre_matches_selection() {
        let mut rng = Rng::seed_from_u64(3);
        for (na, nb) in [
            (0, 1),
            (1, 0),
            (1, 1),
            (2, 7),
            (7, 2),
            (10, 10),
            (33, 64),
            (500, 3),
        ] {
            for _ in 0..20 {
                // Few distinct values (many ties), including both zeros.
                let mut draw = |n: usize| -> Vec<f64> {
                    let vals = [-2.0, -0.0, 0.0, 0.5, 1.0, 3.0];
                    (0..n).map(|_| vals[rng.index(vals.len())]).collect()
                };
                let (mut a, mut b) = (draw(na), draw(nb));
                let want = pooled_centre(&a, &b);
                a.sort_unstable_by(f64::total_cmp);
                b.sort_unstable_by(f64::total_cmp);
                let got = pooled_centre_sorted(&a, &b);
                assert_eq!(got.to_bits(), want.to_bits(), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn method_names() {
        for (m, s) in [
            (PValueMethod::Exact, "exact"),
            (PValueMethod::Random, "random"),
            (PValueMethod::NormalLimit, "normal_limit"),
            (PValueMethod::TailBound, "tail_bound"),
        ] {
            assert_eq!(m.as_str(), s);
            assert_eq!(serde_json::to_value(m).unwrap(), s);
            assert_eq!(serde_json::from_value::<PValueMethod>(s.into()).unwrap(), m);
        }
        let opts = CompareOptions::default();
        assert_eq!(
            compare(&[1.0, 2.0], &[3.0], &opts).method,
            PValueMethod::Exact
        );
        assert_eq!(compare(&[], &[3.0], &opts).method, PValueMethod::Exact);
        let a: Vec<f64> = (0..20).map(f64::from).collect();
        assert_eq!(compare(&a, &a, &opts).method, PValueMethod::Random);
    }

    #[test]
    fn a_stopped_test_drew_fewer_splits() {
        let (a, b) = &decision_cases()[0]; // no shift
        let centre = pooled_centre(a, b);
        let stopped = random_test(a, b, 9999, 1, centre, Some(0.01));
        let full = random_test(a, b, 9999, 1, centre, None);
        assert!(stopped.permutations < 2000, "{stopped:?}");
        assert_eq!(full.permutations, 9999);
        assert!(full.p_value >= 0.01 && stopped.p_value >= 0.01);
        // The public permutation test never takes a shortcut.
        let public = permutation_test(a, b, 9999, 1).unwrap();
        assert_eq!(public.permutations, 9999);
        assert_eq!(public.p_value, full.p_value);
    }
}
