//! `summary_report.json`: the headline figures of one cloud's results
//! directory, small enough to read by eye or with `jq`.
//!
//! It is built from the result documents found there (`01_cold_start.json`,
//! `01_warm_start.json`, `02_concurrency.json`, `03_sandbox_performance.json`
//! or else `sandbox_performance_manual.json`, `04_host_performance.json`; each
//! optional) and is *not* a result document: it has `schema`
//! ([`SCHEMA`]) instead of `schema_version`, and no `samples`. Every figure is
//! recomputed from the documents' `raw` observations with bench-core's
//! statistics (type-7 percentiles, `bench_core::stats::quantile`), durations
//! in milliseconds. `docs/output.md` describes the fields.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bench_core::contract::{file, metric};
use bench_core::schema::{ResultDocument, Sample};
use bench_core::sink::{Sink, SinkError};
use bench_core::stats;
use serde_json::{Map, Value, json};

/// The file name of the summary (contract: "Files").
pub const FILE_NAME: &str = file::SUMMARY_REPORT;

/// The value of the summary's `schema` field.
pub const SCHEMA: &str = bench_core::schema::SUMMARY_SCHEMA;

/// Cold starts (`mode=cold`).
pub const COLD_START_FILE: &str = file::COLD_START;
/// Warm starts (`mode=warm`).
pub const WARM_START_FILE: &str = file::WARM_START;
/// The concurrency sweep.
pub const CONCURRENCY_FILE: &str = file::CONCURRENCY;
/// The automated sandbox run.
pub const SANDBOX_FILE: &str = file::SANDBOX_PERFORMANCE;
/// A pasted and imported sandbox run, used when [`SANDBOX_FILE`] is missing.
pub const MANUAL_SANDBOX_FILE: &str = file::SANDBOX_PERFORMANCE_MANUAL;
/// The host run.
pub const HOST_FILE: &str = file::HOST_PERFORMANCE;

/// One result document and the file it was read from.
#[derive(Debug, Clone)]
pub struct Input {
    /// Its file name (`01_cold_start.json`), listed in `sources`.
    pub file: String,
    /// The document.
    pub doc: ResultDocument,
}

impl Input {
    /// A document under a file name.
    pub fn new(file: &str, doc: ResultDocument) -> Self {
        Input {
            file: file.to_owned(),
            doc,
        }
    }
}

/// The result documents of one cloud that the summary reads; each may be missing.
#[derive(Debug, Clone, Default)]
pub struct Docs {
    /// `01_cold_start.json`.
    pub cold_start: Option<Input>,
    /// `01_warm_start.json`.
    pub warm_start: Option<Input>,
    /// `02_concurrency.json`.
    pub concurrency: Option<Input>,
    /// `03_sandbox_performance.json`, else `sandbox_performance_manual.json`.
    pub sandbox: Option<Input>,
    /// `04_host_performance.json`.
    pub host: Option<Input>,
}

impl Docs {
    /// The documents present, in `sources` order.
    pub fn inputs(&self) -> impl Iterator<Item = &Input> {
        [
            &self.cold_start,
            &self.warm_start,
            &self.concurrency,
            &self.sandbox,
            &self.host,
        ]
        .into_iter()
        .flatten()
    }

    /// True when none of the files was found.
    pub fn is_empty(&self) -> bool {
        self.inputs().next().is_none()
    }
}

/// [`load_named`] with the contract's plain names.
#[cfg(test)]
pub fn load(dir: &Path) -> Result<Docs, String> {
    load_named(dir, str::to_owned)
}

/// Reads the documents of `dir` (one cloud's output directory), each file
/// looked for first under `name(file)` (this machine's node- and
/// shard-qualified name, `Settings::file_name`), then under its plain name
/// (bench-host's results, written without `--node`). A missing file is
/// `None`; a file that cannot be read or is not a result document is an
/// error naming it.
pub fn load_named(dir: &Path, name: impl Fn(&str) -> String) -> Result<Docs, String> {
    let read_one = |file: &str| -> Result<Option<Input>, String> {
        let path = dir.join(file);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        let doc =
            ResultDocument::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Some(Input::new(file, doc)))
    };
    let read = |file: &str| -> Result<Option<Input>, String> {
        let qualified = name(file);
        match read_one(&qualified)? {
            Some(input) => Ok(Some(input)),
            None if qualified != file => read_one(file),
            None => Ok(None),
        }
    };
    Ok(Docs {
        cold_start: read(COLD_START_FILE)?,
        warm_start: read(WARM_START_FILE)?,
        concurrency: read(CONCURRENCY_FILE)?,
        sandbox: match read(SANDBOX_FILE)? {
            Some(doc) => Some(doc),
            None => read(MANUAL_SANDBOX_FILE)?,
        },
        host: read(HOST_FILE)?,
    })
}

