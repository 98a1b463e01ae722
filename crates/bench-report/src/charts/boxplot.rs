//! Start latency per cloud as horizontal box plots: box p25–p75, line at the
//! median, whiskers p5–p95, a dot at p99. One box per workload (mode,
//! template) and cloud, clouds of one workload side by side. A single
//! observation (a cold start is often measured once) has no distribution:
//! it is drawn as a hollow diamond at its value, marked `n=1`.
//!
//! Only the lifecycle suites' rows are drawn (mode cold or warm at
//! concurrency 1); the concurrency sweep has its own chart.

use bench_core::contract::metric;
use bench_core::schema::Tier;

use super::svg::{Anchor, Svg, ticks};
use super::{Chart, Frame, clip, color, distinguishing, is_lifecycle};
use crate::format;
use crate::model::Collected;

/// Metrics tried in order: the first that has raw observations is drawn.
const METRICS: [&str; 2] = [
    metric::SANDBOX_TIME_TO_INTERACTIVE_MS,
    metric::SANDBOX_CREATE_MS,
];

const ROW: f64 = 22.0;
const TOP: f64 = 12.0;

/// What is drawn for one workload and cloud.
enum Shape {
    /// p5, p25, p50, p75, p95, p99 of several observations.
    Box([f64; 6]),
    /// One observation (or a headline value without raw ones).
    Single(f64),
}

impl Shape {
    fn right(&self) -> f64 {
        match self {
            Shape::Box(q) => q[5],
            Shape::Single(v) => *v,
        }
    }
}

/// The chart, or `None` without client start measurements.
pub fn start_latency(collected: &Collected<'_>) -> Option<Chart> {
    let lifecycle = |m: &'static str| {
        collected.rows.iter().filter(move |r| {
            r.key.tier == Tier::Client && r.key.metric == m && is_lifecycle(&r.key)
        })
    };
    // The first metric with a distribution, else the first measured at all.
    let metric: &'static str = METRICS
        .into_iter()
        .find(|m| lifecycle(m).any(|r| r.cells.iter().flatten().any(|s| s.has_distribution())))
        .or_else(|| {
            METRICS
                .into_iter()
                .find(|m| lifecycle(m).any(|r| r.cells.iter().any(Option::is_some)))
        })?;
    // (label, cloud index, shape, n)
    let mut boxes = Vec::new();
    let mut unit = String::new();
    let rows: Vec<_> = lifecycle(metric).collect();
    let workloads = distinguishing(&rows.iter().map(|r| &r.key.labels).collect::<Vec<_>>());
    for (row, workload) in rows.iter().zip(workloads) {
        unit.clone_from(&row.unit);
        for (c, s) in row.cells.iter().enumerate() {
            let Some(s) = s.as_ref() else {
                continue;
            };
            let shape = if s.has_distribution() {
                let q = |p| s.quantile(p).unwrap_or(f64::NAN);
                Shape::Box([q(0.05), q(0.25), q(0.5), q(0.75), q(0.95), q(0.99)])
            } else if s.sample.value.is_finite() {
                Shape::Single(s.sample.value)
            } else {
                continue;
            };
            let label = if workload == "all" {
                collected.clouds[c].clone()
            } else {
                format!("{} · {workload}", collected.clouds[c])
            };
            boxes.push((label, c, shape, s.n()));
        }
    }
    let max = boxes.iter().map(|b| b.2.right()).fold(0.0, f64::max);
    let tick_values = ticks(max);
    let shown: Vec<String> = boxes.iter().map(|b| clip(&b.0, 44)).collect();
    let frame = Frame::new(
        shown.iter().map(String::as_str),
        *tick_values.last().unwrap_or(&1.0),
    );
    let bottom = TOP + ROW * boxes.len() as f64;
    let title = format!("Start latency per cloud ({metric})");
    let mut svg = Svg::new(frame.width, bottom + 28.0, &title);
    frame.axis(&mut svg, &tick_values, &unit, TOP, bottom);
    for (i, ((label, c, shape, n), short)) in boxes.iter().zip(&shown).enumerate() {
        let y = TOP + ROW * i as f64;
        let mid = y + ROW / 2.0;
        let fill = color(*c);
        let v = |x: f64| format::value(x, &unit);
        let [p5, p25, p50, p75, p95, p99] = match shape {
            Shape::Box(q) => q,
            Shape::Single(value) => {
                let x = frame.x(*value);
                let tip = format!(
                    "{label}: a single observation, {} (n={n}): no distribution, no verdict",
                    v(*value)
                );
                svg.text(frame.left - 8.0, mid + 4.0, short, Anchor::End, "label");
                svg.diamond(x, mid, 6.0, &fill, Some(&tip));
                svg.text(
                    x + 10.0,
                    mid + 4.0,
                    &format!("{} (n={n})", v(*value)),
                    Anchor::Start,
                    "value",
                );
                continue;
            }
        };
        let tip = format!(
            "{label}: median {}, p25–p75 {} – {}, p5–p95 {} – {}, p99 {}, n={n}",
            v(*p50),
            v(*p25),
            v(*p75),
            v(*p5),
            v(*p95),
            v(*p99)
        );
        svg.text(frame.left - 8.0, mid + 4.0, short, Anchor::End, "label");
        svg.line(frame.x(*p5), mid, frame.x(*p25), mid, "#555", 1.0);
        svg.line(frame.x(*p75), mid, frame.x(*p95), mid, "#555", 1.0);
        for w in [p5, p95] {
            svg.line(frame.x(*w), mid - 4.0, frame.x(*w), mid + 4.0, "#555", 1.0);
        }
        svg.rect(
            frame.x(*p25),
            y + 4.0,
            frame.x(*p75) - frame.x(*p25),
            ROW - 8.0,
            &fill,
            Some(&tip),
        );
        svg.line(
            frame.x(*p50),
            y + 3.0,
            frame.x(*p50),
            y + ROW - 3.0,
            "#111",
            2.0,
        );
        svg.dot(
            frame.x(*p99),
            mid,
            2.5,
            "#111",
            Some(&format!("{label}: p99 {}", v(*p99))),
        );
        svg.text(
            frame.x(*p99) + 6.0,
            mid + 4.0,
            &v(*p50),
            Anchor::Start,
            "value",
        );
    }
    Some(Chart {
        id: "chart-start-latency".to_owned(),
        title,
        caption: "Box: p25–p75 with a line at the median; whiskers: p5–p95; dot: p99. The number is the median. A hollow diamond is a single observation (n=1)."
            .to_owned(),
        svg: svg.finish(),
    })
}
