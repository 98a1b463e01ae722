//! The report model: everything the templates show, computed once. Every
//! template (Markdown, HTML, CSV, or a user's own set) renders this one
//! serialisable [`Report`]; `docs/report.md` lists its fields.
//!
//! For each row (tier × metric × labels) and cloud: the headline value, p95
//! and confidence interval; the ratio to the baseline cloud; a mark on the
//! best cloud; and, where both clouds kept raw observations, bench-core's
//! significance verdict ([`bench_core::stats::compare`](mod@bench_core::stats::compare)).
//!
//! The concurrency sweep is also summarised per template and level, with
//! each cloud's knee ([`concurrency`]).

mod collect;
pub mod concurrency;
mod drift;
mod environment;
pub mod merge;
mod ratios;
pub mod storage;

use std::collections::{BTreeMap, BTreeSet};

use bench_core::contract::metric;
use bench_core::stats::{self, CompareOptions, Direction, Verdict};
use serde::Serialize;

pub use collect::{Collected, CollectedRow, RowKey, Series, cloud_order, collect};
pub use concurrency::ConcurrencySet;
pub use drift::Drift;
pub use environment::{CloudSummary, EnvironmentRow};
pub use ratios::RatioRow;
pub use storage::StorageSet;

use crate::charts::Chart;
use crate::format;
use crate::load::{Loaded, Skipped};
use crate::significance;

/// Options of `render` that shape the model.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// The cloud every other is compared against.
    pub baseline: String,
    /// p-value threshold of a verdict.
    pub significance: f64,
    /// Minimum relative change of a verdict.
    pub noise_threshold: f64,
    /// Every random split of every test ([`CompareOptions::exhaustive`]).
    pub exhaustive: bool,
    /// Where the documents came from, for the header.
    pub input: String,
    /// When the report was made (RFC 3339).
    pub generated_at: String,
    /// Per cloud, the link from the report to its `summary_report.json`
    /// (relative to the report's directory), when it has one.
    pub summaries: BTreeMap<String, String>,
}

/// The whole report.
#[derive(Debug, Serialize)]
pub struct Report {
    /// bench-report's version.
    pub tool_version: String,
    /// When it was made.
    pub generated_at: String,
    /// The `--input` it read.
    pub input: String,
    /// The baseline cloud.
    pub baseline: String,
    /// p-value threshold used for verdicts.
    pub significance: f64,
    /// Noise threshold used for verdicts, as a fraction.
    pub noise_threshold: f64,
    /// Noise threshold as `5%`.
    pub noise_threshold_display: String,
    /// Per cloud: what was read, wins and losses.
    pub clouds: Vec<CloudSummary>,
    /// Cloud names in column order (baseline first).
    pub cloud_names: Vec<String>,
    /// Files skipped and samples left out.
    pub warnings: Vec<String>,
    /// Machines that measured, per tier and cloud.
    pub environment: Vec<EnvironmentRow>,
    /// Metric tables, one per tier and metric family.
    pub sections: Vec<Section>,
    /// Sandbox ÷ host for the workloads both tiers ran.
    pub sandbox_host: Vec<RatioRow>,
    /// The concurrency sweep per template and schedule: levels × clouds,
    /// knees and a chart.
    pub concurrency: Vec<ConcurrencySet>,
    /// Ranged reads of cloud storage per chunk size: levels × clouds, with
    /// verdicts and a chart.
    pub storage: Vec<StorageSet>,
    /// Template versions and sizes across clouds.
    pub drift: Drift,
    /// Probes that failed or could not run.
    pub errors: Vec<ProbeErrorRow>,
    /// Inline SVG charts.
    pub charts: Charts,
    /// Counts for the header.
    pub totals: Totals,
}

/// Counts shown in the header.
#[derive(Debug, Default, Serialize)]
pub struct Totals {
    /// Documents read.
    pub documents: usize,
    /// Files skipped.
    pub skipped: usize,
    /// Rows in all sections.
    pub rows: usize,
    /// Cells with a verdict of better or worse.
    pub significant: usize,
    /// Probe errors.
    pub errors: usize,
}

