//! Where time-to-interactive goes, per cloud: stacked horizontal bars of the
//! median create (API call until the sandbox exists), envd ready (until envd
//! answers) and first command (until the first process returned) phases.
//! The number after a bar is the median time to interactive when measured,
//! else the sum of the phases. Only the lifecycle suites' rows are drawn
//! (mode cold or warm at concurrency 1), not the concurrency sweep's.

use std::collections::HashMap;

use bench_core::contract::metric;
use bench_core::schema::Tier;

use super::svg::{Anchor, Svg, ticks};
use super::{Chart, Frame, clip, distinguishing, is_lifecycle};
use crate::format;
use crate::model::{Collected, RowKey};

/// The phases, in order, with their legend name and colour (not one of the
/// clouds' colours: here a colour means a phase).
const PHASES: [(&str, &str, &str); 3] = [
    (metric::SANDBOX_CREATE_MS, "create", "#264653"),
    (metric::SANDBOX_ENVD_READY_MS, "envd ready", "#2a9d8f"),
    (metric::SANDBOX_FIRST_COMMAND_MS, "first command", "#e9c46a"),
];
const TOTAL: &str = metric::SANDBOX_TIME_TO_INTERACTIVE_MS;

const ROW: f64 = 22.0;
const TOP: f64 = 30.0;

/// The chart, or `None` without phase measurements.
pub fn phases(collected: &Collected<'_>) -> Option<Chart> {
    let index: HashMap<&RowKey, usize> = collected
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (&r.key, i))
        .collect();
    let value_of = |metric: &str, key: &RowKey, cloud: usize| -> Option<f64> {
        let k = RowKey {
            metric: metric.to_owned(),
            ..key.clone()
        };
        let row = &collected.rows[*index.get(&k)?];
        row.cells[cloud]
            .as_ref()
            .map(|s| s.sample.value)
            .filter(|v| v.is_finite())
    };
    // (label, [phase medians], total)
    let mut bars: Vec<(String, [Option<f64>; 3], f64)> = Vec::new();
    let mut unit = "ms".to_owned();
    let rows: Vec<_> = collected
        .rows
        .iter()
        .filter(|r| {
            r.key.tier == Tier::Client && r.key.metric == PHASES[0].0 && is_lifecycle(&r.key)
        })
        .collect();
    let workloads = distinguishing(&rows.iter().map(|r| &r.key.labels).collect::<Vec<_>>());
    for (row, workload) in rows.iter().zip(workloads) {
        unit.clone_from(&row.unit);
        for c in 0..collected.clouds.len() {
            let parts = PHASES.map(|(m, _, _)| value_of(m, &row.key, c));
            if parts.iter().all(Option::is_none) {
                continue;
            }
            let sum: f64 = parts.iter().flatten().sum();
            let total = value_of(TOTAL, &row.key, c).unwrap_or(sum);
            let label = if workload == "all" {
                collected.clouds[c].clone()
            } else {
                format!("{} · {workload}", collected.clouds[c])
            };
            bars.push((label, parts, total));
        }
    }
    if bars.is_empty() {
        return None;
    }
    let max = bars
        .iter()
        .map(|b| b.2.max(b.1.iter().flatten().sum()))
        .fold(0.0, f64::max);
    let tick_values = ticks(max);
    let shown: Vec<String> = bars.iter().map(|b| clip(&b.0, 44)).collect();
    let frame = Frame::new(
        shown.iter().map(String::as_str),
        *tick_values.last().unwrap_or(&1.0),
    );
    let bottom = TOP + ROW * bars.len() as f64;
    let title = "Time to interactive by phase (medians)".to_owned();
    let mut svg = Svg::new(frame.width, bottom + 28.0, &title);
    let mut x = frame.left;
    for (_, name, fill) in PHASES {
        svg.rect(x, 8.0, 12.0, 12.0, fill, None);
        svg.text(x + 16.0, 18.0, name, Anchor::Start, "label");
        x += 30.0 + super::svg::text_width(name);
    }
    frame.axis(&mut svg, &tick_values, &unit, TOP, bottom);
    for (i, ((label, parts, total), short)) in bars.iter().zip(&shown).enumerate() {
        let y = TOP + ROW * i as f64;
        svg.text(
            frame.left - 8.0,
            y + ROW / 2.0 + 4.0,
            short,
            Anchor::End,
            "label",
        );
        let mut start = 0.0;
        for ((_, name, fill), part) in PHASES.iter().zip(parts) {
            let Some(v) = part else { continue };
            let tip = format!("{label}: {name} {}", format::value(*v, &unit));
            svg.rect(
                frame.x(start),
                y + 4.0,
                frame.x(start + v) - frame.x(start),
                ROW - 8.0,
                fill,
                Some(&tip),
            );
            start += v;
        }
        svg.text(
            frame.x(start.max(*total)) + 6.0,
            y + ROW / 2.0 + 4.0,
            &format::value(*total, &unit),
            Anchor::Start,
            "value",
        );
    }
    Some(Chart {
        id: "chart-phases".to_owned(),
        title,
        caption: "Median of each phase, stacked; the number is the median time to interactive (or the sum of the phases when it was not measured)."
            .to_owned(),
        svg: svg.finish(),
    })
}
