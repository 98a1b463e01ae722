//! The concurrency sweep (`02_concurrency.json`) as one set per template and
//! schedule: for each concurrency level and cloud the creates per second,
//! the p95 time to interactive and the success rate, and per cloud the knee
//! (the level after which throughput stopped growing).
//!
//! The knee is the document's own (`parameters.knee.<template>`, written by
//! bench-client) when it names one for this set, else
//! [`bench_core::stats::knee::find_knee`] on the plotted
//! throughputs. The chart ([`crate::charts::concurrency`]) and the tables of
//! the HTML and Markdown reports are drawn from these sets.

use std::collections::{BTreeMap, HashMap};

use bench_core::contract::metric;
use bench_core::schema::Tier;
use bench_core::stats::knee::{DEFAULT_MIN_GAIN, find_knee};
use serde::Serialize;
use serde_json::Value;

use super::{Collected, Series, labels_text, slug};
use crate::charts::Chart;
use crate::format;

/// One template (and schedule) of the sweep across clouds.
#[derive(Debug, Serialize)]
pub struct ConcurrencySet {
    /// HTML id of its chart (`chart-concurrency-base-burst`).
    pub id: String,
    /// `template=base, schedule=burst` (every label but `concurrency`).
    pub labels_text: String,
    /// The `template` label (empty when absent).
    pub template: String,
    /// The `schedule` label (empty when absent).
    pub schedule: String,
    /// Unit of the throughputs (`sandboxes/s`).
    pub unit: String,
    /// Unit of the time to interactive (`ms`).
    pub tti_unit: String,
    /// One row per concurrency level, ascending.
    pub levels: Vec<Level>,
    /// One knee per cloud, in report order.
    pub knees: Vec<Knee>,
    /// The chart (filled in by [`crate::charts::concurrency`]).
    pub chart: Option<Chart>,
}

/// One concurrency level of a set.
#[derive(Debug, Serialize)]
pub struct Level {
    /// The level.
    pub concurrency: f64,
    /// The level as its label says (`4`).
    pub concurrency_text: String,
    /// True when some cloud had failed creates at this level.
    pub failures: bool,
    /// One cell per cloud, in report order.
    pub cells: Vec<LevelCell>,
}

/// One cloud at one level.
#[derive(Debug, Default, Serialize)]
pub struct LevelCell {
    /// Cloud.
    pub cloud: String,
    /// False when this cloud has no throughput at this level.
    pub present: bool,
    /// Creates per second.
    pub throughput: Option<f64>,
    /// `2.10 sandboxes/s`.
    pub throughput_display: String,
    /// p95 of the time to interactive (the value when there are no stats).
    pub tti_p95: Option<f64>,
    /// `812 ms`.
    pub tti_p95_display: String,
    /// Success rate, 0..1.
    pub success: Option<f64>,
    /// `96.7%`.
    pub success_display: String,
    /// True when some creates failed at this level (success < 1).
    pub failures: bool,
    /// True at this cloud's knee.
    pub knee: bool,
}

/// One cloud's knee in a set.
#[derive(Debug, Default, Serialize)]
pub struct Knee {
    /// Cloud.
    pub cloud: String,
    /// False when this cloud has no throughput in this set.
    pub present: bool,
    /// The knee's concurrency level; `None` when throughput was still growing
    /// at the last level, or with fewer than two levels.
    pub concurrency: Option<f64>,
    /// `4`, `none (still growing at 16)` or `—`.
    pub display: String,
    /// `bench-client` (the document's `parameters.knee`), `computed`, or
    /// empty when there is no knee to tell.
    pub source: String,
}

/// A set being gathered: its labels, the throughput unit, and per level
/// (label text, level, throughput row index).
type Group = (BTreeMap<String, String>, String, Vec<(String, f64, usize)>);

/// Per cloud and level: the three series of one level.
struct Point<'s, 'a> {
    level: f64,
    throughput: &'s Series<'a>,
    tti: Option<&'s Series<'a>>,
    success: Option<&'s Series<'a>>,
}

