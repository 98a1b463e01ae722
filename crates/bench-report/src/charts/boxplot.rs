//! Start latency per cloud as horizontal box plots: box p25–p75, line at the
//! median, whiskers p5–p95, a dot at p99. One box per workload (mode,
//! template, concurrency) and cloud, clouds of one workload side by side.

use bench_core::schema::Tier;
use bench_core::stats::quantile_sorted;

use super::svg::{Anchor, Svg, ticks};
use super::{Chart, Frame, clip, color, distinguishing};
use crate::format;
use crate::model::Collected;

/// Metrics tried in order: the first that has raw observations is drawn.
const METRICS: [&str; 2] = ["sandbox.time_to_interactive_ms", "sandbox.create_ms"];

const ROW: f64 = 22.0;
const TOP: f64 = 12.0;

/// The chart, or `None` without client start measurements.
pub fn start_latency(collected: &Collected<'_>) -> Option<Chart> {
    let metric = METRICS.iter().find(|m| {
        collected.rows.iter().any(|r| {
            r.key.tier == Tier::Client
                && r.key.metric == **m
                && r.cells.iter().flatten().any(|s| s.sorted.len() > 1)
        })
    })?;
    // (label, cloud index, p5, p25, p50, p75, p95, p99, n)
    let mut boxes = Vec::new();
    let mut unit = String::new();
    let rows: Vec<_> = collected
        .rows
        .iter()
        .filter(|r| r.key.tier == Tier::Client && r.key.metric == *metric)
        .collect();
    let workloads = distinguishing(&rows.iter().map(|r| &r.key.labels).collect::<Vec<_>>());
    for (row, workload) in rows.iter().zip(workloads) {
        unit.clone_from(&row.unit);
        for (c, s) in row.cells.iter().enumerate() {
            let Some(s) = s.as_ref().filter(|s| s.sorted.len() > 1) else {
                continue;
            };
            let q = |p| quantile_sorted(&s.sorted, p);
            let label = if workload == "all" {
                collected.clouds[c].clone()
            } else {
                format!("{} · {workload}", collected.clouds[c])
            };
            boxes.push((
                label,
                c,
                [q(0.05), q(0.25), q(0.5), q(0.75), q(0.95), q(0.99)],
                s.sorted.len(),
            ));
        }
    }
    let max = boxes.iter().map(|b| b.2[5]).fold(0.0, f64::max);
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
    for (i, ((label, c, [p5, p25, p50, p75, p95, p99], n), short)) in
        boxes.iter().zip(&shown).enumerate()
    {
        let y = TOP + ROW * i as f64;
        let mid = y + ROW / 2.0;
        let fill = color(*c);
        let v = |x: f64| format::value(x, &unit);
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
        caption: "Box: p25–p75 with a line at the median; whiskers: p5–p95; dot: p99. The number is the median."
            .to_owned(),
        svg: svg.finish(),
    })
}
