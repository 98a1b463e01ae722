//! bench-report render of `05_cloud_storage.json` as `bench-host storage`
//! writes it (the fixtures are real probe output: aws against an S3 server,
//! azure against Azurite): the storage section has one table per chunk size
//! with a row per concurrency, p50/p95 latency and throughput with
//! verdicts, each cloud's backend, and a throughput-vs-concurrency chart
//! with a line per cloud. Storage rows line up across clouds although their
//! `backend` labels differ.

mod support;

use std::path::{Path, PathBuf};

use support::{report, run};

fn fixtures(root: &Path) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/storage");
    for cloud in ["aws", "azure"] {
        std::fs::create_dir_all(root.join(cloud)).unwrap();
        std::fs::copy(
            src.join(cloud).join("05_cloud_storage.json"),
            root.join(cloud).join("05_cloud_storage.json"),
        )
        .unwrap();
    }
}

fn render() -> (String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fixtures(&root);
    let out = dir.path().join("reports");
    let (code, _, stderr) = run(report(&root)
        .arg("render")
        .arg("--baseline")
        .arg("aws")
        .arg("--output-dir")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap();
    (
        read("report.html"),
        read("visual_report.md"),
        read("report.csv"),
    )
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let at = text.find(start).unwrap_or_else(|| panic!("no {start}"));
    let len = text[at..].find(end).unwrap_or(text.len() - at);
    &text[at..at + len]
}

#[test]
fn storage_section_has_levels_verdicts_and_a_chart_per_cloud() {
    let (html, md, csv) = render();
    assert!(html.contains(r##"<a href="#storage">Cloud storage</a>"##));
    let section = between(&html, r#"<section id="storage">"#, "</section>");
    // One set: 1 MiB ranges of the 16 MiB object (--quick sizes).
    assert_eq!(section.matches("<table class=\"storage\"").count(), 1);
    assert!(
        section.contains("1.00 MiB ranges of a 16.0 MiB object"),
        "{section}"
    );
    let table = between(section, "<table class=\"storage\"", "</table>");
    assert!(
        table.contains("<td class=\"num\">s3</td><td class=\"num\">azure</td>"),
        "{table}"
    );
    for level in ["1", "8", "32"] {
        assert!(
            table.contains(&format!("<tr><td class=\"num\">{level}</td>")),
            "level {level}: {table}"
        );
    }
    assert_eq!(table.matches("p50 ").count(), 6, "3 levels × 2 clouds");
    let body = between(table, "<tbody>", "</tbody>");
    assert_eq!(
        body.matches("<span class=\"tag\">baseline</span>").count(),
        6
    );
    // Five rounds a level: enough observations for a throughput verdict.
    let verdicts = body.matches("class=\"badge better\"").count()
        + body.matches("class=\"badge worse\"").count()
        + body.matches("class=\"badge same\"").count();
    assert_eq!(
        verdicts, 6,
        "azure: a latency and a throughput verdict per level: {table}"
    );
    assert!(!body.contains("insufficient"), "{body}");
    // The chart: two panels, one line per cloud each, a dot per level.
    let figure = between(section, "<figure", "</figure>");
    assert!(figure.contains("Cloud storage · 1.00 MiB ranges of a 16.0 MiB object"));
    assert!(
        figure.contains("aws (s3)") && figure.contains("azure (azure)"),
        "{figure}"
    );
    assert_eq!(figure.matches("<polyline").count(), 4, "{figure}");
    assert_eq!(figure.matches("aws · concurrency 32:").count(), 2);
    // The ordinary rows line up across clouds: no backend in their labels,
    // so azure's cells are compared with aws's.
    let host_storage = between(&html, r#"<section id="host-storage""#, "</section>");
    assert!(!host_storage.contains("backend=s3"), "{host_storage}");
    assert!(host_storage.contains("concurrency=32"));
    // Markdown: the same table.
    let md_section = between(&md, "## Cloud storage", "\n## ");
    assert!(md_section.contains("### Cloud storage · 1.00 MiB ranges of a 16.0 MiB object"));
    assert!(
        md_section.contains("| backend | s3 | azure |"),
        "{md_section}"
    );
    assert_eq!(md_section.matches("· p50 ").count(), 6, "{md_section}");
    assert!(md_section.contains("| 32 |"));
    // CSV rows carry the storage metrics too.
    assert!(csv.contains("storage.range_get_latency_ms"));
}
