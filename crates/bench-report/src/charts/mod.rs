//! Inline SVG charts of the HTML report: no JavaScript, no external assets,
//! hover texts through SVG `<title>`. Each chart is one file here; the model
//! calls them with its rows and puts the finished SVG in [`Chart::svg`].
//!
//! | chart | from | file |
//! |---|---|---|
//! | start latency per cloud (box plot) | `sandbox.time_to_interactive_ms`, else `sandbox.create_ms` (lifecycle rows) | [`boxplot`] |
//! | time-to-interactive phases (stacked bars) | `sandbox.create_ms`, `sandbox.envd_ready_ms`, `sandbox.first_command_ms` (lifecycle rows) | [`stacked`] |
//! | throughput and p95 time to interactive against concurrency, knee marked | `sandbox.creates_per_second`, `sandbox.time_to_interactive_ms`, `sandbox.success_rate` of `02_concurrency.json` | [`concurrency`](mod@concurrency) |
//! | one chart per host and sandbox metric (grouped bars, p5–p95 whiskers) | every host and sandbox row with a direction | [`bars`] |
//! | pause and resume (grouped bars) | `sandbox.pause_ms`, `sandbox.resume_ms`, `sandbox.resume_command_ms` | [`bars`] |

mod bars;
mod boxplot;
mod concurrency;
mod levels;
mod stacked;
mod storage;
pub mod svg;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use bars::{metric_bars, pause_resume};
pub use boxplot::start_latency;
pub use concurrency::concurrency;
pub use stacked::phases;
pub use storage::storage;

use crate::model::RowKey;

/// One finished chart.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    /// HTML id (`chart-host-disk-iops`).
    pub id: String,
    /// Heading.
    pub title: String,
    /// How to read it (what the box, whiskers and dots are).
    pub caption: String,
    /// The `<svg>` element, every text in it escaped.
    pub svg: String,
}

/// Tableau 10: distinct, colour-blind-friendly, good on white.
const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// The colour of the `i`-th cloud in report order: the palette, then
/// golden-angle hues for the eleventh cloud on.
pub fn color(i: usize) -> String {
    match PALETTE.get(i) {
        Some(c) => (*c).to_owned(),
        None => {
            let hue = (i as f64 * 137.508) % 360.0;
            format!("hsl({hue:.0}, 55%, 50%)")
        }
    }
}

/// Plot geometry shared by the horizontal charts: a label column on the
/// left, the plot, a margin on the right for value texts.
#[derive(Debug, Clone, Copy)]
struct Frame {
    width: f64,
    left: f64,
    right: f64,
    max: f64,
}

impl Frame {
    const WIDTH: f64 = 760.0;

    /// A frame whose label column fits `labels` and whose axis ends at `max`.
    fn new<'a>(labels: impl Iterator<Item = &'a str>, max: f64) -> Self {
        let widest = labels.map(svg::text_width).fold(0.0, f64::max);
        Frame {
            width: Self::WIDTH,
            left: (widest + 16.0).clamp(90.0, 320.0),
            right: 90.0,
            max: max.max(f64::MIN_POSITIVE),
        }
    }

    fn plot_width(&self) -> f64 {
        self.width - self.left - self.right
    }

    /// The x of value `v` (clamped to the plot).
    fn x(&self, v: f64) -> f64 {
        self.left + (v / self.max).clamp(0.0, 1.0) * self.plot_width()
    }

    /// Grid lines and tick labels from `top` to `bottom`.
    fn axis(&self, svg: &mut svg::Svg, ticks: &[f64], unit: &str, top: f64, bottom: f64) {
        for &t in ticks {
            let x = self.x(t);
            svg.line(x, top, x, bottom, "#e5e5e5", 1.0);
            svg.text(
                x,
                bottom + 14.0,
                &crate::format::value(t, unit),
                svg::Anchor::Middle,
                "axis",
            );
        }
        svg.line(self.left, top, self.left, bottom, "#999", 1.0);
    }
}

/// True for a row of the lifecycle suites (`01_cold_start.json`,
/// `01_warm_start.json`): a client row with a `mode`, at concurrency 1 (or
/// none given) and without the concurrency sweep's `schedule` label. The
/// start-latency charts are about these; the sweep's rows at higher levels
/// (and its own level 1) have their chart.
fn is_lifecycle(key: &RowKey) -> bool {
    key.tier == bench_core::schema::Tier::Client
        && key.labels.contains_key("mode")
        && !key.labels.contains_key("schedule")
        && key
            .labels
            .get("concurrency")
            .is_none_or(|c| c.trim() == "1")
}

/// The label text of each of `label_sets`, keeping only the keys whose
/// values differ between them (`mode=cold` rather than `concurrency=1,
/// mode=cold, template=base` when only the mode varies); `all` when nothing
/// varies.
fn distinguishing(label_sets: &[&BTreeMap<String, String>]) -> Vec<String> {
    let varying: BTreeSet<&String> = label_sets
        .iter()
        .flat_map(|l| l.keys())
        .filter(|k| {
            let values: BTreeSet<Option<&String>> = label_sets.iter().map(|l| l.get(*k)).collect();
            values.len() > 1
        })
        .collect();
    label_sets
        .iter()
        .map(|l| {
            let text = l
                .iter()
                .filter(|(k, _)| varying.contains(k))
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ");
            if text.is_empty() {
                "all".to_owned()
            } else {
                text
            }
        })
        .collect()
}

/// Cuts `text` to `max` characters with an ellipsis, so a hostile or long
/// label cannot push the plot off the drawing (the full text stays in the
/// hover title).
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_varying_labels_are_shown() {
        let a = labels(&[("mode", "cold"), ("template", "base"), ("concurrency", "1")]);
        let b = labels(&[("mode", "warm"), ("template", "base"), ("concurrency", "1")]);
        assert_eq!(distinguishing(&[&a, &b]), vec!["mode=cold", "mode=warm"]);
        assert_eq!(distinguishing(&[&a]), vec!["all"]);
        let c = labels(&[("mode", "warm")]);
        assert_eq!(
            distinguishing(&[&a, &c]),
            vec!["concurrency=1, mode=cold, template=base", "mode=warm"]
        );
    }

    #[test]
    fn only_lifecycle_rows_are_start_latency_rows() {
        let key = |pairs: &[(&str, &str)]| RowKey {
            tier: bench_core::schema::Tier::Client,
            metric: "sandbox.create_ms".to_owned(),
            labels: labels(pairs),
        };
        assert!(is_lifecycle(&key(&[
            ("mode", "cold"),
            ("concurrency", "1")
        ])));
        assert!(is_lifecycle(&key(&[("mode", "warm")])));
        assert!(!is_lifecycle(&key(&[
            ("mode", "warm"),
            ("concurrency", "4")
        ])));
        assert!(!is_lifecycle(&key(&[
            ("mode", "warm"),
            ("concurrency", "1"),
            ("schedule", "burst")
        ])));
        assert!(!is_lifecycle(&key(&[("template", "base")])));
    }

    #[test]
    fn long_labels_are_clipped() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
