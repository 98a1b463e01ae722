//! One run written by several machines, as one document per suite.
//!
//! With `--node` or `--shard` every tier writes node- (and shard-) qualified
//! files (`04_host_performance.node-a.json`,
//! `01_cold_start.jump-1.shard-1-of-2.json`, see `bench_core::shard`), so a
//! cloud's directory can hold several documents of one suite. Per cloud and
//! suite (and file: an imported paste stays apart from the automated run),
//! the documents of the newest run (by `finished_at`) are merged into one;
//! documents of older runs beside them are left out with a warning.
//!
//! Samples are matched by metric, unit and labels; `raw` is concatenated, so
//! `stats` are recomputed exactly over every observation
//! ([`bench_core::stats::summarize`]). When a part's `raw` keeps only a
//! subset of its observations (a long latency series), the parts'
//! histograms are merged instead (a complete part's `raw` binned beside
//! them): n, mean, stddev, min and max are then combined exactly from the
//! parts' `stats`, and the percentiles come from the merged histogram
//! ([`bench_core::stats::summarize_histogram`]), which the merged sample
//! carries. A subset without a histogram (a document written before
//! histograms) falls back to the concatenation. `value` follows the rule
//! the tier used:
//! - a series whose headline is its median (latencies) → the median of the
//!   concatenation;
//! - a success rate (one 0/1 per attempt in `raw`) → the mean of the
//!   concatenation, i.e. weighted by attempts;
//! - client shards load one cluster at the same time, so figures without a
//!   series add up: creates per second and counts (429s) are summed, the
//!   wall clock of a level is the longest shard's, the time to first ready
//!   the first shard's;
//! - host and sandbox nodes measure themselves: any other headline (a
//!   throughput over the whole run, a best-of) is the mean of the nodes'
//!   headlines, a typical node.
//!
//! Host documents of several nodes also keep each node's own figure: after
//! each merged sample come the nodes' samples with the label `node=<name>`,
//! so a fleet's slow node is visible rather than averaged away
//! ([`super::collect`](mod@super::collect) keeps those rows right after their merged row).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use bench_core::contract::metric;
use bench_core::schema::{ErrorEntry, Histogram, ResultDocument, Sample, Tier};
use bench_core::shard::{Shard, parse_file_name};
use bench_core::stats::histogram::unit_scale;
use bench_core::stats::{HistogramRecorder, Moments};
use serde_json::{Value, json};

use crate::load::Loaded;
use crate::source::FileRef;

/// The label of a per-node sample (host documents of several nodes).
pub const NODE_LABEL: &str = "node";

/// Parameters that describe one shard only; a merged document drops them.
/// (`knee` was found on one shard's throughputs; the report finds the
/// merged sweep's own.)
const PER_SHARD_PARAMETERS: [&str; 3] = ["shard", "knee", "level_shares"];

/// Counts a shard records as its share, beside the whole
/// (`<name>_total`); a merged document says the whole.
const SHARED_COUNTS: [&str; 2] = ["iterations", "cold_iterations"];

/// The documents with every run of several nodes or shards merged, and
/// what was left out. Borrowed unchanged when there is nothing to merge,
/// which is every single-machine directory.
pub fn merge(docs: &[Loaded]) -> (Cow<'_, [Loaded]>, Vec<String>) {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<GroupKey, usize> = HashMap::new();
    for (i, d) in docs.iter().enumerate() {
        let at = *group_of.entry(GroupKey::of(d)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(i);
    }
    if groups.iter().all(|g| g.len() == 1) {
        return (Cow::Borrowed(docs), Vec::new());
    }
    let mut warnings = Vec::new();
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let members: Vec<&Loaded> = group.iter().map(|&i| &docs[i]).collect();
        if let [one] = members.as_slice() {
            out.push((*one).clone());
            continue;
        }
        let newest = members
            .iter()
            .max_by(|a, b| a.doc.finished_at.cmp(&b.doc.finished_at))
            .map(|d| d.doc.run_id.clone())
            .unwrap_or_default();
        let (mut run, older): (Vec<&Loaded>, Vec<&Loaded>) =
            members.into_iter().partition(|d| d.doc.run_id == newest);
        for d in older {
            warnings.push(format!(
                "left out {} (run {}): run {newest} of the same suite is newer",
                d.location, d.doc.run_id
            ));
        }
        run.sort_by(|a, b| a.file.file_name.cmp(&b.file.file_name));
        out.push(match run.as_slice() {
            [one] => (*one).clone(),
            _ => merge_run(&run),
        });
    }
    (Cow::Owned(out), warnings)
}

