//! bench-report render: a multi-cloud fixture set (with hostile strings, a
//! truncated file and a future schema version) to Markdown, HTML and CSV.

mod support;

use std::path::Path;

use support::fixtures::{self, CloudSpec, HOSTILE};
use support::{csv_rows, report, run};

/// aws (baseline), gcp 15% slower with another template kernel, azure 20%
/// faster, and a cloud whose strings are all hostile; plus two bad files.
fn fixture_set(root: &Path) {
    fixtures::write_cloud(root, &CloudSpec::small("aws", 1.0, 1));
    fixtures::write_cloud(
        root,
        &CloudSpec {
            template_kernel: "6.1.90".to_owned(),
            ..CloudSpec::small("gcp", 0.85, 2)
        },
    );
    fixtures::write_cloud(root, &CloudSpec::small("azure", 1.2, 3));
    fixtures::write_cloud(
        root,
        &CloudSpec {
            hostile: true,
            ..CloudSpec::small("hostile", 1.0, 4)
        },
    );
    let text = std::fs::read_to_string(root.join("aws/04_host_performance.json")).unwrap();
    std::fs::write(root.join("aws/99_truncated.json"), &text[..text.len() / 3]).unwrap();
    std::fs::write(
        root.join("gcp/07_future.json"),
        text.replacen("\"schema_version\":1", "\"schema_version\":9", 1),
    )
    .unwrap();
}

fn render(root: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    run(report(root)
        .arg("render")
        .arg("--output-dir")
        .arg(out)
        .args(extra))
}

fn find<'a>(
    rows: &'a [std::collections::BTreeMap<String, String>],
    metric: &str,
    labels_contain: &str,
    cloud: &str,
) -> &'a std::collections::BTreeMap<String, String> {
    rows.iter()
        .find(|r| {
            r["metric"] == metric && r["labels"].contains(labels_contain) && r["cloud"] == cloud
        })
        .unwrap_or_else(|| panic!("no CSV row {metric} {labels_contain} {cloud}"))
}

