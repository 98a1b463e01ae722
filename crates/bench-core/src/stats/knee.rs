//! The knee of a throughput curve: the concurrency level after which asking
//! for more parallel sandbox creates stops buying throughput.
//!
//! A self-hosted E2B cluster limits how many sandboxes each orchestrator
//! node starts at once (the orchestrator flag
//! `max-starting-instances-per-node`, default 3); further creates queue, so
//! creates per second climb with the client's concurrency up to about
//! nodes × that limit and then flatten while latency keeps growing. The knee
//! is the last level worth running at: the first level whose next, higher
//! level gained less than `min_gain` ([`DEFAULT_MIN_GAIN`], 10%).
//!
//! bench-client stores the knee it found in `02_concurrency.json`
//! (`parameters.knee`), and bench-report computes it the same way when a
//! document does not say.
//!
//! ```
//! use bench_core::stats::knee::{DEFAULT_MIN_GAIN, find_knee};
//!
//! // creates/s at concurrency 1, 2, 4, 8: the gain from 4 to 8 is only 5%.
//! let points = [(1.0, 1.0), (2.0, 1.9), (4.0, 3.0), (8.0, 3.15)];
//! assert_eq!(find_knee(&points, DEFAULT_MIN_GAIN), Some(2)); // concurrency 4
//! ```

/// The smallest relative gain in throughput from one level to the next that
/// still counts as growing: 10%.
pub const DEFAULT_MIN_GAIN: f64 = 0.10;

/// The index in `points` of the knee: the lowest level after which
/// throughput stops growing, that is the first `i` (in concurrency order)
/// whose next level has `throughput < throughput[i] × (1 + min_gain)`.
///
/// `points` are `(concurrency, throughput)` pairs and should be sorted by
/// concurrency; unsorted input is sorted here (stably, by concurrency) and
/// the index returned still refers to `points` as given. Points with a
/// non-finite concurrency or throughput are skipped. A level with zero (or
/// negative) throughput counts as growing only when the next level is higher.
///
/// `None` when throughput keeps growing through the last level, or when
/// fewer than two usable points are left.
pub fn find_knee(points: &[(f64, f64)], min_gain: f64) -> Option<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].0.is_finite() && points[i].1.is_finite())
        .collect();
    order.sort_by(|&a, &b| points[a].0.total_cmp(&points[b].0));
    order.windows(2).find_map(|w| {
        let (now, next) = (points[w[0]].1, points[w[1]].1);
        let grew = if now > 0.0 {
            next >= now * (1.0 + min_gain)
        } else {
            next > now
        };
        (!grew).then_some(w[0])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(throughputs: &[f64]) -> Vec<(f64, f64)> {
        throughputs
            .iter()
            .enumerate()
            .map(|(i, &t)| (f64::from(1u32 << i), t))
            .collect()
    }

    #[test]
    fn flat_from_the_start_is_a_knee_at_the_first_level() {
        assert_eq!(find_knee(&levels(&[2.0, 2.0, 2.1, 2.0]), 0.10), Some(0));
    }

    #[test]
    fn growing_through_the_last_level_has_no_knee() {
        assert_eq!(find_knee(&levels(&[1.0, 1.9, 3.7, 7.0]), 0.10), None);
        assert_eq!(find_knee(&levels(&[1.0]), 0.10), None);
        assert_eq!(find_knee(&[], 0.10), None);
    }

    #[test]
    fn the_first_flattening_wins_over_later_noise() {
        // 1 → 2 → 4 grows, 4 → 8 gains 4%, 8 → 16 jumps again (noise).
        let points = levels(&[1.0, 1.95, 3.0, 3.12, 3.9]);
        assert_eq!(find_knee(&points, DEFAULT_MIN_GAIN), Some(2));
        // A drop counts as not growing.
        assert_eq!(find_knee(&levels(&[1.0, 2.0, 1.5]), 0.10), Some(1));
        // Exactly the minimum gain still grows.
        assert_eq!(find_knee(&levels(&[1.0, 1.5, 1.6]), 0.5), Some(1));
    }

    #[test]
    fn unsorted_input_is_sorted_and_indices_refer_to_the_input() {
        let points = [(8.0, 3.1), (1.0, 1.0), (4.0, 3.0), (2.0, 1.9)];
        assert_eq!(find_knee(&points, 0.10), Some(2));
    }

    #[test]
    fn non_finite_points_are_skipped() {
        let points = [(1.0, 1.0), (2.0, f64::NAN), (4.0, 3.0), (8.0, 3.05)];
        assert_eq!(find_knee(&points, 0.10), Some(2));
        let points = [(1.0, 1.0), (f64::INFINITY, 0.5), (2.0, 2.0)];
        assert_eq!(find_knee(&points, 0.10), None);
        assert_eq!(find_knee(&[(1.0, f64::NAN), (2.0, 1.0)], 0.10), None);
    }

    #[test]
    fn zero_throughput_grows_only_when_the_next_level_is_higher() {
        assert_eq!(find_knee(&levels(&[0.0, 0.0, 1.0]), 0.10), Some(0));
        assert_eq!(find_knee(&levels(&[0.0, 0.5, 1.0]), 0.10), None);
    }
}
