//! A rigorous upper bound on a permutation test's tail, and when it settles
//! a random-split test's decision without drawing the splits.
//!
//! Under the permutation null, the sum S of the k values that land in one
//! group is the sum of a sample of k drawn without replacement from the n
//! pooled values x_i (mean μ, variance σ² = Σ (x_i − μ)²/n, largest
//! deviation M = max |x_i − μ|). Hoeffding (1963, Theorem 4) showed that
//! E f(S) is at most its value for sampling *with* replacement for every
//! continuous convex f, so every Chernoff-type bound of the with-replacement
//! sum holds here too; Bernstein's is
//!
//!   P(S − kμ ≥ t) ≤ exp(−t² / (2kσ² + 2Mt/3)),
//!
//! and the same for the lower tail. It is a bound on the *exact* one-sided
//! p-value of the observed split, whatever the data, with no asymptotics.
//! It lacks the finite-population correction (the variance of a k-subset
//! sum is k·σ²·(n − k)/(n − 1), half of k·σ² when k = n/2), so where it is
//! not tiny the Chernoff bound of the exact subset-sum distribution is taken
//! too (`exact_chernoff`): E exp(λS) is the k-th elementary symmetric mean
//! of the exp(λ·x_i), computable exactly in O(n·k).
//!
//! When that bound is small, a Monte Carlo test of `resamples` random splits
//! is significant unless at least `c` of them land in the tail (`c` from the
//! p-value formula and the threshold), and the number that do is binomial
//! with success probability at most the bound q. The chance of that is at
//! most C(resamples, c)·q^c ≤ (e·resamples·q/c)^c; when this is below
//! [`MAX_FLIP_PROBABILITY`] the random test's verdict is known without
//! running it. Its p-value is then replaced by the bound itself, 2q — a valid,
//! conservative p-value for the exact test.
//!
//! References: W. Hoeffding, "Probability inequalities for sums of bounded
//! random variables", J. Amer. Statist. Assoc. 58(301), 1963, §6;
//! R. Bardenet, O.-A. Maillard, "Concentration inequalities for sampling
//! without replacement", Bernoulli 21(3), 2015.

/// The largest chance, per comparison, that the shortcut's decision differs
/// from the one the full random-split test would have made: one in 10^12.
pub const MAX_FLIP_PROBABILITY: f64 = 1e-12;

/// An upper bound on the one-sided tail of a k-subset sum from `pooled`
/// beyond `observed_sum` (on the side of the mean it lies on), with the
/// distance shrunk by `slack` (ties and rounding): the smaller of
/// Bernstein's bound and, where that is not already tiny, the Chernoff bound
/// of the exact subset-sum distribution (`exact_chernoff`). 1 when the
/// observed sum is within `slack` of the null mean or the figures are not
/// finite.
pub fn subset_sum_tail(pooled: &[f64], k: usize, observed_sum: f64, slack: f64) -> f64 {
    if pooled.is_empty() || k == 0 || k > pooled.len() {
        return 1.0;
    }
    let n = pooled.len() as f64;
    let mean = pooled.iter().sum::<f64>() / n;
    let (mut ss, mut max_dev) = (0.0_f64, 0.0_f64);
    for x in pooled {
        let d = x - mean;
        ss += d * d;
        max_dev = max_dev.max(d.abs());
    }
    let variance = ss / n;
    let kf = k as f64;
    let gap = observed_sum - kf * mean;
    let t = gap.abs() - slack;
    let usable = t > 0.0 && t.is_finite() && variance.is_finite() && max_dev.is_finite();
    if !usable {
        return 1.0;
    }
    let exponent = -t * t / (2.0 * kf * variance + 2.0 * max_dev * t / 3.0);
    let bernstein = if exponent.is_nan() {
        1.0
    } else {
        exponent.exp()
    };
    // The exact variance of the subset sum (with the finite-population
    // correction Bernstein's bound lacks): below ~3 standard deviations no
    // bound can get small, so the O(n·k) Chernoff bound is not worth it.
    let exact_variance = kf * (n - kf) / (n - 1.0).max(1.0) * variance;
    let z = t / exact_variance.sqrt();
    if bernstein < CHERNOFF_NOT_NEEDED || z.is_nan() || z <= CHERNOFF_MIN_Z {
        return bernstein;
    }
    // The lower tail of the sum is the upper tail of the negated values.
    let sign = gap.signum();
    let threshold = (observed_sum - sign * slack) * sign;
    let values: Vec<f64> = pooled.iter().map(|x| x * sign).collect();
    let lambda0 = t / exact_variance;
    bernstein.min(exact_chernoff(&values, k, threshold, lambda0))
}

