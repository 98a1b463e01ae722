//! `bench-client sandbox` and `run`, over real HTTP against the emulator:
//! the real bench-sandbox uploaded and run, and stand-ins (shell scripts
//! uploaded as the binary) that die, truncate their document or hang, to
//! check what is kept and that nothing is left running.

mod support;

use std::io::BufReader;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use bench_core::schema::{ErrorKind, Tier};
use support::*;

/// A valid bench-sandbox document (the paste fixture of bench-report).
const SANDBOX_DOC: &str = include_str!("../../bench-report/tests/fixtures/sandbox_paste.json");

/// The bench-sandbox binary: the static build when there is one, else the
/// workspace build (built here if missing).
fn real_bench_sandbox() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let static_build = root.join("target/static/bench-sandbox");
    if static_build.is_file() {
        return static_build;
    }
    // target/<profile>/deps/<test> → target/<profile>/bench-sandbox
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
    let built = profile_dir.join("bench-sandbox");
    if !built.is_file() {
        let target_dir = profile_dir.parent().unwrap();
        let status = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "bench-sandbox", "--target-dir"])
            .arg(target_dir)
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p bench-sandbox failed");
    }
    built
}

/// A stand-in for bench-sandbox: a shell script, uploaded and run the same way.
fn stand_in(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("fake-bench-sandbox");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Writes `text` as the document bench-sandbox would have checkpointed.
fn checkpoint_lines(text: &str) -> String {
    format!(
        "mkdir -p e2b-bench-out\ncat > e2b-bench-out/03_sandbox_performance.json <<'EOF_DOC'\n{text}\nEOF_DOC"
    )
}

#[test]
fn sandbox_runs_the_real_bench_sandbox_and_stamps_its_document() {
    let sim = quick_sim();
    let binary = real_bench_sandbox();
    let ran = Client::new(&sim)
        .args([
            "--run-id",
            "sbx-real",
            "sandbox",
            "--quick",
            "--bench-sandbox",
        ])
        .arg_path(&binary)
        .args(["--", "--skip", "network,pkg,python"])
        .run_code(0);
    let doc = ran.doc("03_sandbox_performance.json");
    assert_eq!(doc.tier, Tier::Sandbox);
    assert_eq!(doc.suite, "sandbox_performance");
    assert_eq!(doc.tool.name, "bench-sandbox");
    assert_eq!(
        (doc.cloud.as_str(), doc.run_id.as_str()),
        ("sim", "sbx-real")
    );
    for metric in [
        "cpu.events_per_second",
        "memory.bandwidth_bytes_per_second",
        "disk.iops",
    ] {
        assert!(!samples(&doc, metric).is_empty(), "{metric} missing");
    }
    assert!(
        doc.samples.iter().all(|s| s.labels["template"] == "base"),
        "every sample carries its template"
    );
    let import = &doc.parameters["import"];
    assert_eq!(import["source"], "bench-client sandbox");
    assert_eq!(import["template"], "base");
    assert_eq!(import["sandbox_id"].as_str().unwrap().len(), 20);
    let record = &doc.parameters["client"]["sandboxes"]["base"];
    assert_eq!(
        record["upload_bytes"].as_u64().unwrap(),
        std::fs::metadata(&binary).unwrap().len()
    );
    assert!(record["upload_ms"].as_f64().unwrap() >= 0.0);
    // Its progress was relayed, line by line, under its template.
    ran.assert_stderr_has("base: [1/3] cpu");
    assert_eq!(sim.stats().live, 0, "the sandbox is killed");

    // The same shape as an imported paste: it passes import's checks and has
    // the fixture's fields, and import's provenance fields are all there.
    let text = std::fs::read_to_string(ran.out_dir().join("03_sandbox_performance.json")).unwrap();
    bench_core::sandbox_doc::parse(&text, "03").unwrap();
    let ours: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pasted: serde_json::Value = serde_json::from_str(SANDBOX_DOC).unwrap();
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(keys(&ours), keys(&pasted));
    let imported = bench_core::sandbox_doc::stamp(
        bench_core::sandbox_doc::parse(SANDBOX_DOC, "paste").unwrap(),
        "sim",
        &bench_core::sandbox_doc::Provenance {
            source: "paste.txt".into(),
            by: "bench-report".into(),
            run_id: None,
            template: None,
            sandbox_id: None,
        },
    );
    let imported = serde_json::to_value(&imported).unwrap();
    assert!(
        keys(&imported["parameters"]["import"]).is_subset(&keys(&ours["parameters"]["import"]))
    );
}

#[test]
fn a_process_killed_mid_suite_keeps_what_it_finished() {
    let sim = quick_sim();
    let dir = tempfile::tempdir().unwrap();
    let fake = stand_in(
        dir.path(),
        &format!(
            "echo '[1/3] cpu' >&2\n{}\necho 'memory: out of memory' >&2\nkill -9 $$",
            checkpoint_lines(SANDBOX_DOC)
        ),
    );
    let ran = Client::new(&sim)
        .args(["sandbox", "--bench-sandbox"])
        .arg_path(&fake)
        .run_code(3);
    let doc = ran.doc("03_sandbox_performance.json");
    assert!(!doc.samples.is_empty(), "the finished probes are kept");
    let entry = doc
        .errors
        .iter()
        .find(|e| e.probe == "sandbox base")
        .unwrap_or_else(|| panic!("{:?}", doc.errors));
    assert_eq!(entry.kind, ErrorKind::Failed);
    assert!(entry.message.contains("template base"), "{}", entry.message);
    assert!(entry.message.contains("137"), "{}", entry.message);
    assert!(
        entry.message.contains("'memory: out of memory'"),
        "{}",
        entry.message
    );
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn a_truncated_document_is_an_error_not_a_result() {
    let sim = quick_sim();
    let dir = tempfile::tempdir().unwrap();
    // Cut at a line end, as a stream that stops between writes does.
    let half = &SANDBOX_DOC[..SANDBOX_DOC[..SANDBOX_DOC.len() / 2].rfind('\n').unwrap()];
    let fake = stand_in(
        dir.path(),
        &format!("echo 'disk: done' >&2\n{}\nexit 0", checkpoint_lines(half)),
    );
    let ran = Client::new(&sim)
        .args(["sandbox", "--bench-sandbox"])
        .arg_path(&fake)
        .run_code(3);
    let doc = ran.doc("03_sandbox_performance.json");
    assert!(doc.samples.is_empty());
    assert_eq!(
        doc.tier,
        Tier::Client,
        "no sandbox document: ours holds the error"
    );
    let entry = &doc.errors[0];
    assert_eq!(entry.probe, "sandbox base");
    assert!(entry.message.contains("truncated"), "{}", entry.message);
    assert!(entry.message.contains("'disk: done'"), "{}", entry.message);
    assert_eq!(sim.stats().live, 0);
}

/// Runs bench-client with `args` and a stand-in that says `cpu: busy` and
/// hangs, until its stderr shows that line; then calls `then` with its pid,
/// and returns its exit code, stderr and output directory.
fn run_busy(
    sim: &e2b_sim::SimHandle,
    args: &[&str],
    then: impl FnOnce(u32),
) -> (i32, String, tempfile::TempDir) {
    let fakes = tempfile::tempdir().unwrap();
    let fake = stand_in(fakes.path(), "echo 'cpu: busy' >&2\nexec sleep 600");
    let (mut child, dir) = Client::new(sim)
        .args(args)
        .args(["--bench-sandbox"])
        .arg_path(&fake)
        .spawn();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = read_until(&mut stderr, "base: cpu: busy");
    then(child.id());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    seen.push_str(&rest);
    let code = child.wait().unwrap().code().unwrap_or(-1);
    assert_no_secret_in(&seen, "stderr");
    (code, seen, dir)
}

#[test]
fn a_sandbox_that_dies_mid_suite_is_an_error_naming_the_template() {
    let sim = quick_sim();
    let (code, stderr, out) = run_busy(&sim, &["--run-id", "dies", "sandbox"], |_| {
        // The cluster loses the sandbox: killed from outside.
        let killed = Client::new(&sim)
            .args(["--run-id", "dies", "cleanup"])
            .run_code(0);
        killed.assert_stdout_has("killed 1 of 1");
    });
    assert_eq!(code, 3, "{stderr}");
    let doc = read_doc(&out.path().join("out/03_sandbox_performance.json"));
    let entry = &doc.errors[0];
    assert_eq!(entry.probe, "sandbox base");
    assert!(entry.message.contains("template base"), "{}", entry.message);
    assert!(entry.message.contains("'cpu: busy'"), "{}", entry.message);
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn ctrl_c_in_the_sandbox_suite_kills_it_and_keeps_finished_suites() {
    let sim = quick_sim();
    let (code, stderr, out) = run_busy(
        &sim,
        &["run", "--quick", "--only", "lifecycle,sandbox"],
        |pid| {
            let sent = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
        },
    );
    assert_eq!(code, 130, "{stderr}");
    assert_eq!(sim.stats().live, 0, "the sandbox is killed on Ctrl-C");
    let out = out.path().join("out");
    let warm = read_doc(&out.join("01_warm_start.json"));
    assert!(!samples(&warm, "sandbox.create_ms").is_empty());
    let doc = read_doc(&out.join("03_sandbox_performance.json"));
    assert!(
        doc.errors.iter().any(|e| e.kind == ErrorKind::Interrupted),
        "{:?}",
        doc.errors
    );
}

#[test]
fn run_quick_writes_every_suite_and_the_summary() {
    let sim = quick_sim();
    let binary = real_bench_sandbox();
    let ran = Client::new(&sim)
        .args(["run", "--quick", "--bench-sandbox"])
        .arg_path(&binary)
        .args(["--", "--skip", "network,pkg,python"])
        .run_code(0);
    for file in [
        "01_cold_start.json",
        "01_warm_start.json",
        "02_concurrency.json",
        "02_pause_resume.json",
        "03_sandbox_performance.json",
    ] {
        let doc = ran.doc(file);
        assert!(doc.errors.is_empty(), "{file}: {:?}", doc.errors);
    }
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ran.out_dir().join("summary_report.json")).unwrap(),
    )
    .unwrap();
    let base = &summary["templates"]["base"];
    assert!(base.is_object(), "{summary}");
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn run_refuses_a_single_output_file_and_a_missing_binary() {
    let sim = quick_sim();
    let ran = Client::without_output_dir(&sim)
        .args(["run", "--output", "-"])
        .run_code(2);
    ran.assert_stderr_has("use --output-dir");
    let ran = Client::new(&sim)
        .args(["sandbox", "--bench-sandbox", "/nonexistent/bench-sandbox"])
        .run_code(2);
    ran.assert_stderr_has("scripts/build-static.sh bench-sandbox");
    assert_eq!(sim.stats().created, 0, "nothing was created");
}

#[test]
fn summary_rebuilds_the_report_from_a_directory() {
    let sim = quick_sim();
    let ran = Client::new(&sim)
        .args(["lifecycle", "--iterations", "3"])
        .run_code(0);
    let out = ran.out_dir();
    // No key, no cluster needed: it only reads the directory.
    let summary = std::process::Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .current_dir(ran.dir.path())
        .env_remove("E2B_API_KEY")
        .env_remove("E2B_API_URL")
        .env_remove("E2B_DOMAIN")
        .args(["--cloud", "sim", "--output-dir"])
        .arg(&out)
        .arg("summary")
        .output()
        .unwrap();
    assert!(
        summary.status.success(),
        "{}",
        String::from_utf8_lossy(&summary.stderr)
    );
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary_report.json")).unwrap())
            .unwrap();
    let warm = &value["templates"]["base"]["warm"]["create_ms"];
    assert_eq!(warm["n"], 3, "{value}");
    assert!(warm["p95"].as_f64().unwrap() >= warm["p50"].as_f64().unwrap());

    let empty = tempfile::tempdir().unwrap();
    let none = std::process::Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .current_dir(empty.path())
        .args(["--cloud", "sim", "--output-dir"])
        .arg(empty.path().join("nothing"))
        .arg("summary")
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("no bench-client or bench-host results")
    );
}
