//! The normal limit of the permutation distribution of mean(b) − mean(a):
//! the permutation test's p-value in O(n) for large samples, and the guards
//! that say when it may stand in for random splits.
//!
//! [`super::permutation`] uses it in place of the random splits when those
//! would cost more than [`NORMAL_LIMIT_WORK_BUDGET`] (resamples ·
//! min(n_a, n_b) > 2·10^7, i.e. both samples above ~2000 observations at 9999
//! resamples) *and* the pooled data pass the Lindeberg-type guard
//! [`NORMAL_LIMIT_MAX_SHARE`] and the skewness guard
//! [`NORMAL_LIMIT_MAX_SKEWNESS`]. Under the permutation null, D = mean(b) −
//! mean(a) has mean 0 and variance exactly `S²·n/(n_a·n_b)`, S² the pooled
//! sample variance (n − 1 denominator, n = n_a + n_b), and is asymptotically
//! normal (Hoeffding's combinatorial central limit theorem); p = 2·P(Z ≥
//! |d|/√Var(D)) = erfc(|d|/√(2·Var(D))) ([`super::normal::erfc`]). The guards
//! keep the normal approximation within a few percent of the p-value near
//! the decision threshold, better than the Monte Carlo error (~14% at
//! p = 0.01) of 9999 random splits.
//!
//! References: W. Hoeffding, "A combinatorial central limit theorem", Ann.
//! Math. Statist. 22(4), 1951; J. Hájek, "Limiting distributions in simple
//! random sampling from a finite population", Publ. Math. Inst. Hungar.
//! Acad. Sci. 5, 1960 (the Lindeberg condition for sampling without
//! replacement).

use super::normal::erfc;
use super::permutation::{PValueMethod, PermutationTest};

/// Work, in element operations (`resamples · min(n_a, n_b)`), above which
/// random splits are replaced by the normal limit of the permutation
/// distribution when the guards hold: 2·10^7, about 0.1 s in a release
/// build. At the default 9999 resamples this means both samples have more
/// than 2000 observations. `resamples = 0` never uses the normal limit.
pub const NORMAL_LIMIT_WORK_BUDGET: u64 = 20_000_000;

/// Lindeberg-type guard of the normal limit: the largest single squared
/// deviation from the pooled mean may carry at most this share of the pooled
/// sum of squares, `max_i (x_i − x̄)² / Σ (x_i − x̄)² ≤ 1e-3 · 4·n_a·n_b/n²`
/// (no observation above 0.1% for equal groups, proportionally less for
/// unequal ones). Moving one observation from one group to the other shifts
/// mean(b) − mean(a) by √(share · n(n − 1)/(n_a·n_b)) of its permutation
/// standard deviation, so the guard keeps every such jump below about
/// √(4·10^-3) ≈ 0.063 standard deviations whatever the group sizes (this is
/// Hájek's Lindeberg condition for sampling without replacement, made
/// quantitative). Otherwise a few observations dominate the statistic, or
/// many equal extreme ones (clamped timeouts) make its permutation
/// distribution a coarse lattice: lumpy, not normal. Heavy tails fail it
/// too: lognormal samples of 100 000 against 100 000 pass for σ = 0.25,
/// about half the time for σ = 0.5, not for σ = 1.
pub const NORMAL_LIMIT_MAX_SHARE: f64 = 1e-3;

/// Skewness guard of the normal limit: the exact skewness of the permutation
/// distribution of mean(b) − mean(a) must be at most this in absolute value.
/// It is 0 for equal groups (the distribution is symmetric) and about
/// −γ·(n_b − n_a)/√(n·n_a·n_b) otherwise, γ the skewness of the pooled data.
/// At 0.02 the first Edgeworth term changes a one-sided tail by at most ~5%
/// at p = 0.01 and ~12% at p = 0.001.
pub const NORMAL_LIMIT_MAX_SKEWNESS: f64 = 0.02;

