//! `bench-report compare A B`: a regression gate for CI, like Firecracker's
//! A/B tests. A and B are run ids under `--input` (current or in history)
//! or directories of result files. Every workload measured by both is
//! compared: a change counts when the permutation test gives p below
//! `--significance` *and* the mean moved by more than the noise threshold
//! (5% by default, `--threshold METRIC=PCT` per metric). Exit 1 when
//! something regressed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use bench_core::exit::{Failure, Status};
use bench_core::stats::{CompareOptions, Verdict};
use serde::Serialize;

use crate::cli::{CompareArgs, CompareFormat};
use crate::format;
use crate::load::{self, Loaded, is_manual_sandbox};
use crate::model::{direction, labels_text};
use crate::significance;
use crate::source::{FileRef, REPORTS_DIR, Source, json_files_under};
use crate::thresholds::Rule;

/// One side of the comparison.
#[derive(Debug)]
struct Side {
    /// How it was named (run id or directory).
    name: String,
    docs: Vec<Loaded>,
}

/// One workload of both sides.
#[derive(Debug, Serialize)]
struct Line {
    metric: String,
    unit: String,
    labels: String,
    cloud: Option<String>,
    a: Option<f64>,
    b: Option<f64>,
    change: Option<f64>,
    p_value: Option<f64>,
    batch_size: Option<usize>,
    noise_threshold: f64,
    verdict: &'static str,
}

#[derive(Debug, Serialize)]
struct Outcome<'a> {
    a: &'a str,
    b: &'a str,
    significance: f64,
    noise_threshold: f64,
    summary: BTreeMap<&'static str, usize>,
    rows: &'a [Line],
}

/// Runs `compare`.
pub fn run(
    input: &str,
    open: impl Fn() -> Result<Source, Failure>,
    args: &CompareArgs,
) -> Result<Status, Failure> {
    let rule = Rule::from_args(&args.thresholds, &args.metric_thresholds)?;
    let mut opened = None;
    let a = side(
        "A",
        &args.a,
        input,
        &open,
        &mut opened,
        args.cloud.as_deref(),
    )?;
    let b = side(
        "B",
        &args.b,
        input,
        &open,
        &mut opened,
        args.cloud.as_deref(),
    )?;
    let lines = compare_sides(&a, &b, &rule);
    let mut summary: BTreeMap<&'static str, usize> = BTreeMap::new();
    for l in &lines {
        *summary.entry(l.verdict).or_default() += 1;
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        CompareFormat::Table => write_table(&mut out, &lines, false),
        CompareFormat::Markdown => write_table(&mut out, &lines, true),
        CompareFormat::Json => {
            let doc = Outcome {
                a: &a.name,
                b: &b.name,
                significance: rule.significance,
                noise_threshold: rule.noise_threshold,
                summary: summary.clone(),
                rows: &lines,
            };
            serde_json::to_writer_pretty(&mut out, &doc)
                .map_err(std::io::Error::other)
                .and_then(|()| writeln!(out))
        }
    };
    written.map_err(|e| Failure::runtime(format!("stdout: {e}")))?;
    let count = |k: &str| summary.get(k).copied().unwrap_or(0);
    let regressions = count("regression");
    tracing::info!(
        "compare {} → {}: {regressions} regressions, {} improvements, {} unchanged, {} without a test (no raw observations or too few), {} only in one run",
        a.name,
        b.name,
        count("improvement"),
        count("unchanged"),
        count("no_raw") + count("insufficient"),
        count("only_a") + count("only_b"),
    );
    if lines
        .iter()
        .all(|l| l.verdict == "only_a" || l.verdict == "only_b")
    {
        return Err(Failure::usage(format!(
            "{} and {} have no workload in common; compare runs of the same suites",
            a.name, b.name
        )));
    }
    Ok(if regressions > 0 {
        Status::CheckFailed
    } else {
        Status::Complete
    })
}