/// The sets of `collected`'s concurrency rows, in the order their first
/// throughput row appears.
pub fn build(collected: &Collected<'_>) -> Vec<ConcurrencySet> {
    // The set a row belongs to: its labels but concurrency (and, for the
    // time to interactive, mode), with the level apart.
    let split = |labels: &BTreeMap<String, String>, drop_mode: bool| {
        let level: f64 = labels.get("concurrency")?.trim().parse().ok()?;
        let mut rest = labels.clone();
        rest.remove("concurrency");
        if drop_mode {
            rest.remove("mode");
        }
        (level.is_finite() && level > 0.0).then_some((rest, level.to_bits()))
    };
    let mut tti: HashMap<(BTreeMap<String, String>, u64), usize> = HashMap::new();
    for (i, row) in collected.rows.iter().enumerate() {
        // Lifecycle rows have no schedule; a cold start is no concurrency level.
        if row.key.tier != Tier::Client
            || row.key.metric != metric::SANDBOX_TIME_TO_INTERACTIVE_MS
            || row.key.labels.get("mode").is_some_and(|m| m == "cold")
        {
            continue;
        }
        if let Some(key) = split(&row.key.labels, true) {
            tti.entry(key).or_insert(i);
        }
    }
    let success: HashMap<&BTreeMap<String, String>, usize> = collected
        .rows
        .iter()
        .enumerate()
        .filter(|(_, r)| r.key.tier == Tier::Client && r.key.metric == metric::SANDBOX_SUCCESS_RATE)
        .map(|(i, r)| (&r.key.labels, i))
        .collect();

    let mut groups: Vec<Group> = Vec::new();
    for (at, row) in collected.rows.iter().enumerate() {
        if row.key.tier != Tier::Client || row.key.metric != metric::SANDBOX_CREATES_PER_SECOND {
            continue;
        }
        let Some((rest, bits)) = split(&row.key.labels, false) else {
            continue;
        };
        let text = row.key.labels["concurrency"].trim().to_owned();
        let entry = (text, f64::from_bits(bits), at);
        match groups.iter_mut().find(|g| g.0 == rest) {
            Some(g) => g.2.push(entry),
            None => groups.push((rest, row.unit.clone(), vec![entry])),
        }
    }

    // How many sets each document's template spans: a `parameters.knee`
    // entry without a schedule only speaks for a template swept once.
    let mut spans: HashMap<(&str, String), usize> = HashMap::new();
    for (labels, _, levels) in &groups {
        let template = labels.get("template").cloned().unwrap_or_default();
        let mut seen = Vec::new();
        for (_, _, r) in levels {
            for s in collected.rows[*r].cells.iter().flatten() {
                let location = s.from.location.as_str();
                if !seen.contains(&location) {
                    seen.push(location);
                    *spans.entry((location, template.clone())).or_default() += 1;
                }
            }
        }
    }

    let mut ids: Vec<String> = Vec::new();
    groups
        .into_iter()
        .map(|(labels, unit, mut levels)| {
            levels.sort_by(|a, b| a.1.total_cmp(&b.1));
            levels.dedup_by(|a, b| a.1 == b.1);
            let template = labels.get("template").cloned().unwrap_or_default();
            let schedule = labels.get("schedule").cloned().unwrap_or_default();
            let mut tti_unit = "ms".to_owned();
            // points[cloud][level index]
            let points: Vec<Vec<Option<Point<'_, '_>>>> = (0..collected.clouds.len())
                .map(|c| {
                    levels
                        .iter()
                        .map(|(_, level, r)| {
                            let throughput = collected.rows[*r].cells[c].as_ref()?;
                            let key = (labels.clone(), level.to_bits());
                            let tti = tti.get(&key).and_then(|&t| {
                                tti_unit.clone_from(&collected.rows[t].unit);
                                collected.rows[t].cells[c].as_ref()
                            });
                            let success = success
                                .get(&collected.rows[*r].key.labels)
                                .and_then(|&s| collected.rows[s].cells[c].as_ref());
                            Some(Point {
                                level: *level,
                                throughput,
                                tti,
                                success,
                            })
                        })
                        .collect()
                })
                .collect();
            let knees: Vec<Knee> = points
                .iter()
                .enumerate()
                .map(|(c, p)| knee(&collected.clouds[c], p, &template, &schedule, &spans))
                .collect();
            let levels = levels
                .iter()
                .enumerate()
                .map(|(l, (text, level, _))| {
                    let cells: Vec<LevelCell> = points
                        .iter()
                        .enumerate()
                        .map(|(c, p)| {
                            level_cell(
                                &collected.clouds[c],
                                p[l].as_ref(),
                                &unit,
                                &tti_unit,
                                knees[c].concurrency == Some(*level),
                            )
                        })
                        .collect();
                    Level {
                        concurrency: *level,
                        concurrency_text: text.clone(),
                        failures: cells.iter().any(|c| c.failures),
                        cells,
                    }
                })
                .collect();
            // template, schedule, then any other label's value: `base-burst`.
            let parts: Vec<&str> = [labels.get("template"), labels.get("schedule")]
                .into_iter()
                .flatten()
                .chain(
                    labels
                        .iter()
                        .filter(|(k, _)| *k != "template" && *k != "schedule")
                        .map(|(_, v)| v),
                )
                .map(String::as_str)
                .collect();
            let mut id = format!("chart-concurrency-{}", slug(&parts.join("-")));
            if ids.contains(&id) {
                id = format!("{id}-{}", ids.len() + 1);
            }
            ids.push(id.clone());
            ConcurrencySet {
                id,
                labels_text: labels_text(&labels),
                template,
                schedule,
                unit,
                tti_unit,
                levels,
                knees,
                chart: None,
            }
        })
        .collect()
}

