//! `bench-report list`: one row per result file found under the input,
//! sorted by cloud, suite and start time; each cloud's summaries
//! (`summary_report.json`, suite shown as `summary`) follow its results.
//! When some file is node- or shard-qualified (`--node`, `--shard`), a NODE
//! column says which machine (and shard) wrote each one.

use std::io::Write;

use bench_core::exit::{Failure, Status};
use serde::Deserialize;

use bench_core::shard::parse_file_name;

use crate::load::{self, Loaded};
use crate::model::merge::Contributor;
use crate::source::{FileRef, Source};

/// The suite column of a `summary_report.json` row.
const SUMMARY_SUITE: &str = "summary";

/// The fields of a summary that `list` shows; anything else is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryHead {
    run_id: Option<String>,
    generated_at: Option<String>,
    tool: Option<bench_core::schema::Tool>,
}

/// A listed summary.
#[derive(Debug)]
pub struct SummaryEntry {
    /// Where it was found.
    pub file: FileRef,
    /// The path or URL.
    pub location: String,
    run_id: String,
    generated_at: String,
    tool: String,
}

/// Reads the head of each summary; one that is not JSON is a warning.
fn summaries(source: &Source, files: &[FileRef]) -> Vec<SummaryEntry> {
    files
        .iter()
        .filter_map(|f| {
            let location = source.location(f);
            let head = source.read(f).and_then(|bytes| {
                serde_json::from_slice::<SummaryHead>(&bytes)
                    .map_err(|e| format!("not a valid summary: {e}"))
            });
            match head {
                Ok(h) => Some(SummaryEntry {
                    file: f.clone(),
                    location,
                    run_id: h.run_id.unwrap_or_default(),
                    generated_at: h.generated_at.unwrap_or_default(),
                    tool: h
                        .tool
                        .map(|t| format!("{} {}", t.name, t.version))
                        .unwrap_or_default(),
                }),
                Err(reason) => {
                    tracing::warn!("skipping {location}: {reason}");
                    None
                }
            }
        })
        .collect()
}

/// Lists the results under `source` on stdout.
pub fn run(source: &Source, cloud: Option<&str>, history: bool) -> Result<Status, Failure> {
    let listing = source.listing(cloud, history)?;
    let (mut entries, skipped) = load::load(source, &listing.results);
    for s in &skipped {
        tracing::warn!("skipping {}: {}", s.location, s.reason);
    }
    let summaries = summaries(source, &listing.summaries);
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
    write_table(&mut out, &entries, &summaries)
        .map_err(|e| Failure::runtime(format!("stdout: {e}")))?;
    Ok(Status::Complete)
}

/// Writes an aligned table (or a note when there is nothing): the result
/// files, then after each cloud's results its summaries (oldest first,
/// `STARTED` being when the summary was made, `-` for samples and errors).
pub fn write_table(
    out: &mut impl Write,
    entries: &[Loaded],
    summaries: &[SummaryEntry],
) -> std::io::Result<()> {
    if entries.is_empty() && summaries.is_empty() {
        return writeln!(out, "no result files found");
    }
    let qualified = |f: &FileRef| {
        let p = parse_file_name(&f.file_name);
        p.node.is_some() || p.shard.is_some()
    };
    // Single-machine directories keep the table they always had.
    let with_node =
        entries.iter().any(|e| qualified(&e.file)) || summaries.iter().any(|s| qualified(&s.file));
    let node_column = |row: &mut Vec<String>, node: String| {
        if with_node {
            row.insert(3, node);
        }
    };
    let mut header: Vec<String> = [
        "CLOUD", "SUITE", "RUN ID", "STARTED", "TOOL", "SAMPLES", "ERRORS", "FILE",
    ]
    .map(str::to_owned)
    .to_vec();
    node_column(&mut header, "NODE".to_owned());
    let mut rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let mut row = vec![
                e.file.cloud.clone(),
                e.doc.suite.clone(),
                e.doc.run_id.clone(),
                e.doc.started_at.clone(),
                format!("{} {}", e.doc.tool.name, e.doc.tool.version),
                e.doc.samples.len().to_string(),
                e.doc.errors.len().to_string(),
                e.location.clone(),
            ];
            node_column(&mut row, Contributor::of(e).describe());
            row
        })
        .collect();
    let mut summaries: Vec<&SummaryEntry> = summaries.iter().collect();
    summaries.sort_by(|a, b| {
        (&a.file.cloud, &a.generated_at, &a.file.relative).cmp(&(
            &b.file.cloud,
            &b.generated_at,
            &b.file.relative,
        ))
    });
    for s in summaries {
        let mut row = vec![
            s.file.cloud.clone(),
            SUMMARY_SUITE.to_owned(),
            s.run_id.clone(),
            s.generated_at.clone(),
            s.tool.clone(),
            "-".to_owned(),
            "-".to_owned(),
            s.location.clone(),
        ];
        let p = parse_file_name(&s.file.file_name);
        let node = match (p.node, p.shard) {
            (Some(n), Some(sh)) => format!("{n} shard {sh}"),
            (Some(n), None) => n,
            (None, Some(sh)) => format!("shard {sh}"),
            (None, None) => String::new(),
        };
        node_column(&mut row, node);
        // After the cloud's last result row (rows are sorted by cloud).
        let at = rows.partition_point(|r| r[0] <= row[0]);
        rows.insert(at, row);
    }
    let mut widths: Vec<usize> = header.iter().map(String::len).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(&header))?;
    for row in &rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}
