//! bench-host `cpu` and `memory` end to end: the document they write (metric
//! names and labels of the contract, plausible values, raw series,
//! parameters) and bad flags giving exit 2 with one line naming the flag.

mod support;

use bench_core::schema::ResultDocument;
use support::{assert_code, assert_usage_error, host, sample};

/// Runs `args` with `--output -` and parses the document; exit 0 required.
fn document(args: &[&str]) -> ResultDocument {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args(args)
        .args(["--output", "-"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(doc.suite, "host_performance");
    doc
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
        let s = sample(
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
    let eff = sample(
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
            let s = sample(
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
    let latency = sample(&doc, "memory.latency_ns", &[("size", "4194304")]);
    assert_eq!(latency.unit, "ns");
    assert!(
        latency.value > 0.0 && latency.value < 10_000.0,
        "{}",
        latency.value
    );
    assert_eq!(latency.raw.len(), 5);
    assert_eq!(doc.samples.len(), 9);
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    for (args, flag) in [
        (&["cpu", "--threads", "0"][..], "--threads"),
        (&["cpu", "--threads", "1,x"], "--threads"),
        (&["cpu", "--threads", "5000"], "--threads"),
        (&["cpu", "--max-prime", "2"], "--max-prime"),
        (&["cpu", "--max-prime", "ten"], "--max-prime"),
        (&["cpu", "--time", "0"], "--time"),
        (&["cpu", "--time", "later"], "--time"),
        (&["memory", "--threads", "0"], "--threads"),
        (&["memory", "--array-size", "12q"], "--array-size"),
        (&["memory", "--array-size", "1k"], "--array-size"),
        (&["memory", "--array-size", "100T"], "--array-size"),
        (&["memory", "--ntimes", "1"], "--ntimes"),
        (&["memory", "--latency-size", "1"], "--latency-size"),
        (&["memory", "--latency-rounds", "0"], "--latency-rounds"),
    ] {
        assert_usage_error(host(dir.path()).args(args).args(["--output", "-"]), flag);
    }
}
