//! bench-report list: finds documents per cloud, skips bad files with a
//! warning naming them, and fails clearly without an input directory.

use std::path::Path;

use assert_cmd::Command;

fn write_doc(path: &Path, cloud: &str, suite: &str, run_id: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let doc = serde_json::json!({
        "schema_version": 1,
        "tool": {"name": "bench-host", "version": "0.1.0"},
        "tier": "host", "suite": suite, "cloud": cloud, "run_id": run_id,
        "started_at": "2026-11-22T10:15:00Z", "finished_at": "2026-11-22T10:16:00Z",
        "fingerprint": {"hostname": "h", "kernel": "k", "cpu_model": "c", "cpu_count": 2,
            "memory_bytes": 1, "virtualization": "none", "nested_virtualization": false,
            "cloud_vendor": "unknown", "instance_type": null, "region": null},
        "samples": [{"metric": "cpu.events_per_second", "unit": "events/s", "value": 1.0, "raw": [1.0]}],
        "errors": []
    });
    std::fs::write(path, serde_json::to_string(&doc).unwrap()).unwrap();
}

#[test]
fn lists_clouds_suites_and_runs_and_skips_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_doc(
        &root.join("aws/04_host_performance.json"),
        "aws",
        "host_performance",
        "run-b",
    );
    write_doc(
        &root.join("aws/history/run-a/04_host_performance.json"),
        "aws",
        "host_performance",
        "run-a",
    );
    write_doc(
        &root.join("gcp/00_host_info.json"),
        "gcp",
        "host_info",
        "run-c",
    );
    std::fs::write(
        root.join("gcp/truncated.json"),
        "{\"schema_version\": 1, \"tool\"",
    )
    .unwrap();
    std::fs::write(root.join("gcp/future.json"), "{\"schema_version\": 9}").unwrap();
    std::fs::create_dir_all(root.join("reports")).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_bench-report"))
        .args(["list", "--history", "--input"])
        .arg(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("CLOUD"), "{stdout}");
    assert_eq!(lines.len(), 4, "header + 3 documents:\n{stdout}");
    assert!(
        lines[1].starts_with("aws") && lines[1].contains("run-a"),
        "{stdout}"
    );
    assert!(lines[2].contains("run-b"), "{stdout}");
    assert!(
        lines[3].starts_with("gcp") && lines[3].contains("host_info"),
        "{stdout}"
    );
    assert!(
        stderr.contains("truncated.json") && stderr.contains("future.json"),
        "{stderr}"
    );
    assert!(
        stderr.contains("schema_version 9 is not supported"),
        "{stderr}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_bench-report"))
        .args(["list", "--cloud", "aws", "--input"])
        .arg(root)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        2,
        "current aws file only:\n{stdout}"
    );
}

#[test]
fn missing_input_directory_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bench-report"))
        .current_dir(dir.path())
        .arg("list")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("bench-report: error: --input outputs:"),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1);
}