/// The charts of the HTML report.
#[derive(Debug, Default, Serialize)]
pub struct Charts {
    /// Start latency distribution per cloud (box plot).
    pub start_latency: Option<Chart>,
    /// Time-to-interactive phases per cloud (stacked bars).
    pub phases: Option<Chart>,
}

/// A table of rows of one tier and metric family (`cpu`, `disk`, ...).
#[derive(Debug, Serialize)]
pub struct Section {
    /// HTML anchor, e.g. `host-disk`.
    pub id: String,
    /// Heading, e.g. `Host · Disk`.
    pub title: String,
    /// `host`, `client` or `sandbox`.
    pub tier: String,
    /// Metric family (`disk`).
    pub family: String,
    /// The rows.
    pub rows: Vec<Row>,
    /// Grouped bar charts of this section's metrics (host and sandbox).
    pub charts: Vec<Chart>,
}

/// One workload across clouds.
#[derive(Debug, Serialize)]
pub struct Row {
    /// `host`, `client` or `sandbox`.
    pub tier: String,
    /// Suite of the document the first cell came from.
    pub suite: String,
    /// Metric name.
    pub metric: String,
    /// Unit of the values.
    pub unit: String,
    /// Labels, sorted by key.
    pub labels: Vec<Label>,
    /// Labels as `key=value, ...` (empty when none).
    pub labels_text: String,
    /// `higher_is_better`, `lower_is_better` or `informational`.
    pub direction: String,
    /// `↑`, `↓` or empty, for headings.
    pub direction_symbol: String,
    /// One cell per cloud, in `cloud_names` order.
    pub cells: Vec<Cell>,
    /// The best cloud, when at least two clouds measured and the metric has
    /// a better direction.
    pub best: Option<String>,
    /// True for a success-rate row where some cloud had failures (a value
    /// below 1): the tables highlight it.
    pub flagged: bool,
}

