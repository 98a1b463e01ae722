//! `--output-dir s3://…` end to end: credentials and endpoint only in
//! `.e2b_env` (none in the process environment) reach the object store, and
//! the document lands in a real S3 server (moto on a loopback port).

use assert_cmd::Command;
use bench_core::schema::ResultDocument;
use bench_testkit::{moto, service};

const BUCKET: &str = "host-results";
const SECRET_KEY: &str = "zq-moto-secret-e2e";

#[test]
fn info_writes_to_s3_with_credentials_from_the_env_file() {
    let Some(server) = moto::start(BUCKET) else {
        return;
    };

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".e2b_env"),
        service::exports(&moto::client_env(&server.base_url(), SECRET_KEY)),
    )
    .unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-host"));
    cmd.current_dir(dir.path());
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("AWS_")) {
        cmd.env_remove(key);
    }
    let out = cmd
        .args(["info", "--run-id", "e2e-1", "--output-dir"])
        .arg(format!("s3://{BUCKET}/outputs/aws"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "wrote s3://{BUCKET}/outputs/aws/00_host_info.json"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET_KEY));

    // Read back over plain HTTP.
    let body = moto::get_ok(
        server.port,
        &format!("/{BUCKET}/outputs/aws/00_host_info.json"),
    );
    let doc = ResultDocument::from_json(&String::from_utf8(body).unwrap()).unwrap();
    assert_eq!(
        (doc.suite.as_str(), doc.run_id.as_str()),
        ("host_info", "e2e-1")
    );

    // Without credentials anywhere the binary refuses before any request
    // (no silent fallback to the instance metadata service).
    std::fs::write(dir.path().join(".e2b_env"), "export AWS_REGION=us-east-1\n").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-host"));
    cmd.current_dir(dir.path());
    for (key, _) in std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("E2B_BENCH_INSTANCE"))
    {
        cmd.env_remove(key);
    }
    let out = cmd
        .args(["info", "--output-dir", "s3://any-bucket/x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("find credentials failed")
            && stderr.contains("E2B_BENCH_INSTANCE_CREDENTIALS=1"),
        "{stderr}"
    );
}
