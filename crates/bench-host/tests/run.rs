//! `bench-host run` end to end: probes chosen with --skip, one document per
//! run, validated before anything runs, and a Ctrl-C between probes keeping
//! what finished (exit 130).

mod support;

use std::io::BufReader;
use std::process::{Command as StdCommand, Stdio};

use bench_core::schema::{ErrorKind, ResultDocument};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{BIN, host, read_until, schema_errors, wait_or_kill};

#[test]
fn run_with_skips_writes_one_host_performance_document() {
    // The kvm probe must measure here; without a usable /dev/kvm the test
    // says so and passes (tests/kvm.rs covers the unavailable paths).
    if let Err(e) = std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/kvm")
    {
        eprintln!("skipped: /dev/kvm cannot be opened here ({e})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args([
            "run",
            "--quick",
            "--skip",
            "memory,disk",
            "--skip",
            "hugepages",
            "--skip",
            "storage,templates",
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
        serde_json::json!(["memory", "disk", "hugepages", "storage", "templates"])
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
    // Nothing was measured (no probe's progress line) and nothing written.
    assert!(!stderr.contains("[1/"), "{stderr}");
    assert!(!dir.path().join("results/04_host_performance.json").exists());

    let out = host(dir.path())
        .args(["run", "--skip", "gpu"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gpu"));

    let out = host(dir.path())
        .args([
            "run",
            "--skip",
            "cpu,memory,disk,hugepages,kvm,storage,templates",
        ])
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
            "disk,hugepages,kvm,storage,templates",
            "--output-dir",
            "out",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until cpu is done and memory has started, then press Ctrl-C.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let seen = read_until(&mut stderr, "[2/2] memory");
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    // The probe stops at its next check; the wait's guard is for hangs only.
    let status = wait_or_kill(&mut child, "bench-host run after SIGINT");
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

/// A node-like template storage root with one valid build.
fn storage_root(dir: &std::path::Path) -> std::path::PathBuf {
    let root = dir.join("e2b-storage");
    let build = root.join("e2b-template-storage/b1");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(
        build.join("metadata.json"),
        r#"{"kernelVersion":"vmlinux-6.1.102","firecrackerVersion":"v1.12.1","buildID":"b1","templateID":"base"}"#,
    )
    .unwrap();
    let rootfs = std::fs::File::create(build.join("rootfs.ext4")).unwrap();
    rootfs.set_len(8 << 20).unwrap();
    root
}

#[test]
fn run_says_why_storage_and_templates_cannot_run_in_its_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .env_remove("STORAGE_URL")
        .env_remove("S3_BUCKET")
        .env("E2B_STORAGE_DIR", dir.path().join("not-a-node"))
        .args(["run", "--quick", "--skip", "memory,disk,hugepages,kvm"])
        .args(["--output", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(doc.suite, "host_performance");
    for (probe, why) in [("storage", "STORAGE_URL"), ("templates", "E2B_STORAGE_DIR")] {
        let e = doc
            .errors
            .iter()
            .find(|e| e.probe == probe)
            .unwrap_or_else(|| panic!("no {probe} entry: {:?}", doc.errors));
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(e.message.contains(why), "{}", e.message);
    }
}

#[test]
fn run_writes_storage_and_templates_documents_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let bucket = dir.path().join("bucket");
    std::fs::create_dir_all(&bucket).unwrap();
    let root = storage_root(dir.path());
    let run = |output: &[&str]| {
        host(dir.path())
            .env("STORAGE_URL", format!("file://{}", bucket.display()))
            .env("E2B_STORAGE_DIR", &root)
            .args(["run", "--quick", "--skip", "cpu,memory,disk,hugepages,kvm"])
            .args(output)
            .output()
            .unwrap()
    };
    // Several documents cannot share one --output file.
    let out = run(&["--output", "one.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--output-dir"));

    let out = run(&["--output-dir", "out"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let read = |name: &str| {
        let text = std::fs::read(dir.path().join("out").join(name)).unwrap();
        assert!(schema_errors(&text).is_empty(), "{name}");
        serde_json::from_slice::<serde_json::Value>(&text).unwrap()
    };
    assert!(!dir.path().join("out/04_host_performance.json").exists());
    let storage = read("05_cloud_storage.json");
    assert_eq!(storage["suite"], "cloud_storage");
    assert!(
        storage["samples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["metric"] == "storage.range_get_latency_ms")
    );
    let templates = read("06_templates.json");
    assert_eq!(templates["suite"], "templates");
    assert_eq!(templates["templates"][0]["build_id"], "b1");
    assert_eq!(templates["templates"][0]["status"], "ok");
    // Nothing of the storage run is left in the bucket.
    assert_eq!(std::fs::read_dir(&bucket).unwrap().count(), 0);
}

#[test]
fn run_checks_the_database_url_before_the_first_probe() {
    let dir = tempfile::tempdir().unwrap();
    let root = storage_root(dir.path());
    let out = host(dir.path())
        .env("E2B_STORAGE_DIR", &root)
        // Nothing listens on port 1 of loopback.
        .env(
            "DATABASE_URL",
            "postgres://e2b:hunter2secret@127.0.0.1:1/e2b",
        )
        .args([
            "run",
            "--quick",
            "--skip",
            "memory,disk,hugepages,kvm,storage",
        ])
        .args(["--output-dir", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    assert!(
        !dir.path().join("out/04_host_performance.json").exists(),
        "nothing was measured"
    );
}
