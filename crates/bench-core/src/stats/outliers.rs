//! Tukey's fences: an observation is an outlier when it lies outside
//! `[Q1 − k·IQR, Q3 + k·IQR]` with `k` = [`TUKEY_K`] = 1.5 and Q1, Q3 the
//! type-7 quartiles (see [`super::quantile`](mod@super::quantile)), IQR = Q3 − Q1.
//!
//! Outliers are counted, never removed: every statistic in [`super::summarize`]
//! uses every observation. A high count says the series has a long tail or
//! was disturbed (a noisy neighbour, a GC pause, a cold cache).
//!
//! Reference: J. W. Tukey, *Exploratory Data Analysis*, Addison-Wesley, 1977
//! (the "inner fences"); criterion.rs uses the same fences for its mild
//! outliers.

use super::quantile::quantile_sorted;

/// Fence multiplier: Tukey's inner fences (1.5 × IQR beyond the quartiles).
pub const TUKEY_K: f64 = 1.5;

/// The fences `(Q1 − 1.5·IQR, Q3 + 1.5·IQR)` of an ascending, finite slice;
/// `None` when it is empty.
pub fn tukey_fences(sorted: &[f64]) -> Option<(f64, f64)> {
    if sorted.is_empty() {
        return None;
    }
    let q1 = quantile_sorted(sorted, 0.25);
    let q3 = quantile_sorted(sorted, 0.75);
    let iqr = q3 - q1;
    Some((q1 - TUKEY_K * iqr, q3 + TUKEY_K * iqr))
}

/// How many observations of an ascending, finite slice lie strictly outside
/// its Tukey fences (a value equal to a fence is not an outlier).
pub fn count_tukey_outliers(sorted: &[f64]) -> u64 {
    match tukey_fences(sorted) {
        None => 0,
        Some((lo, hi)) => sorted.iter().filter(|&&x| x < lo || x > hi).count() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quantile::sorted_finite;

    #[test]
    fn planted_outliers() {
        // 1..=20 plus planted 100 and 250, and −60 below. Sorted n = 23,
        // x[0] = −60, x[i] = i for i in 1..=20:
        // Q1 at h = 22·0.25 = 5.5 → between x[5] = 5 and x[6] = 6 → 5.5;
        // Q3 at h = 16.5 → between 16 and 17 → 16.5; IQR = 11;
        // fences 5.5 − 16.5 = −11 and 16.5 + 16.5 = 33 → 3 outliers.
        // (numpy: np.percentile(x, [25, 75]) = [5.5, 16.5].)
        let mut xs: Vec<f64> = (1..=20).map(f64::from).collect();
        xs.extend([100.0, 250.0, -60.0]);
        let sorted = sorted_finite(&xs);
        assert_eq!(tukey_fences(&sorted), Some((-11.0, 33.0)));
        assert_eq!(count_tukey_outliers(&sorted), 3);
    }

    #[test]
    fn value_on_a_fence_is_not_an_outlier() {
        // [1, 2, 3, 4, 5, 11]: h = 5q; Q1 at 1.25 → 2.25, Q3 at 3.75 → 4.75,
        // IQR 2.5, upper fence 4.75 + 3.75 = 8.5: 11 is out. With 8.5 in its
        // place the fences move (Q3 = 4.75 still), 8.5 sits on the fence.
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0, 11.0];
        assert_eq!(count_tukey_outliers(&sorted), 1);
        let sorted = [1.0, 2.0, 3.0, 4.0, 5.0, 8.5];
        assert_eq!(tukey_fences(&sorted).unwrap().1, 8.5);
        assert_eq!(count_tukey_outliers(&sorted), 0);
    }

    #[test]
    fn degenerate_series() {
        assert_eq!(count_tukey_outliers(&[]), 0);
        assert_eq!(count_tukey_outliers(&[3.0]), 0);
        // Constant series: IQR 0, fences at the value, nothing strictly outside.
        assert_eq!(count_tukey_outliers(&[2.0; 9]), 0);
        // Mostly constant: IQR 0, so any different value is an outlier.
        assert_eq!(
            count_tukey_outliers(&sorted_finite(&[2.0, 2.0, 2.0, 2.0, 2.0, 2.1])),
            1
        );
    }
}
