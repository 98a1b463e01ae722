//! Sandbox ÷ host: the cost of the microVM, for every workload both tiers ran
//! with the same labels on the same cloud (bench-core's shared cpu, memory
//! and disk workloads are the same code in both binaries). A sandbox row's
//! labels that say where the sandbox ran rather than what it ran
//! ([`SANDBOX_ONLY_LABELS`]) are left out when its host row is looked up: each
//! template's sandbox is compared with the one host figure.

use std::collections::HashMap;

use bench_core::contract::metric::MEMORY_BANDWIDTH;
use bench_core::schema::Tier;
use bench_core::stats::{CompareOptions, Direction, Verdict};
use serde::Serialize;

use super::{Collected, RowKey, Series, direction, labels_text};
use crate::format;
use crate::significance;

/// One workload measured by both tiers.
#[derive(Debug, Serialize)]
pub struct RatioRow {
    /// Metric name.
    pub metric: String,
    /// Unit of both figures.
    pub unit: String,
    /// Labels as `key=value, ...`.
    pub labels_text: String,
    /// `higher_is_better` or `lower_is_better`.
    pub direction: String,
    /// One cell per cloud, in report order.
    pub cells: Vec<RatioCell>,
}

/// Host and sandbox figures of one cloud.
#[derive(Debug, Default, Serialize)]
pub struct RatioCell {
    /// Cloud.
    pub cloud: String,
    /// False when this cloud lacks one of the two figures.
    pub present: bool,
    /// Host headline value.
    pub host: Option<f64>,
    /// Sandbox headline value.
    pub sandbox: Option<f64>,
    /// Host value for people.
    pub host_display: String,
    /// Sandbox value for people.
    pub sandbox_display: String,
    /// sandbox ÷ host.
    pub ratio: Option<f64>,
    /// `0.98×`.
    pub ratio_display: String,
    /// What the microVM costs: the share lost for a throughput
    /// (1 − ratio), the share added for a latency (ratio − 1).
    pub overhead: Option<f64>,
    /// `+2.0%` (a cost) or `-1.0%` (the sandbox did better).
    pub overhead_display: String,
    /// `better`, `worse`, `same` (sandbox against host, bench-core's
    /// verdict) or `insufficient`.
    pub verdict: String,
    /// Why the two figures are not like for like, when they are not: e.g.
    /// `kernels differ: host avx512-nt, sandbox avx2` for memory.
    pub note: String,
}

/// Labels only sandbox samples carry: the template bench-client ran the suite
/// in, and `source=manual` of an imported paste.
const SANDBOX_ONLY_LABELS: [&str; 2] = ["template", "source"];

/// The `parameters.<probe>` entry that says which code a workload ran, when
/// the two tiers may have chosen differently: STREAM's calibrated kernel.
fn code_choice<'a>(metric: &str, series: &Series<'a>) -> Option<&'a str> {
    if metric != MEMORY_BANDWIDTH {
        return None;
    }
    series
        .from
        .doc
        .parameters
        .get("memory")?
        .get("kernel")?
        .as_str()
}

/// The note of a cell whose two figures ran different code.
fn mismatch_note(metric: &str, host: &Series<'_>, sandbox: &Series<'_>) -> String {
    match (code_choice(metric, host), code_choice(metric, sandbox)) {
        (Some(h), Some(s)) if h != s => format!("kernels differ: host {h}, sandbox {s}"),
        _ => String::new(),
    }
}

/// The rows, in the order of the sandbox's probes.
pub fn build(collected: &Collected<'_>, opts: &CompareOptions) -> Vec<RatioRow> {
    let by_key: HashMap<&RowKey, usize> = collected
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.key, i))
        .collect();
    let mut rows = Vec::new();
    for row in collected
        .rows
        .iter()
        .filter(|r| r.key.tier == Tier::Sandbox)
    {
        let mut host_key = RowKey {
            tier: Tier::Host,
            ..row.key.clone()
        };
        host_key
            .labels
            .retain(|k, _| !SANDBOX_ONLY_LABELS.contains(&k.as_str()));
        let Some(&h) = by_key.get(&host_key) else {
            continue;
        };
        let host_row = &collected.rows[h];
        let Some(dir) = direction(&row.key.metric, &row.unit) else {
            continue;
        };
        if host_row.unit != row.unit {
            continue;
        }
        let pairs: Vec<(usize, &Series<'_>, &Series<'_>)> = row
            .cells
            .iter()
            .zip(&host_row.cells)
            .enumerate()
            .filter_map(|(i, (s, h))| Some((i, s.as_ref()?, h.as_ref()?)))
            .collect();
        if pairs.is_empty() {
            continue;
        }
        let verdicts = crate::parallel::map(&pairs, |(_, s, h)| {
            significance::test(
                &h.sample.raw,
                &s.sample.raw,
                &CompareOptions {
                    direction: dir,
                    ..*opts
                },
            )
        });
        let mut cells: Vec<RatioCell> = collected
            .clouds
            .iter()
            .map(|c| RatioCell {
                cloud: c.clone(),
                verdict: "missing".to_owned(),
                ..RatioCell::default()
            })
            .collect();
        for ((i, s, h), verdict) in pairs.iter().zip(verdicts) {
            let (hv, sv) = (h.sample.value, s.sample.value);
            let ratio = (hv != 0.0).then(|| sv / hv);
            let overhead = ratio.map(|r| match dir {
                Direction::HigherIsBetter => 1.0 - r,
                Direction::LowerIsBetter => r - 1.0,
            });
            cells[*i] = RatioCell {
                cloud: collected.clouds[*i].clone(),
                present: true,
                host: Some(hv),
                sandbox: Some(sv),
                host_display: format::value(hv, &row.unit),
                sandbox_display: format::value(sv, &row.unit),
                ratio,
                ratio_display: ratio.map(format::ratio).unwrap_or_default(),
                overhead,
                overhead_display: overhead.map(format::change).unwrap_or_default(),
                verdict: match verdict.map(|t| t.comparison.verdict) {
                    Some(Verdict::Faster) => "better",
                    Some(Verdict::Slower) => "worse",
                    Some(Verdict::NoDifference) => "same",
                    None => "insufficient",
                }
                .to_owned(),
                note: mismatch_note(&row.key.metric, h, s),
            };
        }
        rows.push(RatioRow {
            metric: row.key.metric.clone(),
            unit: row.unit.clone(),
            labels_text: labels_text(&row.key.labels),
            direction: dir.as_str().to_owned(),
            cells,
        });
    }
    rows
}
