//! Test helpers shared by the e2b-bench crates (a dev-dependency only):
//! documents checked against the committed JSON Schema, and a small static
//! HTTP/1.1 server on loopback for probes that download things, and the
//! object-store tests' services (moto, Azurite) with their setup, HTTP client and signing.

pub mod azurite;
pub mod client;
pub mod dns;
pub mod e2e;
pub mod http;
pub mod moto;
pub mod registry;
pub mod service;
pub mod tls;

use std::process::Output;

use bench_core::schema::ResultDocument;

/// Violations of the committed JSON Schema (`docs/schema/result-v1.json`)
/// in `document` (empty when valid). Panics when it is not JSON at all.
pub fn schema_errors(document: &[u8]) -> Vec<String> {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/schema/result-v1.json"
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(schema_path).expect("docs/schema/result-v1.json is readable"),
    )
    .expect("the committed schema is JSON");
    let instance: serde_json::Value = serde_json::from_slice(document)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(document)));
    let validator = jsonschema::validator_for(&schema).expect("the committed schema compiles");
    validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect()
}

/// Parses a command's stdout as one document after checking it against the
/// schema; a panic on stderr fails the test.
pub fn document(out: &Output) -> ResultDocument {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    document_from(&out.stdout, &stderr)
}

/// Parses `bytes` as a schema-valid document; `context` is shown on failure.
pub fn document_from(bytes: &[u8], context: &str) -> ResultDocument {
    let errors = schema_errors(bytes);
    assert!(errors.is_empty(), "{errors:#?}; {context}");
    let text = std::str::from_utf8(bytes).expect("documents are UTF-8");
    ResultDocument::from_json(text).expect("a schema-valid document parses")
}
