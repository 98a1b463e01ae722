//! `bench-report validate [PATH...]`: every JSON file checked against the
//! published schema (`docs/schema/result-v1.json`), and each sample's
//! histogram against its own rules, one line per problem.
//! Exit 0 when all are valid, 1 when one is not, 2 when there is nothing to
//! check.

use std::io::Write;
use std::path::{Path, PathBuf};

use bench_core::exit::{Failure, Status};
use bench_core::schema::{Histogram, SCHEMA_VERSION, SUMMARY_SCHEMA};
use serde_json::Value;

use crate::source::{Source, json_files_under};
use bench_core::schema_check;

/// Runs `validate` on `paths`, or on every file under `--input`.
pub fn run(
    input: &str,
    open: impl Fn() -> Result<Source, Failure>,
    paths: &[PathBuf],
    quiet: bool,
) -> Result<Status, Failure> {
    let mut files: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    if paths.is_empty() {
        let source = open()?;
        for f in source.files(None, true)? {
            files.push((source.location(&f), source.read(&f)));
        }
    } else {
        for p in paths {
            if p.is_dir() {
                files.extend(
                    json_files_under(p, &[])
                        .into_iter()
                        .map(|f| (f.display().to_string(), read(&f))),
                );
            } else if p.exists() {
                files.push((p.display().to_string(), read(p)));
            } else {
                return Err(Failure::usage(format!(
                    "{}: no such file or directory",
                    p.display()
                )));
            }
        }
    }
    if files.is_empty() {
        let from = if paths.is_empty() {
            format!("--input {input}")
        } else {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Err(Failure::usage(format!("{from}: no JSON files to validate")));
    }
    let mut out = std::io::stdout().lock();
    let mut invalid = 0;
    for (location, bytes) in &files {
        let problems = match bytes {
            Ok(b) => problems(b),
            Err(e) => vec![format!("cannot read: {e}")],
        };
        let written = if problems.is_empty() {
            if quiet {
                Ok(())
            } else {
                writeln!(out, "ok       {location}")
            }
        } else {
            invalid += 1;
            problems
                .iter()
                .try_for_each(|p| writeln!(out, "invalid  {location}: {p}"))
        };
        written.map_err(|e| Failure::runtime(format!("stdout: {e}")))?;
    }
    tracing::info!("{} of {} files valid", files.len() - invalid, files.len());
    Ok(if invalid > 0 {
        Status::CheckFailed
    } else {
        Status::Complete
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| e.to_string())
}

/// What is wrong with one file (empty when it is a valid document).
pub fn problems(bytes: &[u8]) -> Vec<String> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) if e.is_eof() => {
            return vec![format!(
                "truncated: the JSON ends early at line {} column {}",
                e.line(),
                e.column()
            )];
        }
        Err(e) => return vec![format!("not valid JSON: {e}")],
    };
    if value.get("schema_version").is_none()
        && let Some(schema) = value.get("schema").and_then(Value::as_str)
    {
        return summary_problems(schema, &value);
    }
    match value.get("schema_version").and_then(Value::as_u64) {
        Some(v) if v != u64::from(SCHEMA_VERSION) => {
            return vec![format!(
                "schema_version {v} is not supported (this build reads {SCHEMA_VERSION}); upgrade e2b-bench"
            )];
        }
        _ => {}
    }
    let mut problems = schema_check::violations(&value);
    if problems.is_empty() {
        problems.extend(histogram_problems(&value));
    }
    problems
}

/// What the schema cannot say about a sample's histogram: its bins ascend,
/// every count is > 0, and the counts add up to `stats.n`. One line per
/// broken histogram, naming the field (`/samples/3/histogram/bins/7: …`).
fn histogram_problems(doc: &Value) -> Vec<String> {
    let Some(samples) = doc.get("samples").and_then(Value::as_array) else {
        return Vec::new();
    };
    samples
        .iter()
        .enumerate()
        .filter_map(|(i, sample)| {
            let h = sample.get("histogram").filter(|h| !h.is_null())?;
            let at = format!("/samples/{i}/histogram");
            let h: Histogram = match serde_json::from_value(h.clone()) {
                Ok(h) => h,
                Err(e) => return Some(format!("{at}: {e}")),
            };
            let n = sample
                .get("stats")
                .and_then(|s| s.get("n"))
                .and_then(Value::as_u64);
            h.check(n).err().map(|e| format!("{at}/{e}"))
        })
        .collect()
}

/// A bench-client summary (`summary_report.json`) is not a result document:
/// only its `schema` and outline are checked.
fn summary_problems(schema: &str, value: &Value) -> Vec<String> {
    if schema != SUMMARY_SCHEMA {
        return vec![format!(
            "summary schema '{schema}' is not supported (this build reads {SUMMARY_SCHEMA}); use the bench-report of the bench-client that wrote it"
        )];
    }
    ["cloud", "templates"]
        .iter()
        .filter(|k| value.get(**k).is_none())
        .map(|k| format!("/: summary without \"{k}\""))
        .collect()
}
