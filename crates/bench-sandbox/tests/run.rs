//! `bench-sandbox run --quick`: every probe in one document, against
//! loopback servers only (a static HTTP server for the network probe, a
//! package registry for pip and npm), in under 30 seconds.

mod support;

use std::time::{Duration, Instant};

use bench_core::paste::unframe;
use bench_testkit::registry::{NPM_PACKAGE, PY_PACKAGE, Registry};
use support::{Response, StaticServer, document, document_from, sandbox};

/// The interpreter itself (python3 on PATH may be a shim that costs 100+ ms a start).
fn python() -> String {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("these tests need python3 on PATH");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn run_quick_measures_every_probe_in_one_document() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).expect("home");
    let body = vec![7u8; 2 << 20];
    let server = StaticServer::start([(
        "/blob".to_owned(),
        Response::ok("application/octet-stream", body),
    )]);
    let registry = Registry::start();
    let target = format!("{}/blob", server.url());
    let started = Instant::now();
    let out = sandbox(dir.path())
        .env("HOME", &home)
        .env("PIP_INDEX_URL", registry.pypi_url())
        .env("NPM_CONFIG_REGISTRY", registry.npm_url())
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env("NPM_CONFIG_USERCONFIG", home.join(".npmrc"))
        .args(["run", "--quick", "--cloud", "local", "--run-id", "r1"])
        .args(["--dir", ".", "--size", "32M"])
        .args(["--target", &target])
        .args(["--python", &python()])
        .args(["--managers", "pip,npm"])
        .args(["--pip-package", PY_PACKAGE, "--npm-package", NPM_PACKAGE])
        .output()
        .expect("run bench-sandbox");
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}: {stderr}",
        out.status.code()
    );
    let doc = document(&out);
    assert_eq!(
        (doc.suite.as_str(), doc.run_id.as_str()),
        ("sandbox_performance", "r1")
    );
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    for metric in [
        "cpu.events_per_second",
        "memory.bandwidth_bytes_per_second",
        "disk.iops",
        "disk.fsync_latency_us",
        "network.tcp_connect_ms",
        "network.http_bandwidth_bytes_per_second",
        "python.startup_ms",
        "python.ops_per_second",
        "pkg.install_ms",
    ] {
        let found: Vec<_> = doc.samples.iter().filter(|s| s.metric == metric).collect();
        assert!(!found.is_empty(), "{metric} missing; stderr: {stderr}");
        assert!(found.iter().all(|s| s.value > 0.0), "{metric}: {found:?}");
    }
    let managers: Vec<&str> = doc
        .samples
        .iter()
        .filter(|s| s.metric == "pkg.install_ms")
        .map(|s| s.labels["manager"].as_str())
        .collect();
    assert_eq!(managers, ["pip", "npm"]);
    for probe in ["cpu", "memory", "disk", "network", "python", "pkg"] {
        assert!(
            doc.parameters.contains_key(probe),
            "parameters.{probe} missing"
        );
    }
    assert!(
        doc.parameters["skipped"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    // The contract's quick budget is 30 s (about 25 s here, unloaded). The
    // bound gives a loaded 2-core machine 4x that and still fails when the
    // quick durations are not used: the full run's disk probe alone takes
    // 140 s (docs/sandbox-probes.md).
    eprintln!("run --quick took {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(120),
        "run --quick took {elapsed:?}"
    );
    // Nothing but loopback was contacted, and the network probe did reach it.
    assert!(server.requests().iter().any(|r| r.target == "/blob"));
}

#[test]
fn paste_frames_the_document_for_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandbox(dir.path())
        .args([
            "run",
            "--quick",
            "--paste",
            "--skip",
            "memory,disk,network,python,pkg",
        ])
        .output()
        .expect("run bench-sandbox");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("-----BEGIN E2B-BENCH RESULT v1 bytes="),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("-----END E2B-BENCH RESULT-----\n"),
        "{stdout}"
    );
    let unframed = unframe(&stdout).expect("a verified frame");
    assert!(unframed.verified);
    let doc = document_from(unframed.json.as_bytes(), &stdout);
    assert_eq!(doc.parameters["skipped"].as_array().map(Vec::len), Some(5));
    assert!(doc.samples.iter().all(|s| s.metric.starts_with("cpu.")));
}

#[test]
fn skipping_everything_and_paste_with_output_dir_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandbox(dir.path())
        .args(["run", "--skip", "cpu,memory,disk,network,python,pkg"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--skip leaves no probe to run"));
    let out = sandbox(dir.path())
        .args(["cpu", "--paste", "--output-dir", "x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--paste"));
}

#[test]
fn output_dir_writes_the_contract_file_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandbox(dir.path())
        .args([
            "cpu",
            "--threads",
            "1",
            "--time",
            "200ms",
            "--output-dir",
            "res",
            "-q",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "stdout carries nothing when writing files"
    );
    let text = std::fs::read(dir.path().join("res/03_sandbox_performance.json"))
        .expect("03_sandbox_performance.json written");
    let doc = document_from(&text, "file");
    assert_eq!(doc.tool.name, "bench-sandbox");
}
