//! bench-client's `summary_report.json` beside the result documents: not a
//! result document, never a skipped file or a warning, linked per cloud from
//! the HTML and Markdown reports, listed by `list`, ignored by `compare`.

mod support;

use std::path::Path;

use serde_json::json;
use support::fixtures::{self, CloudSpec};
use support::{report, run};

/// A summary shaped as bench-client writes it (`e2b-bench-summary/1`).
fn write_summary(dir: &Path, run_id: &str, generated_at: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let summary = json!({
        "schema": "e2b-bench-summary/1",
        "tool": {"name": "bench-client", "version": "0.1.0"},
        "cloud": "aws",
        "run_id": run_id,
        "run_ids": [run_id],
        "generated_at": generated_at,
        "sources": ["01_cold_start.json", "01_warm_start.json"],
        "templates": {"base": {
            "cold": {"source": "01_cold_start.json",
                     "create_ms": {"n": 1, "mean": 7512.0, "p50": 7512.0, "p95": 7512.0, "p99": 7512.0},
                     "time_to_interactive_ms": null, "success_rate": 1.0, "attempts": 1,
                     "notes": ["one cold start: a single observation carries no spread"]},
            "warm": null, "concurrency": null}},
        "cpu_sandbox_vs_host": {"sandbox_source": null, "host_source": null, "ratios": null,
                                "reason": "no sandbox result"},
        "notes": []
    });
    std::fs::write(
        dir.join("summary_report.json"),
        serde_json::to_vec_pretty(&summary).unwrap(),
    )
    .unwrap();
}

/// The HTML with Tera's `&#x2F;` turned back into `/`.
fn unslash(html: &str) -> String {
    html.replace("&#x2F;", "/")
}

#[test]
fn summary_is_linked_per_cloud_without_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fixtures::write_cloud(&root, &CloudSpec::small("aws", 1.0, 1));
    fixtures::write_cloud(&root, &CloudSpec::small("gcp", 0.85, 2));
    write_summary(
        &root.join("aws"),
        "20261122T101500Z-aws",
        "2026-11-22T10:30:00Z",
    );
    // An earlier summary in history/ is not linked.
    write_summary(
        &root.join("gcp/history/run-0"),
        "run-0",
        "2026-11-21T10:30:00Z",
    );

    // The contract's layout: reports in <input>/reports/.
    let out = root.join("reports");
    let (code, _, stderr) = run(report(&root).arg("render").arg("--output-dir").arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("summary_report"), "{stderr}");
    assert!(!stderr.contains("skipping"), "{stderr}");

    let html = unslash(&std::fs::read_to_string(out.join("report.html")).unwrap());
    assert!(
        html.contains("<dt>summary</dt><dd><a href=\"../aws/summary_report.json\">summary_report.json</a></dd>"),
        "the aws card links its summary"
    );
    assert_eq!(
        html.matches("summary_report.json</a>").count(),
        1,
        "gcp has no current summary"
    );
    assert!(
        !html.contains("class=\"warnings\""),
        "no warning section: nothing was skipped"
    );
    let before = &html[..html.find(" files skipped.").expect("the footer's count")];
    let count = before.rsplit(char::is_whitespace).next().unwrap();
    assert_eq!(count, "0", "nothing was skipped");

    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    assert!(
        md.contains(
            "Headline figures per cloud (`summary_report.json`): [aws](../aws/summary_report.json)\n"
        ),
        "{md}"
    );
    assert!(!md.contains("gcp/"), "{md}");
    assert!(!md.contains("warning"), "{md}");

    // The CSV is rows of result documents only.
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    assert!(!csv.contains("summary_report"), "{csv}");

    // Reports elsewhere: the link is the relative path from there.
    let elsewhere = dir.path().join("site/reports");
    let (code, _, stderr) = run(report(&root)
        .arg("render")
        .arg("--format")
        .arg("md,html")
        .arg("--output-dir")
        .arg(&elsewhere));
    assert_eq!(code, 0, "{stderr}");
    let md = std::fs::read_to_string(elsewhere.join("visual_report.md")).unwrap();
    assert!(
        md.contains("[aws](../../outputs/aws/summary_report.json)"),
        "{md}"
    );
}

