//! A long series written as a document keeps a subset in `raw`, yet its
//! percentiles, p99.9 included, can be recomputed from the file alone.

mod support;

use bench_core::schema::{ResultDocument, Sample};
use bench_core::stats::{HistogramRecorder, Rng, quantile_sorted, sorted_finite};

const N: usize = 300_000;
const CAP: usize = 100_000;

/// 300 000 disk-like latencies in µs: lognormal, median 180 µs, σ = 0.6
/// (p99.9 ≈ 1.2 ms).
fn latencies() -> Vec<f64> {
    let mut rng = Rng::seed_from_u64(0x4a57);
    (0..N)
        .map(|_| (180f64.ln() + 0.6 * rng.normal()).exp())
        .collect()
}

#[test]
fn percentiles_of_every_observation_come_back_from_the_json() {
    let xs = latencies();
    let sorted = sorted_finite(&xs);
    let sample = Sample::from_long_series("disk.latency_us", "us", xs, CAP, 1);
    let json = serde_json::to_string_pretty(&support::document("r", vec![sample])).unwrap();

    let doc = ResultDocument::from_json(&json).unwrap();
    let s = &doc.samples[0];
    assert_eq!(s.raw.len(), CAP);
    assert!(s.raw_is_subset());
    let stats = s.stats.as_ref().unwrap();
    assert_eq!(stats.n, N as u64);
    let h = s.histogram.as_ref().expect("a subset raw has a histogram");
    assert_eq!((h.significant_digits, h.unit_scale), (3, 1000));
    assert_eq!(h.check(Some(stats.n)), Ok(()));
    for q in [0.5, 0.99, 0.999] {
        let exact = quantile_sorted(&sorted, q);
        let got = h.quantile(q).unwrap();
        let rel = (got - exact).abs() / exact;
        assert!(rel <= 1e-3, "q {q}: {got} vs exact {exact} ({rel:e})");
        // What the reservoir alone says is a sample estimate, far coarser
        // in the tail than the histogram.
        eprintln!(
            "q {q}: exact {exact:.3}, histogram {got:.3} ({rel:.1e}), raw subset {:.3}",
            quantile_sorted(&sorted_finite(&s.raw), q)
        );
    }
    // The stats block (every observation, exact) agrees with the bins.
    assert!((h.quantile(0.99).unwrap() - stats.p99).abs() <= stats.p99 * 1e-3);

    // As a Python reader would: numpy.repeat(values, counts), then type 7.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let bins = value["samples"][0]["histogram"]["bins"].as_array().unwrap();
    let mut expanded = Vec::with_capacity(N);
    for bin in bins {
        let (v, c) = (bin[0].as_f64().unwrap(), bin[1].as_u64().unwrap());
        expanded.extend(std::iter::repeat_n(v, c as usize));
    }
    assert_eq!(expanded.len(), N);
    assert!(expanded.windows(2).all(|w| w[0] <= w[1]), "bins ascend");
    for q in [0.5, 0.99, 0.999] {
        assert_eq!(Some(quantile_sorted(&expanded, q)), h.quantile(q));
    }
    // Compact: far fewer bins than observations.
    let bytes = serde_json::to_string(&value["samples"][0]["histogram"])
        .unwrap()
        .len();
    eprintln!(
        "{} bins, {bytes} bytes of compact JSON; first bins {:?}",
        bins.len(),
        &h.bins[..3]
    );
    assert!(bins.len() < 10_000, "{} bins", bins.len());
}

#[test]
fn two_nodes_histograms_merge_into_the_histogram_of_both() {
    let xs = latencies();
    let (a, b) = xs.split_at(120_000);
    let ha = Sample::from_long_series("disk.latency_us", "us", a.to_vec(), CAP, 1)
        .histogram
        .unwrap();
    let hb = Sample::from_long_series("disk.latency_us", "us", b.to_vec(), CAP, 2)
        .histogram
        .unwrap();
    let mut merged = HistogramRecorder::from_schema(&ha).unwrap();
    merged
        .merge(&HistogramRecorder::from_schema(&hb).unwrap())
        .unwrap();
    let whole = Sample::from_long_series("disk.latency_us", "us", xs, CAP, 3)
        .histogram
        .unwrap();
    assert_eq!(merged.to_schema(), whole);
}
