//! `bench-report list`: one row per result file found under the input
//! directory, sorted by cloud, suite and start time.

use std::io::Write;
use std::path::{Path, PathBuf};

use bench_core::exit::{Failure, Status};
use bench_core::schema::ResultDocument;

/// One result file and what it holds.
#[derive(Debug)]
pub struct Entry {
    /// Directory name under the input root.
    pub cloud: String,
    /// The file.
    pub path: PathBuf,
    /// Its document.
    pub doc: ResultDocument,
}

/// Lists the results under `input` on stdout.
pub fn run(input: &Path, cloud: Option<&str>, history: bool) -> Result<Status, Failure> {
    let entries = scan(input, cloud, history)?;
    let mut out = std::io::stdout().lock();
    write_table(&mut out, &entries).map_err(|e| Failure::runtime(format!("stdout: {e}")))?;
    Ok(Status::Complete)
}

/// Finds and parses every result file; an unreadable one is a warning.
pub fn scan(input: &Path, cloud: Option<&str>, history: bool) -> Result<Vec<Entry>, Failure> {
    let clouds = std::fs::read_dir(input).map_err(|e| {
        Failure::usage(format!(
            "--input {}: {e}; run a tier binary first or point --input at a results directory",
            input.display()
        ))
    })?;
    let mut entries = Vec::new();
    for dir in clouds.flatten() {
        let name = dir.file_name().to_string_lossy().into_owned();
        if !dir.path().is_dir() || name == "reports" || cloud.is_some_and(|c| c != name) {
            continue;
        }
        let mut files = json_files(&dir.path());
        if history {
            for run in read_dirs(&dir.path().join("history")) {
                files.extend(json_files(&run));
            }
        }
        for path in files {
            match std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| ResultDocument::from_json(&text).map_err(|e| e.to_string()))
            {
                Ok(doc) => entries.push(Entry {
                    cloud: name.clone(),
                    path,
                    doc,
                }),
                Err(e) => tracing::warn!("skipping {}: {e}", path.display()),
            }
        }
    }
    entries.sort_by(|a, b| {
        let key = |e: &Entry| {
            (
                e.cloud.clone(),
                e.doc.suite.clone(),
                e.doc.started_at.clone(),
                e.doc.run_id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(entries)
}

/// The entries of `dir` that pass `keep`, sorted; a missing directory is empty.
fn children(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| keep(p))
        .collect();
    paths.sort();
    paths
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    children(dir, Path::is_dir)
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    children(dir, |p| {
        p.is_file() && p.extension().is_some_and(|x| x == "json")
    })
}

/// Writes an aligned table (or a note when there is nothing).
pub fn write_table(out: &mut impl Write, entries: &[Entry]) -> std::io::Result<()> {
    if entries.is_empty() {
        return writeln!(out, "no result files found");
    }
    let header = [
        "CLOUD", "SUITE", "RUN ID", "STARTED", "TOOL", "SAMPLES", "ERRORS", "FILE",
    ];
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|e| {
            [
                e.cloud.clone(),
                e.doc.suite.clone(),
                e.doc.run_id.clone(),
                e.doc.started_at.clone(),
                format!("{} {}", e.doc.tool.name, e.doc.tool.version),
                e.doc.samples.len().to_string(),
                e.doc.errors.len().to_string(),
                e.path.display().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&header.map(str::to_owned)))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}
