//! Reads and checks result documents. A file that cannot be used (not JSON,
//! truncated, a field of the wrong type, an unknown `schema_version`) is a
//! [`Skipped`] entry naming the file and the reason: never fatal, because one
//! bad copy must not hide every other cloud's results.

use bench_core::contract::{file, suite};
use bench_core::schema::{ResultDocument, SCHEMA_VERSION};
use serde::Deserialize;
use serde_json::Value;

use crate::source::{FileRef, Source};

/// True for an imported paste, also under a node-qualified name
/// (`sandbox_performance_manual.node-a.json`).
pub fn is_manual_sandbox(file_name: &str) -> bool {
    bench_core::shard::parse_file_name(file_name).base == file::SANDBOX_PERFORMANCE_MANUAL
}

/// A document that passed every check.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Where it was found.
    pub file: FileRef,
    /// The path or URL, for messages.
    pub location: String,
    /// The document.
    pub doc: ResultDocument,
    /// The `templates` array of a template inventory (empty otherwise).
    pub templates: Vec<TemplateBuild>,
}

/// A file that was not used, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Skipped {
    /// The path or URL.
    pub location: String,
    /// One line: what is wrong with it.
    pub reason: String,
}

/// One build directory of `06_templates.json` (contract), as far as the
/// report uses it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct TemplateBuild {
    /// Build directory name.
    pub build_id: Option<String>,
    /// Template id, when the metadata says.
    pub template_id: Option<String>,
    /// `ok`, `alias` or `invalid`.
    pub status: Option<String>,
    /// Kernel version the template was built with.
    pub kernel_version: Option<String>,
    /// Firecracker version.
    pub firecracker_version: Option<String>,
    /// envd version.
    pub envd_version: Option<String>,
    /// Apparent size of the rootfs.
    pub rootfs_bytes: Option<u64>,
}

#[derive(Deserialize)]
struct Inventory {
    #[serde(default)]
    templates: Vec<Value>,
}

/// Reads and checks `files`, on as many threads as there are cores. The
/// result keeps the order of `files`.
pub fn load(source: &Source, files: &[FileRef]) -> (Vec<Loaded>, Vec<Skipped>) {
    let mut loaded = Vec::new();
    let mut skipped = Vec::new();
    for outcome in crate::parallel::map(files, |f| load_one(source, f)) {
        match outcome {
            Ok(l) => loaded.push(l),
            Err(s) => skipped.push(s),
        }
    }
    (loaded, skipped)
}

fn load_one(source: &Source, file: &FileRef) -> Result<Loaded, Skipped> {
    let location = source.location(file);
    let skip = |reason: String| Skipped {
        location: location.clone(),
        reason,
    };
    let bytes = source
        .read(file)
        .map_err(|e| skip(format!("cannot read: {e}")))?;
    let (doc, templates) = parse(&bytes).map_err(skip)?;
    Ok(Loaded {
        file: file.clone(),
        location: location.clone(),
        doc,
        templates,
    })
}

/// Parses and checks one document: the typed parse first (one pass over
/// what may be megabytes of raw observations); only when it fails is the
/// text parsed again, to tell a future `schema_version` from a broken file.
pub fn parse(bytes: &[u8]) -> Result<(ResultDocument, Vec<TemplateBuild>), String> {
    let doc = match serde_json::from_slice::<ResultDocument>(bytes) {
        Ok(doc) => doc,
        Err(typed) => return Err(explain(bytes, &typed)),
    };
    if doc.schema_version != SCHEMA_VERSION {
        return Err(unsupported(u64::from(doc.schema_version)));
    }
    check(&doc)?;
    let templates = if doc.suite == suite::TEMPLATES {
        inventory(bytes)?
    } else {
        Vec::new()
    };
    Ok((doc, templates))
}

fn unsupported(found: u64) -> String {
    format!(
        "schema_version {found} is not supported (this build reads {SCHEMA_VERSION}); upgrade e2b-bench to read it"
    )
}

