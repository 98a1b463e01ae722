//! bench-report validate: files against the published JSON Schema.

mod support;

use support::fixtures::{self, CloudSpec};
use support::{report, run};

#[test]
fn reports_each_invalid_file_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fixtures::write_cloud(&root, &CloudSpec::small("aws", 1.0, 1));
    let good = root.join("aws/04_host_performance.json");
    let text = std::fs::read_to_string(&good).unwrap();
    let mut wrong: serde_json::Value = serde_json::from_str(&text).unwrap();
    wrong["samples"][0]["value"] = "fast".into();
    std::fs::write(root.join("aws/wrong.json"), wrong.to_string()).unwrap();
    std::fs::write(root.join("aws/cut.json"), &text[..100]).unwrap();
    std::fs::write(
        root.join("aws/future.json"),
        text.replacen("\"schema_version\":1", "\"schema_version\":2", 1),
    )
    .unwrap();

    let (code, stdout, stderr) = run(report(&root).arg("validate"));
    assert_eq!(code, 1, "{stdout}{stderr}");
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for {name}: {stdout}"))
            .to_owned()
    };
    assert!(line("04_host_performance.json").starts_with("ok "));
    assert!(
        line("06_templates.json").starts_with("ok "),
        "inventories are valid documents"
    );
    assert!(line("wrong.json").contains("/samples/0/value: \"fast\" is not of type \"number\""));
    assert!(line("cut.json").contains("truncated"));
    assert!(line("future.json").contains("schema_version 2 is not supported"));

    let (code, stdout, _) = run(report(&root).arg("validate").arg(&good));
    assert_eq!(code, 0, "{stdout}");
    let (code, stdout, _) = run(report(&root).args(["-q", "validate"]).arg(&good));
    assert_eq!((code, stdout.as_str()), (0, ""), "-q prints only problems");

    let (code, _, stderr) = run(report(&root).args(["validate", "/no/such/file.json"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("/no/such/file.json: no such file"),
        "{stderr}"
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let (code, _, stderr) = run(report(&root).arg("validate").arg(&empty));
    assert_eq!(code, 2);
    assert!(stderr.contains("no JSON files to validate"), "{stderr}");
}

#[test]
fn a_summary_named_on_the_command_line_is_checked_as_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("summary_report.json");
    std::fs::write(
        &good,
        r#"{"schema":"e2b-bench-summary/1","cloud":"aws","templates":{}}"#,
    )
    .unwrap();
    let future = dir.path().join("future_summary.json");
    std::fs::write(
        &future,
        r#"{"schema":"e2b-bench-summary/9","cloud":"aws","templates":{}}"#,
    )
    .unwrap();
    let (code, stdout, stderr) = run(report(dir.path()).arg("validate").arg(&good));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.starts_with("ok "), "{stdout}");
    let (code, stdout, stderr) = run(report(dir.path()).arg("validate").arg(&future));
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.contains("summary schema 'e2b-bench-summary/9' is not supported"),
        "{stdout}"
    );
}
