//! `bench-report list`: one row per result file found under the input,
//! sorted by cloud, suite and start time.

use std::io::Write;

use bench_core::exit::{Failure, Status};

use crate::load::{self, Loaded};
use crate::source::Source;

/// Lists the results under `source` on stdout.
pub fn run(source: &Source, cloud: Option<&str>, history: bool) -> Result<Status, Failure> {
    let files = source.files(cloud, history)?;
    let (mut entries, skipped) = load::load(source, &files);
    for s in &skipped {
        tracing::warn!("skipping {}: {}", s.location, s.reason);
    }
    entries.sort_by(|a, b| {
        let key = |e: &Loaded| {
            (
                e.file.cloud.clone(),
                e.doc.suite.clone(),
                e.doc.started_at.clone(),
                e.doc.run_id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut out = std::io::stdout().lock();
    write_table(&mut out, &entries).map_err(|e| Failure::runtime(format!("stdout: {e}")))?;
    Ok(Status::Complete)
}

/// Writes an aligned table (or a note when there is nothing).
pub fn write_table(out: &mut impl Write, entries: &[Loaded]) -> std::io::Result<()> {
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
                e.file.cloud.clone(),
                e.doc.suite.clone(),
                e.doc.run_id.clone(),
                e.doc.started_at.clone(),
                format!("{} {}", e.doc.tool.name, e.doc.tool.version),
                e.doc.samples.len().to_string(),
                e.doc.errors.len().to_string(),
                e.location.clone(),
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
