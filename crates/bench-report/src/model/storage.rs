//! The cloud storage section (`05_cloud_storage.json`): E2B's template chunk
//! read pattern — ranged GETs of one chunk size from a large object — per
//! concurrency level and cloud: p50 and p95 latency and the throughput, each
//! with the verdict of its row against the baseline cloud.
//!
//! The rows are the ordinary ones (`storage.range_get_latency_ms` and
//! `storage.get_bandwidth_bytes_per_second` with `access=range`), so the
//! verdicts are the same as in the metric tables. The `backend` label is not
//! part of a storage row's key (see [`super::collect`](mod@super::collect)): S3 on one cloud and
//! GCS on another measure the same workload; each cell names its backend.

use std::collections::{BTreeMap, HashMap};

use bench_core::contract::metric;
use bench_core::schema::Tier;
use serde::Serialize;

use super::{Cell, Collected, Row, labels_text, slug};
use crate::charts::Chart;
use crate::format;

/// One chunk size (and source object) across clouds.
#[derive(Debug, Serialize)]
pub struct StorageSet {
    /// HTML id of its chart and table.
    pub id: String,
    /// `object_size=4194304, source_size=268435456`.
    pub labels_text: String,
    /// `4 MiB ranges of a 256 MiB object`.
    pub title: String,
    /// Unit of the latencies (`ms`).
    pub latency_unit: String,
    /// Unit of the throughputs (`bytes/s`).
    pub throughput_unit: String,
    /// Per cloud: the backend it measured (`s3`, `gcs`, `azure`), or empty.
    pub backends: Vec<String>,
    /// One row per concurrency level, ascending.
    pub levels: Vec<StorageLevel>,
    /// Throughput and p95 latency against concurrency, one line per cloud.
    pub chart: Option<Chart>,
}

/// One concurrency level of a set.
#[derive(Debug, Serialize)]
pub struct StorageLevel {
    /// The level.
    pub concurrency: f64,
    /// As its label says (`8`).
    pub concurrency_text: String,
    /// One cell per cloud, in report order.
    pub cells: Vec<StorageCell>,
}

/// One cloud at one level.
#[derive(Debug, Default, Serialize)]
pub struct StorageCell {
    /// Cloud.
    pub cloud: String,
    /// False when this cloud has neither latency nor throughput here.
    pub present: bool,
    /// Median latency of one ranged GET.
    pub p50: Option<f64>,
    /// `41.2 ms`.
    pub p50_display: String,
    /// p95 latency.
    pub p95: Option<f64>,
    /// `88.0 ms`.
    pub p95_display: String,
    /// Verdict of the latency row (`baseline`, `better`, `worse`, `same`,
    /// `insufficient`, `no_raw`, `missing`).
    pub latency_verdict: String,
    /// p of the latency verdict, for people.
    pub latency_p_display: String,
    /// Throughput of the level.
    pub throughput: Option<f64>,
    /// `812 MiB/s`.
    pub throughput_display: String,
    /// Verdict of the throughput row.
    pub throughput_verdict: String,
    /// p of the throughput verdict, for people.
    pub throughput_p_display: String,
}

/// A set being gathered: its labels but concurrency, and per level (label
/// text, level, latency row index).
type Group = (BTreeMap<String, String>, Vec<(String, f64, usize)>);

