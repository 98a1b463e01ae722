//! Where result files are read from: a local directory or an object-store
//! prefix, both laid out as the tiers write them:
//!
//! ```text
//! <root>/<cloud>/<file>.json
//! <root>/<cloud>/history/<run_id>/<file>.json
//! <root>/reports/...            (ignored: bench-report's own output)
//! ```

use std::path::{Path, PathBuf};

use bench_core::contract::file::SUMMARY_REPORT;
use bench_core::exit::Failure;
use bench_core::sink::{HISTORY_DIR, ObjectSink, OutputTarget};

/// The directory under the root that holds rendered reports, never results.
pub const REPORTS_DIR: &str = "reports";

/// One result file found under the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The cloud directory it is in.
    pub cloud: String,
    /// Its file name (`04_host_performance.json`).
    pub file_name: String,
    /// The run id directory under `history/`, for an earlier result.
    pub history_run: Option<String>,
    /// The path relative to the root, `/`-separated.
    pub relative: String,
}

impl FileRef {
    /// True for a cloud's `summary_report.json` (current or in `history/`,
    /// also node- or shard-qualified: `summary_report.jump-1.json`).
    pub fn is_summary(&self) -> bool {
        is_summary_name(&self.file_name)
    }
}

/// The files under the root: result documents and summaries, each sorted
/// by relative path.
#[derive(Debug, Default)]
pub struct Listing {
    /// Result files (parse them with [`crate::load`]).
    pub results: Vec<FileRef>,
    /// `summary_report.json` files, one per cloud (and per earlier run).
    pub summaries: Vec<FileRef>,
}

/// A local directory or an object-store prefix of results.
#[derive(Debug)]
pub enum Source {
    /// `--input DIR`.
    Dir(PathBuf),
    /// `--input s3://bucket/prefix` (or `gs://`, `az://`, `file://`).
    Object {
        /// The URL as given, for messages.
        url: String,
        /// The store, opened for reading only.
        store: Box<ObjectSink>,
    },
}

impl Source {
    /// Opens `--input`: a URL with a scheme the sinks accept, else a local
    /// directory. Object stores are configured from `env` (the process
    /// environment over `.e2b_env`).
    pub fn open<'a>(
        input: &str,
        env: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, Failure> {
        let target = OutputTarget::from_output_dir(input)
            .map_err(|e| Failure::usage(e.to_string().replace("--output-dir", "--input")))?;
        match target {
            OutputTarget::Object(url) => {
                let store = ObjectSink::open_for_reading_with_env(&url, env)
                    .map_err(|e| Failure::usage(format!("--input {url}: {e}")))?;
                Ok(Source::Object {
                    url,
                    store: Box::new(store),
                })
            }
            _ => {
                let dir = PathBuf::from(input);
                if !dir.is_dir() {
                    return Err(Failure::usage(format!(
                        "--input {input}: not a directory; run a tier binary first or point --input at a results directory (or an s3://, gs://, az:// URL)"
                    )));
                }
                Ok(Source::Dir(dir))
            }
        }
    }

    /// How the root is shown in messages.
    pub fn display(&self) -> String {
        match self {
            Source::Dir(dir) => dir.display().to_string(),
            Source::Object { url, .. } => url.clone(),
        }
    }

    /// How one file is shown in messages (a path or a URL).
    pub fn location(&self, file: &FileRef) -> String {
        match self {
            Source::Dir(dir) => dir.join(&file.relative).display().to_string(),
            Source::Object { url, .. } => {
                format!("{}/{}", url.trim_end_matches('/'), file.relative)
            }
        }
    }

    /// Every result file, sorted by relative path; `history` adds earlier
    /// runs; `cloud` keeps one cloud. Summaries ([`SUMMARY_REPORT`]) are not
    /// result files and are left out.
    pub fn files(&self, cloud: Option<&str>, history: bool) -> Result<Vec<FileRef>, Failure> {
        Ok(self.listing(cloud, history)?.results)
    }

    /// Like [`files`](Self::files), with the summaries found beside the
    /// result files, from one listing of the root.
    pub fn listing(&self, cloud: Option<&str>, history: bool) -> Result<Listing, Failure> {
        let relative = match self {
            Source::Dir(dir) => local_json_files(dir)
                .map_err(|e| Failure::usage(format!("--input {}: {e}", dir.display())))?,
            Source::Object { url, store } => store
                .list()
                .map_err(|e| Failure::usage(format!("--input {url}: {e}")))?,
        };
        let mut files: Vec<FileRef> = relative
            .iter()
            .filter_map(|r| classify(r))
            .filter(|f| history || f.history_run.is_none())
            .filter(|f| cloud.is_none_or(|c| c == f.cloud))
            .collect();
        files.sort_by(|a, b| a.relative.cmp(&b.relative));
        let (summaries, results) = files.into_iter().partition(FileRef::is_summary);
        Ok(Listing { results, summaries })
    }

