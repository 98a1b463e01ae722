//! Host and sandbox metrics as grouped horizontal bars: one chart per tier
//! and metric, one group per label set (`threads=1`, `pattern=randread …`),
//! one bar per cloud in its colour. The bar is the headline value; the
//! whisker spans p5–p95 of the observations when there are several (from
//! the sample's histogram when `raw` keeps only a subset of them).
//!
//! The client's pause and resume timings ([`pause_resume`]) are drawn the
//! same way, one group per metric and template, in one chart.

use bench_core::contract::metric;
use bench_core::schema::Tier;

use super::svg::{Anchor, Svg, ticks};
use super::{Chart, Frame, clip, color, distinguishing};
use crate::format;
use crate::model::{Collected, CollectedRow, direction, family_title, slug};

const BAR: f64 = 14.0;
const GROUP_HEADING: f64 = 20.0;
const GROUP_GAP: f64 = 6.0;
const TOP: f64 = 6.0;

/// A chart and the report section it belongs to.
#[derive(Debug)]
pub struct SectionChart {
    /// `host` or `sandbox`.
    pub tier: String,
    /// Metric family (`disk`).
    pub family: String,
    /// The chart.
    pub chart: Chart,
}

/// One chart per (tier, metric) of the host and sandbox rows, in row order.
pub fn metric_bars(collected: &Collected<'_>) -> Vec<SectionChart> {
    let mut order: Vec<(Tier, &str)> = Vec::new();
    for row in &collected.rows {
        let wanted = matches!(row.key.tier, Tier::Host | Tier::Sandbox)
            && direction(&row.key.metric, &row.unit).is_some()
            && row.cells.iter().any(Option::is_some);
        if wanted && !order.contains(&(row.key.tier, row.key.metric.as_str())) {
            order.push((row.key.tier, &row.key.metric));
        }
    }
    order
        .into_iter()
        .map(|(tier, metric)| {
            let rows: Vec<&CollectedRow<'_>> = collected
                .rows
                .iter()
                .filter(|r| r.key.tier == tier && r.key.metric == metric)
                .collect();
            SectionChart {
                tier: tier.as_str().to_owned(),
                family: metric.split('.').next().unwrap_or_default().to_owned(),
                chart: chart(collected, tier, metric, &rows),
            }
        })
        .collect()
}

struct Bar {
    cloud: usize,
    value: f64,
    whisker: Option<(f64, f64)>,
    n: u64,
}

/// Pause and resume timings of `02_pause_resume.json`, in this order.
const PAUSE_RESUME: [&str; 3] = [
    metric::SANDBOX_PAUSE_MS,
    metric::SANDBOX_RESUME_MS,
    metric::SANDBOX_RESUME_COMMAND_MS,
];

/// One chart of the client's pause, resume and first command after resume
/// (`None` without them), for the client's lifecycle section.
pub fn pause_resume(collected: &Collected<'_>) -> Option<Chart> {
    let rows: Vec<&CollectedRow<'_>> = PAUSE_RESUME
        .iter()
        .flat_map(|m| {
            collected.rows.iter().filter(move |r| {
                r.key.tier == Tier::Client
                    && r.key.metric == *m
                    && r.cells.iter().any(Option::is_some)
            })
        })
        .collect();
    let unit = rows.first()?.unit.clone();
    // One unit per chart: a row in another unit is left to its table.
    let rows: Vec<&CollectedRow<'_>> = rows.into_iter().filter(|r| r.unit == unit).collect();
    let labels = distinguishing(&rows.iter().map(|r| &r.key.labels).collect::<Vec<_>>());
    let headings = rows
        .iter()
        .zip(labels)
        .map(|(r, l)| {
            let name = r.key.metric.trim_start_matches("sandbox.");
            if l == "all" {
                name.to_owned()
            } else {
                format!("{name} · {l}")
            }
        })
        .collect();
    Some(draw(
        collected,
        "Client · pause and resume".to_owned(),
        "chart-client-pause-resume".to_owned(),
        "Pause, resume and the first command after resume: bars are the medians; whiskers span p5–p95 of the raw observations.".to_owned(),
        &unit,
        &rows,
        headings,
    ))
}

