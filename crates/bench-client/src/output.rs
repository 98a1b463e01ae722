//! One result document being built by a scenario, written through the
//! run's sink each time something is complete (a template, a level), so an
//! interrupted or failed run keeps what finished.

use std::collections::BTreeMap;
use std::sync::Arc;

use bench_core::exit::{Failure, Status};
use bench_core::schema::{ErrorEntry, ErrorKind, ResultDocument, Sample};
use bench_core::settings::Settings;
use bench_core::sink::Sink;
use serde_json::Value;

/// A document and where it goes.
pub struct DocWriter {
    sink: Arc<dyn Sink>,
    file_name: String,
    doc: ResultDocument,
}

impl DocWriter {
    /// A new document for `suite`, written as `file_name`.
    pub fn new(
        settings: &Settings,
        sink: Arc<dyn Sink>,
        file_name: &str,
        suite: &str,
        parameters: BTreeMap<String, Value>,
    ) -> Self {
        let mut doc = settings.document(suite, bench_core::time::now_rfc3339());
        doc.parameters = parameters;
        DocWriter {
            sink,
            file_name: file_name.to_owned(),
            doc,
        }
    }

    /// Adds samples.
    pub fn samples(&mut self, samples: impl IntoIterator<Item = Sample>) {
        self.doc.samples.extend(samples);
    }

    /// Adds error entries.
    pub fn errors(&mut self, errors: impl IntoIterator<Item = ErrorEntry>) {
        self.doc.errors.extend(errors);
    }

    /// Adds one error entry.
    pub fn error(&mut self, probe: &str, kind: ErrorKind, message: impl Into<String>) {
        self.doc.errors.push(ErrorEntry {
            probe: probe.to_owned(),
            kind,
            message: message.into(),
        });
    }

    /// Sets a parameter.
    pub fn parameter(&mut self, key: &str, value: Value) {
        self.doc.parameters.insert(key.to_owned(), value);
    }

    /// Writes the document as it is now (a replacing sink) — stdout only
    /// gets the final write, see [`DocWriter::finish`].
    pub fn checkpoint(&mut self) -> Result<(), Failure> {
        if self.sink.replaces() {
            self.write()?;
        }
        Ok(())
    }

    fn write(&mut self) -> Result<(), Failure> {
        self.doc.finished_at = bench_core::time::now_rfc3339();
        let location = self.sink.write(&self.file_name, &self.doc).map_err(|e| {
            Failure::runtime(format!(
                "measured {} samples but could not write {}: {e}",
                self.doc.samples.len(),
                self.file_name
            ))
        })?;
        tracing::debug!("wrote {location}");
        Ok(())
    }

    /// The final write; with `interrupted`, an `interrupted` entry is added.
    /// Returns the document's status.
    pub fn finish(mut self, interrupted: bool) -> Result<Status, Failure> {
        if interrupted
            && !self
                .doc
                .errors
                .iter()
                .any(|e| e.kind == ErrorKind::Interrupted)
        {
            let suite = self.doc.suite.clone();
            self.error(
                &suite,
                ErrorKind::Interrupted,
                "interrupted; what finished is kept",
            );
        }
        self.write()?;
        tracing::info!(
            "{}: {} samples, {} errors, written to {}",
            self.doc.suite,
            self.doc.samples.len(),
            self.doc.errors.len(),
            self.sink.location()
        );
        Ok(if interrupted {
            Status::Interrupted
        } else if self.doc.errors.is_empty() {
            Status::Complete
        } else {
            Status::Partial
        })
    }
}

/// `value` marked as measured against an emulator named `name`: a result
/// document gets `parameters.emulator`, the summary (`summary_report.json`)
/// a top-level `emulator`; anything else is left as it is. Done in the run's
/// sink ([`Recorder`]) because every file a run writes passes through it,
/// [`DocWriter`]'s and the in-sandbox suite's alike; bench-report badges a
/// cloud whose documents carry it (docs/quickstart.md).
pub fn stamp_emulator(value: &Value, name: &str) -> Value {
    let mut value = value.clone();
    if let Some(obj) = value.as_object_mut() {
        if obj.contains_key("schema_version") {
            if let Some(Value::Object(p)) = obj.get_mut("parameters") {
                p.insert("emulator".into(), Value::from(name));
            } else {
                obj.insert("parameters".into(), serde_json::json!({ "emulator": name }));
            }
        } else if obj.get("schema").and_then(Value::as_str)
            == Some(bench_core::schema::SUMMARY_SCHEMA)
        {
            obj.insert("emulator".into(), Value::from(name));
        }
    }
    value
}

/// The run's sink, remembering the last version of every document written
/// through it, so `run` can summarise what it wrote wherever it went (a
/// directory or an object store).
pub struct Recorder {
    inner: Box<dyn Sink>,
    written: std::sync::Mutex<BTreeMap<String, ResultDocument>>,
}

impl Recorder {
    /// Wraps `inner`.
    pub fn new(inner: Box<dyn Sink>) -> Self {
        Recorder {
            inner,
            written: Default::default(),
        }
    }

    /// The documents written so far, by file name.
    pub fn written(&self) -> BTreeMap<String, ResultDocument> {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Sink for Recorder {
    fn write_json(
        &self,
        file_name: &str,
        value: &Value,
    ) -> Result<String, bench_core::sink::SinkError> {
        let stamped = crate::api::emulator().map(|name| stamp_emulator(value, name));
        let value = stamped.as_ref().unwrap_or(value);
        let location = self.inner.write_json(file_name, value)?;
        if let Ok(doc) = serde_json::from_value::<ResultDocument>(value.clone()) {
            self.written
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(file_name.to_owned(), doc);
        }
        Ok(location)
    }

    fn location(&self) -> String {
        self.inner.location()
    }

    fn replaces(&self) -> bool {
        self.inner.replaces()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stamps_documents_and_the_summary_only() {
        let doc = json!({"schema_version": 1, "parameters": {"quick": true}, "samples": []});
        let out = stamp_emulator(&doc, "e2b-sim 0.1.0");
        assert_eq!(
            out["parameters"],
            json!({"quick": true, "emulator": "e2b-sim 0.1.0"})
        );
        let bare = stamp_emulator(&json!({"schema_version": 1}), "e2b-sim 0.1.0");
        assert_eq!(bare["parameters"]["emulator"], "e2b-sim 0.1.0");

        let summary = json!({"schema": bench_core::schema::SUMMARY_SCHEMA, "cloud": "local-sim"});
        let out = stamp_emulator(&summary, "e2b-sim 0.1.0");
        assert_eq!(out["emulator"], "e2b-sim 0.1.0");
        assert_eq!(out["cloud"], "local-sim");

        let other = json!({"schema": "something-else/1"});
        assert_eq!(stamp_emulator(&other, "e2b-sim 0.1.0"), other);
    }
}
