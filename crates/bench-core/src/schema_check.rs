//! Checks documents against the committed JSON Schema
//! (`docs/schema/result-v1.json`, embedded at build time), so bench-report's
//! `import` and `validate` and bench-client's in-sandbox suite judge a
//! document exactly as the published schema does.

use std::sync::OnceLock;

use serde_json::Value;

/// The schema every version-1 document follows.
pub const RESULT_SCHEMA_V1: &str = include_str!("../../../docs/schema/result-v1.json");

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(RESULT_SCHEMA_V1).expect("the embedded schema is JSON");
        jsonschema::validator_for(&schema).expect("the embedded schema compiles")
    })
}

/// Every violation, as `/json/pointer: what is wrong` (empty when valid).
pub fn violations(document: &Value) -> Vec<String> {
    validator()
        .iter_errors(document)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "/".to_owned() } else { at };
            format!("{at}: {e}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_that_is_wrong() {
        let mut doc: Value = serde_json::from_str(include_str!(
            "../../bench-report/tests/fixtures/sandbox_paste.json"
        ))
        .unwrap();
        assert!(violations(&doc).is_empty(), "{:?}", violations(&doc));
        doc["samples"][0]["value"] = Value::from("fast");
        let found = violations(&doc);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("/samples/0/value: "), "{found:?}");
    }
}
