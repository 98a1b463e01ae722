//! Test fixtures shared by the unit tests of several `stats` modules (the
//! comparison, the permutation test and its normal limit).

use super::rng::Rng;

/// Relative error of `got` against `want`.
pub(super) fn rel_err(got: f64, want: f64) -> f64 {
    ((got - want) / want).abs()
}

/// Batch-mean-like pairs of 100 + 100 (or 60 + 140) observations, normal
/// or skewed, shifted from nothing to far beyond the threshold, many of
/// them near p = 0.01.
pub(super) fn decision_cases() -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut rng = Rng::seed_from_u64(2026);
    let mut cases = Vec::new();
    for i in 0..240 {
        let (na, nb) = if i % 4 == 3 { (60, 140) } else { (100, 100) };
        let skewed = i % 2 == 1;
        let draw = |rng: &mut Rng| {
            if skewed { rng.gamma(2.0) } else { rng.normal() }
        };
        // Shifts in units of the standard error of the difference:
        // around the 1% two-sided critical value (2.58) and far off.
        let z = [0.0, 1.5, 2.3, 2.6, 2.9, 3.3, 5.0, 12.0][i % 8];
        let sd = if skewed { 2f64.sqrt() } else { 1.0 };
        let shift = z * sd * (1.0 / na as f64 + 1.0 / nb as f64).sqrt();
        let a: Vec<f64> = (0..na).map(|_| 100.0 + draw(&mut rng)).collect();
        let b: Vec<f64> = (0..nb).map(|_| 100.0 + shift + draw(&mut rng)).collect();
        cases.push((a, b));
    }
    cases
}
