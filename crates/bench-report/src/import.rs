//! `bench-report import`: a bench-sandbox result copied out of a terminal
//! (with or without its BEGIN/END lines) becomes
//! `<input>/<cloud>/sandbox_performance_manual.json`, after every check that
//! can tell the person what went wrong with the copy: truncated, garbled,
//! not JSON, another schema version, not a sandbox result.

use std::io::Read;
use std::path::{Path, PathBuf};

use bench_core::exit::{Failure, Status};
use bench_core::paste::{PasteError, unframe};
use bench_core::schema::{ResultDocument, SCHEMA_VERSION, Tier};
use bench_core::sink::OutputTarget;
use serde_json::{Value, json};

use crate::schema_check;

/// The file an imported paste is stored as (contract).
pub const FILE_NAME: &str = "sandbox_performance_manual.json";
/// The suite bench-sandbox writes with `run` and its probe subcommands.
pub const SANDBOX_SUITE: &str = "sandbox_performance";

/// Reads `source` (a path, or `-` for stdin), checks it and stores it for
/// `cloud` under `input`.
pub fn run(input: &Path, cloud: &str, source: &str) -> Result<Status, Failure> {
    let cloud = bench_core::settings::check_cloud("--cloud", cloud)?;
    let (text, shown) = read_source(source)?;
    let doc = parse(&text, &shown)?;
    let doc = stamp(doc, &cloud, &shown);
    let dir = input.join(&cloud);
    let sink = bench_core::sink::open(&OutputTarget::Dir(dir.clone()))
        .map_err(|e| Failure::usage(format!("--input {}: {e}", input.display())))?;
    let wrote = sink
        .write(FILE_NAME, &doc)
        .map_err(|e| Failure::runtime(e.to_string()))?;
    tracing::info!(
        "imported {} samples and {} errors from {shown} as {wrote}",
        doc.samples.len(),
        doc.errors.len()
    );
    Ok(Status::Complete)
}

fn read_source(source: &str) -> Result<(String, String), Failure> {
    let mut bytes = Vec::new();
    let shown = if source == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::usage(format!("stdin: {e}")))?;
        "stdin".to_owned()
    } else {
        let path = PathBuf::from(source);
        bytes = std::fs::read(&path).map_err(|e| {
            Failure::usage(format!(
                "{source}: {e}; give the file you saved the paste in, or - to read stdin"
            ))
        })?;
        source.to_owned()
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::usage(format!(
            "{shown}: not UTF-8 text (invalid byte at offset {}); save the paste as plain text",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, shown))
}

/// The checked document in `text`; every error names `shown` and says what
/// to do.
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
                "{shown}: schema_version {v} is not supported (this bench-report reads {SCHEMA_VERSION}); use the bench-report of the same release as the bench-sandbox that wrote it"
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
    if doc.tier != Tier::Sandbox || doc.suite != SANDBOX_SUITE {
        return Err(Failure::usage(format!(
            "{shown}: this is a {} document of suite '{}' written by {}; import takes bench-sandbox results (suite '{SANDBOX_SUITE}', from `bench-sandbox run --paste`)",
            doc.tier.as_str(),
            doc.suite,
            doc.tool.name
        )));
    }
    Ok(doc)
}

/// Labels the document with the cloud it was pasted for and records where it
/// came from, keeping what the sandbox itself said.
fn stamp(mut doc: ResultDocument, cloud: &str, shown: &str) -> ResultDocument {
    let original = std::mem::replace(&mut doc.cloud, cloud.to_owned());
    doc.parameters.insert(
        "import".into(),
        json!({
            "source": shown,
            "cloud_in_sandbox": original,
            "imported_at": bench_core::time::now_rfc3339(),
            "imported_by": format!("bench-report {}", env!("CARGO_PKG_VERSION")),
        }),
    );
    doc
}