/// What documents are merged by: the same cloud directory (and history
/// slot), the contract's file name, tier and suite.
#[derive(Debug, PartialEq, Eq, Hash)]
struct GroupKey {
    cloud: String,
    history_run: Option<String>,
    base: String,
    tier: Tier,
    suite: String,
}

impl GroupKey {
    fn of(d: &Loaded) -> Self {
        GroupKey {
            cloud: d.file.cloud.clone(),
            history_run: d.file.history_run.clone(),
            base: parse_file_name(&d.file.file_name).base,
            tier: d.doc.tier,
            suite: d.doc.suite.clone(),
        }
    }
}

/// Who wrote a document: its node and shard.
#[derive(Debug, Clone)]
pub struct Contributor {
    /// `fingerprint.node`, else the file name's node, else the hostname.
    pub node: String,
    /// `parameters.shard`, else the file name's shard.
    pub shard: Option<Shard>,
}

impl Contributor {
    /// The node and shard of `d`.
    pub fn of(d: &Loaded) -> Self {
        let parsed = parse_file_name(&d.file.file_name);
        let node = d
            .doc
            .fingerprint
            .node
            .clone()
            .or(parsed.node)
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| d.doc.fingerprint.hostname.clone());
        let shard = d
            .doc
            .parameters
            .get("shard")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
            .or(parsed.shard);
        Contributor { node, shard }
    }

    /// `node-a`, or `jump-1 shard 1/2`.
    pub fn describe(&self) -> String {
        match self.shard {
            Some(s) => format!("{} shard {s}", self.node),
            None => self.node.clone(),
        }
    }
}

/// Several documents of one run and suite (sorted by file name) as one.
fn merge_run(run: &[&Loaded]) -> Loaded {
    let first = run[0];
    let tier = first.doc.tier;
    let contributors: Vec<Contributor> = run.iter().map(|d| Contributor::of(d)).collect();
    let node_labels = if tier == Tier::Host {
        Some(unique_names(&contributors))
    } else {
        None
    };

    // Samples by (metric, unit, labels), first seen first.
    type SampleKey<'a> = (&'a str, &'a str, &'a BTreeMap<String, String>);
    let mut order: Vec<SampleKey<'_>> = Vec::new();
    let mut parts: HashMap<SampleKey<'_>, Vec<(usize, &Sample)>> = HashMap::new();
    for (i, d) in run.iter().enumerate() {
        for s in &d.doc.samples {
            let key = (s.metric.as_str(), s.unit.as_str(), &s.labels);
            let entry = parts.entry(key).or_default();
            if entry.is_empty() {
                order.push(key);
            }
            entry.push((i, s));
        }
    }
    let mut samples = Vec::new();
    for key in order {
        let these = &parts[&key];
        let only: Vec<&Sample> = these.iter().map(|(_, s)| *s).collect();
        samples.push(merged_sample(tier, &only));
        if let Some(names) = &node_labels {
            for (i, s) in these {
                let mut own = (*s).clone();
                own.labels.insert(NODE_LABEL.to_owned(), names[*i].clone());
                samples.push(own);
            }
        }
    }

    let mut errors = Vec::new();
    for (d, c) in run.iter().zip(&contributors) {
        errors.extend(d.doc.errors.iter().map(|e| ErrorEntry {
            probe: format!("{} on {}", e.probe, c.describe()),
            ..e.clone()
        }));
    }

    let mut parameters = first.doc.parameters.clone();
    for p in PER_SHARD_PARAMETERS {
        parameters.remove(p);
    }
    for count in SHARED_COUNTS {
        if let Some(total) = parameters.remove(&format!("{count}_total")) {
            parameters.insert(count.to_owned(), total);
        }
    }
    let shards: BTreeSet<String> = contributors
        .iter()
        .filter_map(|c| c.shard.map(|s| s.to_string()))
        .collect();
    let nodes: BTreeSet<&str> = contributors.iter().map(|c| c.node.as_str()).collect();
    parameters.insert(
        "merged".to_owned(),
        json!({
            "files": run.iter().map(|d| d.file.file_name.clone()).collect::<Vec<_>>(),
            "nodes": nodes,
            "shards": shards,
        }),
    );

    let base = parse_file_name(&first.file.file_name).base;
    let relative = match first.file.relative.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{base}"),
        None => base.clone(),
    };
    Loaded {
        file: FileRef {
            cloud: first.file.cloud.clone(),
            file_name: base,
            history_run: first.file.history_run.clone(),
            relative,
        },
        location: run
            .iter()
            .map(|d| d.location.as_str())
            .collect::<Vec<_>>()
            .join(" + "),
        doc: ResultDocument {
            started_at: run
                .iter()
                .map(|d| d.doc.started_at.clone())
                .min()
                .unwrap_or_default(),
            finished_at: run
                .iter()
                .map(|d| d.doc.finished_at.clone())
                .max()
                .unwrap_or_default(),
            parameters,
            samples,
            errors,
            ..first.doc.clone()
        },
        templates: run.iter().flat_map(|d| d.templates.clone()).collect(),
    }
}

