//! Throughput and latency against concurrency, one chart per template (and
//! schedule) of the sweep: on top the creates per second at each level, below
//! the p95 time to interactive, the x axis on a log2 scale through the levels
//! (1, 2, 4, 8, …), one line per cloud in its colour. A ring labelled
//! `knee N` marks each cloud's knee (see [`crate::model::concurrency`]).

use super::svg::{Anchor, Svg, ticks};
use super::{Chart, clip, color};
use crate::format;
use crate::model::concurrency::ConcurrencySet;

const WIDTH: f64 = 760.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 24.0;
/// Inset of the first and last level from the plot's edges.
const INSET: f64 = 20.0;
const PANEL: f64 = 150.0;
/// From a panel's top to the next panel's top: the panel, its level labels
/// and the next heading.
const PANEL_STEP: f64 = PANEL + 48.0;
const FIRST_TOP: f64 = 56.0;

/// A panel's vertical extent and scale.
struct Panel {
    top: f64,
    max: f64,
}

impl Panel {
    fn bottom(&self) -> f64 {
        self.top + PANEL
    }

    fn y(&self, v: f64) -> f64 {
        self.bottom() - (v / self.max).clamp(0.0, 1.0) * PANEL
    }
}

/// The chart of one set; `clouds` in report order (the set's cells follow it).
pub fn concurrency(set: &ConcurrencySet, clouds: &[String]) -> Chart {
    let levels: Vec<f64> = set.levels.iter().map(|l| l.concurrency).collect();
    let (lo, hi) = (
        levels.first().copied().unwrap_or(1.0).log2(),
        levels.last().copied().unwrap_or(1.0).log2(),
    );
    let plot = (LEFT + INSET, WIDTH - RIGHT - INSET);
    let x = |level: f64| {
        if hi > lo {
            plot.0 + (level.log2() - lo) / (hi - lo) * (plot.1 - plot.0)
        } else {
            (plot.0 + plot.1) / 2.0
        }
    };
    let shown: Vec<usize> = (0..clouds.len())
        .filter(|&c| set.levels.iter().any(|l| l.cells[c].present))
        .collect();
    let has_tti = set
        .levels
        .iter()
        .any(|l| l.cells.iter().any(|c| c.tti_p95.is_some()));
    let panels = if has_tti { 2.0 } else { 1.0 };
    let height = FIRST_TOP + PANEL_STEP * (panels - 1.0) + PANEL + 40.0;
    let title = if set.labels_text.is_empty() {
        "Concurrency".to_owned()
    } else {
        format!("Concurrency · {}", set.labels_text)
    };
    let mut svg = Svg::new(WIDTH, height, &title);

    // Legend: one swatch per cloud drawn.
    let mut lx = LEFT;
    for &c in &shown {
        let name = clip(&clouds[c], 24);
        svg.rect(lx, 8.0, 12.0, 12.0, &color(c), Some(&clouds[c]));
        svg.text(lx + 16.0, 18.0, &name, Anchor::Start, "label");
        lx += 30.0 + super::svg::text_width(&name);
    }

    let max_of = |f: &dyn Fn(&crate::model::concurrency::LevelCell) -> Option<f64>| {
        set.levels
            .iter()
            .flat_map(|l| &l.cells)
            .filter_map(f)
            .fold(0.0, f64::max)
    };
    let throughput_ticks = ticks(max_of(&|c| c.throughput));
    let top = Panel {
        top: FIRST_TOP,
        max: *throughput_ticks.last().unwrap_or(&1.0),
    };
    let heading = format!("creates per second ({})", set.unit);
    axes(&mut svg, &top, &throughput_ticks, &heading, set, &x);
    // Where the knee labels of one level stack up.
    let mut labels_at: Vec<(f64, usize)> = Vec::new();
    for &c in &shown {
        let cloud = &clouds[c];
        let points: Vec<(f64, f64, &crate::model::concurrency::LevelCell)> = set
            .levels
            .iter()
            .filter_map(|l| {
                let cell = &l.cells[c];
                cell.throughput.map(|v| (x(l.concurrency), top.y(v), cell))
            })
            .collect();
        let line: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
        svg.polyline(
            &line,
            &color(c),
            2.0,
            Some(&format!("{cloud}: creates per second")),
        );
        for (level, (px, py, cell)) in set
            .levels
            .iter()
            .filter(|l| l.cells[c].throughput.is_some())
            .zip(&points)
        {
            let mut tip = format!(
                "{cloud} · concurrency {}: {}",
                level.concurrency_text, cell.throughput_display
            );
            if !cell.success_display.is_empty() {
                tip.push_str(&format!(", success {}", cell.success_display));
            }
            svg.dot(*px, *py, 3.0, &color(c), Some(&tip));
        }
        let knee = &set.knees[c];
        let at_knee = points.iter().find(|p| p.2.knee);
        if let Some((px, py, _)) = at_knee.filter(|_| knee.concurrency.is_some()) {
            let tip = format!(
                "{cloud}: knee at concurrency {} ({}): the next level gained less than 10% throughput",
                knee.display, knee.source
            );
            svg.ring(*px, *py, 7.0, &color(c), Some(&tip));
            let stacked = labels_at.iter().filter(|(lx, _)| *lx == *px).count();
            labels_at.push((*px, c));
            // Above the point, or below it when the point is near the top.
            let ly = if *py - 12.0 - 13.0 * stacked as f64 > top.top + 4.0 {
                *py - 12.0 - 13.0 * stacked as f64
            } else {
                *py + 20.0 + 13.0 * stacked as f64
            };
            let anchor = if *px > WIDTH - RIGHT - 60.0 {
                Anchor::End
            } else {
                Anchor::Middle
            };
            svg.text(*px, ly, &format!("knee {}", knee.display), anchor, "value");
        }
    }

    if has_tti {
        let tti_ticks = ticks(max_of(&|c| c.tti_p95));
        let bottom = Panel {
            top: FIRST_TOP + PANEL_STEP,
            max: *tti_ticks.last().unwrap_or(&1.0),
        };
        let heading = format!("p95 time to interactive ({})", set.tti_unit);
        axes(&mut svg, &bottom, &tti_ticks, &heading, set, &x);
        for &c in &shown {
            let cloud = &clouds[c];
            let points: Vec<(f64, f64, &crate::model::concurrency::Level)> = set
                .levels
                .iter()
                .filter_map(|l| {
                    l.cells[c]
                        .tti_p95
                        .map(|v| (x(l.concurrency), bottom.y(v), l))
                })
                .collect();
            let line: Vec<(f64, f64)> = points.iter().map(|p| (p.0, p.1)).collect();
            svg.polyline(
                &line,
                &color(c),
                2.0,
                Some(&format!("{cloud}: p95 time to interactive")),
            );
            for (px, py, level) in &points {
                let cell = &level.cells[c];
                let tip = format!(
                    "{cloud} · concurrency {}: p95 time to interactive {}",
                    level.concurrency_text, cell.tti_p95_display
                );
                svg.dot(*px, *py, 3.0, &color(c), Some(&tip));
                if cell.knee {
                    svg.ring(
                        *px,
                        *py,
                        7.0,
                        &color(c),
                        Some(&format!(
                            "{cloud}: knee at concurrency {}",
                            level.concurrency_text
                        )),
                    );
                }
            }
        }
    }
    svg.text(
        (plot.0 + plot.1) / 2.0,
        height - 6.0,
        "concurrency (log2 scale)",
        Anchor::Middle,
        "axis",
    );
    Chart {
        id: set.id.clone(),
        title,
        caption: "Top: creates per second at each concurrency level; below: p95 time to interactive. \
                  A ring marks each cloud's knee, the level after which the next one gained less than 10% throughput \
                  (bench-client's finding, else computed the same way)."
            .to_owned(),
        svg: svg.finish(),
    }
}

/// A panel's heading, horizontal grid with value ticks, and the level
/// ticks under it.
fn axes(
    svg: &mut Svg,
    panel: &Panel,
    value_ticks: &[f64],
    heading: &str,
    set: &ConcurrencySet,
    x: &dyn Fn(f64) -> f64,
) {
    svg.text(LEFT, panel.top - 10.0, heading, Anchor::Start, "heading");
    for &t in value_ticks {
        let y = panel.y(t);
        svg.line(LEFT, y, WIDTH - RIGHT, y, "#e5e5e5", 1.0);
        svg.text(LEFT - 6.0, y + 4.0, &format::number(t), Anchor::End, "axis");
    }
    svg.line(LEFT, panel.top, LEFT, panel.bottom(), "#999", 1.0);
    svg.line(
        LEFT,
        panel.bottom(),
        WIDTH - RIGHT,
        panel.bottom(),
        "#999",
        1.0,
    );
    for level in &set.levels {
        let lx = x(level.concurrency);
        svg.line(lx, panel.bottom(), lx, panel.bottom() + 4.0, "#999", 1.0);
        svg.text(
            lx,
            panel.bottom() + 16.0,
            &clip(&level.concurrency_text, 8),
            Anchor::Middle,
            "axis",
        );
    }
}
