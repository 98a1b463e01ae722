//! bench-host `cpu` and `memory` end to end: the document they write (metric
//! names and labels of the contract, plausible values, raw series,
//! parameters) and bad flags giving exit 2 with one line naming the flag.

mod support;

use bench_core::schema::{ResultDocument, Sample};
use support::host;

/// Runs `args` with `--output -` and parses the document; exit 0 required.
fn document(args: &[&str]) -> ResultDocument {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args(args)
        .args(["--output", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(doc.suite, "host_performance");
    doc
}

fn find<'a>(doc: &'a ResultDocument, metric: &str, labels: &[(&str, &str)]) -> &'a Sample {
    doc.samples
        .iter()
        .find(|s| {
            s.metric == metric
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .unwrap_or_else(|| panic!("no {metric} {labels:?} in {:#?}", doc.samples))
}

#[test]
fn cpu_reports_events_per_second_and_scaling() {
    let doc = document(&["cpu", "--threads", "1,2", "--time", "0.5"]);
    let params = &doc.parameters["cpu"];
    assert_eq!(params["threads"], serde_json::json!([1, 2]));
    assert_eq!(params["max_prime"], 10_000);
    assert_eq!(params["time_s"], 0.5);
    assert_eq!(params["primes_per_event"], 1228);

    let mut eps = Vec::new();
    for threads in ["1", "2"] {
        let s = find(
            &doc,
            "cpu.events_per_second",
            &[("threads", threads), ("max_prime", "10000")],
        );
        assert_eq!(s.unit, "events/s");
        assert!(s.value > 0.0);
        // 0.5 s is one (partial) one-second interval.
        assert_eq!(s.raw.len(), 1, "{s:?}");
        assert!(s.raw[0] > 0.0);
        eps.push(s.value);
    }
    let eff = find(
        &doc,
        "cpu.scaling_efficiency",
        &[("threads", "2"), ("max_prime", "10000")],
    );
    assert_eq!(eff.unit, "ratio");
    assert!(eff.value > 0.0 && eff.value <= 1.5, "{}", eff.value);
    assert!((eff.value - eps[1] / (2.0 * eps[0])).abs() < 1e-9);
    assert_eq!(doc.samples.len(), 3);

    // Events and elapsed time in the facts agree with the headline.
    let runs = params["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let events = runs[0]["events"].as_f64().unwrap();
    let elapsed = runs[0]["elapsed_s"].as_f64().unwrap();
    assert!(elapsed >= 0.5);
    assert!((events / elapsed - eps[0]).abs() < 1e-6 * eps[0]);
}

#[test]
fn memory_reports_stream_bandwidth_and_latency() {
    let doc = document(&[
        "memory",
        "--threads",
        "1,2",
        "--array-size",
        "4M",
        "--ntimes",
        "3",
        "--latency-size",
        "4M",
    ]);
    let params = &doc.parameters["memory"];
    assert_eq!(params["threads"], serde_json::json!([1, 2]));
    assert_eq!(params["array_bytes"], 4 << 20);
    assert_eq!(params["array_size_source"], "flag");
    assert_eq!(params["ntimes"], 3);
    assert_eq!(params["latency_bytes"], 4 << 20);
    // 4 MiB arrays are below 4x any real last-level cache, and it says so.
    if !params["llc"].is_null() {
        assert_eq!(params["below_4x_llc"], true);
    }

    for threads in ["1", "2"] {
        for op in ["copy", "scale", "add", "triad"] {
            let s = find(
                &doc,
                "memory.bandwidth_bytes_per_second",
                &[("op", op), ("threads", threads)],
            );
            assert_eq!(s.unit, "bytes/s");
            assert!(s.value > 0.0);
            // Every iteration but the first; the headline is the best one.
            assert_eq!(s.raw.len(), 2, "{s:?}");
            let best = s.raw.iter().copied().fold(0.0, f64::max);
            assert!((s.value - best).abs() <= 1e-9 * best, "{s:?}");
            let times = params["kernel_times_s"][threads][op].as_array().unwrap();
            assert_eq!(times.len(), 3);
        }
    }
    let latency = find(&doc, "memory.latency_ns", &[("size", "4194304")]);
    assert_eq!(latency.unit, "ns");
    assert!(
        latency.value > 0.0 && latency.value < 10_000.0,
        "{}",
        latency.value
    );
    assert_eq!(latency.raw.len(), 5);
    assert_eq!(doc.samples.len(), 9);
}

/// Asserts exit 2 with exactly one stderr line naming `flag`, no panic.
fn assert_usage_error(args: &[&str], flag: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args(args)
        .args(["--output", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("bench-host: error: "), "{stderr}");
    assert!(stderr.contains(flag), "expected {flag} in {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    assert_usage_error(&["cpu", "--threads", "0"], "--threads");
    assert_usage_error(&["cpu", "--threads", "1,x"], "--threads");
    assert_usage_error(&["cpu", "--threads", "5000"], "--threads");
    assert_usage_error(&["cpu", "--max-prime", "2"], "--max-prime");
    assert_usage_error(&["cpu", "--max-prime", "ten"], "--max-prime");
    assert_usage_error(&["cpu", "--time", "0"], "--time");
    assert_usage_error(&["cpu", "--time", "later"], "--time");
    assert_usage_error(&["memory", "--threads", "0"], "--threads");
    assert_usage_error(&["memory", "--array-size", "12q"], "--array-size");
    assert_usage_error(&["memory", "--array-size", "1k"], "--array-size");
    assert_usage_error(&["memory", "--array-size", "100T"], "--array-size");
    assert_usage_error(&["memory", "--ntimes", "1"], "--ntimes");
    assert_usage_error(&["memory", "--latency-size", "1"], "--latency-size");
    assert_usage_error(&["memory", "--latency-rounds", "0"], "--latency-rounds");
}