/// Bernstein's bound is used alone below this: it settles any decision.
const CHERNOFF_NOT_NEEDED: f64 = 1e-9;

/// Distance in (exact) standard deviations below which the Chernoff bound is
/// not computed: at z = 3.3 even the bound of a normal sum, e^(−z²/2) ≈
/// 4·10^-3, is too large to settle a decision at 0.01 (that needs ≲ 10^-3).
const CHERNOFF_MIN_Z: f64 = 3.3;

/// The Chernoff bound P(S ≥ threshold) ≤ min over λ > 0 of
/// E exp(λ·(S − threshold)) for S the sum of a uniformly random k-subset of
/// `values`, with the *exact* moment generating function of that sum: the
/// mean over k-subsets of the product of y_i = exp(λ·(x_i − threshold/k)),
/// the k-th elementary symmetric mean of the y_i, by the recurrence
///
///   E_j(m) = ((m − j)/m)·E_j(m − 1) + (j/m)·y_m·E_(j−1)(m − 1)
///
/// (all terms positive: no cancellation), O(n·k) per λ. λ is searched
/// around `lambda0`, the best λ for a normal sum with the same variance. Tight to within a
/// factor of about z·√(2π) of the exact tail of a normal-like sum, where
/// Bernstein's bound, lacking the finite-population correction, squares it
/// roughly.
fn exact_chernoff(values: &[f64], k: usize, threshold: f64, lambda0: f64) -> f64 {
    let share = threshold / k as f64;
    let mut means = vec![0.0_f64; k + 1];
    let mut bound_at = |lambda: f64| -> f64 {
        means.fill(0.0);
        means[0] = 1.0;
        for (i, x) in values.iter().enumerate() {
            let m = (i + 1) as f64;
            let inv_m = 1.0 / m;
            let y = (lambda * (x - share)).exp() * inv_m;
            for j in (1..=k.min(i + 1)).rev() {
                let jf = j as f64;
                means[j] = (m - jf) * inv_m * means[j] + jf * y * means[j - 1];
            }
        }
        // Overflow (inf) or an underflow of everything (0) says nothing.
        let bound = means[k];
        if bound.is_finite() && bound > 0.0 {
            bound
        } else {
            1.0
        }
    };
    if !(lambda0.is_finite() && lambda0 > 0.0) {
        return 1.0;
    }
    // ln of the bound is convex in λ and nearly quadratic for a near-normal
    // sum: three points around λ0, then twice the vertex of the parabola
    // through the best three (clamped to [λ0/4, 4·λ0]). Any λ gives a valid
    // bound; the search only decides how close to the best it gets.
    let mut points: Vec<(f64, f64)> = [0.7, 1.0, 1.4]
        .iter()
        .map(|f| (f * lambda0, bound_at(f * lambda0).ln()))
        .collect();
    for _ in 0..CHERNOFF_REFINEMENTS {
        points.sort_by(|a, b| a.1.total_cmp(&b.1));
        let [(x1, f1), (x2, f2), (x3, f3)] = [points[0], points[1], points[2]];
        let denom = (x2 - x1) * (f2 - f3) - (x2 - x3) * (f2 - f1);
        if denom == 0.0 || !denom.is_finite() {
            break;
        }
        let vertex =
            x2 - 0.5 * ((x2 - x1).powi(2) * (f2 - f3) - (x2 - x3).powi(2) * (f2 - f1)) / denom;
        let vertex = vertex.clamp(lambda0 / 4.0, 4.0 * lambda0);
        if !vertex.is_finite() || points.iter().any(|p| p.0 == vertex) {
            break;
        }
        points.push((vertex, bound_at(vertex).ln()));
    }
    points.iter().map(|p| p.1.exp()).fold(1.0, f64::min)
}