/// Resolves `value`: an existing directory, else a run id under `--input`.
fn side(
    which: &str,
    value: &str,
    input: &str,
    open: &impl Fn() -> Result<Source, Failure>,
    opened: &mut Option<Source>,
    cloud: Option<&str>,
) -> Result<Side, Failure> {
    let dir = Path::new(value);
    let docs = if dir.is_dir() {
        let docs = load_dir(dir);
        if docs.is_empty() {
            return Err(Failure::usage(format!(
                "{which} {value}: no usable result documents in this directory"
            )));
        }
        docs
    } else {
        let source = match opened {
            Some(source) => source,
            None => opened.insert(open()?),
        };
        let files = source.files(None, true)?;
        let (docs, _) = load::load(source, &files);
        let docs: Vec<Loaded> = docs.into_iter().filter(|d| d.doc.run_id == value).collect();
        if docs.is_empty() {
            return Err(Failure::usage(format!(
                "{which} {value}: neither a directory nor a run id under --input {input}; `bench-report list --history` shows the run ids"
            )));
        }
        docs
    };
    let docs: Vec<Loaded> = docs
        .into_iter()
        .filter(|d| cloud.is_none_or(|c| d.doc.cloud == c || d.file.cloud == c))
        .collect();
    if docs.is_empty() {
        return Err(Failure::usage(format!(
            "{which} {value}: no documents of cloud {}",
            cloud.unwrap_or_default()
        )));
    }
    // A run of several nodes or shards compares as the report shows it.
    let (merged, warnings) = crate::model::merge::merge(&docs);
    for w in warnings {
        tracing::warn!("{which} {value}: {w}");
    }
    let merged = match merged {
        std::borrow::Cow::Owned(merged) => Some(merged),
        std::borrow::Cow::Borrowed(_) => None,
    };
    Ok(Side {
        name: value.to_owned(),
        docs: merged.unwrap_or(docs),
    })
}

/// Every result document under `dir` (recursively, but not in `history/`
/// or `reports/`); unusable files are warnings.
fn load_dir(dir: &Path) -> Vec<Loaded> {
    let mut docs = Vec::new();
    for path in json_files_under(dir, &[bench_core::sink::HISTORY_DIR, REPORTS_DIR]) {
        let location = path.display().to_string();
        match std::fs::read(&path)
            .map_err(|e| format!("cannot read: {e}"))
            .and_then(|bytes| load::parse(&bytes))
        {
            Ok((doc, templates)) => docs.push(Loaded {
                file: FileRef {
                    cloud: doc.cloud.clone(),
                    file_name: path
                        .file_name()
                        .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
                    history_run: None,
                    relative: location.clone(),
                },
                location,
                doc,
                templates,
            }),
            Err(reason) => tracing::warn!("skipping {location}: {reason}"),
        }
    }
    docs
}

type Key = (Option<String>, String, String, BTreeMap<String, String>);

/// The newest sample of each workload of a side. The cloud is part of the
/// key only when a side holds several clouds (so aws run A compares with
/// gcp run B).
fn samples(side: &Side, with_cloud: bool) -> BTreeMap<Key, (&Loaded, &bench_core::schema::Sample)> {
    let mut docs: Vec<&Loaded> = side.docs.iter().collect();
    docs.sort_by(|a, b| a.doc.finished_at.cmp(&b.doc.finished_at));
    let mut map = BTreeMap::new();
    for d in docs {
        for s in &d.doc.samples {
            let mut labels = s.labels.clone();
            if is_manual_sandbox(&d.file.file_name) {
                labels.insert("source".to_owned(), "manual".to_owned());
            }
            let key = (
                with_cloud.then(|| d.doc.cloud.clone()),
                d.doc.tier.as_str().to_owned(),
                s.metric.clone(),
                labels,
            );
            map.insert(key, (d, s));
        }
    }
    map
}

