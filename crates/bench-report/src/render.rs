//! `bench-report render`: every current document under `--input` → one
//! model → Markdown, HTML and CSV under `--output-dir`, each written
//! atomically (temporary file, fsync, rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use bench_core::exit::{Failure, Status};

use crate::cli::{FormatArg, RenderArgs};
use crate::export::{self, Exporter, Templates};
use crate::load;
use crate::model::{self, ModelOptions};
use crate::source::{FileRef, Source};
use crate::thresholds::Rule;

/// Runs `render`.
pub fn run(source: &Source, args: &RenderArgs) -> Result<Status, Failure> {
    let rule = Rule::from_args(&args.thresholds, &[])?;
    // Parse the templates before reading megabytes of results: a typo in a
    // user's template is a usage error at once.
    let templates = Templates::load(args.templates.as_deref())?;
    let exporters: Vec<Box<dyn Exporter>> = export::all()
        .into_iter()
        .filter(|e| args.format.is_empty() || args.format.iter().any(|f| name(*f) == e.name()))
        .collect();
    let engines = exporters
        .iter()
        .map(|e| templates.engine(e.as_ref()))
        .collect::<Result<Vec<_>, Failure>>()?;

    let started = std::time::Instant::now();
    let listing = source.listing(None, false)?;
    let files = listing.results;
    let (docs, skipped) = load::load(source, &files);
    tracing::debug!("read {} files in {:?}", files.len(), started.elapsed());
    for s in &skipped {
        tracing::warn!("skipping {}: {}", s.location, s.reason);
    }
    let docs = keep_clouds(docs, &args.clouds)?;
    if docs.is_empty() {
        return Err(Failure::usage(format!(
            "--input {}: no usable result documents{}; run a tier binary first (bench-host run, bench-client, bench-sandbox), or check the warnings above",
            source.display(),
            if args.clouds.is_empty() {
                String::new()
            } else {
                format!(" for --clouds {}", args.clouds.join(","))
            }
        )));
    }
    let clouds: Vec<String> =
        model::cloud_order(docs.iter().map(|d| d.file.cloud.clone()).collect(), "");
    let baseline = match &args.baseline {
        Some(b) if clouds.contains(b) => b.clone(),
        Some(b) => {
            return Err(Failure::usage(format!(
                "--baseline {b}: no results for that cloud; the clouds here are {}",
                clouds.join(", ")
            )));
        }
        None => clouds[0].clone(),
    };
    let built = std::time::Instant::now();
    let report = model::build(
        &docs,
        &skipped,
        &ModelOptions {
            baseline,
            significance: rule.significance,
            noise_threshold: rule.noise_threshold,
            exhaustive: rule.exhaustive,
            input: source.display(),
            generated_at: bench_core::time::now_rfc3339(),
            summaries: summary_links(source, &args.output_dir, &listing.summaries),
        },
    );

    tracing::debug!("built the model in {:?}", built.elapsed());
    let (tests, spent) = crate::significance::spent();
    tracing::debug!(
        "significance tests: {tests} in {:.3} s summed over threads",
        spent.as_secs_f64()
    );
    let rendering = std::time::Instant::now();
    let rendered = exporters
        .iter()
        .zip(&engines)
        .map(|(e, tera)| export::render(tera, e.as_ref(), &report).map(|text| (e, text)))
        .collect::<Result<Vec<_>, Failure>>()?;
    tracing::debug!("rendered in {:?}", rendering.elapsed());
    std::fs::create_dir_all(&args.output_dir).map_err(|e| {
        Failure::usage(format!(
            "--output-dir {}: {e}; give a directory you can write",
            args.output_dir.display()
        ))
    })?;
    for (exporter, text) in rendered {
        let path = args.output_dir.join(exporter.file_name());
        write_atomically(&path, text.as_bytes()).map_err(|e| {
            Failure::runtime(format!(
                "{}: {e}; nothing of it was written",
                path.display()
            ))
        })?;
        tracing::info!("wrote {} ({} bytes)", path.display(), text.len());
    }
    tracing::info!(
        "{} clouds, {} documents, {} rows, {} significant differences, {} files skipped",
        report.cloud_names.len(),
        report.totals.documents,
        report.totals.rows,
        report.totals.significant,
        report.totals.skipped
    );
    Ok(Status::Complete)
}

fn name(f: FormatArg) -> &'static str {
    match f {
        FormatArg::Md => "md",
        FormatArg::Html => "html",
        FormatArg::Csv => "csv",
    }
}

