//! Taking in a document bench-sandbox wrote, by either path: pasted out of a
//! terminal (`bench-report import`) or read from its stdout inside a sandbox
//! (`bench-client sandbox`). Both check it with [`parse`] and label it with
//! [`stamp`], so the two files differ only in name and provenance.

use serde_json::{Value, json};

use crate::contract::suite::SANDBOX_PERFORMANCE;
use crate::exit::Failure;
use crate::paste::{PasteError, unframe};
use crate::schema::{ResultDocument, SCHEMA_VERSION, Tier};
use crate::schema_check;

/// The checked document in `text` (framed by `--paste` or bare JSON); every
/// error names `shown` (a file, "stdin", "the sandbox's stdout") and says
/// what to do.
pub fn parse(text: &str, shown: &str) -> Result<ResultDocument, Failure> {
    let unframed = unframe(text).map_err(|e| match e {
        PasteError::Empty => Failure::usage(format!("{shown}: {e}")),
        other => Failure::usage(format!("{shown}: {other}")),
    })?;
    let value: Value = serde_json::from_str(&unframed.json).map_err(|e| {
        let line = e.line() + unframed.first_line - 1;
        let what = if e.is_eof() {
            format!(
                "truncated: the document ends early (line {line}); copy the whole output, up to the closing '}}'{}",
                if unframed.verified {
                    ""
                } else {
                    " (bench-sandbox --paste adds BEGIN/END lines that make this check exact)"
                }
            )
        } else {
            // serde's message ends with its own (paste-relative) location.
            let message = e.to_string();
            let message = message.rsplit_once(" at line ").map_or(message.as_str(), |m| m.0);
            format!(
                "garbled: not valid JSON at line {line} column {}: {message}",
                e.column()
            )
        };
        Failure::usage(format!("{shown}: {what}"))
    })?;
    match value.get("schema_version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(Failure::usage(format!(
                "{shown}: schema_version {v} is not supported (this build reads {SCHEMA_VERSION}); use tools of the same release as the bench-sandbox that wrote it"
            )));
        }
        None => {
            return Err(Failure::usage(format!(
                "{shown}: wrong schema: no numeric schema_version; this is not an e2b-bench result document"
            )));
        }
    }
    let violations = schema_check::violations(&value);
    if let Some(first) = violations.first() {
        let more = match violations.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return Err(Failure::usage(format!(
            "{shown}: wrong schema: {first}{more}; check with `bench-report validate`"
        )));
    }
    let doc: ResultDocument = serde_json::from_value(value)
        .map_err(|e| Failure::usage(format!("{shown}: wrong schema: {e}")))?;
    if doc.tier != Tier::Sandbox || doc.suite != SANDBOX_PERFORMANCE {
        return Err(Failure::usage(format!(
            "{shown}: this is a {} document of suite '{}' written by {}; expected a bench-sandbox result (suite '{SANDBOX_PERFORMANCE}', from `bench-sandbox run`)",
            doc.tier.as_str(),
            doc.suite,
            doc.tool.name
        )));
    }
    Ok(doc)
}

/// Where a sandbox document came from, recorded in `parameters.import`.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// The pasted file, or `bench-client sandbox`.
    pub source: String,
    /// The tool that took it in (`bench-report 0.1.0`).
    pub by: String,
    /// The run it belongs to; `None` keeps the sandbox's own run id.
    pub run_id: Option<String>,
    /// The template it ran in, when known; also set as every sample's
    /// `template` label.
    pub template: Option<String>,
    /// The sandbox it ran in, when known.
    pub sandbox_id: Option<String>,
}

/// Labels the document with the cloud it was measured on and records where
/// it came from, keeping what the sandbox itself said (its own cloud label
/// and run id stay in `parameters.import`).
pub fn stamp(mut doc: ResultDocument, cloud: &str, from: &Provenance) -> ResultDocument {
    let original_cloud = std::mem::replace(&mut doc.cloud, cloud.to_owned());
    let original_run = match &from.run_id {
        Some(run) => Some(std::mem::replace(&mut doc.run_id, run.clone())),
        None => None,
    };
    if let Some(template) = &from.template {
        for sample in &mut doc.samples {
            sample.labels.insert("template".into(), template.clone());
        }
    }
    let mut import = json!({
        "source": from.source,
        "cloud_in_sandbox": original_cloud,
        "imported_at": crate::time::now_rfc3339(),
        "imported_by": from.by,
    });
    if let Some(run) = original_run {
        import["run_id_in_sandbox"] = json!(run);
    }
    if let Some(template) = &from.template {
        import["template"] = json!(template);
    }
    if let Some(id) = &from.sandbox_id {
        import["sandbox_id"] = json!(id);
    }
    doc.parameters.insert("import".into(), import);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = include_str!("../../bench-report/tests/fixtures/sandbox_paste.json");

    #[test]
    fn stamp_labels_and_records_provenance() {
        let doc = parse(FIXTURE, "fixture").unwrap();
        let own_run = doc.run_id.clone();
        let from = Provenance {
            source: "bench-client sandbox".into(),
            by: "bench-client 0.1.0".into(),
            run_id: Some("run-1".into()),
            template: Some("base".into()),
            sandbox_id: Some("abc".into()),
        };
        let doc = stamp(doc, "aws", &from);
        assert_eq!(doc.cloud, "aws");
        assert_eq!(doc.run_id, "run-1");
        assert!(!doc.samples.is_empty());
        assert!(
            doc.samples
                .iter()
                .all(|s| s.labels.get("template").map(String::as_str) == Some("base"))
        );
        let import = &doc.parameters["import"];
        assert_eq!(import["sandbox_id"], "abc");
        assert_eq!(import["run_id_in_sandbox"], own_run.as_str());
        assert_eq!(import["source"], "bench-client sandbox");
    }

    #[test]
    fn truncated_and_foreign_documents_are_refused() {
        let cut = &FIXTURE[..FIXTURE.len() / 2];
        let e = parse(cut, "the sandbox's stdout").unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        let mut host: Value = serde_json::from_str(FIXTURE).unwrap();
        host["tier"] = json!("host");
        let e = parse(&host.to_string(), "x.json").unwrap_err();
        assert!(
            e.to_string().contains("expected a bench-sandbox result"),
            "{e}"
        );
    }
}