    /// The bytes of one file.
    pub fn read(&self, file: &FileRef) -> Result<Vec<u8>, String> {
        match self {
            Source::Dir(dir) => std::fs::read(dir.join(&file.relative)).map_err(|e| e.to_string()),
            Source::Object { store, .. } => match store.read(&file.relative) {
                Ok(Some(bytes)) => Ok(bytes),
                Ok(None) => Err("the object disappeared while reading".to_owned()),
                Err(e) => Err(e.to_string()),
            },
        }
    }
}

/// True for the name of a summary, qualified or not.
fn is_summary_name(file_name: &str) -> bool {
    bench_core::shard::parse_file_name(file_name).base == SUMMARY_REPORT
}

/// A relative path as a result file, if it is laid out like one.
fn classify(relative: &str) -> Option<FileRef> {
    let parts: Vec<&str> = relative.split('/').collect();
    let file_name = *parts.last()?;
    if !file_name.ends_with(".json") || file_name.starts_with('.') {
        return None;
    }
    let (cloud, history_run) = match parts.as_slice() {
        [cloud, _] => (*cloud, None),
        [cloud, h, run, _] if *h == HISTORY_DIR => (*cloud, Some((*run).to_owned())),
        _ => return None,
    };
    if cloud == REPORTS_DIR || cloud.starts_with('.') {
        return None;
    }
    Some(FileRef {
        cloud: cloud.to_owned(),
        file_name: file_name.to_owned(),
        history_run,
        relative: relative.to_owned(),
    })
}

/// `<cloud>/<file>` and `<cloud>/history/<run>/<file>` under `root`.
fn local_json_files(root: &Path) -> std::io::Result<Vec<String>> {
    let mut found = Vec::new();
    for cloud in std::fs::read_dir(root)?.flatten() {
        if !cloud.path().is_dir() {
            continue;
        }
        let cloud_name = cloud.file_name().to_string_lossy().into_owned();
        for entry in children(&cloud.path()) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_file() {
                found.push(format!("{cloud_name}/{name}"));
            } else if name == HISTORY_DIR {
                for run in children(&entry.path()) {
                    let run_name = run.file_name().to_string_lossy().into_owned();
                    for file in children(&run.path()) {
                        if file.path().is_file() {
                            let f = file.file_name().to_string_lossy().into_owned();
                            found.push(format!("{cloud_name}/{HISTORY_DIR}/{run_name}/{f}"));
                        }
                    }
                }
            }
        }
    }
    Ok(found)
}

/// Every `*.json` file under `dir`, recursively, sorted, except summaries
/// ([`SUMMARY_REPORT`], not result documents); directories named in `skip`
/// are not entered.
pub fn json_files_under(dir: &Path, skip: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in children(&d) {
            let path = entry.path();
            if path.is_dir() {
                if !skip.iter().any(|s| entry.file_name() == *s) {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|x| x == "json")
                && !is_summary_name(&entry.file_name().to_string_lossy())
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn children(dir: &Path) -> Vec<std::fs::DirEntry> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_told_apart_from_results() {
        let f = classify("aws/summary_report.json").unwrap();
        assert!(f.is_summary());
        assert!(
            classify("aws/history/r1/summary_report.json")
                .unwrap()
                .is_summary()
        );
        assert!(!classify("aws/01_cold_start.json").unwrap().is_summary());
        for qualified in [
            "aws/summary_report.jump-1.json",
            "aws/summary_report.jump-1.shard-2-of-2.json",
            "aws/history/r1/summary_report.ip-1.ec2.internal.json",
        ] {
            assert!(classify(qualified).unwrap().is_summary(), "{qualified}");
        }
        assert!(
            !classify("aws/01_cold_start.jump-1.shard-1-of-2.json")
                .unwrap()
                .is_summary()
        );
    }

    #[test]
    fn classifies_the_layout_the_tiers_write() {
        let f = classify("aws/04_host_performance.json").unwrap();
        assert_eq!((f.cloud.as_str(), f.history_run), ("aws", None));
        let f = classify("gcp/history/run-1/01_cold_start.json").unwrap();
        assert_eq!(f.history_run.as_deref(), Some("run-1"));
        for ignored in [
            "reports/report.json",
            "aws/notes.txt",
            "aws/.e2b-bench-probe.json",
            "top.json",
            "aws/x/y.json",
            ".hidden/a.json",
        ] {
            assert!(classify(ignored).is_none(), "{ignored}");
        }
    }
}