#[test]
fn renders_every_format_from_a_multi_cloud_set() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixture_set(&root);
    let (code, _, stderr) = render(&root, &out, &[]);
    assert_eq!(code, 0, "{stderr}");

    // Bad files are warnings that name them, never fatal.
    assert!(
        stderr.contains("99_truncated.json") && stderr.contains("truncated"),
        "{stderr}"
    );
    assert!(
        stderr.contains("07_future.json") && stderr.contains("schema_version 9 is not supported"),
        "{stderr}"
    );

    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();

    // HTML: self-contained, balanced, every chart present, no script at all.
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("<script"),
        "a hostile string reached the HTML as markup"
    );
    assert!(
        html.contains("&lt;script&gt;alert"),
        "hostile text is shown, escaped"
    );
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no external assets"
    );
    for tag in ["table", "section", "svg", "figure"] {
        assert_eq!(
            html.matches(&format!("<{tag}")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}> balanced"
        );
    }
    for id in [
        "chart-start-latency",
        "chart-phases",
        "chart-host-disk-latency-us",
        "chart-sandbox-cpu-events-per-second",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(html.matches("<svg").count() >= 10);
    assert!(
        html.contains("99_truncated.json"),
        "warnings are in the page"
    );
    assert!(
        html.contains("Templates differ across clouds"),
        "drift is flagged"
    );
    assert!(html.contains("<span class=\"flag\">differs</span>"));
    assert!(html.contains("id=\"sandbox-host\""));

    // Markdown: hostile text inert, tables intact.
    assert!(!md.contains("<script"), "{md}");
    assert!(md.contains("&lt;script&gt;"));
    let pipes = |line: &str| {
        let b = line.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    for table in md.split("\n\n").filter(|t| t.starts_with('|')) {
        let counts: Vec<usize> = table.lines().map(pipes).collect();
        assert!(
            counts.iter().all(|&c| c == counts[0]),
            "a table row has a different column count: {table}"
        );
    }
    assert!(md.contains("## Sandbox ÷ host"));
    assert!(md.contains("## Template drift"));
    assert!(!md.contains("alias-aws"), "aliases are not compared");

    // CSV: strict RFC 4180, the numbers and verdicts.
    let rows = csv_rows(&csv);
    let tti = "sandbox.time_to_interactive_ms";
    assert_eq!(find(&rows, tti, "mode=cold", "aws")["verdict"], "baseline");
    assert_eq!(find(&rows, tti, "mode=cold", "aws")["is_baseline"], "true");
    assert_eq!(find(&rows, tti, "mode=cold", "gcp")["verdict"], "worse");
    assert_eq!(find(&rows, tti, "mode=cold", "azure")["verdict"], "better");
    assert_eq!(find(&rows, tti, "mode=cold", "azure")["best"], "true");
    let ratio: f64 = find(&rows, tti, "mode=cold", "gcp")["ratio_to_baseline"]
        .parse()
        .unwrap();
    assert!((1.1..1.3).contains(&ratio), "gcp is 1/0.85 slower: {ratio}");
    let p: f64 = find(&rows, tti, "mode=cold", "gcp")["p_value"]
        .parse()
        .unwrap();
    assert!(p < 0.01, "{p}");
    // Throughputs: higher is better.
    let cpu = find(&rows, "cpu.events_per_second", "threads=1", "azure");
    assert_eq!(
        cpu["verdict"],
        "better",
        "{cpu:?} {:?}",
        find(&rows, "cpu.events_per_second", "threads=1", "aws")
    );
    // Rootfs reads line up by template across clouds although each cloud
    // has its own build ids.
    let rootfs = "templates.rootfs_read_bandwidth_bytes_per_second";
    for cloud in ["aws", "gcp", "azure"] {
        let row = find(&rows, rootfs, "cache=cold", cloud);
        assert_eq!(row["labels"], "cache=cold, template_id=base", "{row:?}");
    }
    assert_eq!(
        rows.iter()
            .filter(|r| r["metric"] == rootfs && r["cloud"] == "aws")
            .count(),
        1
    );
    // A hostile label survives the round trip, byte for byte.
    let hostile = rows
        .iter()
        .find(|r| r["metric"] == "network.dns_ms" && r["cloud"] == "hostile")
        .expect("the hostile cloud's network row");
    assert_eq!(hostile["labels"], format!("target={HOSTILE}"));
    // Every row of the truncated/future files is absent; every good cloud is present.
    for cloud in ["aws", "gcp", "azure", "hostile"] {
        assert!(rows.iter().any(|r| r["cloud"] == cloud), "{cloud}");
    }
}

#[test]
fn csv_cells_that_look_like_formulas_are_defused() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    let spec = CloudSpec::small("aws", 1.0, 1);
    let mut doc = fixtures::sandbox(&spec);
    doc.samples[0].labels.clear();
    doc.samples[0]
        .labels
        .insert("=HYPERLINK(\"http://x\")".to_owned(), "1".to_owned());
    std::fs::create_dir_all(root.join("aws")).unwrap();
    std::fs::write(
        root.join("aws/03_sandbox_performance.json"),
        serde_json::to_vec(&doc).unwrap(),
    )
    .unwrap();
    let (code, _, stderr) = render(&root, &out, &["--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let rows = csv_rows(&std::fs::read_to_string(out.join("report.csv")).unwrap());
    assert_eq!(rows[0]["labels"], "'=HYPERLINK(\"http://x\")=1");
    assert!(
        !out.join("report.html").exists(),
        "--format csv writes only the CSV"
    );
}

#[test]
fn baseline_clouds_and_formats_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixture_set(&root);
    let (code, _, stderr) = render(
        &root,
        &out,
        &[
            "--baseline",
            "gcp",
            "--clouds",
            "gcp,aws",
            "--format",
            "csv,md",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let rows = csv_rows(&std::fs::read_to_string(out.join("report.csv")).unwrap());
    assert!(
        rows.iter()
            .all(|r| r["cloud"] == "gcp" || r["cloud"] == "aws")
    );
    let tti = find(&rows, "sandbox.time_to_interactive_ms", "mode=cold", "aws");
    assert_eq!(tti["verdict"], "better", "aws against the slower gcp");
    assert!(!out.join("report.html").exists());
    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    assert!(md.contains("baseline **gcp**"), "{md}");

    for (args, expect) in [
        (
            vec!["--baseline", "oracle"],
            "--baseline oracle: no results for that cloud",
        ),
        (
            vec!["--clouds", "aws,oracle"],
            "--clouds oracle: no results for that cloud",
        ),
        (vec!["--noise-threshold", "lots"], "--noise-threshold lots"),
        (vec!["--significance", "2"], "--significance 2"),
    ] {
        let (code, _, stderr) = render(&root, &out, &args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        let last = stderr.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("bench-report: error: "),
            "{args:?}: {stderr}"
        );
        assert!(last.contains(expect), "{args:?}: {stderr}");
        assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    }
}

#[test]
fn user_templates_replace_built_in_ones_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixture_set(&root);
    let templates = dir.path().join("my-templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("report.html.tera"),
        "<h1>{{ baseline }} vs {{ cloud_names | length - 1 }}</h1>{% for c in clouds %}<p>{{ c.name }} {{ c.best }}</p>{% endfor %}{{ environment[0].values[3] }}",
    )
    .unwrap();
    let (code, _, stderr) = render(&root, &out, &["--templates", templates.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.starts_with("<h1>aws vs 3</h1>"), "{html}");
    assert!(
        !html.contains("<script"),
        "user templates are autoescaped too: {html}"
    );
    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    assert!(
        md.starts_with("# E2B cluster benchmark"),
        "the built-in Markdown stays"
    );

    // A template error names the template and exits 2, before anything is written.
    std::fs::write(templates.join("report.html.tera"), "{% for c in clouds %}").unwrap();
    let fresh = dir.path().join("fresh");
    let (code, _, stderr) = render(&root, &fresh, &["--templates", templates.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("report.html.tera"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!fresh.exists());
    // A variable the model does not have: exit 2 naming it.
    std::fs::write(templates.join("report.html.tera"), "{{ no_such_field }}").unwrap();
    let (code, _, stderr) = render(&root, &fresh, &["--templates", templates.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no_such_field"), "{stderr}");
    let (code, _, stderr) = render(&root, &fresh, &["--templates", "/no/such/dir"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--templates /no/such/dir"), "{stderr}");
}

#[test]
fn nothing_usable_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    std::fs::create_dir_all(root.join("aws")).unwrap();
    std::fs::write(root.join("aws/broken.json"), "{").unwrap();
    let (code, _, stderr) = render(&root, &dir.path().join("r"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no usable result documents"), "{stderr}");
    let (code, _, stderr) = render(&dir.path().join("missing"), &dir.path().join("r"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a directory"), "{stderr}");
}

/// The permutation test's shortcuts (the tail bound, the early stop) decide
/// exactly as drawing all 9999 splits does: the verdict column of report.csv
/// is the same with `--exhaustive-resampling`, on the fixture set plus clouds
/// 1–10% from the baseline (around the 5% noise threshold and p = 0.01).
#[test]
fn shortcuts_keep_every_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fixture_set(&root);
    for (i, speed) in [0.99, 0.97, 0.955, 0.94, 0.9, 1.01, 1.045, 1.06]
        .iter()
        .enumerate()
    {
        let name = format!("near{i}");
        fixtures::write_cloud(&root, &CloudSpec::small(&name, *speed, 10 + i as u64));
    }
    let (fast, full) = (dir.path().join("fast"), dir.path().join("full"));
    let (code, _, stderr) = render(&root, &fast, &["--format", "csv"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = render(
        &root,
        &full,
        &["--format", "csv", "--exhaustive-resampling"],
    );
    assert_eq!(code, 0, "{stderr}");
    let fast = csv_rows(&std::fs::read_to_string(fast.join("report.csv")).unwrap());
    let full = csv_rows(&std::fs::read_to_string(full.join("report.csv")).unwrap());
    assert_eq!(fast.len(), full.len());
    let (mut tested, mut shortened) = (0, 0);
    for (f, e) in fast.iter().zip(&full) {
        let key = (&f["metric"], &f["labels"], &f["cloud"]);
        assert_eq!(key, (&e["metric"], &e["labels"], &e["cloud"]));
        assert_eq!(f["verdict"], e["verdict"], "{key:?}");
        if !e["p_value"].is_empty() {
            tested += 1;
            shortened += usize::from(f["p_value"] != e["p_value"]);
        }
    }
    // Many tests, and the shortcuts changed some p-values (so they ran).
    assert!(tested > 100, "{tested}");
    assert!(shortened > 10, "{shortened} of {tested}");
}