impl Docs {
    /// The documents among `written` (file name → last version written, as
    /// `run` keeps them), each falling back to `earlier` (what the output
    /// directory already held, e.g. bench-host's `04_host_performance.json`).
    pub fn from_written(written: &BTreeMap<String, ResultDocument>, earlier: Docs) -> Docs {
        let take = |file: &str, fallback: Option<Input>| {
            written
                .get(file)
                .map(|doc| Input::new(file, doc.clone()))
                .or(fallback)
        };
        Docs {
            cold_start: take(COLD_START_FILE, earlier.cold_start),
            warm_start: take(WARM_START_FILE, earlier.warm_start),
            concurrency: take(CONCURRENCY_FILE, earlier.concurrency),
            sandbox: take(SANDBOX_FILE, earlier.sandbox),
            host: take(HOST_FILE, earlier.host),
        }
    }
}

/// Writes `summary` as [`FILE_NAME`] through `sink`: redacted and atomic,
/// like every result document, and an earlier summary of another run
/// (`run_id`) is kept under `history/<run_id>/`. Returns where it went.
pub fn write(sink: &dyn Sink, summary: &Value) -> Result<String, SinkError> {
    sink.write_json(FILE_NAME, summary)
}

/// The summary of `docs` (see the module documentation and `docs/output.md`).
pub fn build(docs: &Docs) -> Value {
    build_at(docs, &bench_core::time::now_rfc3339())
}

fn build_at(docs: &Docs, generated_at: &str) -> Value {
    let inputs: Vec<&Input> = docs.inputs().collect();
    let mut notes = Vec::new();
    let clouds: Vec<&str> = distinct(inputs.iter().map(|i| i.doc.cloud.as_str()));
    if clouds.len() > 1 {
        notes.push(format!(
            "the documents name different clouds ({}); `cloud` is the first",
            clouds.join(", ")
        ));
    }
    if inputs.is_empty() {
        notes.push(format!(
            "no result documents: none of {COLD_START_FILE}, {WARM_START_FILE}, {CONCURRENCY_FILE}, {SANDBOX_FILE} ({MANUAL_SANDBOX_FILE}), {HOST_FILE}"
        ));
    }
    // The newest document's run: a rewrite from the same results replaces
    // the summary, one over newer results keeps the old one in history/.
    let run_id = inputs
        .iter()
        .max_by(|a, b| a.doc.finished_at.cmp(&b.doc.finished_at))
        .map(|i| i.doc.run_id.clone());

    let mut templates = Map::new();
    for template in template_names(docs) {
        let cold = docs
            .cold_start
            .as_ref()
            .and_then(|i| start_block(i, &template, "cold"));
        let warm = docs
            .warm_start
            .as_ref()
            .and_then(|i| start_block(i, &template, "warm"));
        let concurrency = docs
            .concurrency
            .as_ref()
            .and_then(|i| concurrency_block(i, &template));
        templates.insert(
            template,
            json!({
                "cold": cold,
                "warm": warm,
                "concurrency": concurrency,
            }),
        );
    }

    json!({
        "schema": SCHEMA,
        "tool": {"name": "bench-client", "version": env!("CARGO_PKG_VERSION")},
        "cloud": clouds.first(),
        "run_id": run_id,
        "run_ids": distinct(inputs.iter().map(|i| i.doc.run_id.as_str())),
        "generated_at": generated_at,
        "sources": inputs.iter().map(|i| i.file.as_str()).collect::<Vec<_>>(),
        "templates": templates,
        "cpu_sandbox_vs_host": cpu_ratio(docs.sandbox.as_ref(), docs.host.as_ref()),
        "notes": notes,
    })
}

/// Distinct values, first occurrence first.
fn distinct<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    items.filter(|s| seen.insert(*s)).collect()
}

/// Every `template` label of the client documents and every template with
/// a knee entry, sorted.
fn template_names(docs: &Docs) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = [&docs.cold_start, &docs.warm_start, &docs.concurrency]
        .into_iter()
        .flatten()
        .flat_map(|i| &i.doc.samples)
        .filter_map(|s| s.labels.get("template").cloned())
        .collect();
    if let Some(Value::Object(knees)) = docs
        .concurrency
        .as_ref()
        .and_then(|i| i.doc.parameters.get("knee"))
    {
        names.extend(knees.keys().cloned());
    }
    names
}

/// Rounds to `places` decimals (readability; observations are far coarser).
fn round(x: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (x * scale).round() / scale
}

/// Decimals kept for milliseconds (µs resolution).
const MS_PLACES: i32 = 3;