/// A label of a row.
#[derive(Debug, Clone, Serialize)]
pub struct Label {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// One cloud's figure in a row.
#[derive(Debug, Default, Serialize)]
pub struct Cell {
    /// Cloud name.
    pub cloud: String,
    /// False when this cloud did not measure this row.
    pub present: bool,
    /// Headline value.
    pub value: Option<f64>,
    /// Headline value for people (`2.22 GiB/s`).
    pub display: String,
    /// Observations behind it.
    pub n: u64,
    /// p95 of the observations.
    pub p95: Option<f64>,
    /// p95 for people.
    pub p95_display: String,
    /// p99.9 of the observations: from the sample's histogram when `raw`
    /// keeps only a subset, else from `raw` when it has at least 1000
    /// (below that p99.9 is little more than the maximum).
    pub p999: Option<f64>,
    /// p99.9 for people (empty when there is none).
    pub p999_display: String,
    /// 95% confidence interval of the headline (the median's when the
    /// document has it, else the mean's).
    pub ci95: Option<[f64; 2]>,
    /// The interval for people.
    pub ci95_display: String,
    /// value ÷ the baseline's value.
    pub ratio: Option<f64>,
    /// The ratio for people (`1.07×`).
    pub ratio_display: String,
    /// `baseline`, `better`, `worse`, `same`, `insufficient` (too few
    /// observations to reach the significance threshold), `no_raw`,
    /// `informational` or `missing`.
    pub verdict: String,
    /// Permutation-test p-value against the baseline.
    pub p_value: Option<f64>,
    /// p for people.
    pub p_display: String,
    /// Relative change of the means against the baseline.
    pub change: Option<f64>,
    /// The change for people (`+12.3%`).
    pub change_display: String,
    /// True for the best cloud of the row.
    pub best: bool,
    /// The file this figure came from.
    pub source: String,
}

/// A failed or unavailable probe.
#[derive(Debug, Serialize)]
pub struct ProbeErrorRow {
    /// Cloud.
    pub cloud: String,
    /// Tier.
    pub tier: String,
    /// Suite.
    pub suite: String,
    /// Probe.
    pub probe: String,
    /// `unavailable`, `failed`, `timeout`, `interrupted`.
    pub kind: String,
    /// What happened.
    pub message: String,
}

/// Metrics that describe a configuration rather than a performance: no
/// cloud is "better" for having more hugepages reserved.
const INFORMATIONAL: [&str; 4] = [
    metric::HUGEPAGES_TOTAL,
    metric::HUGEPAGES_FREE,
    metric::HUGEPAGES_POOL_FRACTION,
    metric::TEMPLATES_COUNT,
];

/// Units of counts and sizes, which are inventories, not performance
/// (`count` also covers the client's `sandbox.rate_limited`, the 429 answers
/// of a concurrency level: a fact about the API's limits, not a score).
const INFORMATIONAL_UNITS: [&str; 5] = ["pages", "count", "bytes", "files", "B"];

/// True for a success rate in `ratio` (0..1): shown as a percentage.
pub fn is_success_rate(metric: &str, unit: &str) -> bool {
    unit == "ratio" && metric.ends_with("success_rate")
}

/// Which way is better for a row; `None` for an informational metric.
pub fn direction(metric: &str, unit: &str) -> Option<Direction> {
    if INFORMATIONAL.contains(&metric) || INFORMATIONAL_UNITS.contains(&unit) {
        None
    } else {
        Some(Direction::from_metric(metric, unit))
    }
}

/// Builds the report from every loaded document.
pub fn build(docs: &[Loaded], skipped: &[Skipped], opts: &ModelOptions) -> Report {
    let clouds = cloud_order(
        docs.iter().map(|d| d.file.cloud.clone()).collect(),
        &opts.baseline,
    );
    let t = std::time::Instant::now();
    // Several nodes' or shards' documents of one run become one per suite;
    // the machines' own fingerprints and inventories stay as read.
    let (merged, merge_warnings) = merge::merge(docs);
    let collected = collect(&merged, &clouds);
    tracing::debug!("collected the rows in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let compare_opts = CompareOptions {
        significance: opts.significance,
        noise_threshold: opts.noise_threshold,
        exhaustive: opts.exhaustive,
        ..CompareOptions::default()
    };
    let rows = build_rows(&collected, &compare_opts);
    let mut storage = storage::build(&collected, &rows);
    for set in &mut storage {
        set.chart = Some(crate::charts::storage(set, &collected.clouds));
    }
    tracing::debug!("compared the clouds in {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let mut sections = sections(rows);
    for chart in crate::charts::metric_bars(&collected) {
        if let Some(s) = sections
            .iter_mut()
            .find(|s| s.tier == chart.tier && s.family == chart.family)
        {
            s.charts.push(chart.chart);
        }
    }
    if let Some(chart) = crate::charts::pause_resume(&collected)
        && let Some(s) = sections.iter_mut().find(|s| s.id == "client-sandbox")
    {
        s.charts.push(chart);
    }
    let sandbox_host = ratios::build(&collected, &compare_opts);
    let mut concurrency = concurrency::build(&collected);
    for set in &mut concurrency {
        set.chart = Some(crate::charts::concurrency(set, &collected.clouds));
    }
    tracing::debug!("charts and sandbox/host ratios in {:?}", t.elapsed());
    let drift = drift::build(docs, &clouds);
    let errors = probe_errors(&merged, &clouds);
    let summaries = environment::summaries(docs, &clouds, &sections, &errors, &opts.summaries);
    let environment = environment::rows(docs, &clouds);
    let charts = Charts {
        start_latency: crate::charts::start_latency(&collected),
        phases: crate::charts::phases(&collected),
    };
    let mut warnings: Vec<String> = skipped
        .iter()
        .map(|s| format!("skipped {}: {}", s.location, s.reason))
        .collect();
    warnings.extend(merge_warnings);
    warnings.extend(collected.warnings.iter().cloned());
    let n_rows = sections.iter().map(|s| s.rows.len()).sum();
    let significant = sections
        .iter()
        .flat_map(|s| &s.rows)
        .flat_map(|r| &r.cells)
        .filter(|c| c.verdict == "better" || c.verdict == "worse")
        .count();
    Report {
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        generated_at: opts.generated_at.clone(),
        input: opts.input.clone(),
        baseline: clouds.first().cloned().unwrap_or_default(),
        significance: opts.significance,
        noise_threshold: opts.noise_threshold,
        noise_threshold_display: format::percent(opts.noise_threshold),
        totals: Totals {
            documents: docs.len(),
            skipped: skipped.len(),
            rows: n_rows,
            significant,
            errors: errors.len(),
        },
        cloud_names: clouds,
        clouds: summaries,
        warnings,
        environment,
        sections,
        sandbox_host,
        concurrency,
        storage,
        drift,
        errors,
        charts,
    }
}

/// `key=value, ...`.
pub fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The interval a document gives for its headline value.
fn interval(series: &Series<'_>) -> Option<[f64; 2]> {
    let stats = series.sample.stats.as_ref()?;
    Some(stats.median_ci95.unwrap_or(stats.ci95))
}

/// What one comparison needs: a row, a cloud and the two series.
struct Job<'s, 'a> {
    row: usize,
    cloud: usize,
    baseline: &'s Series<'a>,
    other: &'s Series<'a>,
    direction: Direction,
}

fn build_rows(collected: &Collected<'_>, opts: &CompareOptions) -> Vec<Row> {
    let mut jobs = Vec::new();
    for (r, row) in collected.rows.iter().enumerate() {
        let Some(direction) = direction(&row.key.metric, &row.unit) else {
            continue;
        };
        let Some(Some(baseline)) = row.cells.first() else {
            continue;
        };
        for (c, cell) in row.cells.iter().enumerate().skip(1) {
            // One observation a side is tested too: the test says it is
            // insufficient (a single cold start never gets a verdict).
            if let Some(other) = cell
                && !baseline.sample.raw.is_empty()
                && !other.sample.raw.is_empty()
            {
                jobs.push(Job {
                    row: r,
                    cloud: c,
                    baseline,
                    other,
                    direction,
                });
            }
        }
    }
    let results = crate::parallel::map(&jobs, |j| {
        significance::test(
            &j.baseline.sample.raw,
            &j.other.sample.raw,
            &CompareOptions {
                direction: j.direction,
                ..*opts
            },
        )
    });
    let mut verdicts: BTreeMap<(usize, usize), stats::Comparison> = BTreeMap::new();
    for (j, t) in jobs.iter().zip(results) {
        if let Some(t) = t {
            verdicts.insert((j.row, j.cloud), t.comparison);
        }
    }

    collected
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let dir = direction(&row.key.metric, &row.unit);
            let baseline = row.cells.first().and_then(Option::as_ref);
            let baseline_value = baseline.map(|s| s.sample.value);
            let baseline_raw = baseline.is_some_and(|s| !s.sample.raw.is_empty());
            let mut cells: Vec<Cell> = row
                .cells
                .iter()
                .enumerate()
                .map(|(c, s)| {
                    cell(
                        &collected.clouds[c],
                        s.as_ref(),
                        (&row.key.metric, &row.unit),
                        c == 0,
                        (baseline_value, baseline_raw),
                        dir,
                        verdicts.get(&(r, c)),
                    )
                })
                .collect();
            let best = mark_best(&mut cells, dir);
            let flagged = is_success_rate(&row.key.metric, &row.unit)
                && cells.iter().any(|c| c.value.is_some_and(|v| v < 1.0));
            let suite = row
                .cells
                .iter()
                .flatten()
                .next()
                .map(|s| s.from.doc.suite.clone())
                .unwrap_or_default();
            Row {
                tier: row.key.tier.as_str().to_owned(),
                suite,
                metric: row.key.metric.clone(),
                unit: row.unit.clone(),
                labels: row
                    .key
                    .labels
                    .iter()
                    .map(|(k, v)| Label {
                        key: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                labels_text: labels_text(&row.key.labels),
                direction: dir.map_or("informational", Direction::as_str).to_owned(),
                direction_symbol: match dir {
                    Some(Direction::HigherIsBetter) => "↑",
                    Some(Direction::LowerIsBetter) => "↓",
                    None => "",
                }
                .to_owned(),
                cells,
                best,
                flagged,
            }
        })
        .collect()
}

/// Fewest complete raw observations a cell's p99.9 is shown from.
const P999_MIN_RAW: usize = 1000;

/// One cloud's cell; `baseline` is the baseline's value and whether it
/// kept raw observations.
fn cell(
    cloud: &str,
    series: Option<&Series<'_>>,
    (metric, unit): (&str, &str),
    is_baseline: bool,
    (baseline_value, baseline_raw): (Option<f64>, bool),
    dir: Option<Direction>,
    comparison: Option<&stats::Comparison>,
) -> Cell {
    let Some(s) = series else {
        return Cell {
            cloud: cloud.to_owned(),
            display: "—".to_owned(),
            verdict: "missing".to_owned(),
            ..Cell::default()
        };
    };
    let value = s.sample.value;
    let success = is_success_rate(metric, unit);
    let show = |v: f64| {
        if success {
            format::share(v)
        } else {
            format::value(v, unit)
        }
    };
    let p95 = s.sample.stats.as_ref().map(|st| st.p95);
    let p999 = (s.binned.is_some() || s.sorted.len() >= P999_MIN_RAW)
        .then(|| s.quantile(0.999))
        .flatten();
    let ci95 = interval(s);
    let ratio = baseline_value
        .filter(|b| *b != 0.0 && !is_baseline)
        .map(|b| value / b);
    let verdict = if is_baseline {
        "baseline"
    } else if dir.is_none() {
        "informational"
    } else if let Some(c) = comparison {
        match c.verdict {
            Verdict::Faster => "better",
            Verdict::Slower => "worse",
            Verdict::NoDifference => "same",
        }
    } else if baseline_value.is_none() {
        "missing"
    } else if s.sample.raw.is_empty() || !baseline_raw {
        "no_raw"
    } else {
        // Raw on both sides but too few observations for p to reach the
        // threshold at all, or a single observation on one side.
        "insufficient"
    };
    Cell {
        cloud: cloud.to_owned(),
        present: true,
        value: Some(value),
        display: show(value),
        n: s.n(),
        p95,
        // The p95 of 0/1 outcomes says nothing; the interval of the rate does.
        p95_display: p95
            .filter(|_| !success)
            .map(|p| format::value(p, unit))
            .unwrap_or_default(),
        p999,
        p999_display: p999
            .filter(|_| !success)
            .map(|p| format::value(p, unit))
            .unwrap_or_default(),
        ci95,
        ci95_display: ci95
            .map(|[lo, hi]| format!("{} – {}", show(lo), show(hi)))
            .unwrap_or_default(),
        ratio,
        ratio_display: ratio.map(format::ratio).unwrap_or_default(),
        verdict: verdict.to_owned(),
        p_value: comparison.map(|c| c.p_value),
        p_display: comparison
            .map(|c| format::p_value(c.p_value))
            .unwrap_or_default(),
        change: comparison.map(|c| c.relative_change),
        change_display: comparison
            .map(|c| format::change(c.relative_change))
            .unwrap_or_default(),
        best: false,
        source: s.from.location.clone(),
    }
}

/// Marks the best present cells (ties share the mark); returns the first.
fn mark_best(cells: &mut [Cell], dir: Option<Direction>) -> Option<String> {
    let dir = dir?;
    let values: Vec<(usize, f64)> = cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.value.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect();
    if values.len() < 2 {
        return None;
    }
    let better = |a: f64, b: f64| match dir {
        Direction::HigherIsBetter => a > b,
        Direction::LowerIsBetter => a < b,
    };
    let best = values.iter().fold(
        values[0].1,
        |acc, &(_, v)| if better(v, acc) { v } else { acc },
    );
    if values.iter().all(|&(_, v)| v == best) {
        return None;
    }
    let mut first = None;
    for &(i, v) in &values {
        if v == best {
            cells[i].best = true;
            first.get_or_insert_with(|| cells[i].cloud.clone());
        }
    }
    first
}

/// Heading of a metric family.
pub fn family_title(family: &str) -> String {
    match family {
        "cpu" => "CPU".to_owned(),
        "memory" => "Memory".to_owned(),
        "disk" => "Disk".to_owned(),
        "network" => "Network".to_owned(),
        "python" => "Python".to_owned(),
        "pkg" => "Package installs".to_owned(),
        "sandbox" => "Sandbox lifecycle".to_owned(),
        "hugepages" => "Hugepages".to_owned(),
        "kvm" => "KVM".to_owned(),
        "storage" => "Object storage".to_owned(),
        "templates" => "Templates".to_owned(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

fn tier_title(tier: &str) -> &'static str {
    match tier {
        "host" => "Host",
        "client" => "Client",
        _ => "Sandbox",
    }
}

/// Groups rows by tier (host, client, sandbox) and metric family, keeping
/// the order the probes wrote them in within each tier.
fn sections(rows: Vec<Row>) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let tier_rank = |t: &str| match t {
        "host" => 0,
        "client" => 1,
        _ => 2,
    };
    for row in rows {
        let family = row.metric.split('.').next().unwrap_or_default().to_owned();
        let id = format!("{}-{}", row.tier, slug(&family));
        match sections.iter_mut().find(|s| s.id == id) {
            Some(s) => s.rows.push(row),
            None => sections.push(Section {
                title: format!("{} · {}", tier_title(&row.tier), family_title(&family)),
                tier: row.tier.clone(),
                id,
                family,
                rows: vec![row],
                charts: Vec::new(),
            }),
        }
    }
    sections.sort_by_key(|s| tier_rank(&s.tier));
    sections
}

/// Lower-case ASCII letters, digits and dashes only (HTML ids).
pub fn slug(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() { "x".to_owned() } else { out }
}

fn probe_errors(docs: &[Loaded], clouds: &[String]) -> Vec<ProbeErrorRow> {
    let wanted: BTreeSet<&str> = clouds.iter().map(String::as_str).collect();
    docs.iter()
        .filter(|d| d.file.history_run.is_none() && wanted.contains(d.file.cloud.as_str()))
        .flat_map(|d| {
            d.doc.errors.iter().map(move |e| ProbeErrorRow {
                cloud: d.file.cloud.clone(),
                tier: d.doc.tier.as_str().to_owned(),
                suite: d.doc.suite.clone(),
                probe: e.probe.clone(),
                kind: e.kind.as_str().to_owned(),
                message: e.message.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_marks_follow_the_direction() {
        let mk = |v: Option<f64>| Cell {
            value: v,
            cloud: format!("{v:?}"),
            ..Cell::default()
        };
        let mut cells = vec![mk(Some(3.0)), mk(None), mk(Some(1.0)), mk(Some(2.0))];
        let best = mark_best(&mut cells, Some(Direction::LowerIsBetter));
        assert_eq!(best.as_deref(), Some("Some(1.0)"));
        assert!(cells[2].best && !cells[0].best && !cells[3].best);
        let mut cells = vec![mk(Some(3.0)), mk(Some(1.0))];
        mark_best(&mut cells, Some(Direction::HigherIsBetter));
        assert!(cells[0].best);
        let mut same = vec![mk(Some(1.0)), mk(Some(1.0))];
        assert_eq!(mark_best(&mut same, Some(Direction::HigherIsBetter)), None);
        let mut info = vec![mk(Some(3.0)), mk(Some(1.0))];
        assert_eq!(mark_best(&mut info, None), None);
    }

    #[test]
    fn informational_metrics_have_no_direction() {
        assert_eq!(direction("hugepages.total", "pages"), None);
        assert_eq!(
            direction("disk.iops", "ops/s"),
            Some(Direction::HigherIsBetter)
        );
        assert_eq!(
            direction("sandbox.create_ms", "ms"),
            Some(Direction::LowerIsBetter)
        );
    }

    #[test]
    fn client_metrics_have_the_right_direction() {
        for metric in [
            "sandbox.create_ms",
            "sandbox.envd_ready_ms",
            "sandbox.first_command_ms",
            "sandbox.time_to_interactive_ms",
            "sandbox.kill_ms",
            "sandbox.time_to_first_ready_ms",
            "sandbox.wall_clock_ms",
            "sandbox.pause_ms",
            "sandbox.resume_ms",
            "sandbox.resume_command_ms",
        ] {
            assert_eq!(
                direction(metric, "ms"),
                Some(Direction::LowerIsBetter),
                "{metric}"
            );
        }
        assert_eq!(
            direction("sandbox.creates_per_second", "sandboxes/s"),
            Some(Direction::HigherIsBetter)
        );
        assert_eq!(
            direction("sandbox.success_rate", "ratio"),
            Some(Direction::HigherIsBetter)
        );
        assert_eq!(direction("sandbox.rate_limited", "count"), None);
        assert!(is_success_rate("sandbox.success_rate", "ratio"));
        assert!(!is_success_rate("cpu.scaling_efficiency", "ratio"));
    }
}
