//! `bench-report render`: every current document under `--input` → one
//! model → Markdown, HTML and CSV under `--output-dir`, each written
//! atomically (temporary file, fsync, rename).

use std::io::Write;
use std::path::Path;

use bench_core::exit::{Failure, Status};

use crate::cli::{FormatArg, RenderArgs};
use crate::export::{self, Exporter, Templates};
use crate::load;
use crate::model::{self, ModelOptions};
use crate::source::Source;
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
    let files = source.files(None, false)?;
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
            input: source.display(),
            generated_at: bench_core::time::now_rfc3339(),
        },
    );

    tracing::debug!("built the model in {:?}", built.elapsed());
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