#[test]
fn a_summary_only_directory_and_odd_cloud_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    // A cloud name that is markup in HTML and a link end in Markdown.
    let odd = "we ird<b>[x](y)";
    fixtures::write_cloud(&root, &CloudSpec::small(odd, 1.0, 1));
    write_summary(&root.join(odd), "r1", "2026-11-22T10:30:00Z");
    // A cloud with only a summary has no documents: not a cloud of the report.
    write_summary(&root.join("lonely"), "r2", "2026-11-22T10:30:00Z");

    let out = root.join("reports");
    let (code, _, stderr) = run(report(&root).arg("render").arg("--output-dir").arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("summary_report"), "{stderr}");
    let encoded = "../we%20ird%3Cb%3E%5Bx%5D%28y%29/summary_report.json";
    let html = unslash(&std::fs::read_to_string(out.join("report.html")).unwrap());
    assert!(html.contains(&format!("<a href=\"{encoded}\">")), "{html}");
    assert!(!html.contains("<b>[x]"), "the name is text, not markup");
    assert!(!html.contains("lonely"));
    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    assert!(
        md.contains(&format!("[we ird&lt;b&gt;\\[x\\](y)]({encoded})")),
        "{md}"
    );

    // Only summaries: nothing to report, said as before.
    let bare = dir.path().join("bare");
    write_summary(&bare.join("aws"), "r3", "2026-11-22T10:30:00Z");
    let (code, _, stderr) = run(report(&bare)
        .arg("render")
        .arg("--output-dir")
        .arg(dir.path().join("r")));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no usable result documents"), "{stderr}");
    assert!(!stderr.contains("skipping"), "{stderr}");
}

#[test]
fn list_shows_summaries_and_compare_ignores_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fixtures::write_cloud(&root, &CloudSpec::small("aws", 1.0, 1));
    fixtures::write_cloud(&root, &CloudSpec::small("gcp", 1.0, 2));
    write_summary(
        &root.join("aws"),
        "20261122T101500Z-aws",
        "2026-11-22T10:30:00Z",
    );
    write_summary(
        &root.join("aws/history/run-0"),
        "run-0",
        "2026-11-21T10:30:00Z",
    );
    std::fs::write(root.join("gcp/summary_report.json"), "{not json").unwrap();

    let (code, stdout, stderr) = run(report(&root).arg("list"));
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let summaries: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("summary_report.json"))
        .collect();
    assert_eq!(
        summaries.len(),
        1,
        "the current aws summary only:\n{stdout}"
    );
    let row = summaries[0];
    assert!(row.starts_with("aws") && row.contains(" summary "), "{row}");
    assert!(row.contains("20261122T101500Z-aws") && row.contains("bench-client 0.1.0"));
    // It follows aws's results, before gcp's.
    let at = lines.iter().position(|l| l == row).unwrap();
    assert!(lines[at - 1].starts_with("aws") && lines[at + 1].starts_with("gcp"));
    // A summary that is not JSON is a warning of list, naming it.
    assert!(
        stderr.contains("gcp/summary_report.json") && stderr.contains("not a valid summary"),
        "{stderr}"
    );

    let (code, stdout, _) = run(report(&root).arg("list").arg("--history"));
    assert_eq!(code, 0);
    assert_eq!(stdout.matches("summary_report.json").count(), 2, "{stdout}");

    // compare of two directories: the summaries are not documents to skip.
    let b = dir.path().join("b");
    fixtures::write_cloud(&b, &CloudSpec::small("aws", 1.0, 3));
    write_summary(&b.join("aws"), "run-b", "2026-11-22T10:30:00Z");
    let (code, _, stderr) = run(report(&root)
        .arg("compare")
        .arg(root.join("aws"))
        .arg(b.join("aws")));
    assert!(code == 0 || code == 1, "{stderr}");
    assert!(!stderr.contains("summary_report"), "{stderr}");
}
