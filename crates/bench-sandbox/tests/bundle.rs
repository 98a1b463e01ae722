//! scripts/paste-bundle.sh: the snippet recreates the very same binary
//! (same SHA-256) and runs it; a damaged snippet stops before running
//! anything and says why.

use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a digest")
        .to_owned()
}

/// The test binary without debug info (a debug build is tens of MB; the
/// size limit is checked on the static release build by scripts/test.sh).
fn stripped(dir: &Path) -> PathBuf {
    let path = dir.join("bench-sandbox");
    let status = Command::new("strip")
        .arg("-o")
        .arg(&path)
        .arg(support::BIN)
        .status()
        .expect("strip (binutils) runs");
    assert!(status.success());
    path
}

/// Bundles the (stripped) test binary into `dir/bundle.sh`, unpacking into
/// `dir/dest`; returns the snippet, the binary bundled and the script's output.
fn bundle(dir: &Path, args: &[&str]) -> (PathBuf, PathBuf, std::process::Output) {
    let snippet = dir.join("bundle.sh");
    let binary = stripped(dir);
    let out = Command::new("bash")
        .arg(repo().join("scripts/paste-bundle.sh"))
        .arg("--no-limit")
        .arg("--binary")
        .arg(&binary)
        .arg("--dest")
        .arg(dir.join("dest"))
        .arg("--output")
        .arg(&snippet)
        .args(args)
        .output()
        .expect("run paste-bundle.sh");
    (snippet, binary, out)
}

fn sh(snippet: &Path) -> std::process::Output {
    Command::new("sh")
        .arg(snippet)
        .env_remove("CLOUD_PROVIDER")
        .output()
        .expect("run the snippet with sh")
}

#[test]
fn the_snippet_recreates_the_same_binary_and_runs_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (snippet, binary, out) = bundle(
        dir.path(),
        &[
            "--",
            "cpu",
            "--threads",
            "1",
            "--time",
            "200ms",
            "--paste",
            "-q",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("-> snippet of"), "{stderr}");
    let text = std::fs::read_to_string(&snippet).expect("snippet");
    assert!(
        text.starts_with("# e2b-bench paste bundle: bench-sandbox "),
        "{}",
        &text[..200]
    );

    let run = sh(&snippet);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let unpacked = dir.path().join("dest/bench-sandbox");
    assert_eq!(sha256(&unpacked), sha256(&binary));
    assert!(
        !dir.path().join("dest/bench-sandbox.gz").exists(),
        "the archive is removed"
    );
    // It ran and printed a framed, verifiable result.
    let stdout = String::from_utf8_lossy(&run.stdout);
    let unframed = bench_core::paste::unframe(&stdout).expect("a framed document");
    assert!(unframed.verified);
    let doc = support::document_from(unframed.json.as_bytes(), &stderr);
    assert_eq!(doc.samples[0].metric, "cpu.events_per_second");
}

#[test]
fn a_damaged_snippet_stops_before_running() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (snippet, binary, out) = bundle(dir.path(), &["--no-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&snippet).expect("snippet");
    assert!(
        text.contains("run it with:"),
        "--no-run prints the command instead"
    );

    // One payload line lost in the copy: gzip notices (CRC and length).
    let lines: Vec<&str> = text.lines().collect();
    let payload = lines
        .iter()
        .position(|l| l.starts_with("base64 -d"))
        .expect("payload")
        + 1;
    let mut lost = lines.clone();
    lost.remove(payload + 10);
    std::fs::write(&snippet, lost.join("\n") + "\n").expect("write");
    let run = sh(&snippet);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("e2b-bench: the pasted text is damaged"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("dest/bench-sandbox").exists(),
        "nothing half-made is left to run"
    );

    // The checksum line guards what gzip cannot see (a different binary).
    let swapped = text.replace(&sha256(&binary), &"0".repeat(64));
    std::fs::write(&snippet, swapped).expect("write");
    let run = sh(&snippet);
    assert!(!run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("e2b-bench: checksum mismatch"), "{stderr}");
    assert!(!dir.path().join("dest/bench-sandbox").exists());
}

#[test]
fn bad_options_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new("bash")
        .arg(repo().join("scripts/paste-bundle.sh"))
        .args(["--binary"])
        .arg(dir.path().join("missing"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("not found; build it with scripts/build-static.sh")
    );
    let out = Command::new("bash")
        .arg(repo().join("scripts/paste-bundle.sh"))
        .arg("--frobnicate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}