/// Why `bytes` is not a version-1 document.
fn explain(bytes: &[u8], typed: &serde_json::Error) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Err(e) if e.is_eof() => format!(
            "truncated: the JSON ends early (line {} column {}); copy the file again",
            e.line(),
            e.column()
        ),
        Err(e) => format!("not valid JSON: {e}"),
        Ok(value) => match value.get("schema_version").and_then(Value::as_u64) {
            Some(v) if v != u64::from(SCHEMA_VERSION) => unsupported(v),
            None if value.get("schema_version").is_none() => {
                "not a result document: no schema_version field".to_owned()
            }
            _ => format!("not a valid result document: {typed}"),
        },
    }
}

/// Checks the typed parse cannot express.
fn check(doc: &ResultDocument) -> Result<(), String> {
    if doc.cloud.trim().is_empty() {
        return Err("not a valid result document: `cloud` is empty".to_owned());
    }
    if doc.suite.trim().is_empty() {
        return Err("not a valid result document: `suite` is empty".to_owned());
    }
    if let Some((i, s)) = doc
        .samples
        .iter()
        .enumerate()
        .find(|(_, s)| s.metric.trim().is_empty())
    {
        return Err(format!(
            "not a valid result document: samples[{i}] has an empty metric (unit {:?})",
            s.unit
        ));
    }
    Ok(())
}

/// The `templates` array of an inventory; entries that do not parse are
/// dropped (the report only compares what it understands).
fn inventory(bytes: &[u8]) -> Result<Vec<TemplateBuild>, String> {
    let inv: Inventory = serde_json::from_slice(bytes)
        .map_err(|e| format!("`templates` is not an array of build entries: {e}"))?;
    Ok(inv
        .templates
        .into_iter()
        .filter_map(|t| serde_json::from_value(t).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc_json(version: u64) -> String {
        serde_json::json!({
            "schema_version": version,
            "tool": {"name": "bench-host", "version": "0.1.0"},
            "tier": "host", "suite": "templates", "cloud": "aws", "run_id": "r",
            "started_at": "2026-11-22T10:15:00Z", "finished_at": "2026-11-22T10:16:00Z",
            "fingerprint": {"hostname": "h", "kernel": "k", "cpu_model": "c", "cpu_count": 2,
                "memory_bytes": 1, "virtualization": "none", "nested_virtualization": false,
                "cloud_vendor": "unknown", "instance_type": null, "region": null},
            "samples": [],
            "templates": [
                {"build_id": "b1", "template_id": "base", "status": "ok",
                 "kernel_version": "6.1.102", "firecracker_version": "1.10.1",
                 "envd_version": null, "rootfs_bytes": 1024},
                {"build_id": 7}
            ]
        })
        .to_string()
    }

    #[test]
    fn reads_the_inventory_beside_the_document() {
        let (doc, templates) = parse(doc_json(1).as_bytes()).unwrap();
        assert_eq!(doc.suite, "templates");
        assert_eq!(templates.len(), 1, "the malformed entry is dropped");
        assert_eq!(templates[0].kernel_version.as_deref(), Some("6.1.102"));
        assert_eq!(templates[0].rootfs_bytes, Some(1024));
    }

    #[test]
    fn says_what_is_wrong() {
        let text = doc_json(1);
        let cut = parse(&text.as_bytes()[..text.len() / 2]).unwrap_err();
        assert!(cut.starts_with("truncated"), "{cut}");
        let future = parse(doc_json(2).as_bytes()).unwrap_err();
        assert!(
            future.contains("schema_version 2 is not supported"),
            "{future}"
        );
        let garbage = parse(b"{\"schema_version\": 1,, }").unwrap_err();
        assert!(garbage.starts_with("not valid JSON"), "{garbage}");
        let other = parse(b"{\"hello\": 1}").unwrap_err();
        assert!(other.contains("no schema_version"), "{other}");
        let wrong = parse(
            text.replace("\"cpu_count\":2", "\"cpu_count\":\"two\"")
                .as_bytes(),
        )
        .unwrap_err();
        assert!(
            wrong.contains("cpu_count") || wrong.contains("invalid type"),
            "{wrong}"
        );
    }
}