/// True when `resamples` random splits would cost more than
/// [`NORMAL_LIMIT_WORK_BUDGET`] element operations.
pub(super) fn random_work_exceeds_budget(na: usize, nb: usize, resamples: usize) -> bool {
    resamples as u128 * na.min(nb) as u128 > u128::from(NORMAL_LIMIT_WORK_BUDGET)
}

/// The normal-limit test and the figures that say whether to trust it.
#[derive(Debug, Clone, Copy)]
pub(super) struct NormalLimit {
    /// Statistic and p-value by the normal limit.
    pub(super) test: PermutationTest,
    /// max_i (x_i − x̄)² / Σ (x_i − x̄)² over the pooled values (0 when they
    /// are all equal).
    max_share: f64,
    /// The largest `max_share` the Lindeberg guard allows for these group
    /// sizes, [`NORMAL_LIMIT_MAX_SHARE`] · 4·n_a·n_b/n².
    max_share_allowed: f64,
    /// Exact skewness of the permutation distribution of the statistic.
    skewness: f64,
}

impl NormalLimit {
    /// The Lindeberg and skewness guards hold and every figure is finite (a
    /// NaN from overflowing sums fails every comparison).
    pub(super) fn trustworthy(&self) -> bool {
        self.max_share <= self.max_share_allowed
            && self.skewness.abs() <= NORMAL_LIMIT_MAX_SKEWNESS
            && self.test.p_value.is_finite()
            && self.test.statistic.is_finite()
    }
}