/// Parabola steps of the search for the Chernoff bound's λ.
const CHERNOFF_REFINEMENTS: usize = 2;

/// The fewest tail splits out of `resamples` that make the random test's
/// p = 2·(count + 1)/(resamples + 1) reach `significance`; `None` when even
/// none does not keep p below it (too few resamples for significance).
pub fn tail_count_for_no_significance(resamples: u64, significance: f64) -> Option<u64> {
    let p = |count: u64| 2.0 * (count + 1) as f64 / (resamples + 1) as f64;
    if resamples == 0 || significance.is_nan() || p(0) >= significance {
        return None;
    }
    // Start from the closed form and step to the exact boundary of the float
    // formula, so rounding cannot put it one off.
    let mut c = (significance * (resamples + 1) as f64 / 2.0 - 1.0).max(1.0) as u64;
    while c > 1 && p(c - 1) >= significance {
        c -= 1;
    }
    while p(c) < significance {
        c += 1;
    }
    Some(c)
}

/// True when a random-split test of `resamples` splits, whose tail
/// probability is at most `tail`, would be significant at `significance`
/// except with probability below [`MAX_FLIP_PROBABILITY`].
pub fn settles_significance(tail: f64, resamples: u64, significance: f64) -> bool {
    let Some(c) = tail_count_for_no_significance(resamples, significance) else {
        return false;
    };
    if tail.is_nan() || tail < 0.0 {
        return false;
    }
    if tail == 0.0 {
        return true;
    }
    let (c, n) = (c as f64, resamples as f64);
    // ln of (e·n·q/c)^c, the union bound on P(at least c tail splits).
    let ln_flip = c * (1.0 + n.ln() + tail.ln() - c.ln());
    ln_flip < MAX_FLIP_PROBABILITY.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::rng::Rng;

    /// Every k-subset sum of `pooled`, by enumeration.
    fn subset_sums(pooled: &[f64], k: usize) -> Vec<f64> {
        let n = pooled.len();
        let mut sums = Vec::new();
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize == k {
                sums.push(
                    (0..n)
                        .filter(|i| mask >> i & 1 == 1)
                        .map(|i| pooled[i])
                        .sum(),
                );
            }
        }
        sums
    }

    #[test]
    fn the_bound_is_above_the_exact_tail() {
        // Skewed, heavy and two-cluster data, small enough to enumerate
        // (C(16, 8) = 12 870 splits), with the observed group taken as the
        // first k values, as the test does.
        let mut rng = Rng::seed_from_u64(7);
        let mut checked = 0;
        for case in 0..300 {
            let pooled: Vec<f64> = (0..16)
                .map(|i| match case % 3 {
                    0 => rng.gamma(0.5),
                    1 => rng.normal() * if i % 5 == 0 { 20.0 } else { 1.0 },
                    _ => rng.normal() + if i < 8 { 3.0 } else { 0.0 },
                })
                .collect();
            for k in [3, 8] {
                let observed: f64 = pooled[..k].iter().sum();
                let mean_sum = k as f64 * pooled.iter().sum::<f64>() / 16.0;
                let sums = subset_sums(&pooled, k);
                let tail = if observed >= mean_sum {
                    sums.iter().filter(|&&s| s >= observed).count()
                } else {
                    sums.iter().filter(|&&s| s <= observed).count()
                } as f64
                    / sums.len() as f64;
                let bound = subset_sum_tail(&pooled, k, observed, 0.0);
                assert!(
                    bound >= tail,
                    "case {case} k {k}: bound {bound} < exact {tail}"
                );
                // The Chernoff bound on its own, whether or not the gate
                // would compute it.
                let sign = if observed >= mean_sum { 1.0 } else { -1.0 };
                let signed: Vec<f64> = pooled.iter().map(|x| x * sign).collect();
                let chernoff = exact_chernoff(&signed, k, observed * sign, 0.5);
                assert!(
                    chernoff >= tail,
                    "case {case} k {k}: chernoff {chernoff} < {tail}"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 600);
    }

    #[test]
    fn the_bound_is_small_for_separated_groups_and_one_for_none() {
        let pooled: Vec<f64> = (0..200)
            .map(|i| if i < 100 { 110.0 } else { 100.0 } + f64::from(i % 7) * 0.1)
            .collect();
        let observed: f64 = pooled[..100].iter().sum();
        let bound = subset_sum_tail(&pooled, 100, observed, 0.0);
        assert!(bound < 1e-15, "{bound}");
        let mean_sum = 100.0 * pooled.iter().sum::<f64>() / 200.0;
        assert_eq!(subset_sum_tail(&pooled, 100, mean_sum, 1e-9), 1.0);
        assert_eq!(subset_sum_tail(&[1.0; 10], 5, 5.0, 0.0), 1.0);
        assert_eq!(subset_sum_tail(&[], 5, 5.0, 0.0), 1.0);
    }

    #[test]
    fn the_exact_chernoff_bound_settles_what_bernstein_cannot() {
        // Two groups of 100 normal values 4.5 standard errors apart (z ≈ 4.4
        // over all splits): Bernstein's bound, without the finite-population
        // correction, is about e^(−z²/4) ≈ 8e-3, too large to settle
        // anything; the exact Chernoff bound is about e^(−z²/2).
        let mut rng = Rng::seed_from_u64(11);
        let mut centred = |n: usize| {
            let v: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
            let m = v.iter().sum::<f64>() / n as f64;
            v.into_iter().map(move |x| x - m)
        };
        // Means exactly `shift` apart: 4.5 standard errors of the noise.
        let shift = 4.5 * (2.0f64 / 100.0).sqrt();
        let pooled: Vec<f64> = centred(100)
            .map(|x| x + shift)
            .chain(centred(100))
            .collect();
        let observed: f64 = pooled[..100].iter().sum();
        let both = subset_sum_tail(&pooled, 100, observed, 0.0);
        assert!(both < 1e-3 && both > 1e-7, "{both}");
        assert!(settles_significance(both, 9999, 0.01));
        // The lower tail (group B's sum) gives the same bound.
        let lower: f64 = pooled[100..].iter().sum();
        let mirrored = subset_sum_tail(&pooled, 100, lower, 0.0);
        assert!((mirrored / both - 1.0).abs() < 1e-6, "{mirrored} {both}");
    }

    #[test]
    fn the_tail_count_is_the_exact_boundary_of_the_p_formula() {
        // 9999 resamples at 0.01: p = 2(G + 1)/10 000 < 0.01 ⇔ G ≤ 48.
        assert_eq!(tail_count_for_no_significance(9999, 0.01), Some(49));
        for (resamples, alpha) in [(999, 0.01), (9999, 0.05), (12345, 0.003), (500, 0.3)] {
            let c = tail_count_for_no_significance(resamples, alpha).unwrap();
            let p = |g: u64| 2.0 * (g + 1) as f64 / (resamples + 1) as f64;
            assert!(p(c) >= alpha && p(c - 1) < alpha, "{resamples} {alpha}");
        }
        // 99 resamples never give p below 0.02.
        assert_eq!(tail_count_for_no_significance(99, 0.01), None);
        assert_eq!(tail_count_for_no_significance(0, 0.01), None);
    }

    #[test]
    fn settling_needs_a_small_tail_and_enough_resamples() {
        assert!(settles_significance(1e-6, 9999, 0.01));
        assert!(settles_significance(0.0, 9999, 0.01));
        // A 1% tail gives ~100 tail splits in 9999: not settled.
        assert!(!settles_significance(0.01, 9999, 0.01));
        // At 1e-3, ~10 are expected and 49 is out of reach.
        assert!(settles_significance(1e-3, 9999, 0.01));
        assert!(!settles_significance(3e-3, 9999, 0.01));
        assert!(!settles_significance(1e-30, 99, 0.01));
        assert!(!settles_significance(f64::NAN, 9999, 0.01));
    }
}