fn level_cell(
    cloud: &str,
    point: Option<&Point<'_, '_>>,
    unit: &str,
    tti_unit: &str,
    knee: bool,
) -> LevelCell {
    let Some(p) = point else {
        return LevelCell {
            cloud: cloud.to_owned(),
            throughput_display: "—".to_owned(),
            ..LevelCell::default()
        };
    };
    let throughput = Some(p.throughput.sample.value).filter(|v| v.is_finite());
    let tti_p95 = p.tti.map(|s| p95(s)).filter(|v| v.is_finite());
    let success = p.success.map(|s| s.sample.value).filter(|v| v.is_finite());
    LevelCell {
        cloud: cloud.to_owned(),
        present: true,
        throughput,
        throughput_display: format::value(p.throughput.sample.value, unit),
        tti_p95,
        tti_p95_display: tti_p95
            .map(|v| format::value(v, tti_unit))
            .unwrap_or_default(),
        success,
        success_display: success.map(format::share).unwrap_or_default(),
        failures: success.is_some_and(|s| s < 1.0),
        knee,
    }
}

/// The p95 of a series: its `stats.p95`, else its headline value.
pub fn p95(s: &Series<'_>) -> f64 {
    s.sample.stats.as_ref().map_or(s.sample.value, |st| st.p95)
}

/// This cloud's knee: the document's when it speaks for this set and names a
/// plotted level, else computed from the plotted throughputs.
fn knee(
    cloud: &str,
    points: &[Option<Point<'_, '_>>],
    template: &str,
    schedule: &str,
    spans: &HashMap<(&str, String), usize>,
) -> Knee {
    let present: Vec<&Point<'_, '_>> = points.iter().flatten().collect();
    let Some(first) = present.first() else {
        return Knee {
            cloud: cloud.to_owned(),
            display: "—".to_owned(),
            ..Knee::default()
        };
    };
    let last = present.last().map_or(first.level, |p| p.level);
    let from_doc = document_knee(first.throughput, template, schedule, spans)
        .filter(|k| k.is_none_or(|level| present.iter().any(|p| p.level == level)));
    let (concurrency, source) = match from_doc {
        Some(k) => (k, "bench-client"),
        None => {
            let xy: Vec<(f64, f64)> = present
                .iter()
                .map(|p| (p.level, p.throughput.sample.value))
                .collect();
            (
                find_knee(&xy, DEFAULT_MIN_GAIN).map(|i| xy[i].0),
                "computed",
            )
        }
    };
    let display = match concurrency {
        Some(level) => format::number(level),
        None if present.len() < 2 => "—".to_owned(),
        None => format!("none (still growing at {})", format::number(last)),
    };
    let told = concurrency.is_some() || present.len() >= 2;
    Knee {
        cloud: cloud.to_owned(),
        present: true,
        concurrency,
        display,
        source: if told {
            source.to_owned()
        } else {
            String::new()
        },
    }
}

/// `parameters.knee.<template>` of the document `s` came from: `Some(None)`
/// for an explicit `null` (still growing), `Some(Some(level))` for
/// `{"concurrency": level, …}`, `None` when it does not say for this set (no
/// entry, another schedule, or a template swept with several schedules and
/// an entry that names none).
fn document_knee(
    s: &Series<'_>,
    template: &str,
    schedule: &str,
    spans: &HashMap<(&str, String), usize>,
) -> Option<Option<f64>> {
    let entry = s.from.doc.parameters.get("knee")?.get(template)?;
    match entry {
        Value::Null => {
            let single = spans
                .get(&(s.from.location.as_str(), template.to_owned()))
                .is_none_or(|&n| n <= 1);
            single.then_some(None)
        }
        Value::Object(o) => {
            match o.get("schedule").and_then(Value::as_str) {
                Some(named) if named != schedule => return None,
                Some(_) => {}
                None => {
                    let single = spans
                        .get(&(s.from.location.as_str(), template.to_owned()))
                        .is_none_or(|&n| n <= 1);
                    if !single {
                        return None;
                    }
                }
            }
            let level = o.get("concurrency").and_then(Value::as_f64)?;
            level.is_finite().then_some(Some(level))
        }
        _ => None,
    }
}
