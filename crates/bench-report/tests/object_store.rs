//! --input as an object-store URL: file:// through object_store's local
//! store, and s3:// against a real moto server on loopback, configured
//! from an --env-file as users configure it.

mod support;

use std::path::Path;
use std::process::Command;

use bench_core::schema::ResultDocument;
use bench_core::sink::{ObjectSink, Sink};
use bench_testkit::{moto, service};
use support::fixtures::{self, CloudSpec};
use support::{report, run};

/// Variables of the test process that would override the env file.
const AWS_VARS: [&str; 8] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_ALLOW_HTTP",
];

#[test]
fn renders_and_lists_from_a_file_url() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fixtures::write_cloud(&root, &CloudSpec::small("aws", 1.0, 1));
    fixtures::write_cloud(&root, &CloudSpec::small("gcp", 0.9, 2));
    let url = format!("file://{}", root.display());
    let (code, stdout, stderr) = run(report(Path::new(&url)).arg("list"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 11, "{stdout}");
    assert!(
        stdout.contains(&format!("{url}/gcp/01_cold_start.json")),
        "{stdout}"
    );
    let out = dir.path().join("reports");
    let (code, _, stderr) = run(report(Path::new(&url))
        .arg("render")
        .arg("--output-dir")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    assert!(csv.contains(",gcp,"), "{csv}");
}

#[test]
fn renders_from_s3_with_credentials_from_the_env_file() {
    let Some(server) = moto::start("results") else {
        return;
    };
    let secret = "moto-secret-7d2e";
    let env = moto::client_env(&server.base_url(), secret);
    // Upload the way a tier does: through bench-core's object sink.
    for (cloud, speed, seed) in [("aws", 1.0, 1), ("gcp", 0.85, 2)] {
        let url = format!("s3://results/outputs/{cloud}");
        let sink =
            ObjectSink::open_with_env(&url, env.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        let spec = CloudSpec::small(cloud, speed, seed);
        let docs: [(&str, ResultDocument); 3] = [
            ("04_host_performance.json", fixtures::host(&spec)),
            ("01_cold_start.json", fixtures::start(&spec, "cold")),
            ("03_sandbox_performance.json", fixtures::sandbox(&spec)),
        ];
        for (name, doc) in docs {
            sink.write(name, &doc).unwrap();
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join("e2b_env");
    std::fs::write(&env_file, service::exports(&env)).unwrap();
    let with_env = |cmd: &mut Command| {
        for var in AWS_VARS {
            cmd.env_remove(var);
        }
        cmd.arg("--env-file").arg(&env_file);
    };
    let input = Path::new("s3://results/outputs");
    let mut list = report(input);
    with_env(&mut list);
    let (code, stdout, stderr) = run(list.arg("list"));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 7, "{stdout}");
    assert!(
        stdout.contains("s3://results/outputs/gcp/01_cold_start.json"),
        "{stdout}"
    );

    let out = dir.path().join("reports");
    let mut render = report(input);
    with_env(&mut render);
    let (code, _, stderr) = run(render.arg("render").arg("--output-dir").arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("s3:&#x2F;&#x2F;results&#x2F;outputs"),
        "the input is named (HTML-escaped)"
    );
    assert!(html.contains("id=\"chart-start-latency\""));
    assert!(
        !html.contains(secret) && !stderr.contains(secret),
        "secrets stay out"
    );

    // Wrong credentials: one line naming the URL, exit 2, the secret never shown.
    std::fs::write(
        &env_file,
        format!("export AWS_ENDPOINT_URL=http://127.0.0.1:{}\nexport AWS_ACCESS_KEY_ID=x\nexport AWS_SECRET_ACCESS_KEY={secret}\nexport AWS_REGION=us-east-1\n", service::free_port()),
    )
    .unwrap();
    let mut bad = report(input);
    with_env(&mut bad);
    let (code, _, stderr) = run(bad.arg("list"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--input s3://results/outputs"), "{stderr}");
    assert!(!stderr.contains(secret), "{stderr}");
}