/// n, mean, p50, p95 and p99 of a latency sample, recomputed from `raw`
/// (from `stats` when the document kept no observations); with the number
/// of observations, or `None` when there are none.
fn figures(sample: &Sample, notes: &mut Vec<String>) -> Option<(Value, u64)> {
    let name = sample.metric.trim_start_matches("sandbox.");
    let sorted = stats::sorted_finite(&sample.raw);
    if sorted.is_empty() {
        let st = sample.stats.as_ref()?;
        notes.push(format!(
            "{name}: the document kept no raw observations; figures are its stats"
        ));
        let v = json!({
            "n": st.n,
            "mean": round(st.mean, MS_PLACES),
            "p50": round(st.p50, MS_PLACES),
            "p95": round(st.p95, MS_PLACES),
            "p99": round(st.p99, MS_PLACES),
        });
        return Some((v, st.n));
    }
    let q = |p: f64| round(stats::quantile_sorted(&sorted, p), MS_PLACES);
    let v = json!({
        "n": sorted.len(),
        "mean": stats::mean(&sorted).map(|m| round(m, MS_PLACES)),
        "p50": q(0.50),
        "p95": q(0.95),
        "p99": q(0.99),
    });
    Some((v, sorted.len() as u64))
}

/// The sample of `metric` for `template`, with `mode` when the sample has a
/// mode label, outside any concurrency sweep (`schedule`). A second match is
/// noted and ignored.
fn find<'a>(
    doc: &'a ResultDocument,
    metric: &str,
    template: &str,
    mode: Option<&str>,
    notes: &mut Vec<String>,
) -> Option<&'a Sample> {
    let mut matches = doc.samples.iter().filter(|s| {
        s.metric == metric
            && s.labels.get("template").map(String::as_str) == Some(template)
            && !s.labels.contains_key("schedule")
            && mode.is_none_or(|m| s.labels.get("mode").is_none_or(|v| v == m))
    });
    let first = matches.next()?;
    let more = matches.count();
    if more > 0 {
        notes.push(format!(
            "{metric}: {} samples match; the first is used",
            more + 1
        ));
    }
    Some(first)
}

/// Cold or warm starts of one template, or `None` when the document has none.
fn start_block(input: &Input, template: &str, mode: &str) -> Option<Value> {
    let doc = &input.doc;
    let mut notes = Vec::new();
    let create = find(
        doc,
        metric::SANDBOX_CREATE_MS,
        template,
        Some(mode),
        &mut notes,
    );
    let tti = find(
        doc,
        metric::SANDBOX_TIME_TO_INTERACTIVE_MS,
        template,
        Some(mode),
        &mut notes,
    );
    let success = find(
        doc,
        metric::SANDBOX_SUCCESS_RATE,
        template,
        Some(mode),
        &mut notes,
    );
    if create.is_none() && tti.is_none() && success.is_none() {
        return None;
    }
    let mut single = false;
    let mut latency = |s: Option<&Sample>| -> Value {
        match s.and_then(|s| figures(s, &mut notes)) {
            Some((v, n)) => {
                single |= n == 1;
                v
            }
            None => Value::Null,
        }
    };
    let create_ms = latency(create);
    let tti_ms = latency(tti);
    if single {
        notes.push(format!(
            "one {mode} start: a single observation carries no spread (its p50, p95 and p99 are that observation); see docs/client.md for repeated cold starts"
        ));
    }
    Some(json!({
        "source": input.file,
        "create_ms": create_ms,
        "time_to_interactive_ms": tti_ms,
        "success_rate": success.map(|s| round(s.value, 4)),
        "attempts": success.map(|s| s.raw.len()),
        "notes": notes,
    }))
}

/// A concurrency level as a JSON number when it is a whole number.
fn level_value(v: &Value) -> Value {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x >= 0.0 => json!(x as u64),
        _ => v.clone(),
    }
}

