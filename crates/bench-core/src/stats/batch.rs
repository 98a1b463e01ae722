//! Batch means: a long series of consecutive observations (per-IO
//! latencies, per-exit round trips) compared as the means of equal batches
//! of consecutive observations.
//!
//! Why: observations of one run are not independent (a slow disk second
//! slows every IO in it), and a permutation test over 100 000 of them
//! treats each as a fresh trial, so its p-values are overconfident and it
//! costs seconds. Batch means are the textbook remedy in simulation output
//! analysis (A. M. Law, *Simulation Modeling and Analysis*, 5th ed., §9.5.3;
//! B. Schmeiser, "Batch size effects in the analysis of simulation output",
//! Oper. Res. 30(3), 1982): means of large enough batches are nearly
//! independent and nearly normal, and the mean of the batch means is the
//! mean of the series.
//!
//! Both series of a comparison use the *same* batch size (the units of a
//! permutation test must be exchangeable under the null), chosen from the
//! longer one so that it yields at most [`MAX_BATCHES`] batches. A series
//! of at most `MAX_BATCHES` observations on both sides is left as it is.

/// Most batches a series is reduced to.
pub const MAX_BATCHES: usize = 100;

/// The batch size for comparing series of `n_a` and `n_b` observations:
/// 1 (no batching) when both have at most `max_batches`, else
/// ⌈max(n_a, n_b) / max_batches⌉.
///
/// ```
/// use bench_core::stats::{batch_size, MAX_BATCHES};
/// assert_eq!(batch_size(40, 100, MAX_BATCHES), 1);
/// assert_eq!(batch_size(100_000, 5_000, MAX_BATCHES), 1000);
/// ```
pub fn batch_size(n_a: usize, n_b: usize, max_batches: usize) -> usize {
    let longest = n_a.max(n_b);
    if longest <= max_batches.max(1) {
        1
    } else {
        longest.div_ceil(max_batches.max(1))
    }
}

/// Means of consecutive batches of `size` finite observations of `xs`, in
/// order; the last `len % size` observations (fewer than one batch) are
/// left out. Non-finite values are skipped. `size` 0 is taken as 1.
///
/// ```
/// use bench_core::stats::batch_means;
/// assert_eq!(batch_means(&[1.0, 3.0, 5.0, 7.0, 100.0], 2), vec![2.0, 6.0]);
/// ```
pub fn batch_means(xs: &[f64], size: usize) -> Vec<f64> {
    let size = size.max(1);
    let finite: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    if size == 1 {
        return finite;
    }
    finite
        .chunks_exact(size)
        .map(|batch| batch.iter().sum::<f64>() / size as f64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_means() {
        assert_eq!(batch_size(0, 0, MAX_BATCHES), 1);
        assert_eq!(batch_size(100, 100, MAX_BATCHES), 1);
        assert_eq!(batch_size(101, 3, MAX_BATCHES), 2);
        assert_eq!(batch_size(10, 10, 0), 10);
        let xs: Vec<f64> = (0..1000).map(f64::from).collect();
        let means = batch_means(&xs, batch_size(xs.len(), 10, MAX_BATCHES));
        assert_eq!(means.len(), 100);
        assert_eq!(means[0], 4.5);
        assert_eq!(means[99], 994.5);
        assert_eq!(batch_means(&[1.0, f64::NAN, 3.0], 2), vec![2.0]);
        assert_eq!(batch_means(&[1.0, 2.0], 0), vec![1.0, 2.0]);
        assert!(batch_means(&[1.0], 5).is_empty());
    }

    #[test]
    fn the_mean_of_full_batches_is_the_mean() {
        let xs: Vec<f64> = (0..500).map(|i| f64::from(i % 7) * 1.5).collect();
        let means = batch_means(&xs, 50);
        let a = means.iter().sum::<f64>() / means.len() as f64;
        let b = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((a - b).abs() < 1e-12);
    }
}
