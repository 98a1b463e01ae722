//! bench-client end to end: `info` resolves the endpoints from `.e2b_env`
//! and never writes or logs a secret.

use assert_cmd::Command;
use bench_core::schema::{ResultDocument, Tier};

const API_KEY: &str = "e2b_0123456789abcdef0123456789abcdef01234567";
const URL_PASSWORD: &str = "zq-url-password-77";

#[test]
fn info_resolves_endpoints_and_redacts_secrets_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".e2b_env"),
        format!(
            "export E2B_API_KEY={API_KEY}\n\
             export E2B_DOMAIN=e2b.example.test\n\
             export E2B_SANDBOX_URL=https://admin:{URL_PASSWORD}@sandbox.example.test\n\
             export E2B_TEMPLATES=\"base, code-interpreter\"\n"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .current_dir(dir.path())
        .env_remove("E2B_API_URL")
        .env_remove("CLOUD_PROVIDER")
        .args(["info", "-vv", "--output", "-"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    for secret in [API_KEY, URL_PASSWORD] {
        assert!(
            !stdout.contains(secret),
            "secret in the document:\n{stdout}"
        );
        assert!(!stderr.contains(secret), "secret in the log:\n{stderr}");
    }
    let doc = ResultDocument::from_json(&stdout).unwrap();
    assert_eq!(doc.tier, Tier::Client);
    assert_eq!(doc.suite, "client_info");
    let p = &doc.parameters;
    assert_eq!(p["e2b_api_url"], "https://api.e2b.example.test");
    assert_eq!(
        p["e2b_sandbox_url"],
        "https://admin:***@sandbox.example.test"
    );
    assert_eq!(
        p["e2b_templates"],
        serde_json::json!(["base", "code-interpreter"])
    );
    assert_eq!(p["e2b_api_key_present"], true);
}

#[test]
fn api_url_override_wins_over_domain() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bench-client"))
        .current_dir(dir.path())
        .env("E2B_DOMAIN", "e2b.example.test")
        .env("E2B_API_URL", "http://127.0.0.1:3000")
        .env_remove("E2B_API_KEY")
        .args(["info", "--output", "-", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stderr.is_empty(), "-q prints nothing on success");
    let doc = ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap();
    assert_eq!(doc.parameters["e2b_api_url"], "http://127.0.0.1:3000");
    assert_eq!(doc.parameters["e2b_api_key_present"], false);
}