/// One `node` label per contributor, distinct (a node that wrote twice,
/// once under its hostname and once under `--node`, gets `name#2`).
fn unique_names(contributors: &[Contributor]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    contributors
        .iter()
        .map(|c| {
            let n = seen.entry(c.describe()).or_default();
            *n += 1;
            if *n == 1 {
                c.describe()
            } else {
                format!("{}#{n}", c.describe())
            }
        })
        .collect()
}

/// One sample from the same sample of several documents (see the module
/// documentation for the rules).
pub fn merged_sample(tier: Tier, parts: &[&Sample]) -> Sample {
    let first = parts[0];
    if parts.len() == 1 {
        return first.clone();
    }
    let raw: Vec<f64> = parts.iter().flat_map(|s| s.raw.iter().copied()).collect();
    let all_raw = parts.iter().all(|s| !s.raw.is_empty());
    let values: Vec<f64> = parts.iter().map(|s| s.value).collect();
    let binned = merged_histogram(parts);
    let stats = match &binned {
        Some((h, moments)) => bench_core::stats::summarize_histogram(h, moments),
        None => bench_core::stats::summarize(&raw),
    };
    let value = if all_raw && crate::model::is_success_rate(&first.metric, &first.unit) {
        mean(&raw)
    } else if all_raw && parts.iter().all(|s| headline_is_median(s)) {
        match (&binned, &stats) {
            (Some(_), Some(st)) => st.p50,
            _ => bench_core::stats::median(&raw).unwrap_or(first.value),
        }
    } else if tier == Tier::Client {
        shard_total(&first.metric, &first.unit, &values)
    } else {
        mean(&values)
    };
    Sample {
        metric: first.metric.clone(),
        unit: first.unit.clone(),
        value,
        labels: first.labels.clone(),
        stats,
        raw,
        histogram: binned.map(|(h, _)| h),
    }
}

/// When some part's `raw` is a subset: the histogram of every part's
/// observations (its own histogram, or its complete `raw` binned) and their
/// exact moments. `None` when every `raw` is complete, or when a part
/// cannot contribute (a subset without a valid histogram, no observations).
fn merged_histogram(parts: &[&Sample]) -> Option<(Histogram, Moments)> {
    if !parts.iter().any(|s| s.raw_is_subset()) {
        return None;
    }
    let mut merged: Option<(HistogramRecorder, Moments)> = None;
    for s in parts {
        let n = s.stats.as_ref().map(|st| st.n);
        let h = match &s.histogram {
            Some(h) if h.check(n).is_ok() => HistogramRecorder::from_schema(h).ok()?,
            _ if !s.raw_is_subset() => {
                HistogramRecorder::from_values(unit_scale(&s.unit), s.raw.iter().copied()).ok()?
            }
            _ => return None,
        };
        let m = match &s.stats {
            Some(st) => Moments::of_stats(st),
            None => Moments::of_values(&s.raw)?,
        };
        merged = Some(match merged {
            None => (h, m),
            Some((mut acc, moments)) => {
                acc.merge(&h).ok()?;
                (acc, moments.combine(&m))
            }
        });
    }
    merged.map(|(h, m)| (h.to_schema(), m))
}