/// Two-sided p-value of mean(b) − mean(a) from the normal limit of its
/// permutation distribution, in two O(n) passes over finite, non-empty
/// slices centred on `centre`.
///
/// Derivation. Pool the n = n_a + n_b values x_i, with total T, mean x̄ and
/// S² = Σ (x_i − x̄)² / (n − 1). A split puts a uniformly random subset of
/// n_a of them in A, with sum S_A; this is sampling without replacement, so
/// E S_A = n_a·x̄ and Var S_A = n_a·n_b·S²/n (the finite-population
/// correction (n − n_a)/(n − 1) applied to n_a·σ², σ² = (n − 1)·S²/n). Since
/// mean(b) = (T − S_A)/n_b,
///
///   D = mean(b) − mean(a) = T/n_b − S_A·n/(n_a·n_b),
///
/// so E D = T/n_b − n_a·x̄·n/(n_a·n_b) = 0 and
///
///   Var D = (n/(n_a·n_b))² · n_a·n_b·S²/n = S²·n/(n_a·n_b).
///
/// By Hoeffding's combinatorial central limit theorem (Hájek's form for
/// sampling without replacement) D/√Var D is asymptotically standard normal
/// when max_i (x_i − x̄)² is small against Var S_A, so
/// p = 2·P(Z ≥ |d|/√Var D) = erfc(|d|/√(2·Var D)), capped at 1, and 1 when
/// Var D = 0 (all pooled values equal: every split gives the same
/// statistic). The third central moment of a sample sum without replacement
/// is n_a·n_b·(n_b − n_a)·μ₃/((n − 1)(n − 2)), μ₃ = Σ (x_i − x̄)³/n, which
/// gives the exact skewness of D = −(skewness of S_A). The unit tests check
/// all three moments against full enumeration.
pub(super) fn normal_limit(a: &[f64], b: &[f64], centre: f64) -> NormalLimit {
    let (fa, fb) = (a.len() as f64, b.len() as f64);
    let f = fa + fb;
    let sum_a: f64 = a.iter().map(|x| x - centre).sum();
    let sum_b: f64 = b.iter().map(|x| x - centre).sum();
    let statistic = sum_b / fb - sum_a / fa;
    // Pooled moments about the mean by the corrected two-pass algorithm: `m`
    // is the mean of the centred values up to rounding, `delta` the rest.
    let m = (sum_a + sum_b) / f;
    let (mut dev, mut s2, mut s3, mut max_sq) = (0.0, 0.0, 0.0, 0.0_f64);
    for x in a.iter().chain(b) {
        let e = (x - centre) - m;
        let e2 = e * e;
        dev += e;
        s2 += e2;
        s3 += e2 * e;
        max_sq = max_sq.max(e2);
    }
    let delta = dev / f;
    // Σ (e − δ)² and Σ (e − δ)³ with Σ e = n·δ.
    let ss = (s2 - dev * delta).max(0.0);
    let s3 = s3 - 3.0 * delta * s2 + 2.0 * f * delta * delta * delta;
    let var_d = ss / (f - 1.0) * f / (fa * fb);
    let p_value = if var_d > 0.0 {
        erfc(statistic.abs() / (2.0 * var_d).sqrt()).min(1.0)
    } else {
        1.0
    };
    let (max_share, skewness) = if ss > 0.0 {
        // skew(S_A) = n_a·n_b·(n_b − n_a)·μ₃/((n − 1)(n − 2)) / (Var S_A)^1.5
        //           = (n_b − n_a)·√(n(n − 1)) / ((n − 2)·√(n_a·n_b))
        //             · Σ e³ / (Σ e²)^1.5.
        let shape = (s3 / ss) / ss.sqrt();
        let skew_sa = (fb - fa) * (f * (f - 1.0)).sqrt() / ((f - 2.0) * (fa * fb).sqrt()) * shape;
        (max_sq / ss, -skew_sa)
    } else if ss == 0.0 {
        (0.0, 0.0)
    } else {
        (f64::NAN, f64::NAN)
    };
    NormalLimit {
        test: PermutationTest {
            statistic,
            p_value,
            exact: false,
            permutations: 0,
            method: PValueMethod::NormalLimit,
        },
        max_share,
        max_share_allowed: NORMAL_LIMIT_MAX_SHARE * 4.0 * fa * fb / (f * f),
        skewness,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::compare::{CompareOptions, DEFAULT_RESAMPLES, Verdict, compare};
    use crate::stats::permutation::{
        next_combination, permutation_test, pooled_centre, random_test,
    };
    use crate::stats::rng::Rng;
    use crate::stats::test_support::rel_err;

    /// Mean, variance and skewness of mean(b) − mean(a) over every split of
    /// `pooled` into the first `na` and the rest.
    fn enumerated_moments(pooled: &[f64], na: usize) -> (f64, f64, f64) {
        let n = pooled.len();
        let total: f64 = pooled.iter().sum();
        let mut idx: Vec<usize> = (0..na).collect();
        let mut ds = Vec::new();
        loop {
            let sum_a: f64 = idx.iter().map(|&i| pooled[i]).sum();
            ds.push((total - sum_a) / (n - na) as f64 - sum_a / na as f64);
            if !next_combination(&mut idx, n) {
                break;
            }
        }
        let k = ds.len() as f64;
        let mean = ds.iter().sum::<f64>() / k;
        let m2 = ds.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / k;
        let m3 = ds.iter().map(|d| (d - mean).powi(3)).sum::<f64>() / k;
        (mean, m2, m3 / m2.powf(1.5))
    }

    #[test]
    fn normal_limit_moments_match_enumeration() {
        // Skewed pooled values far from 0; every split enumerated.
        let pooled = [
            1000.5, 1001.0, 1001.25, 1002.0, 1003.5, 1000.75, 1010.0, 1004.0, 1001.5, 1025.0,
            1000.0,
        ];
        let n = pooled.len();
        let xbar = pooled.iter().sum::<f64>() / n as f64;
        let s2 = pooled.iter().map(|x| (x - xbar).powi(2)).sum::<f64>() / (n - 1) as f64;
        for na in [1, 3, 4, 5, 6, 8, 10] {
            let (a, b) = pooled.split_at(na);
            let nb = n - na;
            let (mean, var, skew) = enumerated_moments(&pooled, na);
            assert!(mean.abs() < 1e-11, "na = {na}: mean {mean}");
            // Var(D) = S²·n/(n_a·n_b).
            let formula = s2 * n as f64 / (na * nb) as f64;
            assert!(
                rel_err(var, formula) < 1e-10,
                "na = {na}: {var} vs {formula}"
            );
            let nl = normal_limit(a, b, pooled_centre(a, b));
            assert!(
                (nl.skewness - skew).abs() < 1e-9,
                "na = {na}: {} vs {skew}",
                nl.skewness
            );
            // The p-value is erfc(|d|/√(2·Var D)) with that variance.
            let d = b.iter().sum::<f64>() / nb as f64 - a.iter().sum::<f64>() / na as f64;
            let want = erfc(d.abs() / (2.0 * formula).sqrt());
            assert!(rel_err(nl.test.p_value, want) < 1e-9, "na = {na}");
        }
        // Equal groups: the permutation distribution is symmetric.
        let nl = normal_limit(&pooled[..5], &pooled[5..10], 1000.0);
        assert_eq!(nl.skewness, 0.0);
    }

    /// `na` and `nb` draws, the second shifted so that mean(b) − mean(a) is
    /// `z` permutation standard deviations (computed naively here).
    fn shifted_pair(
        seed: u64,
        na: usize,
        nb: usize,
        z: f64,
        draw: impl Fn(&mut Rng) -> f64,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut rng = Rng::seed_from_u64(seed);
        let a: Vec<f64> = (0..na).map(|_| draw(&mut rng)).collect();
        let mut b: Vec<f64> = (0..nb).map(|_| draw(&mut rng)).collect();
        let pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
        let n = pooled.len() as f64;
        let xbar = pooled.iter().sum::<f64>() / n;
        let s2 = pooled.iter().map(|x| (x - xbar).powi(2)).sum::<f64>() / (n - 1.0);
        let sd = (s2 * n / (na * nb) as f64).sqrt();
        let d0 = b.iter().sum::<f64>() / nb as f64 - a.iter().sum::<f64>() / na as f64;
        let shift = z * sd - d0;
        for x in &mut b {
            *x += shift;
        }
        (a, b)
    }

    /// The normal-limit p against random splits at p ≈ 0.1, 0.01, 0.001.
    ///
    /// Tolerance: 4 Monte Carlo standard deviations of the random p,
    /// 2·√(q(1 − q)/R) with q = p/2 one tail and R the resamples, plus an
    /// allowance for the normal approximation: 5% of p, plus the first
    /// Edgeworth term's relative size up to p = 0.001, about 6·|skewness|.
    /// With 10^6 resamples (a one-off check) the differences were within
    /// 1.5% at p ≈ 0.1 and 0.01 and within 10% at p ≈ 0.001 (2.3 Monte Carlo
    /// standard deviations) for all three samples below.
    fn check_agreement(seed: u64, na: usize, nb: usize, draw: impl Fn(&mut Rng) -> f64 + Copy) {
        for (z, target, resamples) in [
            (1.644_853_626_951_472_7, 0.1, 20_000),
            (2.575_829_303_548_901, 0.01, 50_000),
            (3.290_526_731_491_895, 0.001, 200_000),
        ] {
            let (a, b) = shifted_pair(seed, na, nb, z, draw);
            let centre = pooled_centre(&a, &b);
            let nl = normal_limit(&a, &b, centre);
            let p = nl.test.p_value;
            assert!(rel_err(p, target) < 0.02, "shift missed: p = {p}");
            assert!(nl.skewness.abs() <= NORMAL_LIMIT_MAX_SKEWNESS, "{nl:?}");
            let random = random_test(&a, &b, resamples, seed, centre, None);
            assert_eq!(random.method, PValueMethod::Random);
            assert!(rel_err(random.statistic, nl.test.statistic) < 1e-9);
            let q = p / 2.0;
            let mc_sd = 2.0 * (q * (1.0 - q) / resamples as f64).sqrt();
            let tol = 4.0 * mc_sd + (0.05 + 6.0 * nl.skewness.abs()) * p;
            assert!(
                (random.p_value - p).abs() <= tol,
                "p ≈ {target}: normal {p:e}, random {:e}, tol {tol:e}",
                random.p_value
            );
        }
    }

    #[test]
    fn normal_limit_agrees_with_random_splits_normal_data() {
        check_agreement(77, 3000, 3000, |rng| 100.0 + 10.0 * rng.normal());
    }

    #[test]
    fn normal_limit_agrees_with_random_splits_skewed_data() {
        // Lognormal with σ = 1 (skewness 6.2): far over the Lindeberg guard
        // (max share 0.09), yet equal groups make the permutation distribution
        // symmetric and the normal limit holds.
        check_agreement(79, 3000, 3000, |rng| 50.0 * rng.normal().exp());
    }

    #[test]
    fn normal_limit_agrees_with_random_splits_unequal_groups() {
        // Lognormal with σ = 0.5, 3000 against 6000: skewness of the
        // statistic −0.014, inside the guard.
        check_agreement(78, 3000, 6000, |rng| 50.0 * (0.5 * rng.normal()).exp());
    }

    #[test]
    fn guards_fall_back_to_random_splits() {
        // 2500 + 2500 uniform values: over the work budget and within the
        // guards (largest share 3/5000 = 6e-4), so the normal limit is used...
        let mut rng = Rng::seed_from_u64(5);
        let mut a: Vec<f64> = (0..2500).map(|_| 100.0 + 10.0 * rng.next_f64()).collect();
        let b: Vec<f64> = (0..2500).map(|_| 100.0 + 10.0 * rng.next_f64()).collect();
        let opts = CompareOptions::default();
        assert_eq!(compare(&a, &b, &opts).method, PValueMethod::NormalLimit);
        // ...but one gigantic outlier carries almost all the sum of squares.
        a[17] = 1e7;
        let nl = normal_limit(&a, &b, pooled_centre(&a, &b));
        assert!(nl.max_share > 0.99, "{nl:?}");
        let c = compare(&a, &b, &opts);
        assert_eq!(c.method, PValueMethod::Random);
        assert_eq!(
            permutation_test(&a, &b, DEFAULT_RESAMPLES, 0)
                .unwrap()
                .method,
            PValueMethod::Random
        );
        // 0/1 data (an error flag, 20% ones): no large observation, but 2500
        // against 100 000 makes the statistic skewed (≈ 0.03).
        let flag = |rng: &mut Rng, n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| f64::from(u8::from(rng.next_f64() < 0.2)))
                .collect()
        };
        let (a, b) = (flag(&mut rng, 2500), flag(&mut rng, 100_000));
        let nl = normal_limit(&a, &b, pooled_centre(&a, &b));
        assert!(nl.max_share <= nl.max_share_allowed, "{nl:?}");
        assert!(nl.skewness.abs() > NORMAL_LIMIT_MAX_SKEWNESS, "{nl:?}");
        assert_eq!(compare(&a, &b, &opts).method, PValueMethod::Random);
        // Below the budget (2000 · 9999 < 2·10^7) random splits are kept.
        let c = compare(&b[..2000], &b[2000..], &opts);
        assert_eq!(c.method, PValueMethod::Random);
        assert!(!random_work_exceeds_budget(2000, 5000, 9999));
        assert!(random_work_exceeds_budget(2001, 2001, 9999));
        assert!(!random_work_exceeds_budget(100_000, 100_000, 0));
        assert!(random_work_exceeds_budget(
            usize::MAX,
            usize::MAX,
            usize::MAX
        ));
    }

    #[test]
    fn constant_pooled_values_give_p_one() {
        for v in [3.0, 0.1, -1e9 + 0.3] {
            let c = compare(&[v; 3000], &[v; 2500], &CompareOptions::default());
            assert_eq!(c.method, PValueMethod::NormalLimit);
            assert_eq!((c.p_value, c.verdict), (1.0, Verdict::NoDifference));
            let nl = normal_limit(&[v; 7], &[v; 9], v);
            assert_eq!((nl.test.p_value, nl.test.statistic), (1.0, 0.0));
            assert_eq!((nl.max_share, nl.skewness), (0.0, 0.0));
            assert!(nl.trustworthy());
        }
    }
}
