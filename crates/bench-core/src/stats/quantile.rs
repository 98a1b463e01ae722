//! Sample quantiles by Hyndman–Fan definition 7, numpy's default
//! (`numpy.quantile(x, q, method="linear")`) and R's `quantile(type = 7)`.
//!
//! For a sorted sample `x[0] ≤ … ≤ x[n−1]` and `q` in [0, 1], let
//! `h = (n − 1)·q`, `j = ⌊h⌋` and `g = h − j`; then
//! `Q(q) = x[j] + g·(x[j+1] − x[j])` (and `Q(1) = x[n−1]`).
//! The interpolation is written as numpy writes it (from the upper point when
//! `g ≥ 0.5`), so results agree with numpy to the last bit in practice and
//! never leave `[x[j], x[j+1]]`.
//!
//! Reference: R. J. Hyndman, Y. Fan, "Sample quantiles in statistical
//! packages", The American Statistician 50(4), 1996.

/// Linear interpolation between `a` and `b` at `t` in [0, 1], exact at both
/// ends (numpy's `_lerp`).
pub(crate) fn lerp(a: f64, b: f64, t: f64) -> f64 {
    if a == b {
        return a;
    }
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// The type-7 quantile `q` of an ascending slice.
///
/// The caller guarantees `sorted` is ascending and finite (as produced by
/// [`sorted_finite`]); this is not checked. Returns NaN when `sorted` is empty
/// or `q` is NaN; `q` outside [0, 1] is clamped.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || q.is_nan() {
        return f64::NAN;
    }
    let q = q.clamp(0.0, 1.0);
    let h = (n - 1) as f64 * q;
    let j = h.floor();
    let lo = j as usize;
    if lo + 1 >= n {
        return sorted[n - 1];
    }
    lerp(sorted[lo], sorted[lo + 1], h - j)
}

/// The finite values of `xs`, ascending. NaN and ±∞ are dropped.
pub fn sorted_finite(xs: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// The type-7 quantile `q` (in [0, 1]) of `xs`, in any order. Non-finite
/// values are ignored; `None` when no finite value remains or `q` is NaN.
///
/// Sorts a copy; to take several quantiles of one series, sort once with
/// [`sorted_finite`] and call [`quantile_sorted`].
pub fn quantile(xs: &[f64], q: f64) -> Option<f64> {
    let sorted = sorted_finite(xs);
    let v = quantile_sorted(&sorted, q);
    (!v.is_nan()).then_some(v)
}

/// The median (type-7 quantile 0.5) of `xs`; see [`quantile`].
pub fn median(xs: &[f64]) -> Option<f64> {
    quantile(xs, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    const QS: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

    fn assert_close(got: f64, want: f64) {
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "got {got}, want {want}"
        );
    }

    #[test]
    fn even_length() {
        // x = 1..=10: h = 9q. q=0.5: h=4.5, 5 + 0.5·1 = 5.5; q=0.9: h=8.1,
        // 9 + 0.1 = 9.1; q=0.95: h=8.55, 9.55; q=0.99: h=8.91, 9.91.
        // numpy.quantile(np.arange(1, 11), [.5, .9, .95, .99]) agrees (to 1 ulp).
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        for (q, want) in QS.iter().zip([5.5, 9.1, 9.55, 9.91]) {
            assert_close(quantile_sorted(&xs, *q), want);
        }
        // q=0.25: h=2.25 → 3.25; q=0.1: h=0.9 → 1.9; q=1/3: h=3 → 4.
        assert_close(quantile_sorted(&xs, 0.25), 3.25);
        assert_close(quantile_sorted(&xs, 0.1), 1.9);
        assert_close(quantile_sorted(&xs, 1.0 / 3.0), 4.0);
        assert_eq!(quantile_sorted(&xs, 0.0), 1.0);
        assert_eq!(quantile_sorted(&xs, 1.0), 10.0);
    }

    #[test]
    fn odd_length_unsorted_input() {
        // x = [7, 1, 15, 3, 9] sorts to [1, 3, 7, 9, 15]; h = 4q.
        // q=0.5: h=2 → 7; q=0.9: h=3.6 → 9 + 0.6·6 = 12.6; q=0.95: h=3.8 →
        // 9 + 0.8·6 = 13.8; q=0.99: h=3.96 → 9 + 0.96·6 = 14.76;
        // q=0.3: h=1.2 → 3 + 0.2·4 = 3.8. numpy.quantile agrees (to 1 ulp).
        let xs = [7.0, 1.0, 15.0, 3.0, 9.0];
        for (q, want) in QS.iter().zip([7.0, 12.6, 13.8, 14.76]) {
            assert_close(quantile(&xs, *q).unwrap(), want);
        }
        assert_close(quantile(&xs, 0.3).unwrap(), 3.8);
        assert_eq!(median(&xs), Some(7.0));
    }

    #[test]
    fn numpy_vector() {
        // numpy 2.4.6: np.quantile([0.3, 2.9, 1.7, 8.4, 5.5, 5.5, 0.1, 12.25],
        //   [0.05, 0.37, 0.5, 0.63, 0.999])
        // = [0.17, 2.408, 4.2, 5.5, 12.22305]
        // (by hand, q=0.37: h = 7·0.37 = 2.59 → 1.7 + 0.59·(2.9 − 1.7) = 2.408).
        let xs = [0.3, 2.9, 1.7, 8.4, 5.5, 5.5, 0.1, 12.25];
        let want = [0.17, 2.408, 4.2, 5.5, 12.22305];
        for (q, w) in [0.05, 0.37, 0.5, 0.63, 0.999].iter().zip(want) {
            assert_close(quantile(&xs, *q).unwrap(), w);
        }
    }

    #[test]
    fn single_element() {
        // Every quantile of a one-element sample is that element.
        for q in [0.0, 0.01, 0.5, 0.9, 0.95, 0.99, 1.0] {
            assert_eq!(quantile(&[42.0], q), Some(42.0));
        }
    }

    #[test]
    fn constant_series() {
        // Interpolating between equal values returns the value exactly.
        let xs = [0.1; 17];
        for q in [0.0, 0.123, 0.5, 0.9, 0.95, 0.99, 1.0] {
            assert_eq!(quantile_sorted(&xs, q), 0.1);
        }
    }

    #[test]
    fn empty_non_finite_and_bad_q() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[f64::NAN, f64::INFINITY], 0.5), None);
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert_eq!(quantile(&[1.0, 2.0], f64::NAN), None);
        // NaN and ±∞ are ignored: [1, 2, 3] remains, median 2.
        assert_eq!(
            median(&[3.0, f64::NAN, 1.0, f64::NEG_INFINITY, 2.0, f64::INFINITY]),
            Some(2.0)
        );
        // q is clamped to [0, 1].
        assert_eq!(quantile(&[1.0, 2.0], -1.0), Some(1.0));
        assert_eq!(quantile(&[1.0, 2.0], 2.0), Some(2.0));
    }

    #[test]
    fn monotone_in_q() {
        let xs = sorted_finite(&[0.3, 1e9, -4.0, 2.5, 2.5, 7.0, 1e-9]);
        let mut prev = f64::NEG_INFINITY;
        for i in 0..=1000 {
            let v = quantile_sorted(&xs, f64::from(i) / 1000.0);
            assert!(v >= prev);
            prev = v;
        }
    }
}
