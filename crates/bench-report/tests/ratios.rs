//! Sandbox ÷ host pairs each sandbox row with its host row even when the
//! sandbox samples say where they ran: bench-client stamps `template` on
//! every sample of the in-sandbox suite, and an imported paste gets
//! `source=manual`. Neither label exists on the host side.

mod support;

use std::path::Path;

use bench_core::schema::ResultDocument;
use support::fixtures::{self, CloudSpec};
use support::{report, run};

fn with_label(mut doc: ResultDocument, key: &str, value: &str) -> ResultDocument {
    for s in &mut doc.samples {
        s.labels.insert(key.to_owned(), value.to_owned());
    }
    doc
}

fn put(path: &Path, doc: &ResultDocument) {
    std::fs::write(path, serde_json::to_vec(doc).unwrap()).unwrap();
}

/// The lines of the Markdown "Sandbox ÷ host" table.
fn ratio_lines(md: &str) -> Vec<&str> {
    let section = md
        .split("## Sandbox ÷ host")
        .nth(1)
        .unwrap_or_else(|| panic!("no sandbox ÷ host section:\n{md}"));
    let section = section.split("\n## ").next().unwrap();
    section.lines().filter(|l| l.starts_with("| ")).collect()
}

#[test]
fn automated_and_pasted_sandbox_rows_pair_with_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    let spec = CloudSpec::small("aws", 1.0, 1);
    fixtures::write_cloud(&root, &spec);
    let cloud = root.join("aws");
    // As bench-client writes it: every sample names its template.
    put(
        &cloud.join("03_sandbox_performance.json"),
        &with_label(fixtures::sandbox(&spec), "template", "base"),
    );
    // A pasted run beside it (the report adds source=manual).
    put(
        &cloud.join("sandbox_performance_manual.json"),
        &fixtures::sandbox(&spec),
    );

    let out = dir.path().join("reports");
    let (code, _, stderr) = run(report(&root)
        .arg("render")
        .arg("--output-dir")
        .arg(&out)
        .args(["--format", "md"]));
    assert_eq!(code, 0, "{stderr}");
    let md = std::fs::read_to_string(out.join("visual_report.md")).unwrap();
    let lines = ratio_lines(&md);
    let cpu = |labels: &str| {
        lines
            .iter()
            .find(|l| l.starts_with("| cpu.events_per_second |") && l.contains(labels))
            .unwrap_or_else(|| panic!("no cpu row with {labels}:\n{}", lines.join("\n")))
    };
    // Both sandbox runs are compared with the one host figure; the
    // fixture's sandbox costs 3% on average (random draws around it).
    for labels in ["template=base", "source=manual"] {
        let row = cpu(labels);
        let ratio: f64 = row
            .rsplit("| ")
            .next()
            .and_then(|cell| cell.split('×').next())
            .and_then(|r| r.trim().parse().ok())
            .unwrap_or_else(|| panic!("no ratio in {row}"));
        assert!((0.9..1.0).contains(&ratio), "{row}");
    }
}

/// STREAM's kernel is calibrated in each tier: when host and sandbox chose
/// different ones, the memory ratio says so instead of passing as like for
/// like; cpu rows and matching kernels carry no note.
#[test]
fn a_memory_ratio_between_different_kernels_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    let spec = CloudSpec::small("aws", 1.0, 1);
    fixtures::write_cloud(&root, &spec);
    let cloud = root.join("aws");
    let with_kernel = |mut doc: ResultDocument, kernel: &str| {
        doc.parameters.insert(
            "memory".to_owned(),
            serde_json::json!({"kernel": kernel, "kernel_source": "auto"}),
        );
        doc
    };
    put(
        &cloud.join("04_host_performance.json"),
        &with_kernel(fixtures::host(&spec), "avx512-nt"),
    );
    let render = |sandbox_kernel: &str| {
        put(
            &cloud.join("03_sandbox_performance.json"),
            &with_kernel(fixtures::sandbox(&spec), sandbox_kernel),
        );
        let out = dir.path().join(format!("reports-{sandbox_kernel}"));
        let (code, _, stderr) = run(report(&root)
            .arg("render")
            .arg("--output-dir")
            .arg(&out)
            .args(["--format", "md,html"]));
        assert_eq!(code, 0, "{stderr}");
        (
            std::fs::read_to_string(out.join("visual_report.md")).unwrap(),
            std::fs::read_to_string(out.join("report.html")).unwrap(),
        )
    };

    let (md, html) = render("avx2");
    let lines = ratio_lines(&md);
    let memory: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("| memory.bandwidth_bytes_per_second |"))
        .collect();
    assert!(!memory.is_empty(), "{}", lines.join("\n"));
    for row in &memory {
        assert!(
            row.contains("⚠ kernels differ: host avx512-nt, sandbox avx2"),
            "{row}"
        );
    }
    let cpu: Vec<&&str> = lines.iter().filter(|l| l.starts_with("| cpu.")).collect();
    assert!(
        !cpu.is_empty() && cpu.iter().all(|l| !l.contains('⚠')),
        "{cpu:?}"
    );
    assert!(html.contains("kernels differ: host avx512-nt, sandbox avx2"));

    let (md, _) = render("avx512-nt");
    assert!(!md.contains("kernels differ"), "same kernel, no note");
}
