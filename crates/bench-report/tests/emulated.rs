//! A cloud measured against the local emulator (`parameters.emulator`, as
//! bench-client writes it when the API names itself e2b-sim) is badged
//! "emulated" in every format, with a sentence saying what that means; a
//! cloud without it is not. The build profile of each tier's binary is in
//! the environment table.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use support::fixtures::{self, CloudSpec};
use support::{parse_csv, report, run};

const EMULATOR: &str = "e2b-sim 0.1.0";

/// aws (a cluster) and local-sim, whose client and sandbox documents carry
/// `parameters.emulator` (its host document, bench-host's, does not).
fn fixture_set(root: &Path) {
    fixtures::write_cloud(root, &CloudSpec::small("aws", 1.0, 1));
    fixtures::write_cloud(root, &CloudSpec::small("local-sim", 0.9, 2));
    for file in [
        "01_cold_start.json",
        "01_warm_start.json",
        "03_sandbox_performance.json",
    ] {
        let path = root.join("local-sim").join(file);
        let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        doc["parameters"]["emulator"] = Value::from(EMULATOR);
        std::fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
    }
}

fn render(root: &Path, out: &Path) -> (String, String, String) {
    let (code, _, stderr) = run(report(root).arg("render").arg("--output-dir").arg(out));
    assert_eq!(code, 0, "{stderr}");
    let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    (
        read("report.html"),
        read("visual_report.md"),
        read("report.csv"),
    )
}

#[test]
fn an_emulated_cloud_is_badged_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixture_set(&root);
    let (html, md, csv) = render(&root, &out);

    // HTML: the card, every cloud heading of local-sim, and the explanation.
    assert!(
        html.contains(r#"<h3>local-sim <span class="badge emulated""#),
        "no badge on local-sim's card"
    );
    assert!(!html.contains(r#"<h3>aws <span class="badge emulated""#));
    assert!(html.contains(r#"<div class="alert emulated">"#));
    assert!(html.contains(&format!(
        "<b>local-sim</b> was measured against {EMULATOR},"
    )));
    assert_eq!(
        html.matches(r#"<div class="alert emulated">"#).count(),
        1,
        "one explanation, for the one emulated cloud"
    );
    let headings = html
        .matches("local-sim <span class=\"badge emulated\"")
        .count();
    let plain = html.matches("</span>local-sim</th>").count();
    assert!(headings >= 3, "{headings} badged headings");
    assert_eq!(plain, 0, "a table heading of local-sim without its badge");
    assert!(html.contains(&format!("<dt>emulator</dt><dd>{EMULATOR}</dd>")));

    // Markdown: the at-a-glance row, the table headers and the explanation.
    assert!(md.contains("| local-sim **emulated** |"), "{md:.2000}");
    assert!(!md.contains("aws (baseline) **emulated**"));
    assert!(md.contains(&format!(
        "> **local-sim is emulated:** it was measured against {EMULATOR}, the local emulator"
    )));

    // CSV: an `emulated` column, the emulator on local-sim's rows only.
    let rows = parse_csv(&csv);
    assert_eq!(rows[0].len(), 19, "{:?}", rows[0]);
    assert_eq!(rows[0].last().map(String::as_str), Some("emulated"));
    let maps: Vec<BTreeMap<&str, &str>> = rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), rows[0].len(), "{r:?}");
            rows[0]
                .iter()
                .map(String::as_str)
                .zip(r.iter().map(String::as_str))
                .collect()
        })
        .collect();
    assert!(maps.iter().any(|r| r["cloud"] == "aws"));
    for r in &maps {
        let expected = if r["cloud"] == "local-sim" {
            EMULATOR
        } else {
            ""
        };
        assert_eq!(r["emulated"], expected, "{r:?}");
    }

    // The build profile of each tier's binary (the fixtures are built by
    // this test build, so bench-core's profile is the test's: `dev`).
    let profile = bench_core::schema::BUILD_PROFILE;
    assert!(
        md.contains(&format!("| host | Build profile | {profile} | {profile} |")),
        "{md}"
    );
    assert!(html.contains("<td>sandbox</td><td>Build profile</td>"));
}

#[test]
fn no_badge_and_no_column_without_an_emulator() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixtures::write_cloud(&root, &CloudSpec::small("aws", 1.0, 1));
    fixtures::write_cloud(&root, &CloudSpec::small("gcp", 0.9, 2));
    let (html, md, csv) = render(&root, &out);
    // (The stylesheet names the class; no element has it.)
    assert!(!html.contains(r#"class="badge emulated""#));
    assert!(!html.contains(r#"class="alert emulated""#));
    assert!(!md.contains("emulated"));
    let rows = parse_csv(&csv);
    assert_eq!(rows[0].len(), 18, "{:?}", rows[0]);
}
