//! `bench-report import`: good pastes are stored for the named cloud; a
//! truncated, garbled or wrong-schema paste is refused with one line that
//! names the file and what is wrong.

use std::path::Path;

use assert_cmd::Command;
use bench_core::paste::frame;
use bench_core::schema::ResultDocument;
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/sandbox_paste.json");

fn report(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-report"));
    cmd.current_dir(dir).args(["--input", "outputs"]);
    cmd
}

/// Runs `import --cloud aws paste.txt` on `text`; returns (exit code, stderr).
fn import(dir: &Path, text: &str) -> (i32, String) {
    std::fs::write(dir.join("paste.txt"), text).expect("write the paste");
    let out = report(dir)
        .args(["import", "--cloud", "aws", "paste.txt"])
        .output()
        .expect("run bench-report");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().expect("exit code"), stderr)
}

/// The one error line of a refused import, checked to be a single line.
fn refused(dir: &Path, text: &str) -> String {
    let (code, stderr) = import(dir, text);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        !dir.join("outputs/aws/sandbox_performance_manual.json")
            .exists(),
        "a refused paste must not be stored"
    );
    stderr
        .trim_end()
        .strip_prefix("bench-report: error: ")
        .unwrap_or_else(|| panic!("not an error line: {stderr}"))
        .to_owned()
}

fn stored(dir: &Path) -> ResultDocument {
    let text = std::fs::read_to_string(dir.join("outputs/aws/sandbox_performance_manual.json"))
        .expect("the import was stored");
    assert!(bench_testkit::schema_errors(text.as_bytes()).is_empty());
    ResultDocument::from_json(&text).expect("stored document parses")
}

#[test]
fn a_framed_paste_with_prompts_and_crlf_is_stored_for_the_cloud() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pasted = format!(
        "user@e2b:~$ /tmp/e2b-bench/bench-sandbox run --paste\r\n{}user@e2b:~$ ",
        frame(FIXTURE).replace('\n', "\r\n")
    );
    let (code, stderr) = import(dir.path(), &pasted);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("imported 6 samples and 0 errors from paste.txt"),
        "{stderr}"
    );
    let doc = stored(dir.path());
    let original = ResultDocument::from_json(FIXTURE).expect("fixture parses");
    assert_eq!(doc.cloud, "aws");
    assert_eq!(doc.samples, original.samples);
    assert_eq!(doc.run_id, original.run_id);
    let import = &doc.parameters["import"];
    assert_eq!(import["source"], "paste.txt");
    assert_eq!(import["cloud_in_sandbox"], "local");
}

#[test]
fn plain_json_and_stdin_are_accepted_and_an_earlier_import_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, stderr) = import(dir.path(), FIXTURE);
    assert_eq!(code, 0, "{stderr}");
    // A second paste from another run, through stdin.
    let second = FIXTURE.replace("20261122T120000Z-fix1", "20261122T130000Z-fix2");
    let out = report(dir.path())
        .args(["import", "--cloud", "AWS", "-"])
        .write_stdin(frame(&second))
        .output()
        .expect("run bench-report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stored(dir.path()).run_id, "20261122T130000Z-fix2");
    assert!(
        dir.path()
            .join("outputs/aws/history/20261122T120000Z-fix1/sandbox_performance_manual.json")
            .is_file(),
        "the first import moved to history/"
    );
}

#[test]
fn truncated_pastes_say_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let framed = frame(FIXTURE);
    let cut = &framed[..framed.len() * 2 / 3];
    let message = refused(dir.path(), cut);
    assert!(
        message.starts_with("paste.txt: truncated: the BEGIN line (line 1) has no END line"),
        "{message}"
    );

    let plain_cut = &FIXTURE[..FIXTURE.len() / 2];
    let message = refused(dir.path(), plain_cut);
    assert!(
        message.starts_with("paste.txt: truncated: the document ends early"),
        "{message}"
    );

    let message = refused(dir.path(), "\n  \n");
    assert!(
        message.starts_with("paste.txt: the paste is empty"),
        "{message}"
    );
}

#[test]
fn garbled_pastes_say_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let framed = frame(FIXTURE);
    // A digit changed on the way: still valid JSON, caught by the digest.
    let value_line = framed
        .lines()
        .position(|l| l.contains("\"value\""))
        .expect("a value line");
    let changed: String = framed
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let l = if i == value_line {
                l.replacen(": ", ": 1", 1)
            } else {
                l.to_owned()
            };
            l + "\n"
        })
        .collect();
    let message = refused(dir.path(), &changed);
    assert!(
        message.starts_with("paste.txt: garbled: the document between lines 1 and"),
        "{message}"
    );

    // Without the frame, broken JSON is reported at its line: a lost comma
    // is noticed where the next member starts.
    let broken = FIXTURE.replacen(
        "\"metric\": \"cpu.events_per_second\",",
        "\"metric\": \"cpu.events_per_second\"",
        1,
    );
    let line = broken
        .lines()
        .position(|l| l.contains("\"cpu.events_per_second\""))
        .expect("line")
        + 1;
    let message = refused(dir.path(), &broken);
    assert!(
        message.starts_with(&format!(
            "paste.txt: garbled: not valid JSON at line {} column",
            line + 1
        )),
        "{message}"
    );
    assert_eq!(
        message.matches("line").count(),
        1,
        "location said once: {message}"
    );
}

#[test]
fn wrong_schema_version_and_tier_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut doc: Value = serde_json::from_str(FIXTURE).expect("fixture");
    doc["samples"][1]["unit"] = Value::from(42);
    let message = refused(
        dir.path(),
        &frame(&serde_json::to_string_pretty(&doc).expect("json")),
    );
    assert!(
        message.starts_with("paste.txt: wrong schema: /samples/1/unit: 42 is not of type"),
        "{message}"
    );

    let mut doc: Value = serde_json::from_str(FIXTURE).expect("fixture");
    doc["schema_version"] = Value::from(2);
    let message = refused(dir.path(), &serde_json::to_string(&doc).expect("json"));
    assert!(
        message.starts_with("paste.txt: schema_version 2 is not supported"),
        "{message}"
    );

    let mut doc: Value = serde_json::from_str(FIXTURE).expect("fixture");
    doc["tier"] = Value::from("host");
    doc["suite"] = Value::from("host_performance");
    let message = refused(dir.path(), &serde_json::to_string(&doc).expect("json"));
    assert!(
        message.contains("this is a host document of suite 'host_performance'"),
        "{message}"
    );

    let message = refused(dir.path(), "[1, 2]");
    assert!(
        message.starts_with("paste.txt: wrong schema: no numeric schema_version"),
        "{message}"
    );
}

#[test]
fn bad_cloud_and_missing_file_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = report(dir.path())
        .args(["import", "--cloud", "../x", "paste.txt"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cloud '../x'"));
    let out = report(dir.path())
        .args(["import", "--cloud", "aws", "nope.txt"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.txt: No such file"));
}