/// The documents of the wanted clouds (all when none are named); a named
/// cloud without documents is a usage error.
fn keep_clouds(docs: Vec<load::Loaded>, wanted: &[String]) -> Result<Vec<load::Loaded>, Failure> {
    if wanted.is_empty() {
        return Ok(docs);
    }
    let present: Vec<&str> = docs.iter().map(|d| d.file.cloud.as_str()).collect();
    if let Some(missing) = wanted.iter().find(|w| !present.contains(&w.as_str())) {
        let mut known: Vec<&str> = present.clone();
        known.sort_unstable();
        known.dedup();
        return Err(Failure::usage(format!(
            "--clouds {missing}: no results for that cloud; the clouds here are {}",
            known.join(", ")
        )));
    }
    Ok(docs
        .into_iter()
        .filter(|d| wanted.contains(&d.file.cloud))
        .collect())
}

/// Per cloud, the link from the report directory to its current
/// `summary_report.json`: a relative path between the two local
/// directories, percent-encoded; `../<cloud>/summary_report.json` (reports in
/// `<input>/reports/`) when the input is an object store or a path is not UTF-8.
fn summary_links(
    source: &Source,
    output_dir: &Path,
    summaries: &[FileRef],
) -> BTreeMap<String, String> {
    summaries
        .iter()
        .filter(|f| f.history_run.is_none())
        .map(|f| {
            let segments = match source {
                Source::Dir(root) => {
                    relative_segments(&resolve(output_dir), &resolve(&root.join(&f.relative)))
                }
                Source::Object { .. } => None,
            }
            .unwrap_or_else(|| vec!["..".to_owned(), f.cloud.clone(), f.file_name.clone()]);
            let href: Vec<String> = segments
                .iter()
                .map(|s| {
                    if s == ".." {
                        s.clone()
                    } else {
                        encode_segment(s)
                    }
                })
                .collect();
            (f.cloud.clone(), href.join("/"))
        })
        .collect()
}

/// `path` made absolute, through its longest existing ancestor with
/// symlinks resolved (the report directory may not exist yet), `.` and `..`
/// of the rest applied lexically.
fn resolve(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parts: Vec<Component> = abs.components().collect();
    for k in (0..=parts.len()).rev() {
        let prefix: PathBuf = parts[..k].iter().collect();
        let Ok(mut out) = prefix.canonicalize() else {
            continue;
        };
        for c in &parts[k..] {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(x) => out.push(x),
                _ => {}
            }
        }
        return out;
    }
    abs
}

/// The path segments that lead from directory `from` to `to` (both
/// absolute); `None` when one is not UTF-8.
fn relative_segments(from: &Path, to: &Path) -> Option<Vec<String>> {
    let names = |p: &Path| -> Option<Vec<String>> {
        p.components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .map(|c| c.as_os_str().to_str().map(str::to_owned))
            .collect()
    };
    let (from, to) = (names(from)?, names(to)?);
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = vec!["..".to_owned(); from.len() - common];
    out.extend(to[common..].iter().cloned());
    Some(out)
}

/// One URL path segment: every byte but ASCII letters, digits, `-`, `.`
/// and `_` percent-encoded, so a cloud name can be neither markup nor a
/// Markdown link's end.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it
/// over `path`: a reader sees the old report or the new one, never half.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_links_are_relative_and_encoded() {
        let seg = |from: &str, to: &str| {
            relative_segments(Path::new(from), Path::new(to))
                .unwrap()
                .join("/")
        };
        assert_eq!(
            seg("/r/outputs/reports", "/r/outputs/aws/summary_report.json"),
            "../aws/summary_report.json"
        );
        assert_eq!(
            seg("/r/reports", "/r/outputs/aws/summary_report.json"),
            "../outputs/aws/summary_report.json"
        );
        assert_eq!(
            seg("/r/out", "/r/out/aws/summary_report.json"),
            "aws/summary_report.json"
        );
        assert_eq!(encode_segment("aws-1_x.y"), "aws-1_x.y");
        assert_eq!(
            encode_segment("a b\"<>[]()&é"),
            "a%20b%22%3C%3E%5B%5D%28%29%26%C3%A9"
        );
        let dir = tempfile::tempdir().unwrap();
        let real = resolve(dir.path());
        assert_eq!(resolve(&dir.path().join("new/../x/./y")), real.join("x/y"));
    }
}