/// The knee and the highest throughput of one template's sweep, or `None`
/// when the document has nothing for it.
fn concurrency_block(input: &Input, template: &str) -> Option<Value> {
    let doc = &input.doc;
    let mut notes = Vec::new();
    let throughputs: Vec<&Sample> = doc
        .samples
        .iter()
        .filter(|s| {
            s.metric == metric::SANDBOX_CREATES_PER_SECOND
                && s.labels.get("template").map(String::as_str) == Some(template)
                && s.value.is_finite()
        })
        .collect();
    let knee_entry = doc
        .parameters
        .get("knee")
        .and_then(|k| k.get(template))
        .cloned();
    if throughputs.is_empty() && knee_entry.is_none() {
        return None;
    }
    let knee = match knee_entry {
        Some(Value::Object(mut k)) => {
            if let Some(c) = k.get("concurrency").map(level_value) {
                k.insert("concurrency".to_owned(), c);
            }
            if let Some(x) = k.get("creates_per_second").and_then(Value::as_f64) {
                k.insert("creates_per_second".to_owned(), json!(round(x, 3)));
            }
            Value::Object(k)
        }
        Some(Value::Null) => {
            notes.push(
                "no knee: throughput was still growing at the last level (or fewer than two levels ran)"
                    .to_owned(),
            );
            Value::Null
        }
        Some(other) => {
            notes.push(format!(
                "parameters.knee.{template} is not an object: {other}"
            ));
            Value::Null
        }
        None => {
            notes.push(format!(
                "{} has no knee for this template (parameters.knee)",
                input.file
            ));
            Value::Null
        }
    };
    let level = |s: &Sample| -> Value {
        match s.labels.get("concurrency") {
            Some(c) => c.parse::<u64>().map_or_else(|_| json!(c), |n| json!(n)),
            None => Value::Null,
        }
    };
    let schedules = distinct(
        throughputs
            .iter()
            .filter_map(|s| s.labels.get("schedule").map(String::as_str)),
    );
    if schedules.len() > 1 {
        notes.push(format!(
            "several schedules ({}); the maximum is over all of them",
            schedules.join(", ")
        ));
    }
    let max = throughputs
        .iter()
        .copied()
        .max_by(|a, b| a.value.total_cmp(&b.value))
        .map(|s| {
            let mut m = Map::new();
            m.insert("concurrency".to_owned(), level(s));
            m.insert("creates_per_second".to_owned(), json!(round(s.value, 3)));
            if let Some(schedule) = s.labels.get("schedule") {
                m.insert("schedule".to_owned(), json!(schedule));
            }
            Value::Object(m)
        });
    let mut levels: Vec<Value> = Vec::new();
    for s in &throughputs {
        let l = level(s);
        if !levels.contains(&l) {
            levels.push(l);
        }
    }
    let mut block = Map::new();
    block.insert("source".to_owned(), json!(input.file));
    block.insert("levels".to_owned(), Value::Array(levels));
    block.insert("knee".to_owned(), knee);
    block.insert("max_creates_per_second".to_owned(), json!(max));
    if let Some(why) = doc
        .parameters
        .get("stopped")
        .and_then(|s| s.get(template))
        .and_then(Value::as_str)
    {
        block.insert("stopped".to_owned(), json!(why));
    }
    block.insert("notes".to_owned(), json!(notes));
    Some(Value::Object(block))
}

/// Sort key and labels of a CPU workload: (thread count as a number,
/// `threads`, `max_prime`), the labels that identify it on both tiers.
type CpuKey = (u64, String, String);

/// `cpu.events_per_second` of a document by `template` label (bench-client
/// labels the sandbox samples of an automated run with it; `None` when
/// absent) and (threads, max_prime). The first sample of a label set wins.
fn cpu_rates(doc: &ResultDocument) -> BTreeMap<(Option<String>, CpuKey), f64> {
    let mut out = BTreeMap::new();
    for s in doc
        .samples
        .iter()
        .filter(|s| s.metric == metric::CPU_EVENTS_PER_SECOND && s.value.is_finite())
    {
        let get = |k: &str| s.labels.get(k).cloned().unwrap_or_default();
        let threads = get("threads");
        let order = threads.parse::<u64>().unwrap_or(u64::MAX);
        let key = (order, threads, get("max_prime"));
        out.entry((s.labels.get("template").cloned(), key))
            .or_insert(s.value);
    }
    out
}

