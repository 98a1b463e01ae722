//! `bench-host run` end to end: probes chosen with --skip, one document per
//! run, validated before anything runs, and a Ctrl-C between probes keeping
//! what finished (exit 130).

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use bench_core::schema::{ErrorKind, ResultDocument};
use support::{BIN, host, schema_errors};

#[test]
fn run_with_skips_writes_one_host_performance_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args([
            "run",
            "--quick",
            "--skip",
            "memory,disk",
            "--skip",
            "hugepages",
        ])
        .args(["--output", "-", "--run-id", "r1", "--cloud", "testcloud"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Exactly one document on stdout, even though it was built probe by probe.
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert!(
        schema_errors(&out.stdout).is_empty(),
        "{:#?}",
        schema_errors(&out.stdout)
    );
    assert_eq!(
        (doc.suite.as_str(), doc.run_id.as_str()),
        ("host_performance", "r1")
    );
    assert_eq!(doc.parameters["quick"], true);
    assert_eq!(
        doc.parameters["skipped"],
        serde_json::json!(["memory", "disk", "hugepages"])
    );
    for probe in ["cpu", "kvm"] {
        assert!(
            doc.parameters.contains_key(probe),
            "parameters.{probe} missing"
        );
    }
    for probe in ["memory", "disk", "hugepages"] {
        assert!(!doc.parameters.contains_key(probe), "{probe} was skipped");
    }
    let metrics: Vec<&str> = doc.samples.iter().map(|s| s.metric.as_str()).collect();
    assert!(metrics.contains(&"cpu.events_per_second"), "{metrics:?}");
    assert!(metrics.contains(&"kvm.exit_roundtrip_ns"), "{metrics:?}");
    assert!(
        !metrics
            .iter()
            .any(|m| m.starts_with("memory.") || m.starts_with("disk."))
    );
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    // Progress went to stderr, one plain line per probe (stderr is a pipe).
    assert!(
        stderr.contains("[1/2] cpu") && stderr.contains("[2/2] kvm"),
        "{stderr}"
    );
}

#[test]
fn every_probe_is_validated_before_the_first_runs() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = host(dir.path())
        .args(["run", "--dir", "no/such/dir", "--output-dir", "results"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--dir") && stderr.contains("no/such/dir"),
        "{stderr}"
    );
    // Nothing was measured (cpu would take seconds) and nothing written.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!dir.path().join("results/04_host_performance.json").exists());

    let out = host(dir.path())
        .args(["run", "--skip", "gpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpu"));

    let out = host(dir.path())
        .args(["run", "--skip", "cpu,memory,disk,hugepages,kvm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--skip leaves no probe to run"), "{stderr}");
}

#[test]
fn ctrl_c_between_probes_keeps_what_finished() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = StdCommand::new(BIN)
        .current_dir(dir.path())
        .env_remove("CLOUD_PROVIDER")
        .env_remove("E2B_STORAGE_DIR")
        .args([
            "run",
            "--quick",
            "--skip",
            "disk,hugepages,kvm",
            "--output-dir",
            "out",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until cpu is done and memory has started, then press Ctrl-C.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "exited early: {seen}"
        );
        seen.push_str(&line);
        if line.contains("[2/2] memory") {
            break;
        }
    }
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(rc, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130), "{seen}");
    let path = dir.path().join("out/04_host_performance.json");
    let text = std::fs::read(&path).unwrap();
    assert!(schema_errors(&text).is_empty());
    let doc = ResultDocument::from_json(std::str::from_utf8(&text).unwrap()).unwrap();
    assert!(
        doc.samples
            .iter()
            .any(|s| s.metric == "cpu.events_per_second"),
        "the finished cpu probe is kept"
    );
    let interrupted: Vec<_> = doc
        .errors
        .iter()
        .filter(|e| e.kind == ErrorKind::Interrupted)
        .collect();
    assert_eq!(interrupted.len(), 1, "{:?}", doc.errors);
    assert_eq!(interrupted[0].probe, "memory");
}
