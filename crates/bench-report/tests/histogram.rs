//! Samples whose `raw` keeps only a subset of a long series carry a
//! histogram of all of it: the report merges nodes through it and prints
//! the percentiles of every observation, and `validate` checks it.

mod support;

use bench_core::schema::{ResultDocument, Sample};
use bench_core::stats::{HistogramRecorder, Moments, Rng, quantile, summarize_histogram};
use support::fixtures::{self, CloudSpec};
use support::{num, put, render_csv, report, run};

const RUN: &str = "20261122T101500Z-hist";
const METRIC: &str = "kvm.exit_roundtrip_ns";
/// Far below the series' lengths, so `raw` is a subset.
const CAP: usize = 1_000;

/// `n` exit times in whole nanoseconds, lognormal around `median`.
fn exits(n: usize, median: f64, seed: u64) -> Vec<f64> {
    let mut rng = Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| (median.ln() + 0.4 * rng.normal()).exp().round())
        .collect()
}

/// The fixture host document of `node`, its exit series replaced by a long
/// one kept as bench-host keeps it.
fn host_with_exits(node: &str, seed: u64, xs: Vec<f64>) -> ResultDocument {
    let mut doc = fixtures::host(&CloudSpec::small("aws", 1.0, seed));
    doc.run_id = RUN.to_owned();
    doc.fingerprint.node = Some(node.to_owned());
    doc.samples.retain(|s| s.metric != METRIC);
    doc.samples
        .push(Sample::from_long_series(METRIC, "ns", xs, CAP, seed));
    doc
}

#[test]
fn merged_nodes_show_the_percentiles_of_every_observation() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    let (a, b) = (exits(30_000, 8_000.0, 1), exits(20_000, 16_000.0, 2));
    let (doc_a, doc_b) = (
        host_with_exits("node-a", 1, a.clone()),
        host_with_exits("node-b", 2, b.clone()),
    );
    put(&root, "aws", "04_host_performance.node-a.json", &doc_a);
    put(&root, "aws", "04_host_performance.node-b.json", &doc_b);

    let rows = render_csv(&root, &out);
    let row = |labels: &str| {
        rows.iter()
            .find(|r| r["metric"] == METRIC && r["labels"] == labels)
            .unwrap_or_else(|| panic!("no {METRIC} row {labels:?}"))
    };

    // What the merged row must say: the statistics of both nodes' histograms
    // merged, with the exact moments of their stats.
    let sample = |d: &ResultDocument| {
        d.samples
            .iter()
            .find(|s| s.metric == METRIC)
            .unwrap()
            .clone()
    };
    let (sa, sb) = (sample(&doc_a), sample(&doc_b));
    let mut merged = HistogramRecorder::from_schema(sa.histogram.as_ref().unwrap()).unwrap();
    merged
        .merge(&HistogramRecorder::from_schema(sb.histogram.as_ref().unwrap()).unwrap())
        .unwrap();
    let moments = Moments::of_stats(sa.stats.as_ref().unwrap())
        .combine(&Moments::of_stats(sb.stats.as_ref().unwrap()));
    let want = summarize_histogram(&merged.to_schema(), &moments).unwrap();

    let m = row("");
    assert_eq!(num(&m["n"]) as usize, 50_000, "{m:?}");
    assert_eq!(num(&m["p95"]), want.p95, "{m:?}");
    assert_eq!(num(&m["value"]), want.p50, "{m:?}");
    // … which are those of the 50 000 exits to within 10^-3.
    let all: Vec<f64> = a.iter().chain(&b).copied().collect();
    for (printed, q) in [(num(&m["p95"]), 0.95), (num(&m["value"]), 0.5)] {
        let exact = quantile(&all, q).unwrap();
        assert!(
            (printed - exact).abs() <= 1e-3 * exact,
            "q {q}: printed {printed}, exact {exact}"
        );
    }
    // Each node's own row is its own document's figure.
    let node_b = row("node=node-b");
    assert_eq!(num(&node_b["n"]) as usize, 20_000);
    assert_eq!(num(&node_b["p95"]), sb.stats.as_ref().unwrap().p95);
}

#[test]
fn validate_rejects_a_broken_histogram_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let doc = host_with_exits("node-a", 3, exits(5_000, 8_000.0, 3));
    let at = doc.samples.iter().position(|s| s.metric == METRIC).unwrap();
    let good: serde_json::Value = serde_json::to_value(&doc).unwrap();
    let write = |name: &str, v: &serde_json::Value| {
        let p = dir.path().join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    };
    let ok = write("good.json", &good);
    let (code, stdout, stderr) = run(report(dir.path()).arg("validate").arg(&ok));
    assert_eq!(code, 0, "{stdout}{stderr}");

    let broken = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = good.clone();
        edit(&mut v["samples"][at]["histogram"]);
        write(name, &v)
    };
    let descending = broken("descending.json", &|h| {
        let first = h["bins"][0][0].as_f64().unwrap();
        h["bins"][1][0] = (first / 2.0).into();
    });
    let zero = broken("zero.json", &|h| h["bins"][2][1] = 0.into());
    let short = broken("short.json", &|h| {
        h["bins"].as_array_mut().unwrap().pop();
    });
    let (code, stdout, _) =
        run(report(dir.path())
            .arg("validate")
            .args([&descending, &zero, &short]));
    assert_eq!(code, 1, "{stdout}");
    let line = |name: &str| {
        let lines: Vec<&str> = stdout.lines().filter(|l| l.contains(name)).collect();
        assert_eq!(lines.len(), 1, "one line for {name}: {stdout}");
        lines[0].to_owned()
    };
    let prefix = format!("/samples/{at}/histogram/");
    let l = line("descending.json");
    assert!(
        l.starts_with("invalid ")
            && l.contains(&format!("{prefix}bins/1: value "))
            && l.contains("bins must be ascending"),
        "{l}"
    );
    let l = line("zero.json");
    assert!(
        l.contains(&format!(
            "{prefix}bins/2: count 0; every bin's count must be > 0"
        )),
        "{l}"
    );
    let l = line("short.json");
    assert!(
        l.contains(&format!("{prefix}bins: the counts add up to "))
            && l.contains("but stats.n is 5000"),
        "{l}"
    );
}
