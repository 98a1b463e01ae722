//! bench-report render of the client tier as bench-client writes it: a cold
//! start measured once, 30 warm starts, a concurrency sweep with a different
//! knee per cloud, and pause/resume. The concurrency chart marks each knee
//! at its level, the Markdown has the table, and client metrics get
//! verdicts (a single cold start gets `insufficient`).

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::fixtures::{self, ClientSpec, CloudSpec, KneeParameter};
use support::{csv_rows, report, run};

/// aws (baseline): saturates at 4, knee written by bench-client. gcp: 30%
/// slower, saturates at 2, no knee parameter (the report computes it), and
/// some creates fail past its knee. azure: still growing at 16 (knee
/// `null`), swept with two schedules.
fn fixture_set(root: &Path) {
    let aws = CloudSpec::small("aws", 1.0, 11);
    fixtures::write_cloud(root, &aws);
    fixtures::write_client(root, &aws, &ClientSpec::saturating_at(4));
    let gcp = CloudSpec::small("gcp", 0.7, 12);
    fixtures::write_cloud(root, &gcp);
    fixtures::write_client(
        root,
        &gcp,
        &ClientSpec {
            knee: KneeParameter::Omitted,
            failures_past_saturation: 1,
            ..ClientSpec::saturating_at(2)
        },
    );
    let azure = CloudSpec::small("azure", 1.0, 13);
    fixtures::write_client(
        root,
        &azure,
        &ClientSpec {
            schedules: vec!["burst".to_owned(), "ramp".to_owned()],
            ..ClientSpec::saturating_at(64)
        },
    );
}

fn render(root: &Path, out: &Path) {
    let (code, _, stderr) = run(report(root).arg("render").arg("--output-dir").arg(out));
    assert_eq!(code, 0, "{stderr}");
}

/// The `<figure id="ID">…</figure>` of the page.
fn figure<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<figure class=\"wide\" id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no figure {id}"));
    let len = html[start..].find("</figure>").unwrap();
    &html[start..start + len]
}

/// The `cx` of the circle whose hover title starts with `title`.
fn cx_of(svg: &str, title: &str) -> f64 {
    let at = svg
        .find(&format!("><title>{title}"))
        .unwrap_or_else(|| panic!("no element titled {title:?}"));
    let open = svg[..at].rfind("<circle").unwrap();
    let attr = &svg[open..at];
    let cx = attr.split("cx=\"").nth(1).unwrap();
    cx[..cx.find('"').unwrap()].parse().unwrap()
}

fn csv_row<'a>(
    rows: &'a [BTreeMap<String, String>],
    metric: &str,
    labels: &str,
    cloud: &str,
) -> &'a BTreeMap<String, String> {
    rows.iter()
        .find(|r| r["metric"] == metric && r["labels"] == labels && r["cloud"] == cloud)
        .unwrap_or_else(|| panic!("no CSV row {metric} {labels} {cloud}"))
}

#[test]
fn concurrency_chart_marks_each_clouds_knee() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixture_set(&root);
    render(&root, &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<a href=\"#concurrency\">Concurrency</a>"));

    let burst = figure(&html, "chart-concurrency-base-burst");
    // A line per cloud and panel (throughput, p95 time to interactive).
    assert_eq!(
        burst.matches("<polyline points=").count(),
        6,
        "two lines for each of three clouds"
    );
    for (cloud, colour) in [("aws", "#4e79a7"), ("azure", "#f28e2b"), ("gcp", "#e15759")] {
        assert!(
            burst.contains(&format!("stroke=\"{colour}\" stroke-width=\"2\" stroke-linejoin=\"round\"><title>{cloud}: creates per second</title>")),
            "{cloud}'s throughput line in its colour"
        );
        assert!(burst.contains(&format!("<title>{cloud}: p95 time to interactive</title>")));
    }
    // The knee ring sits on the knee level's point: aws at 4 (bench-client
    // said so), gcp at 2 (computed), azure none (still growing).
    assert_eq!(
        cx_of(burst, "aws: knee at concurrency 4 (bench-client)"),
        cx_of(burst, "aws · concurrency 4: ")
    );
    assert_eq!(
        cx_of(burst, "gcp: knee at concurrency 2 (computed)"),
        cx_of(burst, "gcp · concurrency 2: ")
    );
    assert!(!burst.contains("<title>azure: knee"), "azure has no knee");
    assert!(burst.contains(">knee 4</text>") && burst.contains(">knee 2</text>"));
    assert!(
        cx_of(burst, "aws · concurrency 4: ") < cx_of(burst, "aws · concurrency 8: "),
        "levels left to right"
    );

    // azure swept two schedules: a chart each, its `null` knee is ambiguous
    // and computed (still growing either way).
    let ramp = figure(&html, "chart-concurrency-base-ramp");
    assert!(ramp.contains("<title>azure: creates per second</title>"));
    assert!(!ramp.contains("<title>aws:"), "only azure swept ramp");
    assert!(html.contains(">none (still growing at 16)</td>"));

    // The lifecycle charts stay about cold and warm at concurrency 1.
    for id in ["chart-start-latency", "chart-phases"] {
        let chart = figure(&html, id);
        assert!(!chart.contains("schedule"), "{id}: {chart}");
        assert!(!chart.contains("concurrency="), "{id}: {chart}");
        assert!(
            chart.contains("mode=cold") && chart.contains("mode=warm"),
            "{id}"
        );
    }
    // A single cold start is a diamond, not a box.
    let boxes = figure(&html, "chart-start-latency");
    assert!(
        boxes.contains("aws · mode=cold: a single observation"),
        "{boxes}"
    );
    assert!(boxes.contains("aws · mode=warm: median "));
    // Pause and resume: one grouped bar chart in the client section.
    let pause = &html[html
        .find("id=\"chart-client-pause-resume\"")
        .expect("pause chart")..];
    assert!(pause.contains("resume_command_ms"));
    // A success rate below 100% is highlighted.
    assert!(
        html.contains("<div class=\"sub fail\">success 93.8%</div>"),
        "gcp fails 8 of 128 creates at 16"
    );
    assert!(html.contains("class=\"flagged\""));
}

