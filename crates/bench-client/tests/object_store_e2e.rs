//! Results in object storage end to end: bench-host, bench-client (against
//! the emulator, in-sandbox suite included) and bench-report meet in one S3
//! bucket (moto on a loopback port) under one run id and one cloud, as a
//! fleet run does. Credentials, the endpoint, the bucket the storage probe
//! measures and the template storage root come only from `.e2b_env`; no
//! tier sees a local results directory.
//!
//! bench-host, bench-report and bench-sandbox are not binaries of this
//! crate: the ones beside this test's build are used (built when missing;
//! after changing their code, `cargo build -p bench-host -p bench-report`
//! refreshes them).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bench_core::schema::ResultDocument;
use bench_testkit::{moto, service};

const BUCKET: &str = "fleet-results";
/// The root `bench-report render --input` reads: `<root>/<cloud>/`.
const ROOT: &str = "runs/2026-12";
const CLOUD: &str = "moto";
const RUN_ID: &str = "store-e2e-1";
/// The S3 secret key; no output may show it.
const AWS_SECRET: &str = "zq-moto-secret-store-e2e";

/// Every file the three writers leave under `<root>/<cloud>/`.
const FILES: [&str; 9] = [
    "01_cold_start.json",
    "01_warm_start.json",
    "02_concurrency.json",
    "02_pause_resume.json",
    "03_sandbox_performance.json",
    "04_host_performance.json",
    "05_cloud_storage.json",
    "06_templates.json",
    "summary_report.json",
];

/// A workspace binary of another package: the static bench-sandbox when
/// `scripts/build-static.sh` made one (what users upload), else the one in
/// this test's target directory, built if missing. Never rebuilt when
/// present: a `cargo build -p` here could pick other features than the
/// workspace build and rewrite a binary other tests are running.
fn workspace_binary(name: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let static_build = root.join("target/static").join(name);
    if name == "bench-sandbox" && static_build.is_file() {
        return static_build;
    }
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_owned();
    let built = profile_dir.join(name);
    if !built.is_file() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", name, "--target-dir"])
            .arg(profile_dir.parent().unwrap())
            .current_dir(&root)
            .status()
            .unwrap();
        assert!(status.success(), "cargo build -p {name} failed");
    }
    built
}

/// `bin` run in `dir`, with no configuration inherited from this process:
/// everything it knows comes from `dir/.e2b_env` and its flags.
fn tier(bin: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars().filter(|(k, _)| {
        k.starts_with("AWS_")
            || k.starts_with("E2B_")
            || k.starts_with("GOOGLE_")
            || k.starts_with("AZURE_")
            || ["STORAGE_URL", "S3_BUCKET", "CLOUD_PROVIDER", "DATABASE_URL"].contains(&k.as_str())
    }) {
        cmd.env_remove(key);
    }
    cmd
}

/// Runs `cmd`; checks it succeeded and that neither secret is in its output.
fn succeed(cmd: &mut Command, what: &str) -> String {
    let out: Output = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{what}:\n{stderr}");
    for text in [&stderr, stdout.as_ref()] {
        assert!(!text.contains(AWS_SECRET), "{what} printed the S3 secret");
        support::assert_no_secret_in(text, what);
    }
    stderr
}

/// The keys under `prefix` (one ListObjectsV2 page is plenty here).
fn s3_keys(port: u16, prefix: &str) -> BTreeSet<String> {
    let body = moto::get_ok(port, &format!("/{BUCKET}?list-type=2&prefix={prefix}"));
    let text = String::from_utf8(body).unwrap();
    assert!(!text.contains("<IsTruncated>true"), "{text}");
    text.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split_once("</Key>"))
        .map(|(k, _)| k.to_owned())
        .collect()
}

/// One template build, as infra lays it out under the storage root.
fn template_tree(root: &Path) {
    let build = root.join("e2b-template-storage/b-e2e");
    std::fs::create_dir_all(&build).unwrap();
    std::fs::write(
        build.join("metadata.json"),
        r#"{"kernelVersion":"vmlinux-6.1.102","firecrackerVersion":"v1.10.1_1fcdaec","buildID":"b-e2e","templateID":"base","envdVersion":"0.2.0"}"#,
    )
    .unwrap();
    for file in ["rootfs.ext4", "memfile"] {
        let f = std::fs::File::create(build.join(file)).unwrap();
        f.set_len(4 << 20).unwrap();
    }
    std::fs::write(build.join("snapfile"), [3u8; 512]).unwrap();
}

