//! Helpers of the `sink_*` integration tests: a result document and the
//! checks of what a sink wrote. Services, the HTTP client and Azure signing
//! are bench-testkit's (`service`, `client`, `azurite`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use bench_core::schema::{Fingerprint, ResultDocument, SCHEMA_VERSION, Sample, Tier, Tool};

/// A URL password the redactor must mask in every written document.
pub const SECRET: &str = "hunter2";

/// A small but complete result document of run `run_id`.
pub fn doc(run_id: &str) -> ResultDocument {
    let mut parameters = BTreeMap::new();
    parameters.insert(
        "storage_url".to_owned(),
        serde_json::Value::String(format!("https://user:{SECRET}@example.com/x")),
    );
    parameters.insert("iterations".to_owned(), serde_json::json!(3));
    ResultDocument {
        schema_version: SCHEMA_VERSION,
        tool: Tool::new("bench-host", "0.1.0"),
        tier: Tier::Host,
        suite: "host_performance".to_owned(),
        cloud: "local".to_owned(),
        run_id: run_id.to_owned(),
        started_at: "2026-11-22T10:15:00Z".to_owned(),
        finished_at: "2026-11-22T10:19:41Z".to_owned(),
        fingerprint: Fingerprint {
            hostname: "test-host".to_owned(),
            ..Fingerprint::default()
        },
        parameters,
        samples: vec![
            Sample::from_series("disk.latency_us", "us", vec![10.0, 12.0, 11.0])
                .label("pattern", "randread"),
        ],
        errors: Vec::new(),
    }
}

/// Parses written bytes as JSON and returns its `run_id`, checking the
/// pretty-printed form ends with a newline and carries no secret.
pub fn check_written(bytes: &[u8]) -> String {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.ends_with("}\n"), "no trailing newline: {text:?}");
    assert!(
        text.contains("\n  \"run_id\""),
        "not pretty-printed: {text}"
    );
    assert!(!text.contains(SECRET), "secret not redacted: {text}");
    let doc = ResultDocument::from_json(text).expect("a valid result document");
    doc.run_id
}