/// True when the sample's headline is the median of its observations, as
/// `Sample::from_series` makes it (a single observation is its own median).
/// `stats.p50` is that median over every observation, also when `raw`
/// keeps only a subset.
fn headline_is_median(s: &Sample) -> bool {
    s.stats
        .as_ref()
        .map(|st| st.p50)
        .or_else(|| bench_core::stats::median(&s.raw))
        .is_some_and(|median| (s.value - median).abs() <= 1e-9 * s.value.abs().max(1.0))
}

/// The mean of finite values (0 when there are none, as a headline must be a number).
fn mean(values: &[f64]) -> f64 {
    bench_core::stats::mean(values).unwrap_or(0.0)
}

/// A client figure without a series over shards that ran at the same time.
fn shard_total(metric: &str, unit: &str, values: &[f64]) -> f64 {
    let max = || values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min = || values.iter().copied().fold(f64::INFINITY, f64::min);
    match metric {
        metric::SANDBOX_WALL_CLOCK_MS => max(),
        metric::SANDBOX_TIME_TO_FIRST_READY_MS => min(),
        _ if unit.ends_with("/s") || unit == "count" => values.iter().sum(),
        _ => mean(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bench_core::schema::{ErrorKind, Fingerprint, SCHEMA_VERSION, Tool};

    /// A document of `cloud` as read from `file`, written by `node`.
    fn loaded(
        cloud: &str,
        file: &str,
        tier: Tier,
        suite: &str,
        node: &str,
        samples: Vec<Sample>,
    ) -> Loaded {
        let parsed = parse_file_name(file);
        let mut parameters = BTreeMap::new();
        if let Some(s) = parsed.shard {
            parameters.insert("shard".to_owned(), json!(s.to_string()));
            parameters.insert("knee".to_owned(), json!({"base": null}));
        }
        Loaded {
            file: FileRef {
                cloud: cloud.to_owned(),
                file_name: file.to_owned(),
                history_run: None,
                relative: format!("{cloud}/{file}"),
            },
            location: format!("outputs/{cloud}/{file}"),
            doc: ResultDocument {
                schema_version: SCHEMA_VERSION,
                tool: Tool::new("bench-test", "0"),
                tier,
                suite: suite.to_owned(),
                cloud: cloud.to_owned(),
                run_id: "r1".to_owned(),
                started_at: "2026-11-22T10:15:00Z".to_owned(),
                finished_at: format!("2026-11-22T10:1{}:00Z", file.len() % 10),
                fingerprint: Fingerprint {
                    hostname: format!("{node}.internal"),
                    node: Some(node.to_owned()),
                    ..Fingerprint::default()
                },
                parameters,
                samples,
                errors: vec![ErrorEntry {
                    probe: "p".to_owned(),
                    kind: ErrorKind::Failed,
                    message: "m".to_owned(),
                }],
            },
            templates: Vec::new(),
        }
    }

    fn warm(create: &[f64], outcomes: &[f64]) -> Vec<Sample> {
        let labels = |s: Sample| {
            s.label("template", "base")
                .label("mode", "warm")
                .label("concurrency", 1)
        };
        vec![
            labels(series("sandbox.create_ms", "ms", create)),
            labels(series("sandbox.success_rate", "ratio", outcomes).with_value(mean(outcomes))),
        ]
    }

    fn cps(v: f64) -> Vec<Sample> {
        vec![
            Sample::new("sandbox.creates_per_second", "sandboxes/s", v)
                .label("template", "base")
                .label("concurrency", 4)
                .label("schedule", "burst"),
        ]
    }

    fn host(latency: &[f64], iops: f64) -> Vec<Sample> {
        vec![
            series("disk.fsync_latency_us", "us", latency),
            series("disk.iops", "ops/s", &[iops - 1.0, iops + 1.0, iops + 3.0]).with_value(iops),
        ]
    }

    /// Two client shards and two host nodes on aws, two host nodes on gcp.
    fn fleet() -> Vec<Loaded> {
        vec![
            loaded(
                "aws",
                "01_warm_start.jump-1.shard-1-of-2.json",
                Tier::Client,
                "warm_start",
                "jump-1",
                warm(&[10.0, 20.0, 30.0], &[1.0, 1.0, 1.0]),
            ),
            loaded(
                "aws",
                "01_warm_start.jump-2.shard-2-of-2.json",
                Tier::Client,
                "warm_start",
                "jump-2",
                warm(&[40.0, 50.0], &[1.0, 0.0]),
            ),
            loaded(
                "aws",
                "02_concurrency.jump-1.shard-1-of-2.json",
                Tier::Client,
                "concurrency",
                "jump-1",
                cps(2.0),
            ),
            loaded(
                "aws",
                "02_concurrency.jump-2.shard-2-of-2.json",
                Tier::Client,
                "concurrency",
                "jump-2",
                cps(3.0),
            ),
            loaded(
                "aws",
                "04_host_performance.node-a.json",
                Tier::Host,
                "host_performance",
                "node-a",
                host(&[100.0, 110.0, 120.0], 1000.0),
            ),
            loaded(
                "aws",
                "04_host_performance.node-b.json",
                Tier::Host,
                "host_performance",
                "node-b",
                host(&[300.0, 310.0], 500.0),
            ),
            loaded(
                "gcp",
                "04_host_performance.g-1.json",
                Tier::Host,
                "host_performance",
                "g-1",
                host(&[200.0, 210.0], 800.0),
            ),
            loaded(
                "gcp",
                "04_host_performance.g-2.json",
                Tier::Host,
                "host_performance",
                "g-2",
                host(&[220.0, 230.0, 240.0, 250.0], 900.0),
            ),
        ]
    }

    fn report(docs: &[Loaded]) -> crate::model::Report {
        crate::model::build(
            docs,
            &[],
            &crate::model::ModelOptions {
                baseline: "aws".to_owned(),
                significance: 0.05,
                noise_threshold: 0.05,
                exhaustive: false,
                input: "outputs".to_owned(),
                generated_at: "2026-11-22T11:00:00Z".to_owned(),
                summaries: BTreeMap::new(),
            },
        )
    }

    #[test]
    fn shards_and_nodes_of_one_run_become_the_rows_of_one_machine_and_its_nodes() {
        let docs = fleet();
        let r = report(&docs);
        let rows: Vec<&crate::model::Row> = r.sections.iter().flat_map(|s| &s.rows).collect();
        let find = |metric: &str, labels: &str| -> Vec<&crate::model::Row> {
            rows.iter()
                .copied()
                .filter(|r| r.metric == metric && r.labels_text == labels)
                .collect()
        };

        // Client shards: one row per template, exact over every observation.
        let create = find(
            "sandbox.create_ms",
            "concurrency=1, mode=warm, template=base",
        );
        assert_eq!(create.len(), 1);
        let aws = &create[0].cells[0];
        assert_eq!((aws.n, aws.value), (5, Some(30.0)));
        let all = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(
            aws.p95,
            Some(bench_core::stats::summarize(&all).unwrap().p95)
        );
        let success = find(
            "sandbox.success_rate",
            "concurrency=1, mode=warm, template=base",
        );
        assert_eq!(
            (success[0].cells[0].value, success[0].cells[0].n),
            (Some(0.8), 5)
        );
        let rate = find(
            "sandbox.creates_per_second",
            "concurrency=4, schedule=burst, template=base",
        );
        assert_eq!(rate.len(), 1);
        assert_eq!(rate[0].cells[0].value, Some(5.0));
        assert!(
            rows.iter()
                .all(|r| r.tier != "client" || !r.labels_text.contains("node="))
        );

        // Host nodes: the merged row, then every node's own, aws's and gcp's.
        let fsync: Vec<(&str, Vec<Option<u64>>)> = rows
            .iter()
            .filter(|r| r.metric == "disk.fsync_latency_us")
            .map(|r| {
                (
                    r.labels_text.as_str(),
                    r.cells.iter().map(|c| c.present.then_some(c.n)).collect(),
                )
            })
            .collect();
        assert_eq!(
            fsync,
            [
                ("", vec![Some(5), Some(6)]),
                ("node=node-a", vec![Some(3), None]),
                ("node=node-b", vec![Some(2), None]),
                ("node=g-1", vec![None, Some(2)]),
                ("node=g-2", vec![None, Some(4)]),
            ]
        );
        let merged = &find("disk.fsync_latency_us", "")[0];
        let gcp_raw = [200.0, 210.0, 220.0, 230.0, 240.0, 250.0];
        let stats = bench_core::stats::summarize(&gcp_raw).unwrap();
        assert_eq!(merged.cells[1].value, Some(stats.p50));
        assert_eq!(merged.cells[1].p95, Some(stats.p95));
        assert_eq!(merged.cells[1].ci95, Some(stats.median_ci95.unwrap()));
        // A throughput's headline: the typical node.
        assert_eq!(find("disk.iops", "")[0].cells[0].value, Some(750.0));
        assert_eq!(
            find("disk.iops", "node=node-b")[0].cells[0].value,
            Some(500.0)
        );

        // Errors say which machine; nothing was left out.
        assert!(
            r.errors.iter().any(|e| e.probe == "p on jump-2 shard 2/2"),
            "{:?}",
            r.errors.iter().map(|e| &e.probe).collect::<Vec<_>>()
        );
        assert!(r.errors.iter().any(|e| e.probe == "p on g-1"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn merged_documents_say_what_they_came_from() {
        let docs = fleet();
        let (merged, warnings) = merge(&docs);
        assert!(warnings.is_empty());
        assert_eq!(merged.len(), 4, "one per cloud and suite");
        let warm = merged.iter().find(|d| d.doc.suite == "warm_start").unwrap();
        assert_eq!(warm.file.file_name, "01_warm_start.json");
        assert_eq!(
            warm.location,
            "outputs/aws/01_warm_start.jump-1.shard-1-of-2.json + outputs/aws/01_warm_start.jump-2.shard-2-of-2.json"
        );
        let p = &warm.doc.parameters;
        assert!(!p.contains_key("shard") && !p.contains_key("knee"));
        assert_eq!(p["merged"]["shards"], json!(["1/2", "2/2"]));
        assert_eq!(p["merged"]["nodes"], json!(["jump-1", "jump-2"]));
        let create = &warm.doc.samples[0];
        assert_eq!(create.raw.len(), 5);
        assert_eq!(create.stats, bench_core::stats::summarize(&create.raw));
    }

    #[test]
    fn an_older_run_beside_a_newer_one_is_left_out_and_single_files_are_untouched() {
        let mut docs = fleet();
        docs.truncate(2);
        docs[0].doc.run_id = "r0".to_owned();
        docs[0].doc.finished_at = "2026-11-21T00:00:00Z".to_owned();
        let (merged, warnings) = merge(&docs);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].doc.run_id, "r1");
        assert_eq!(
            merged[0].location, docs[1].location,
            "the newer run's file as it is"
        );
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("(run r0)") && warnings[0].contains("run r1"),
            "{}",
            warnings[0]
        );

        // One machine's directory: nothing to merge, nothing copied.
        let single = vec![loaded(
            "aws",
            "04_host_performance.json",
            Tier::Host,
            "host_performance",
            "h",
            host(&[1.0, 2.0], 5.0),
        )];
        let (same, warnings) = merge(&single);
        assert!(matches!(same, Cow::Borrowed(_)) && warnings.is_empty());
    }

    fn series(metric: &str, unit: &str, raw: &[f64]) -> Sample {
        Sample::from_series(metric, unit, raw.to_vec())
    }

    #[test]
    fn latency_series_take_the_median_of_the_concatenation() {
        let a = series("sandbox.create_ms", "ms", &[10.0, 20.0, 30.0]);
        let b = series("sandbox.create_ms", "ms", &[100.0, 200.0]);
        let m = merged_sample(Tier::Client, &[&a, &b]);
        assert_eq!(m.raw, [10.0, 20.0, 30.0, 100.0, 200.0]);
        assert_eq!(m.value, 30.0);
        assert_eq!(m.stats, bench_core::stats::summarize(&m.raw));
        assert_eq!(m.stats.as_ref().unwrap().n, 5);
    }

    #[test]
    fn subsets_merge_through_their_histograms() {
        let mut rng = bench_core::stats::Rng::seed_from_u64(12);
        let mut lognormal = |n: usize, median: f64| -> Vec<f64> {
            (0..n)
                .map(|_| (median.ln() + 0.5 * rng.normal()).exp())
                .collect()
        };
        let (a, b) = (lognormal(30_000, 100.0), lognormal(20_000, 300.0));
        let long = |xs: &[f64], seed| {
            Sample::from_long_series("disk.latency_us", "us", xs.to_vec(), 1_000, seed)
        };
        let (sa, sb) = (long(&a, 1), long(&b, 2));
        let m = merged_sample(Tier::Host, &[&sa, &sb]);
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let whole = long(&all, 3);
        assert_eq!(m.histogram, whole.histogram, "the histogram of both nodes");
        let (st, exact) = (m.stats.as_ref().unwrap(), whole.stats.as_ref().unwrap());
        let rel = |x: f64, y: f64| (x - y).abs() / y.abs();
        assert_eq!((st.n, st.min, st.max), (50_000, exact.min, exact.max));
        assert!(rel(st.mean, exact.mean) < 1e-12);
        assert!(rel(st.stddev, exact.stddev) < 1e-9);
        for (got, want) in [
            (st.p50, exact.p50),
            (st.p95, exact.p95),
            (st.p99, exact.p99),
        ] {
            assert!(rel(got, want) <= 1e-3, "{got} vs {want}");
        }
        assert_eq!(m.value, st.p50);
        assert_eq!(m.raw.len(), 2_000);
        // Recomputing from the concatenated subsets, as before histograms,
        // would weigh node b's 1000 kept latencies like node a's: its p50
        // is far from the series' own.
        let naive = bench_core::stats::summarize(&m.raw).unwrap();
        assert!(
            rel(naive.p50, exact.p50) > 0.05,
            "{} vs {}",
            naive.p50,
            exact.p50
        );

        // A complete part beside a subset is binned from its raw.
        let small = series("disk.latency_us", "us", &b[..500]);
        let m2 = merged_sample(Tier::Host, &[&sa, &small]);
        let both: Vec<f64> = a.iter().chain(&b[..500]).copied().collect();
        assert_eq!(m2.stats.as_ref().unwrap().n, 30_500);
        assert_eq!(m2.histogram, long(&both, 4).histogram);

        // A subset without a histogram (an older document): the
        // concatenation, as before.
        let mut old = sa.clone();
        old.histogram = None;
        let m3 = merged_sample(Tier::Host, &[&old, &sb]);
        assert!(m3.histogram.is_none());
        assert_eq!(m3.stats.unwrap().n, 2_000);
    }

    #[test]
    fn cells_take_p999_from_the_histogram_of_a_subset() {
        let mut rng = bench_core::stats::Rng::seed_from_u64(13);
        let mut exits = |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| (9000f64.ln() + 0.3 * rng.normal()).exp().round())
                .collect()
        };
        let long = |xs: Vec<f64>| {
            vec![Sample::from_long_series(
                "kvm.exit_roundtrip_ns",
                "ns",
                xs,
                500,
                1,
            )]
        };
        let (a, b) = (exits(8_000), exits(4_000));
        let docs = vec![
            loaded(
                "aws",
                "04_host_performance.a.json",
                Tier::Host,
                "host_performance",
                "a",
                long(a.clone()),
            ),
            loaded(
                "aws",
                "04_host_performance.b.json",
                Tier::Host,
                "host_performance",
                "b",
                long(b.clone()),
            ),
        ];
        let r = report(&docs);
        let rows: Vec<&crate::model::Row> = r.sections.iter().flat_map(|s| &s.rows).collect();
        let cell = |labels: &str| {
            let row = rows
                .iter()
                .find(|r| r.metric == "kvm.exit_roundtrip_ns" && r.labels_text == labels)
                .unwrap();
            &row.cells[0]
        };
        let merged = merged_sample(Tier::Host, &[&long(a.clone())[0], &long(b.clone())[0]]);
        let want = merged.histogram.as_ref().unwrap().quantile(0.999);
        assert_eq!(cell("").p999, want);
        assert_eq!(cell("").n, 12_000);
        assert!(!cell("").p999_display.is_empty());
        let all: Vec<f64> = a.iter().chain(&b).copied().collect();
        let exact = bench_core::stats::quantile(&all, 0.999).unwrap();
        assert!((want.unwrap() - exact).abs() <= 1e-3 * exact);
        // A node's own row: its own histogram.
        let own = long(b)[0].histogram.as_ref().unwrap().quantile(0.999);
        assert_eq!(cell("node=b").p999, own);
        // Short complete series show none (p99.9 of 5 is the maximum).
        let short = vec![loaded(
            "aws",
            "04_host_performance.json",
            Tier::Host,
            "host_performance",
            "h",
            host(&[1.0, 2.0, 3.0, 4.0, 5.0], 5.0),
        )];
        let r = report(&short);
        assert!(
            r.sections
                .iter()
                .flat_map(|s| &s.rows)
                .all(|row| row.cells[0].p999.is_none())
        );
    }

    #[test]
    fn success_rates_are_weighted_by_attempts() {
        let rate = |outcomes: &[f64]| {
            let r = mean(outcomes);
            series("sandbox.success_rate", "ratio", outcomes).with_value(r)
        };
        let a = rate(&[1.0, 1.0, 1.0, 0.0]);
        let b = rate(&[1.0]);
        let m = merged_sample(Tier::Client, &[&a, &b]);
        assert_eq!(m.value, 0.8);
        assert_eq!(m.raw.len(), 5);
    }

    #[test]
    fn client_figures_without_a_series_add_up_over_shards() {
        let one = |metric: &str, unit: &str, v: f64| Sample::new(metric, unit, v);
        let pairs = [
            ("sandbox.creates_per_second", "sandboxes/s", 2.0, 3.0, 5.0),
            ("sandbox.rate_limited", "count", 1.0, 4.0, 5.0),
            ("sandbox.wall_clock_ms", "ms", 900.0, 1200.0, 1200.0),
            ("sandbox.time_to_first_ready_ms", "ms", 90.0, 70.0, 70.0),
        ];
        for (metric, unit, a, b, want) in pairs {
            let m = merged_sample(
                Tier::Client,
                &[&one(metric, unit, a), &one(metric, unit, b)],
            );
            assert_eq!(m.value, want, "{metric}");
            assert!(m.raw.is_empty() && m.stats.is_none());
        }
    }

    #[test]
    fn host_throughputs_are_the_typical_node() {
        // disk.iops: the headline is ops over the whole run, not the median
        // of the per-interval rates.
        let a = series("disk.iops", "ops/s", &[90.0, 110.0, 130.0]).with_value(100.0);
        let b = series("disk.iops", "ops/s", &[190.0, 210.0]).with_value(200.0);
        let m = merged_sample(Tier::Host, &[&a, &b]);
        assert_eq!(m.value, 150.0);
        assert_eq!(m.raw.len(), 5);
        assert_eq!(m.stats, bench_core::stats::summarize(&m.raw));
        let pages = |v| Sample::new("hugepages.total", "pages", v);
        assert_eq!(
            merged_sample(Tier::Host, &[&pages(10.0), &pages(30.0)]).value,
            20.0
        );
    }
}
