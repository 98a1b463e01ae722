//! Uniform subsets of long series: what a sample keeps in `raw` when it has
//! more observations than a document should carry
//! ([`crate::schema::Sample::from_long_series`]; the whole series then goes
//! into its histogram, [`super::histogram`]).

use super::rng::Rng;

/// A uniformly random subset of `k` of the indices `0..n` (Vitter's
/// reservoir algorithm R), in increasing order, so the values they pick
/// stay in measured order. All of `0..n` when `n <= k`.
pub fn reservoir_indices(n: usize, k: usize, rng: &mut Rng) -> Vec<usize> {
    if n <= k {
        return (0..n).collect();
    }
    let mut reservoir: Vec<usize> = (0..k).collect();
    for i in k..n {
        let j = rng.index(i + 1);
        if j < k {
            reservoir[j] = i;
        }
    }
    reservoir.sort_unstable();
    reservoir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservoir_is_a_uniform_sorted_subset() {
        let mut rng = Rng::seed_from_u64(9);
        assert_eq!(reservoir_indices(5, 10, &mut rng), vec![0, 1, 2, 3, 4]);
        // 100 items, keep 10, 20 000 trials: each item is kept with
        // probability 0.1, count ~ Binomial(20 000, 0.1), sd ≈ 42.4.
        let mut kept = [0u32; 100];
        for _ in 0..20_000 {
            let s = reservoir_indices(100, 10, &mut rng);
            assert_eq!(s.len(), 10);
            assert!(s.windows(2).all(|w| w[0] < w[1]));
            for i in s {
                kept[i] += 1;
            }
        }
        assert!(
            kept.iter()
                .all(|&c| (f64::from(c) - 2000.0).abs() < 5.0 * 42.4),
            "{kept:?}"
        );
    }

    #[test]
    fn seeded() {
        let a = reservoir_indices(10_000, 100, &mut Rng::seed_from_u64(3));
        let b = reservoir_indices(10_000, 100, &mut Rng::seed_from_u64(3));
        assert_eq!(a, b);
        assert!(a.iter().any(|&i| i >= 5_000), "not just the head");
    }
}
