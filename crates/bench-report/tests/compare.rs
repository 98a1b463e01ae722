//! bench-report compare: the CI regression gate flags a planted 10%
//! regression, passes a rerun of the same configuration, and says clearly
//! what is wrong with its arguments.

mod support;

use std::path::Path;

use serde_json::Value;
use support::fixtures::{self, CloudSpec};
use support::{report, run};

/// Long enough series that a 5% change is well beyond the noise of a mean
/// (the gate's false-alarm rate on a rerun is then that of p < 0.01 on the
/// few short series only).
fn spec(seed: u64, speed: f64, run_id: &str) -> CloudSpec {
    CloudSpec {
        run_id: run_id.to_owned(),
        disk_raw: 4000,
        start_raw: 2000,
        ..CloudSpec::small("aws", speed, seed)
    }
}

fn compare(input: &Path, a: &Path, b: &Path, extra: &[&str]) -> (i32, String, String) {
    run(report(input).arg("compare").arg(a).arg(b).args(extra))
}

fn json_rows(stdout: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(stdout).expect("compare --format json prints JSON");
    v["rows"].as_array().unwrap().clone()
}

fn verdict_of<'a>(rows: &'a [Value], metric: &str, labels_contain: &str) -> &'a str {
    rows.iter()
        .find(|r| r["metric"] == metric && r["labels"].as_str().unwrap().contains(labels_contain))
        .unwrap_or_else(|| panic!("no row {metric} {labels_contain}"))["verdict"]
        .as_str()
        .unwrap()
}

#[test]
fn flags_a_planted_regression_and_passes_a_rerun() {
    let dir = tempfile::tempdir().unwrap();
    let (a, slow, rerun) = (
        dir.path().join("a"),
        dir.path().join("slow"),
        dir.path().join("rerun"),
    );
    fixtures::write_cloud(&a, &spec(1, 1.0, "run-a"));
    // 10% slower: latencies × 1.1, throughputs ÷ 1.1.
    fixtures::write_cloud(&slow, &spec(2, 1.0 / 1.1, "run-slow"));
    // The same configuration measured again: other random draws.
    fixtures::write_cloud(&rerun, &spec(3, 1.0, "run-rerun"));

    let (code, stdout, stderr) = compare(dir.path(), &a, &slow, &["--format", "json"]);
    assert_eq!(code, 1, "a regression exits 1: {stderr}");
    let rows = json_rows(&stdout);
    for (metric, labels) in [
        ("sandbox.time_to_interactive_ms", "mode=cold"),
        ("sandbox.create_ms", "mode=warm"),
        ("cpu.events_per_second", "threads=1"),
        ("disk.iops", "pattern=randread"),
        ("memory.bandwidth_bytes_per_second", "op=triad"),
    ] {
        assert_eq!(
            verdict_of(&rows, metric, labels),
            "regression",
            "{metric} {labels}"
        );
    }
    let changed = rows
        .iter()
        .find(|r| r["metric"] == "sandbox.time_to_interactive_ms")
        .unwrap();
    let change = changed["change"].as_f64().unwrap();
    assert!((0.05..0.2).contains(&change), "{change}");
    assert!(changed["p_value"].as_f64().unwrap() < 0.01);
    assert_eq!(
        verdict_of(&rows, "hugepages.total", ""),
        "informational",
        "a configuration figure is never a regression"
    );
    assert!(stderr.contains("regressions"), "{stderr}");

    // The other direction is an improvement, not a regression.
    let (code, stdout, _) = compare(dir.path(), &slow, &a, &["--format", "json"]);
    assert_eq!(code, 0);
    let rows = json_rows(&stdout);
    assert_eq!(
        verdict_of(&rows, "cpu.events_per_second", "threads=1"),
        "improvement"
    );

    let (code, stdout, stderr) = compare(dir.path(), &a, &rerun, &[]);
    assert_eq!(code, 0, "a rerun passes: {stdout}{stderr}");
    assert!(!stdout.contains("regression"), "{stdout}");
    assert!(stdout.starts_with("METRIC"), "{stdout}");
    let (code, stdout, _) = compare(dir.path(), &a, &a, &[]);
    assert_eq!(code, 0);
    assert!(!stdout.contains("regression") && !stdout.contains("improvement"));

    // A per-metric threshold above the change silences those metrics only.
    let (code, stdout, _) = compare(
        dir.path(),
        &a,
        &slow,
        &["--format", "json", "--threshold", "sandbox.*=15%"],
    );
    assert_eq!(code, 1, "the other metrics still regressed");
    let rows = json_rows(&stdout);
    assert_eq!(
        verdict_of(&rows, "sandbox.time_to_interactive_ms", "mode=cold"),
        "unchanged"
    );
    assert_eq!(
        verdict_of(&rows, "cpu.events_per_second", "threads=1"),
        "regression"
    );

    let (_, stdout, _) = compare(dir.path(), &a, &slow, &["--format", "markdown"]);
    assert!(stdout.starts_with("| METRIC | LABELS |"), "{stdout}");
}

#[test]
fn run_ids_are_found_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fixtures::write_cloud(&root, &spec(1, 1.0, "run-new"));
    let old = dir.path().join("old");
    fixtures::write_cloud(&old, &spec(2, 1.1, "run-old"));
    std::fs::create_dir_all(root.join("aws/history")).unwrap();
    std::fs::rename(old.join("aws"), root.join("aws/history/run-old")).unwrap();

    let (code, stdout, stderr) = run(report(&root).args(["compare", "run-old", "run-new"]));
    assert_eq!(
        code, 1,
        "run-new is 10% slower than run-old: {stdout}{stderr}"
    );
    assert!(stdout.contains("regression"), "{stdout}");

    let (code, _, stderr) = run(report(&root).args(["compare", "run-old", "run-nope"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("B run-nope: neither a directory nor a run id"),
        "{stderr}"
    );
    assert!(stderr.contains("bench-report list --history"), "{stderr}");

    for (args, expect) in [
        (
            vec!["--threshold", "sandbox.create_ms"],
            "--threshold sandbox.create_ms: use METRIC=PCT",
        ),
        (vec!["--noise-threshold", "x"], "--noise-threshold x"),
        (vec!["--cloud", "gcp"], "no documents of cloud gcp"),
    ] {
        let (code, _, stderr) = run(report(&root)
            .args(["compare", "run-old", "run-new"])
            .args(&args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
}