fn clouds(side: &Side) -> BTreeSet<&str> {
    side.docs.iter().map(|d| d.doc.cloud.as_str()).collect()
}

fn compare_sides(a: &Side, b: &Side, rule: &Rule) -> Vec<Line> {
    let with_cloud = clouds(a).len() > 1 || clouds(b).len() > 1;
    let sa = samples(a, with_cloud);
    let sb = samples(b, with_cloud);
    let keys: BTreeSet<&Key> = sa.keys().chain(sb.keys()).collect();
    let work: Vec<&Key> = keys.into_iter().collect();
    crate::parallel::map(&work, |key| {
        let (cloud, _tier, metric, labels) = key;
        let (x, y) = (sa.get(*key).map(|p| p.1), sb.get(*key).map(|p| p.1));
        let unit = x.or(y).map_or(String::new(), |s| s.unit.clone());
        let noise = rule.noise_for(metric);
        let mut line = Line {
            metric: metric.clone(),
            unit: unit.clone(),
            labels: labels_text(labels),
            cloud: cloud.clone(),
            a: x.map(|s| s.value),
            b: y.map(|s| s.value),
            change: None,
            p_value: None,
            batch_size: None,
            noise_threshold: noise,
            verdict: "unchanged",
        };
        let (Some(x), Some(y)) = (x, y) else {
            line.verdict = if x.is_some() { "only_a" } else { "only_b" };
            return line;
        };
        if x.value != 0.0 {
            line.change = Some((y.value - x.value) / x.value.abs());
        }
        let Some(dir) = direction(metric, &unit) else {
            line.verdict = "informational";
            return line;
        };
        // No raw observations: no test. A single one: the test says it is
        // insufficient.
        if x.raw.is_empty() || y.raw.is_empty() {
            line.verdict = "no_raw";
            return line;
        }
        let opts = CompareOptions {
            significance: rule.significance,
            noise_threshold: noise,
            direction: dir,
            exhaustive: rule.exhaustive,
            ..CompareOptions::default()
        };
        match significance::test(&x.raw, &y.raw, &opts) {
            None => line.verdict = "insufficient",
            Some(t) => {
                line.change = Some(t.comparison.relative_change);
                line.p_value = Some(t.comparison.p_value);
                line.batch_size = Some(t.batch_size);
                line.verdict = match t.comparison.verdict {
                    Verdict::Slower => "regression",
                    Verdict::Faster => "improvement",
                    Verdict::NoDifference => "unchanged",
                };
            }
        }
        line
    })
}

fn write_table(out: &mut impl Write, lines: &[Line], markdown: bool) -> std::io::Result<()> {
    let with_cloud = lines.iter().any(|l| l.cloud.is_some());
    let mut header = vec!["METRIC", "LABELS", "A", "B", "CHANGE", "P", "VERDICT"];
    if with_cloud {
        header.insert(0, "CLOUD");
    }
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            let mut row = vec![
                l.metric.clone(),
                l.labels.clone(),
                l.a.map(|v| format::value(v, &l.unit))
                    .unwrap_or_else(|| "—".to_owned()),
                l.b.map(|v| format::value(v, &l.unit))
                    .unwrap_or_else(|| "—".to_owned()),
                l.change.map(format::change).unwrap_or_default(),
                l.p_value.map(format::p_value).unwrap_or_default(),
                l.verdict.replace('_', " "),
            ];
            if with_cloud {
                row.insert(0, l.cloud.clone().unwrap_or_default());
            }
            row
        })
        .collect();
    if markdown {
        let esc = crate::export::escape_markdown;
        writeln!(out, "| {} |", header.join(" | "))?;
        writeln!(
            out,
            "|{}",
            header.iter().map(|_| "---|").collect::<String>()
        )?;
        for row in &rows {
            let cells: Vec<String> = row.iter().map(|c| esc(c)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        return Ok(());
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(
        out,
        "{}",
        line(header.iter().map(|h| (*h).to_owned()).collect())
    )?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}
