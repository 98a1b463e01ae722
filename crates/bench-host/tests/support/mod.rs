//! Helpers shared by bench-host's end-to-end tests: the binary with no
//! E2B/cloud configuration inherited, and documents checked against the
//! committed JSON Schema.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use bench_core::schema::ResultDocument;

/// The bench-host binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_bench-host");

/// Variables that would change where probes write or how results are labelled.
pub const SCRUBBED: [&str; 7] = [
    "CLOUD_PROVIDER",
    "E2B_STORAGE_DIR",
    "E2B_API_KEY",
    "E2B_DOMAIN",
    "E2B_API_URL",
    "STORAGE_URL",
    "S3_BUCKET",
];

/// The binary, run in `dir`, with none of [`SCRUBBED`] inherited.
pub fn host(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd
}

/// Violations of the committed JSON Schema in `document` (empty when valid).
pub fn schema_errors(document: &[u8]) -> Vec<String> {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/schema/result-v1.json"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let instance: serde_json::Value = serde_json::from_slice(document)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(document)));
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect()
}

/// Parses stdout as a document after checking it against the schema; a
/// panic on stderr fails the test.
pub fn document(out: &Output) -> ResultDocument {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors = schema_errors(&out.stdout);
    assert!(errors.is_empty(), "{errors:#?}; stderr: {stderr}");
    ResultDocument::from_json(std::str::from_utf8(&out.stdout).unwrap()).unwrap()
}
