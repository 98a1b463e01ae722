//! The committed JSON Schema must match the serde types, and documents must
//! round-trip and be rejected clearly when they are not version 1.
#![cfg(feature = "schema")]

use std::path::PathBuf;

use bench_core::schema::{DocumentError, ResultDocument, SCHEMA_VERSION, Sample};

fn committed_schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schema/result-v1.json")
}

fn generated_schema() -> String {
    let schema = schemars::schema_for!(ResultDocument);
    serde_json::to_string_pretty(&schema).expect("schema serializes") + "\n"
}

/// `BLESS=1 cargo test -p bench-core --test schema` (scripts/gen-schema.sh)
/// rewrites the file; otherwise a difference fails the build.
#[test]
fn committed_schema_is_current() {
    let path = committed_schema_path();
    let generated = generated_schema();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/schema/result-v1.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/schema/result-v1.json is stale or missing: run scripts/gen-schema.sh and commit the result"
    );
}

/// The example document of the contract (values filled in) parses.
const CONTRACT_EXAMPLE: &str = r#"{
  "schema_version": 1,
  "tool": {"name": "bench-host", "version": "0.1.0"},
  "tier": "host",
  "suite": "host_performance",
  "cloud": "aws",
  "run_id": "20261122T101500Z-3f9a",
  "started_at": "2026-11-22T10:15:00Z",
  "finished_at": "2026-11-22T10:19:41Z",
  "fingerprint": {"hostname": "node-1", "kernel": "6.1.0", "cpu_model": "Xeon", "cpu_count": 16,
                  "memory_bytes": 68719476736, "virtualization": "kvm", "nested_virtualization": false,
                  "cloud_vendor": "aws", "instance_type": null, "region": null},
  "parameters": {"quick": false},
  "samples": [
    {"metric": "disk.iops", "unit": "ops/s", "value": 41234.5,
     "labels": {"pattern": "randread", "block_size": "4096", "iodepth": "32", "direct": "true"},
     "stats": {"n": 3, "mean": 41000, "stddev": 300, "min": 40700, "max": 41300, "p50": 41000, "p90": 41240,
               "p95": 41270, "p99": 41294, "ci95": [40254.7, 41745.3], "outliers": 0},
     "raw": [40700, 41000, 41300]}
  ],
  "errors": [{"probe": "kvm", "kind": "unavailable", "message": "/dev/kvm: permission denied"}]
}"#;

#[test]
fn contract_example_round_trips() {
    let doc = ResultDocument::from_json(CONTRACT_EXAMPLE).expect("contract example parses");
    assert_eq!(doc.schema_version, SCHEMA_VERSION);
    assert_eq!(doc.samples[0].labels["pattern"], "randread");
    assert_eq!(doc.fingerprint.instance_type, None);
    let again = ResultDocument::from_json(&serde_json::to_string(&doc).unwrap()).unwrap();
    assert_eq!(again, doc);
}

#[test]
fn future_truncated_and_versionless_documents_are_rejected_clearly() {
    let future = CONTRACT_EXAMPLE.replace("\"schema_version\": 1", "\"schema_version\": 2");
    match ResultDocument::from_json(&future) {
        Err(e @ DocumentError::UnsupportedVersion { found: 2 }) => {
            assert!(e.to_string().contains("schema_version 2 is not supported"));
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
    let truncated = &CONTRACT_EXAMPLE[..CONTRACT_EXAMPLE.len() / 2];
    assert!(matches!(
        ResultDocument::from_json(truncated),
        Err(DocumentError::Invalid(_))
    ));
    let versionless = CONTRACT_EXAMPLE.replace("\"schema_version\": 1,", "");
    let err = ResultDocument::from_json(&versionless).unwrap_err();
    assert!(err.to_string().contains("schema_version"), "{err}");
}

#[test]
fn series_sample_headline_is_the_median_and_drops_non_finite() {
    let s = Sample::from_series("sandbox.create_ms", "ms", vec![3.0, f64::NAN, 1.0, 2.0]);
    assert_eq!(s.raw, vec![3.0, 1.0, 2.0]);
    assert_eq!(s.value, 2.0);
    let stats = s.stats.expect("stats for n > 1");
    assert_eq!((stats.n, stats.min, stats.max), (3, 1.0, 3.0));
    let single = Sample::from_series("x", "ms", vec![5.0]);
    assert_eq!((single.value, single.stats), (5.0, None));
}

/// A validator for the committed `docs/schema/result-v1.json`.
fn committed_validator() -> jsonschema::Validator {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(committed_schema_path()).unwrap()).unwrap();
    jsonschema::validator_for(&schema).expect("the committed schema compiles")
}

fn assert_valid(validator: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{doc:#}");
}

#[test]
fn written_documents_validate_against_the_committed_schema() {
    let validator = committed_validator();
    assert_valid(&validator, &serde_json::from_str(CONTRACT_EXAMPLE).unwrap());

    // A document as a tier builds it: this machine's fingerprint, a series
    // with stats, a single figure, an error entry.
    let doc = ResultDocument {
        schema_version: SCHEMA_VERSION,
        tool: bench_core::schema::Tool::new("bench-host", "0.1.0"),
        tier: bench_core::schema::Tier::Host,
        suite: "host_performance".into(),
        cloud: "local".into(),
        run_id: "r1".into(),
        started_at: bench_core::time::now_rfc3339(),
        finished_at: bench_core::time::now_rfc3339(),
        fingerprint: bench_core::fingerprint::collect(),
        parameters: [("quick".to_owned(), serde_json::json!(true))].into(),
        samples: vec![
            Sample::from_series("disk.latency_us", "us", vec![80.0, 95.0, 120.0, 400.0])
                .label("pattern", "randread"),
            Sample::new("hugepages.total", "pages", 0.0),
        ],
        errors: vec![bench_core::schema::ErrorEntry {
            probe: "hugepages".into(),
            kind: bench_core::schema::ErrorKind::Unavailable,
            message: "no hugepage pool reserved".into(),
        }],
    };
    let (bytes, _) = bench_core::sink::render_document(&doc).unwrap();
    assert_valid(&validator, &serde_json::from_slice(&bytes).unwrap());

    // And the schema really constrains: a wrong tier or a missing field fails.
    let mut bad: serde_json::Value = serde_json::from_str(CONTRACT_EXAMPLE).unwrap();
    bad["tier"] = "laptop".into();
    assert!(!validator.is_valid(&bad));
    let mut bad: serde_json::Value = serde_json::from_str(CONTRACT_EXAMPLE).unwrap();
    bad.as_object_mut().unwrap().remove("run_id");
    assert!(!validator.is_valid(&bad));
}
