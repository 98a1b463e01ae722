//! Helpers of the integration tests: result documents and the checks of
//! what a sink wrote. Services (moto, Azurite), the HTTP client and Azure
//! signing are bench-testkit's (`moto`, `azurite`, `service`, `client`).
#![allow(dead_code)]

use std::collections::BTreeMap;

use bench_core::schema::{Fingerprint, ResultDocument, SCHEMA_VERSION, Sample, Tier, Tool};

/// A URL password the redactor must mask in every written document.
pub const SECRET: &str = "hunter2";

/// A host_performance document of run `run_id` holding only `samples`.
pub fn document(run_id: &str, samples: Vec<Sample>) -> ResultDocument {
    ResultDocument {
        schema_version: SCHEMA_VERSION,
        tool: Tool::new("bench-host", "0.1.0"),
        tier: Tier::Host,
        suite: "host_performance".to_owned(),
        cloud: "local".to_owned(),
        run_id: run_id.to_owned(),
        started_at: "2026-11-22T10:15:00Z".to_owned(),
        finished_at: "2026-11-22T10:19:41Z".to_owned(),
        fingerprint: Fingerprint::default(),
        parameters: BTreeMap::new(),
        samples,
        errors: Vec::new(),
    }
}

/// A small but complete result document of run `run_id`, with a URL
/// password in its parameters.
pub fn doc(run_id: &str) -> ResultDocument {
    let mut doc = document(
        run_id,
        vec![
            Sample::from_series("disk.latency_us", "us", vec![10.0, 12.0, 11.0])
                .label("pattern", "randread"),
        ],
    );
    doc.fingerprint.hostname = "test-host".to_owned();
    doc.parameters.insert(
        "storage_url".to_owned(),
        serde_json::Value::String(format!("https://user:{SECRET}@example.com/x")),
    );
    doc.parameters
        .insert("iterations".to_owned(), serde_json::json!(3));
    doc
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