fn chart(collected: &Collected<'_>, tier: Tier, metric: &str, rows: &[&CollectedRow<'_>]) -> Chart {
    let unit = rows.first().map_or("", |r| r.unit.as_str()).to_owned();
    let headings = distinguishing(&rows.iter().map(|r| &r.key.labels).collect::<Vec<_>>());
    let title = format!(
        "{} · {metric}",
        match tier {
            Tier::Host => "Host",
            Tier::Client => "Client",
            Tier::Sandbox => "Sandbox",
        }
    );
    let family = metric.split('.').next().unwrap_or_default();
    draw(
        collected,
        title,
        format!("chart-{}-{}", tier.as_str(), slug(metric)),
        format!(
            "{}: bars are the headline values; whiskers span p5–p95 of the raw observations.",
            family_title(family)
        ),
        &unit,
        rows,
        headings,
    )
}

/// Grouped bars: one group per row (headed by `headings`), one bar per cloud.
fn draw(
    collected: &Collected<'_>,
    title: String,
    id: String,
    caption: String,
    unit: &str,
    rows: &[&CollectedRow<'_>],
    headings: Vec<String>,
) -> Chart {
    let unit = unit.to_owned();
    let groups: Vec<(String, Vec<Bar>)> = rows
        .iter()
        .zip(headings)
        .map(|(row, heading)| {
            let bars = row
                .cells
                .iter()
                .enumerate()
                .filter_map(|(c, s)| {
                    let s = s.as_ref()?;
                    let whisker = s.quantile(0.05).zip(s.quantile(0.95));
                    Some(Bar {
                        cloud: c,
                        value: s.sample.value,
                        whisker,
                        n: s.n(),
                    })
                })
                .collect();
            (heading, bars)
        })
        .collect();
    let max = groups
        .iter()
        .flat_map(|(_, bars)| bars)
        .map(|b| b.whisker.map_or(b.value, |(_, hi)| hi.max(b.value)))
        .fold(0.0, f64::max);
    let tick_values = ticks(max);
    let cloud_labels: Vec<String> = collected.clouds.iter().map(|c| clip(c, 30)).collect();
    let frame = Frame::new(
        cloud_labels.iter().map(String::as_str),
        *tick_values.last().unwrap_or(&1.0),
    );
    let height: f64 = groups
        .iter()
        .map(|(_, bars)| GROUP_HEADING + BAR * bars.len() as f64 + GROUP_GAP)
        .sum();
    let bottom = TOP + height;
    let mut svg = Svg::new(frame.width, bottom + 28.0, &title);
    frame.axis(&mut svg, &tick_values, &unit, TOP, bottom);
    let mut y = TOP;
    for (label, bars) in &groups {
        let heading = label.as_str();
        svg.text(4.0, y + 14.0, &clip(heading, 100), Anchor::Start, "heading");
        y += GROUP_HEADING;
        for bar in bars {
            let cloud = &collected.clouds[bar.cloud];
            let shown = format::value(bar.value, &unit);
            let mut tip = format!("{cloud} · {heading}: {shown}");
            if let Some((lo, hi)) = bar.whisker {
                tip.push_str(&format!(
                    " (p5–p95 {} – {}, n={})",
                    format::value(lo, &unit),
                    format::value(hi, &unit),
                    bar.n
                ));
            }
            svg.text(
                frame.left - 8.0,
                y + BAR - 3.0,
                &cloud_labels[bar.cloud],
                Anchor::End,
                "label",
            );
            svg.rect(
                frame.left,
                y + 1.5,
                frame.x(bar.value) - frame.left,
                BAR - 3.0,
                &color(bar.cloud),
                Some(&tip),
            );
            let mut end = frame.x(bar.value);
            if let Some((lo, hi)) = bar.whisker {
                let mid = y + BAR / 2.0;
                svg.line(frame.x(lo), mid, frame.x(hi), mid, "#222", 1.0);
                for w in [lo, hi] {
                    svg.line(frame.x(w), mid - 3.0, frame.x(w), mid + 3.0, "#222", 1.0);
                }
                end = end.max(frame.x(hi));
            }
            svg.text(end + 5.0, y + BAR - 3.0, &shown, Anchor::Start, "value");
            y += BAR;
        }
        y += GROUP_GAP;
    }
    Chart {
        id,
        title,
        caption,
        svg: svg.finish(),
    }
}