/// The fields of one CSV line (quoted fields may hold commas; `""` is a
/// quote).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[test]
fn host_client_and_report_meet_in_one_bucket() {
    let Some(server) = moto::start(BUCKET) else {
        return;
    };
    let port = server.port;

    let dir = tempfile::tempdir().unwrap();
    let storage_root = dir.path().join("e2b-storage");
    template_tree(&storage_root);
    std::fs::write(
        dir.path().join(".e2b_env"),
        service::exports(
            &moto::client_env(&server.base_url(), AWS_SECRET)
                .into_iter()
                .chain([
                    ("STORAGE_URL", format!("s3://{BUCKET}/probe")),
                    ("E2B_STORAGE_DIR", storage_root.display().to_string()),
                ])
                .collect::<Vec<_>>(),
        ),
    )
    .unwrap();
    let dest = format!("s3://{BUCKET}/{ROOT}/{CLOUD}");
    let common = ["--cloud", CLOUD, "--run-id", RUN_ID, "--output-dir", &dest];

    // Host: the node probes that need no device, the storage probe against
    // the same bucket, the template inventory: 04, 05 and 06.
    let stderr = succeed(
        tier(&workspace_binary("bench-host"), dir.path())
            .args(common)
            .args(["run", "--quick", "--skip", "disk,kvm,hugepages"]),
        "bench-host run",
    );
    for suite in ["host_performance", "cloud_storage", "templates"] {
        assert!(
            stderr.lines().any(|l| l.starts_with(&format!("{suite}: "))
                && l.ends_with(&format!("written to {dest}"))),
            "{suite} not written to {dest}:\n{stderr}"
        );
    }

    // Client: every suite, the real bench-sandbox uploaded into an emulated
    // sandbox (its probes that need no network), then the summary.
    let sim = support::quick_sim();
    let stderr = succeed(
        tier(Path::new(env!("CARGO_BIN_EXE_bench-client")), dir.path())
            .env("E2B_API_KEY", support::KEY)
            .env("E2B_API_URL", &sim.api_url)
            .env("E2B_SANDBOX_URL", &sim.sandbox_url)
            .env("E2B_DOMAIN", &sim.domain)
            .args(common)
            .args(["run", "--quick", "--bench-sandbox"])
            .arg(workspace_binary("bench-sandbox"))
            .args(["--", "--skip", "network,pkg,python"]),
        "bench-client run",
    );
    assert!(
        stderr.contains(&format!("summary written to {dest}/summary_report.json")),
        "{stderr}"
    );
    assert_eq!(sim.stats().live, 0, "every sandbox is killed");

    // The bucket holds exactly the run's files, and the storage probe's
    // scratch prefix is gone.
    let prefix = format!("{ROOT}/{CLOUD}/");
    let expected: BTreeSet<String> = FILES.iter().map(|f| format!("{prefix}{f}")).collect();
    assert_eq!(s3_keys(port, &prefix), expected);
    assert_eq!(s3_keys(port, "probe/"), BTreeSet::new());
    for file in FILES {
        let bytes = moto::get_ok(port, &format!("/{BUCKET}/{prefix}{file}"));
        let text = String::from_utf8(bytes).unwrap();
        assert!(!text.contains(AWS_SECRET), "{file} holds the S3 secret");
        support::assert_no_secret_in(&text, file);
        if file == "summary_report.json" {
            let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(summary["run_id"], RUN_ID, "{summary}");
            assert!(summary["templates"]["base"].is_object(), "{summary}");
            continue;
        }
        let errors = bench_testkit::schema_errors(text.as_bytes());
        assert!(errors.is_empty(), "{file}: {errors:?}");
        let doc = ResultDocument::from_json(&text).unwrap();
        assert_eq!(
            (doc.cloud.as_str(), doc.run_id.as_str()),
            (CLOUD, RUN_ID),
            "{file}"
        );
        assert!(doc.errors.is_empty(), "{file}: {:?}", doc.errors);
    }

    // Report: straight from the bucket.
    let reports = dir.path().join("reports");
    let stderr = succeed(
        tier(&workspace_binary("bench-report"), dir.path())
            .arg("render")
            .arg("--input")
            .arg(format!("s3://{BUCKET}/{ROOT}"))
            .arg("--output-dir")
            .arg(&reports),
        "bench-report render",
    );
    assert!(stderr.contains("0 files skipped"), "{stderr}");

    let csv = std::fs::read_to_string(reports.join("report.csv")).unwrap();
    let mut lines = csv.lines();
    let header = csv_fields(lines.next().unwrap());
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (tier_col, metric_col, cloud_col) = (col("tier"), col("metric"), col("cloud"));
    let rows: BTreeSet<(String, String)> = lines
        .map(csv_fields)
        .filter(|f| f[cloud_col] == CLOUD)
        .map(|f| (f[tier_col].clone(), f[metric_col].clone()))
        .collect();
    for (tier, metric) in [
        ("host", "cpu.events_per_second"),
        ("host", "memory.bandwidth_bytes_per_second"),
        ("host", "storage.range_get_latency_ms"),
        ("client", "sandbox.time_to_interactive_ms"),
        ("client", "sandbox.creates_per_second"),
        ("client", "sandbox.resume_ms"),
        ("sandbox", "cpu.events_per_second"),
        ("sandbox", "disk.iops"),
    ] {
        assert!(
            rows.contains(&(tier.to_owned(), metric.to_owned())),
            "no {tier} {metric} row for {CLOUD} in report.csv:\n{csv}"
        );
    }

    let md = std::fs::read_to_string(reports.join("visual_report.md")).unwrap();
    for heading in [
        "## Host · CPU",
        "## Host · Object storage",
        "## Client · Sandbox lifecycle",
        "## Sandbox · CPU",
    ] {
        assert!(
            md.contains(heading),
            "no {heading:?} in visual_report.md:\n{md}"
        );
    }
    let ratios = md
        .split_once("## Sandbox ÷ host")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or(rest))
        .unwrap_or_else(|| panic!("no sandbox ÷ host section in visual_report.md:\n{md}"));
    assert!(
        ratios
            .lines()
            .any(|l| l.starts_with("| cpu.events_per_second |") && l.contains('×')),
        "no cpu sandbox ÷ host ratio:\n{ratios}"
    );
    for file in ["visual_report.md", "report.html", "report.csv"] {
        let text = std::fs::read_to_string(reports.join(file)).unwrap();
        assert!(!text.contains(AWS_SECRET), "{file} holds the S3 secret");
    }
}
