//! bench-sandbox end to end: `info` and its output destinations.

use assert_cmd::Command;
use bench_core::schema::{ResultDocument, Tier};

#[test]
fn info_writes_the_sandbox_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bench-sandbox"))
        .current_dir(dir.path())
        .args([
            "info",
            "--cloud",
            "local",
            "--output-dir",
            "results",
            "--run-id",
            "s1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wrote results"), "{stderr}");
    let text = std::fs::read_to_string(dir.path().join("results/00_sandbox_info.json")).unwrap();
    let doc = ResultDocument::from_json(&text).unwrap();
    assert_eq!(
        (doc.tier, doc.suite.as_str(), doc.run_id.as_str()),
        (Tier::Sandbox, "sandbox_info", "s1")
    );
}