/// Sandbox ÷ host `cpu.events_per_second` per (threads, max_prime) measured
/// by both; `ratios` is null with a `reason` when there is none.
fn cpu_ratio(sandbox: Option<&Input>, host: Option<&Input>) -> Value {
    let sources = json!({
        "sandbox_source": sandbox.map(|i| &i.file),
        "host_source": host.map(|i| &i.file),
    });
    let without = |reason: String| {
        let mut v = sources.clone();
        v["ratios"] = Value::Null;
        v["reason"] = json!(reason);
        v
    };
    let (sandbox, host) = match (sandbox, host) {
        (None, None) => {
            return without(format!(
                "no sandbox result ({SANDBOX_FILE} or {MANUAL_SANDBOX_FILE}) and no host result ({HOST_FILE})"
            ));
        }
        (None, Some(_)) => {
            return without(format!(
                "no sandbox result ({SANDBOX_FILE} or {MANUAL_SANDBOX_FILE})"
            ));
        }
        (Some(_), None) => return without(format!("no host result ({HOST_FILE})")),
        (Some(s), Some(h)) => (s, h),
    };
    let s_rates = cpu_rates(&sandbox.doc);
    // The host runs no template: its template labels, if any, are ignored.
    let mut h_rates: BTreeMap<CpuKey, f64> = BTreeMap::new();
    for ((_, key), rate) in cpu_rates(&host.doc) {
        h_rates.entry(key).or_insert(rate);
    }
    if s_rates.is_empty() {
        return without(format!("{} has no cpu.events_per_second", sandbox.file));
    }
    if h_rates.is_empty() {
        return without(format!("{} has no cpu.events_per_second", host.file));
    }
    let ratios: Vec<Value> = s_rates
        .iter()
        .filter_map(|((template, key), &s)| {
            let &h = h_rates.get(key)?;
            (h > 0.0).then(|| {
                json!({
                    "template": template,
                    "threads": key.1,
                    "max_prime": key.2,
                    "sandbox_events_per_second": round(s, 2),
                    "host_events_per_second": round(h, 2),
                    "ratio": round(s / h, 4),
                })
            })
        })
        .collect();
    if ratios.is_empty() {
        let sets = |keys: Vec<&CpuKey>| {
            let mut v: Vec<String> = keys
                .into_iter()
                .map(|(_, t, p)| format!("threads={t} max_prime={p}"))
                .collect();
            v.dedup();
            v.join("; ")
        };
        return without(format!(
            "no (threads, max_prime) measured by both with a host rate above 0: sandbox has {}, host has {}",
            sets(s_rates.keys().map(|(_, k)| k).collect()),
            sets(h_rates.keys().collect())
        ));
    }
    let mut v = sources;
    v["ratios"] = Value::Array(ratios);
    v["reason"] = Value::Null;
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use bench_core::schema::{Fingerprint, Tier, Tool};

    fn doc(tier: Tier, suite: &str, run_id: &str, samples: Vec<Sample>) -> ResultDocument {
        ResultDocument {
            schema_version: bench_core::schema::SCHEMA_VERSION,
            tool: Tool::new("bench-client", "0.1.0"),
            tier,
            suite: suite.to_owned(),
            cloud: "aws".to_owned(),
            run_id: run_id.to_owned(),
            started_at: "2026-11-22T10:15:00Z".to_owned(),
            finished_at: "2026-11-22T10:16:00Z".to_owned(),
            fingerprint: Fingerprint::default(),
            parameters: BTreeMap::new(),
            samples,
            errors: Vec::new(),
        }
    }

    fn start(metric: &str, template: &str, mode: &str, raw: Vec<f64>) -> Sample {
        Sample::from_series(metric, "ms", raw)
            .label("template", template)
            .label("mode", mode)
            .label("concurrency", 1)
    }

    fn success(template: &str, mode: &str, outcomes: Vec<f64>) -> Sample {
        let rate = outcomes.iter().sum::<f64>() / outcomes.len() as f64;
        Sample::from_series("sandbox.success_rate", "ratio", outcomes)
            .with_value(rate)
            .label("template", template)
            .label("mode", mode)
            .label("concurrency", 1)
    }

    fn cpu(threads: u32, rate: f64) -> Sample {
        Sample::new("cpu.events_per_second", "events/s", rate)
            .label("threads", threads)
            .label("max_prime", 10000)
    }

    fn lifecycle_docs() -> Docs {
        // Warm: 1..=10 shuffled (numpy: p50 5.5, p95 9.55, p99 9.91).
        let warm_raw = vec![7.0, 1.0, 10.0, 4.0, 2.0, 9.0, 3.0, 8.0, 5.0, 6.0];
        // TTI: numpy.percentile([15, 20, 35, 40, 50], [50, 95, 99]) = 35, 48, 49.6.
        let tti_raw = vec![40.0, 15.0, 50.0, 35.0, 20.0];
        Docs {
            cold_start: Some(Input::new(
                COLD_START_FILE,
                doc(
                    Tier::Client,
                    "cold_start",
                    "run-1",
                    vec![
                        start("sandbox.create_ms", "base", "cold", vec![7512.25]),
                        start(
                            "sandbox.time_to_interactive_ms",
                            "base",
                            "cold",
                            vec![7600.0],
                        ),
                        success("base", "cold", vec![1.0]),
                    ],
                ),
            )),
            warm_start: Some(Input::new(
                WARM_START_FILE,
                doc(
                    Tier::Client,
                    "warm_start",
                    "run-1",
                    vec![
                        start("sandbox.create_ms", "base", "warm", warm_raw),
                        start("sandbox.time_to_interactive_ms", "base", "warm", tti_raw),
                        success("base", "warm", vec![1.0, 1.0, 0.0, 1.0]),
                        start("sandbox.create_ms", "code", "warm", vec![3.0, 1.0]),
                    ],
                ),
            )),
            ..Docs::default()
        }
    }

    fn close(v: &Value, expected: f64) {
        let x = v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"));
        assert!((x - expected).abs() < 1e-9, "{x} != {expected}");
    }

    #[test]
    fn summary_percentiles_match_numpy_type_7() {
        let s = build_at(&lifecycle_docs(), "2026-11-22T11:00:00Z");
        let warm = &s["templates"]["base"]["warm"];
        let create = &warm["create_ms"];
        assert_eq!(create["n"], 10);
        close(&create["mean"], 5.5);
        close(&create["p50"], 5.5);
        close(&create["p95"], 9.55);
        close(&create["p99"], 9.91);
        let tti = &warm["time_to_interactive_ms"];
        assert_eq!(tti["n"], 5);
        close(&tti["mean"], 32.0);
        close(&tti["p50"], 35.0);
        close(&tti["p95"], 48.0);
        close(&tti["p99"], 49.6);
        close(&warm["success_rate"], 0.75);
        assert_eq!(warm["attempts"], 4);
        assert_eq!(warm["notes"], json!([]));
        assert_eq!(warm["source"], WARM_START_FILE);
        // The same function the documents' stats use.
        let raw = [7.0, 1.0, 10.0, 4.0, 2.0, 9.0, 3.0, 8.0, 5.0, 6.0];
        let st = stats::summarize(&raw).unwrap();
        close(&create["p95"], round(st.p95, MS_PLACES));
    }

    #[test]
    fn summary_single_cold_start_has_figures_and_a_note() {
        let s = build_at(&lifecycle_docs(), "2026-11-22T11:00:00Z");
        let cold = &s["templates"]["base"]["cold"];
        let create = &cold["create_ms"];
        assert_eq!(create["n"], 1);
        for k in ["mean", "p50", "p95", "p99"] {
            close(&create[k], 7512.25);
        }
        close(&cold["success_rate"], 1.0);
        let notes = cold["notes"].as_array().unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].as_str().unwrap().contains("no spread"),
            "{notes:?}"
        );
        // A template with warm starts only: cold is null.
        let code = &s["templates"]["code"];
        assert!(code["cold"].is_null());
        assert_eq!(code["warm"]["create_ms"]["n"], 2);
        assert!(code["warm"]["success_rate"].is_null());
    }

    #[test]
    fn summary_top_level_fields() {
        let s = build_at(&lifecycle_docs(), "2026-11-22T11:00:00Z");
        assert_eq!(s["schema"], SCHEMA);
        assert_eq!(s["cloud"], "aws");
        assert_eq!(s["run_id"], "run-1");
        assert_eq!(s["run_ids"], json!(["run-1"]));
        assert_eq!(s["generated_at"], "2026-11-22T11:00:00Z");
        assert_eq!(s["sources"], json!([COLD_START_FILE, WARM_START_FILE]));
        assert_eq!(s["notes"], json!([]));
        // Not a result document.
        assert!(s.get("samples").is_none() && s.get("schema_version").is_none());
        assert!(ResultDocument::from_json(&s.to_string()).is_err());
        let templates: Vec<&String> = s["templates"].as_object().unwrap().keys().collect();
        assert_eq!(templates, ["base", "code"]);
        assert!(s["templates"]["base"]["concurrency"].is_null());
        let now = build(&lifecycle_docs());
        assert!(
            now["generated_at"].as_str().unwrap().ends_with('Z'),
            "{now}"
        );
    }

    fn sweep(knee: Value) -> Input {
        let level = |c: u32, cps: f64| {
            Sample::new("sandbox.creates_per_second", "sandboxes/s", cps)
                .label("template", "base")
                .label("concurrency", c)
                .label("schedule", "burst")
        };
        let mut d = doc(
            Tier::Client,
            "concurrency",
            "run-2",
            vec![
                level(1, 0.8),
                level(2, 1.6),
                level(4, 2.9),
                level(8, 3.1),
                level(16, 3.05),
                // The sweep's TTI is not a start of the lifecycle suites.
                start("sandbox.time_to_interactive_ms", "base", "warm", vec![1.0])
                    .label("schedule", "burst"),
            ],
        );
        d.finished_at = "2026-11-22T10:30:00Z".to_owned();
        d.parameters
            .insert("knee".to_owned(), json!({ "base": knee }));
        Input::new(CONCURRENCY_FILE, d)
    }

    #[test]
    fn summary_knee_and_maximum_throughput() {
        let docs = Docs {
            concurrency: Some(sweep(
                json!({"concurrency": 4.0, "creates_per_second": 2.9000001}),
            )),
            ..lifecycle_docs()
        };
        let s = build_at(&docs, "t");
        let c = &s["templates"]["base"]["concurrency"];
        assert_eq!(
            c["knee"],
            json!({"concurrency": 4, "creates_per_second": 2.9})
        );
        assert_eq!(
            c["max_creates_per_second"],
            json!({"concurrency": 8, "creates_per_second": 3.1, "schedule": "burst"})
        );
        assert_eq!(c["levels"], json!([1, 2, 4, 8, 16]));
        assert_eq!(c["notes"], json!([]));
        assert_eq!(s["run_ids"], json!(["run-1", "run-2"]));
        assert_eq!(s["run_id"], "run-2", "the newest document's run");
        // The sweep's samples carry `schedule`: not mixed into warm starts.
        assert_eq!(
            s["templates"]["base"]["warm"]["time_to_interactive_ms"]["n"],
            5
        );
        // A template only in the lifecycle documents has no sweep.
        assert!(s["templates"]["code"]["concurrency"].is_null());
    }

    #[test]
    fn summary_knee_null() {
        let docs = Docs {
            concurrency: Some(sweep(Value::Null)),
            ..Docs::default()
        };
        let s = build_at(&docs, "t");
        let c = &s["templates"]["base"]["concurrency"];
        assert!(c["knee"].is_null());
        assert!(
            c["notes"][0].as_str().unwrap().contains("still growing"),
            "{c}"
        );
        close(&c["max_creates_per_second"]["creates_per_second"], 3.1);
        assert!(s["templates"]["base"]["cold"].is_null());

        // No knee entry at all for the template.
        let mut input = sweep(Value::Null);
        input.doc.parameters.remove("knee");
        let s = build_at(
            &Docs {
                concurrency: Some(input),
                ..Docs::default()
            },
            "t",
        );
        let c = &s["templates"]["base"]["concurrency"];
        assert!(c["knee"].is_null());
        assert!(
            c["notes"][0].as_str().unwrap().contains("has no knee"),
            "{c}"
        );
    }

    fn cpu_docs(host: Option<Vec<Sample>>) -> Docs {
        Docs {
            sandbox: Some(Input::new(
                MANUAL_SANDBOX_FILE,
                doc(
                    Tier::Sandbox,
                    "sandbox_performance",
                    "run-3",
                    vec![cpu(1, 970.0), cpu(4, 3600.0), cpu(16, 9000.0)],
                ),
            )),
            host: host.map(|samples| {
                Input::new(
                    HOST_FILE,
                    doc(Tier::Host, "host_performance", "run-4", samples),
                )
            }),
            ..Docs::default()
        }
    }

    #[test]
    fn summary_cpu_ratio_with_host_results() {
        let s = build_at(&cpu_docs(Some(vec![cpu(4, 4000.0), cpu(1, 1000.0)])), "t");
        let c = &s["cpu_sandbox_vs_host"];
        assert!(c["reason"].is_null(), "{c}");
        assert_eq!(c["sandbox_source"], MANUAL_SANDBOX_FILE);
        assert_eq!(c["host_source"], HOST_FILE);
        let ratios = c["ratios"].as_array().unwrap();
        assert_eq!(ratios.len(), 2, "16 threads ran on the sandbox only");
        assert_eq!(ratios[0]["threads"], "1");
        assert_eq!(ratios[0]["max_prime"], "10000");
        close(&ratios[0]["ratio"], 0.97);
        close(&ratios[0]["host_events_per_second"], 1000.0);
        assert_eq!(ratios[1]["threads"], "4");
        close(&ratios[1]["ratio"], 0.9);
        assert!(ratios[0]["template"].is_null(), "a pasted run names none");
        assert_eq!(s["sources"], json!([MANUAL_SANDBOX_FILE, HOST_FILE]));
        assert!(s["templates"].as_object().unwrap().is_empty());

        // Different label sets: no ratio, and the reason lists both.
        let other = Sample::new("cpu.events_per_second", "events/s", 5.0)
            .label("threads", 1)
            .label("max_prime", 20000);
        let s = build_at(&cpu_docs(Some(vec![other])), "t");
        let c = &s["cpu_sandbox_vs_host"];
        assert!(c["ratios"].is_null());
        let reason = c["reason"].as_str().unwrap();
        assert!(
            reason.contains("max_prime=20000") && reason.contains("max_prime=10000"),
            "{reason}"
        );
    }

    #[test]
    fn summary_cpu_ratio_per_sandbox_template() {
        let mut docs = cpu_docs(Some(vec![cpu(1, 1000.0)]));
        let sandbox = &mut docs.sandbox.as_mut().unwrap().doc;
        sandbox.samples = vec![
            cpu(1, 950.0).label("template", "code"),
            cpu(1, 980.0).label("template", "base"),
        ];
        let s = build_at(&docs, "t");
        let ratios = s["cpu_sandbox_vs_host"]["ratios"]
            .as_array()
            .unwrap()
            .clone();
        let by: Vec<(&str, f64)> = ratios
            .iter()
            .map(|r| {
                (
                    r["template"].as_str().unwrap(),
                    r["ratio"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(by, [("base", 0.98), ("code", 0.95)]);
    }

    #[test]
    fn summary_cpu_ratio_without_host_results() {
        let s = build_at(&cpu_docs(None), "t");
        let c = &s["cpu_sandbox_vs_host"];
        assert!(c["ratios"].is_null());
        assert!(c["host_source"].is_null());
        assert!(c["reason"].as_str().unwrap().contains(HOST_FILE), "{c}");
        // A host document without CPU results.
        let s = build_at(
            &cpu_docs(Some(vec![Sample::new("disk.iops", "ops/s", 1.0)])),
            "t",
        );
        assert!(
            s["cpu_sandbox_vs_host"]["reason"]
                .as_str()
                .unwrap()
                .contains("04_host_performance.json has no cpu.events_per_second")
        );
        let s = build_at(&Docs::default(), "t");
        assert!(s["cpu_sandbox_vs_host"]["ratios"].is_null());
        assert!(s["cloud"].is_null() && s["run_id"].is_null());
        assert_eq!(s["sources"], json!([]));
        assert!(
            s["notes"][0]
                .as_str()
                .unwrap()
                .contains("no result documents")
        );
    }

    fn write_doc(dir: &Path, file: &str, d: &ResultDocument) {
        std::fs::write(dir.join(file), serde_json::to_vec(d).unwrap()).unwrap();
    }

    #[test]
    fn summary_load_missing_files_and_manual_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let docs = load(dir.path()).unwrap();
        assert!(docs.is_empty());

        let lc = lifecycle_docs();
        write_doc(dir.path(), WARM_START_FILE, &lc.warm_start.unwrap().doc);
        let manual = cpu_docs(None).sandbox.unwrap().doc;
        write_doc(dir.path(), MANUAL_SANDBOX_FILE, &manual);
        let docs = load(dir.path()).unwrap();
        assert!(docs.cold_start.is_none() && docs.concurrency.is_none() && docs.host.is_none());
        assert_eq!(docs.warm_start.as_ref().unwrap().file, WARM_START_FILE);
        assert_eq!(docs.sandbox.as_ref().unwrap().file, MANUAL_SANDBOX_FILE);
        let s = build(&docs);
        assert_eq!(s["sources"], json!([WARM_START_FILE, MANUAL_SANDBOX_FILE]));
        assert!(s["templates"]["base"]["cold"].is_null());
        assert_eq!(s["templates"]["base"]["warm"]["create_ms"]["n"], 10);

        // The automated sandbox run wins over a pasted one.
        let mut automated = manual.clone();
        automated.run_id = "run-auto".to_owned();
        write_doc(dir.path(), SANDBOX_FILE, &automated);
        let docs = load(dir.path()).unwrap();
        assert_eq!(docs.sandbox.as_ref().unwrap().file, SANDBOX_FILE);
        assert_eq!(docs.sandbox.as_ref().unwrap().doc.run_id, "run-auto");
    }

    #[test]
    fn summary_load_prefers_this_machines_qualified_files() {
        let dir = tempfile::tempdir().unwrap();
        let lc = lifecycle_docs();
        let mine = lc.warm_start.unwrap().doc;
        let mut other = mine.clone();
        other.run_id = "someone-else".to_owned();
        write_doc(dir.path(), "01_warm_start.jump-1.shard-1-of-2.json", &mine);
        write_doc(dir.path(), WARM_START_FILE, &other);
        write_doc(
            dir.path(),
            HOST_FILE,
            &doc(Tier::Host, "host_performance", "run-4", Vec::new()),
        );
        let qualify =
            |f: &str| bench_core::shard::qualified_file_name(f, "jump-1", "1/2".parse().ok());
        let docs = load_named(dir.path(), qualify).unwrap();
        let warm = docs.warm_start.unwrap();
        assert_eq!(warm.file, "01_warm_start.jump-1.shard-1-of-2.json");
        assert_eq!(warm.doc.run_id, mine.run_id);
        // Files of this machine that are missing fall back to the plain name.
        assert_eq!(docs.host.unwrap().file, HOST_FILE);
    }

    #[test]
    fn summary_load_names_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONCURRENCY_FILE), "{\"schema_version\": 1,").unwrap();
        let e = load(dir.path()).unwrap_err();
        assert!(e.contains(CONCURRENCY_FILE), "{e}");
        std::fs::write(dir.path().join(CONCURRENCY_FILE), "{\"schema_version\": 7}").unwrap();
        let e = load(dir.path()).unwrap_err();
        assert!(
            e.contains(CONCURRENCY_FILE) && e.contains("schema_version 7"),
            "{e}"
        );
    }

    #[test]
    fn summary_is_written_atomically_with_history() {
        let dir = tempfile::tempdir().unwrap();
        let sink = bench_core::sink::LocalDirSink::open(dir.path()).unwrap();
        let first = build_at(&lifecycle_docs(), "t1");
        let at = write(&sink, &first).unwrap();
        assert!(at.ends_with(FILE_NAME), "{at}");
        let read: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(FILE_NAME)).unwrap()).unwrap();
        assert_eq!(read, first);
        // The same run again: replaced in place.
        write(&sink, &build_at(&lifecycle_docs(), "t2")).unwrap();
        assert!(!dir.path().join("history").exists());
        // Newer results: the earlier summary moves to history/<its run>/.
        let mut docs = lifecycle_docs();
        docs.warm_start.as_mut().unwrap().doc.run_id = "run-9".to_owned();
        docs.warm_start.as_mut().unwrap().doc.finished_at = "2026-11-23T00:00:00Z".to_owned();
        write(&sink, &build_at(&docs, "t3")).unwrap();
        let kept = dir.path().join("history/run-1").join(FILE_NAME);
        let old: Value = serde_json::from_slice(&std::fs::read(kept).unwrap()).unwrap();
        assert_eq!(old["generated_at"], "t2");
        let no_temp = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().ends_with(".tmp"));
        assert!(no_temp);
    }
}
