//! bench-host end to end: `info`, the common flags, and bad input giving
//! exit 2 with one line and no panic.

mod support;

use bench_core::schema::{ResultDocument, Tier};
use support::{assert_usage_error, host};

#[test]
fn help_describes_info_and_common_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for expected in [
        "info",
        "--output-dir",
        "--output",
        "--cloud",
        "--run-id",
        "--env-file",
        "--verbose",
        "--quiet",
    ] {
        assert!(
            help.contains(expected),
            "{expected} missing from --help:\n{help}"
        );
    }
}

#[test]
fn info_to_stdout_is_a_complete_document() {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args([
            "info",
            "--output",
            "-",
            "--cloud",
            "testcloud",
            "--run-id",
            "r1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(doc.tier, Tier::Host);
    assert_eq!(doc.suite, "host_info");
    assert_eq!(
        (doc.cloud.as_str(), doc.run_id.as_str()),
        ("testcloud", "r1")
    );
    assert_eq!(doc.tool.name, "bench-host");
    assert!(doc.fingerprint.cpu_count >= 1 && doc.fingerprint.memory_bytes > 0);
    assert!(!doc.fingerprint.kernel.is_empty());
    assert_eq!(doc.parameters["storage_dir"], "/mnt/sdb/e2b-storage");
    assert!(doc.started_at.ends_with('Z') && doc.finished_at >= doc.started_at);
    // Valid against the committed JSON Schema, as every document must be.
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/schema/result-v1.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let instance: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // Nothing but the document on stdout; nothing written to outputs/.
    assert!(!dir.path().join("outputs").exists());
}

#[test]
fn info_writes_under_outputs_cloud_and_keeps_the_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    for run in ["first", "second"] {
        host(dir.path())
            .args(["info", "--cloud", "aws", "--run-id", run, "-q"])
            .assert()
            .success()
            .stdout("");
    }
    let current = dir.path().join("outputs/aws/00_host_info.json");
    let doc = ResultDocument::from_json(&std::fs::read_to_string(current).unwrap()).unwrap();
    assert_eq!(doc.run_id, "second");
    let earlier = dir
        .path()
        .join("outputs/aws/history/first/00_host_info.json");
    let doc = ResultDocument::from_json(&std::fs::read_to_string(earlier).unwrap()).unwrap();
    assert_eq!(doc.run_id, "first");
}

#[test]
fn env_file_in_working_directory_is_read_and_process_env_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".e2b_env"),
        "export CLOUD_PROVIDER=gcp\nexport E2B_STORAGE_DIR=\"/srv/e2b storage\"\n",
    )
    .unwrap();
    let out = host(dir.path())
        .args(["info", "--output", "-"])
        .output()
        .unwrap();
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(doc.cloud, "gcp");
    assert_eq!(doc.parameters["storage_dir"], "/srv/e2b storage");
    assert_eq!(doc.parameters["env_file"], ".e2b_env");

    let out = host(dir.path())
        .env("CLOUD_PROVIDER", "azure")
        .args(["info", "--output", "-"])
        .output()
        .unwrap();
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(doc.cloud, "azure");
}

#[test]
fn malformed_env_file_is_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".e2b_env"),
        "export E2B_DOMAIN=x\nE2B_API_KEY = oops\n",
    )
    .unwrap();
    assert_usage_error(
        host(dir.path()).arg("info"),
        ".e2b_env:2: spaces around '='",
    );
    let other = dir.path().join("custom.env");
    std::fs::write(&other, "E2B_TEMPLATES='base\n").unwrap();
    assert_usage_error(
        host(dir.path()).args(["info", "--env-file", "custom.env"]),
        "custom.env:1: unterminated single quote",
    );
}

#[test]
fn missing_env_file_flag_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_usage_error(
        host(dir.path()).args(["info", "--env-file", "nope.env"]),
        "--env-file nope.env: cannot read",
    );
}

#[test]
fn unknown_output_dir_scheme_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_usage_error(
        host(dir.path()).args(["info", "--output-dir", "ftp://host/results"]),
        "ftp://",
    );
}

#[test]
fn unwritable_output_dir_is_exit_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-file"), "x").unwrap();
    // Root ignores permission bits, so use places nobody can create in:
    // below a regular file, and below /proc.
    assert_usage_error(
        host(dir.path()).args(["info", "--output-dir", "a-file/results"]),
        "a-file/results",
    );
    assert_usage_error(
        host(dir.path()).args(["info", "--output-dir", "/proc/e2b-bench-results"]),
        "/proc/e2b-bench-results",
    );
}

#[test]
fn invalid_cloud_and_run_id_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_usage_error(
        host(dir.path()).args(["info", "--cloud", "aws/us-east-1"]),
        "--cloud 'aws/us-east-1'",
    );
    assert_usage_error(
        host(dir.path()).args(["info", "--run-id", "../../etc"]),
        "--run-id '../../etc'",
    );
    assert_usage_error(
        host(dir.path())
            .env("CLOUD_PROVIDER", "my cloud")
            .arg("info"),
        "CLOUD_PROVIDER 'my cloud'",
    );
}

#[test]
fn usage_errors_from_the_parser_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["frobnicate"][..],
        &[][..],
        &["info", "--output", "-", "--output-dir", "x"][..],
    ] {
        let out = host(dir.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}