/// The sets of `collected`'s ranged-read rows; `rows[i]` is the built row
/// of `collected.rows[i]` (cells with verdicts).
pub fn build(collected: &Collected<'_>, rows: &[Row]) -> Vec<StorageSet> {
    let host = |i: usize| collected.rows[i].key.tier == Tier::Host;
    let without = |labels: &BTreeMap<String, String>, drop: &[&str]| {
        let mut l = labels.clone();
        for d in drop {
            l.remove(*d);
        }
        l
    };
    // Throughput rows by their labels without `access`.
    let bandwidth: HashMap<BTreeMap<String, String>, usize> = collected
        .rows
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            host(*i)
                && r.key.metric == metric::STORAGE_GET_BANDWIDTH
                && r.key.labels.get("access").is_some_and(|a| a == "range")
        })
        .map(|(i, r)| (without(&r.key.labels, &["access"]), i))
        .collect();
    // Groups: labels but concurrency → (level text, level, latency row).
    let mut groups: Vec<Group> = Vec::new();
    for (i, row) in collected.rows.iter().enumerate() {
        if !host(i) || row.key.metric != metric::STORAGE_RANGE_GET_LATENCY_MS {
            continue;
        }
        let Some(text) = row.key.labels.get("concurrency") else {
            continue;
        };
        let Ok(level) = text.trim().parse::<f64>() else {
            continue;
        };
        if !(level.is_finite() && level > 0.0) {
            continue;
        }
        let rest = without(&row.key.labels, &["concurrency"]);
        let entry = (text.trim().to_owned(), level, i);
        match groups.iter_mut().find(|g| g.0 == rest) {
            Some(g) => g.1.push(entry),
            None => groups.push((rest, vec![entry])),
        }
    }
    let clouds = &collected.clouds;
    let mut ids: Vec<String> = Vec::new();
    groups
        .into_iter()
        .map(|(labels, mut levels)| {
            levels.sort_by(|a, b| a.1.total_cmp(&b.1));
            levels.dedup_by(|a, b| a.1 == b.1);
            let mut backends = vec![String::new(); clouds.len()];
            let mut throughput_unit = "bytes/s".to_owned();
            let latency_unit = levels
                .first()
                .map_or("ms".to_owned(), |(_, _, r)| collected.rows[*r].unit.clone());
            let levels = levels
                .iter()
                .map(|(text, level, lat)| {
                    let mut key = collected.rows[*lat].key.labels.clone();
                    key.remove("access");
                    let bw = bandwidth.get(&key).copied();
                    if let Some(b) = bw {
                        throughput_unit.clone_from(&collected.rows[b].unit);
                    }
                    let cells = (0..clouds.len())
                        .map(|c| {
                            for r in [Some(*lat), bw].into_iter().flatten() {
                                if let Some(Some(s)) = collected.rows[r].cells.get(c)
                                    && let Some(b) = s.sample.labels.get("backend")
                                {
                                    backends[c].clone_from(b);
                                }
                            }
                            storage_cell(
                                &clouds[c],
                                rows[*lat].cells.get(c),
                                bw.and_then(|b| rows[b].cells.get(c)),
                            )
                        })
                        .collect();
                    StorageLevel {
                        concurrency: *level,
                        concurrency_text: text.clone(),
                        cells,
                    }
                })
                .collect();
            let size = |k: &str| {
                labels
                    .get(k)
                    .and_then(|v| v.parse::<f64>().ok())
                    .map(|b| format::value(b, "bytes"))
            };
            let title = match (size("object_size"), size("source_size")) {
                (Some(c), Some(s)) => format!("{c} ranges of a {s} object"),
                (Some(c), None) => format!("{c} ranges"),
                _ => "ranged reads".to_owned(),
            };
            let mut id = format!(
                "chart-storage-{}",
                slug(&labels.values().cloned().collect::<Vec<_>>().join("-"))
            );
            if ids.contains(&id) {
                id = format!("{id}-{}", ids.len() + 1);
            }
            ids.push(id.clone());
            StorageSet {
                id,
                labels_text: labels_text(&labels),
                title,
                latency_unit,
                throughput_unit,
                backends,
                levels,
                chart: None,
            }
        })
        .collect()
}

fn storage_cell(cloud: &str, latency: Option<&Cell>, throughput: Option<&Cell>) -> StorageCell {
    let latency = latency.filter(|c| c.present);
    let throughput = throughput.filter(|c| c.present);
    let verdict = |c: Option<&Cell>| c.map_or("missing".to_owned(), |c| c.verdict.clone());
    let p = |c: Option<&Cell>| c.map(|c| c.p_display.clone()).unwrap_or_default();
    StorageCell {
        cloud: cloud.to_owned(),
        present: latency.is_some() || throughput.is_some(),
        p50: latency.and_then(|c| c.value),
        p50_display: latency.map(|c| c.display.clone()).unwrap_or_default(),
        p95: latency.and_then(|c| c.p95.or(c.value)),
        p95_display: latency
            .map(|c| {
                if c.p95_display.is_empty() {
                    c.display.clone()
                } else {
                    c.p95_display.clone()
                }
            })
            .unwrap_or_default(),
        latency_verdict: verdict(latency),
        latency_p_display: p(latency),
        throughput: throughput.and_then(|c| c.value),
        throughput_display: throughput.map(|c| c.display.clone()).unwrap_or_default(),
        throughput_verdict: verdict(throughput),
        throughput_p_display: p(throughput),
    }
}