#[test]
fn markdown_has_the_concurrency_table() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixture_set(&root);
    render(&root, &out);
    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    let table = &md[md
        .find("### Concurrency · schedule=burst, template=base")
        .expect("the burst table")..];
    let table = &table[..table.find("\n\n###").unwrap_or(table.len())];
    let lines: Vec<&str> = table.lines().filter(|l| l.starts_with('|')).collect();
    assert_eq!(lines[0], "| concurrency | aws (baseline) | azure | gcp |");
    assert_eq!(lines.len(), 2 + 5 + 1, "header, 5 levels, knee: {table}");
    assert_eq!(
        lines[7],
        "| **knee** | 4 | none (still growing at 16) | 2 (computed) |"
    );
    let level = |n: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("| {n} ")))
            .unwrap_or_else(|| panic!("no level {n}: {table}"))
            .split(" | ")
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // Columns: level, aws, azure, gcp.
    assert!(level("4")[1].contains("◆ knee"), "{:?}", level("4"));
    assert!(!level("4")[2].contains("knee"));
    assert!(level("2")[3].contains("◆ knee"), "{:?}", level("2"));
    assert!(level("1")[1].contains("sandboxes/s · p95 TTI ") && level("1")[1].contains(" · 100%"));
    assert!(level("16")[0].ends_with('⚠'), "gcp failed creates at 16");
    assert!(level("16")[3].contains("⚠ **93.8%**"), "{:?}", level("16"));
    // Success-rate rows of the client section: a percentage, flagged below 100%.
    assert!(
        md.contains("| sandbox.success_rate ↑ ⚠ | concurrency=16, schedule=burst, template=base |")
    );
}

#[test]
fn client_metrics_get_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixture_set(&root);
    render(&root, &out);
    let rows = csv_rows(&std::fs::read_to_string(out.join("report.csv")).unwrap());
    let verdict = |metric: &str, labels: &str, cloud: &str| {
        csv_row(&rows, metric, labels, cloud)["verdict"].clone()
    };
    let warm = "concurrency=1, mode=warm, template=base";
    let cold = "concurrency=1, mode=cold, template=base";
    // 30 warm starts, gcp 30% slower: worse; azure as fast: same.
    assert_eq!(verdict("sandbox.create_ms", warm, "gcp"), "worse");
    assert_eq!(
        verdict("sandbox.time_to_interactive_ms", warm, "gcp"),
        "worse"
    );
    assert_eq!(verdict("sandbox.create_ms", warm, "azure"), "same");
    // One cold start each: shown, but never a verdict.
    for cloud in ["gcp", "azure"] {
        let row = csv_row(&rows, "sandbox.create_ms", cold, cloud);
        assert_eq!(row["verdict"], "insufficient", "{row:?}");
        assert_eq!(row["n"], "1");
        assert!(row["value"].parse::<f64>().unwrap() > 0.0);
    }
    // Throughput: higher is better (8 repetitions a level).
    let burst = |n: &str| format!("concurrency={n}, schedule=burst, template=base");
    assert_eq!(
        verdict("sandbox.creates_per_second", &burst("16"), "azure"),
        "better"
    );
    assert_eq!(
        verdict("sandbox.creates_per_second", &burst("4"), "gcp"),
        "worse"
    );
    // Success rate of 0/1 attempts: a verdict, higher is better.
    assert_eq!(verdict("sandbox.success_rate", warm, "gcp"), "same");
    let failing = csv_row(&rows, "sandbox.success_rate", &burst("16"), "gcp");
    assert!(
        ["same", "worse"].contains(&failing["verdict"].as_str()),
        "{failing:?}"
    );
    assert_eq!(failing["value"], "0.9375");
    // 429 counts are informational.
    assert_eq!(
        verdict("sandbox.rate_limited", &burst("16"), "gcp"),
        "informational"
    );

    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    let cold_row = md
        .lines()
        .find(|l| l.starts_with("| sandbox.create_ms ↓ | concurrency=1, mode=cold"))
        .expect("the cold create row");
    assert_eq!(cold_row.matches("· insufficient").count(), 2, "{cold_row}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<span class=\"badge insufficient\""));
}

#[test]
fn compare_gives_a_single_cold_start_no_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let client = ClientSpec::saturating_at(4);
    fixtures::write_client(&a, &CloudSpec::small("aws", 1.0, 1), &client);
    fixtures::write_client(&b, &CloudSpec::small("aws", 0.5, 2), &client);
    let (code, stdout, stderr) = run(report(dir.path())
        .arg("compare")
        .arg(&a)
        .arg(&b)
        .args(["--format", "json"]));
    assert_eq!(code, 1, "warm starts twice as slow regress: {stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let verdict = |metric: &str, labels: &str| {
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["metric"] == metric && r["labels"] == labels)
            .unwrap_or_else(|| panic!("no row {metric} {labels}"))["verdict"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        verdict(
            "sandbox.create_ms",
            "concurrency=1, mode=cold, template=base"
        ),
        "insufficient"
    );
    assert_eq!(
        verdict(
            "sandbox.create_ms",
            "concurrency=1, mode=warm, template=base"
        ),
        "regression"
    );
    assert_eq!(
        verdict(
            "sandbox.rate_limited",
            "concurrency=16, schedule=burst, template=base"
        ),
        "informational"
    );
}
