//! Throughput and latency against concurrency, one chart per template (and
//! schedule) of the sweep: on top the creates per second at each level, below
//! the p95 time to interactive, the x axis on a log2 scale through the levels
//! (1, 2, 4, 8, …), one line per cloud in its colour. A ring labelled
//! `knee N` marks each cloud's knee (see [`crate::model::concurrency`]).

use super::levels::{self, LevelAxis, Panel, Point, RING_RADIUS, WIDTH};
use super::svg::{Anchor, Svg};
use super::{Chart, clip, color};
use crate::format;
use crate::model::concurrency::{ConcurrencySet, LevelCell};

const LEFT: f64 = 64.0;
const PANEL_HEIGHT: f64 = 150.0;

/// The chart of one set; `clouds` in report order (the set's cells follow it).
pub fn concurrency(set: &ConcurrencySet, clouds: &[String]) -> Chart {
    let axis = LevelAxis::new(LEFT, &set.levels);
    let shown = levels::shown_clouds(clouds.len(), &set.levels);
    let cells = || set.levels.iter().flat_map(|l| &l.cells);
    let has_tti = cells().any(|c| c.tti_p95.is_some());
    let height = levels::chart_height(if has_tti { 2 } else { 1 }, PANEL_HEIGHT);
    let title = if set.labels_text.is_empty() {
        "Concurrency".to_owned()
    } else {
        format!("Concurrency · {}", set.labels_text)
    };
    let mut svg = Svg::new(WIDTH, height, &title);
    levels::legend(
        &mut svg,
        LEFT,
        shown
            .iter()
            .map(|&c| (c, clouds[c].as_str(), clip(&clouds[c], 24))),
    );

    let top = Panel::new(
        levels::panel_top(0, PANEL_HEIGHT),
        PANEL_HEIGHT,
        cells().filter_map(|c| c.throughput),
    );
    let heading = format!("creates per second ({})", set.unit);
    top.axes(&mut svg, &axis, &heading, format::number);
    // Where the knee labels of one level stack up.
    let mut labels_at: Vec<f64> = Vec::new();
    for &c in &shown {
        let cloud = &clouds[c];
        let (measured, points): (Vec<&LevelCell>, Vec<Point>) = set
            .levels
            .iter()
            .filter_map(|level| {
                let cell = &level.cells[c];
                let value = cell.throughput?;
                let mut tip = format!(
                    "{cloud} · concurrency {}: {}",
                    level.concurrency_text, cell.throughput_display
                );
                if !cell.success_display.is_empty() {
                    tip.push_str(&format!(", success {}", cell.success_display));
                }
                let point = Point {
                    level: level.concurrency,
                    value,
                    tip,
                    ring: None,
                };
                Some((cell, point))
            })
            .unzip();
        let at = top.series(
            &mut svg,
            &axis,
            c,
            &format!("{cloud}: creates per second"),
            &points,
        );
        let knee = &set.knees[c];
        let at_knee = measured.iter().zip(&at).find(|(cell, _)| cell.knee);
        if let Some((_, &(px, py))) = at_knee.filter(|_| knee.concurrency.is_some()) {
            let tip = format!(
                "{cloud}: knee at concurrency {} ({}): the next level gained less than 10% throughput",
                knee.display, knee.source
            );
            svg.ring(px, py, RING_RADIUS, &color(c), Some(&tip));
            let stacked = labels_at.iter().filter(|&&lx| lx == px).count();
            labels_at.push(px);
            // Above the point, or below it when the point is near the top.
            let ly = if py - 12.0 - 13.0 * stacked as f64 > top.top + 4.0 {
                py - 12.0 - 13.0 * stacked as f64
            } else {
                py + 20.0 + 13.0 * stacked as f64
            };
            let anchor = if px > axis.right - 60.0 {
                Anchor::End
            } else {
                Anchor::Middle
            };
            svg.text(px, ly, &format!("knee {}", knee.display), anchor, "value");
        }
    }

    if has_tti {
        let bottom = Panel::new(
            levels::panel_top(1, PANEL_HEIGHT),
            PANEL_HEIGHT,
            cells().filter_map(|c| c.tti_p95),
        );
        let heading = format!("p95 time to interactive ({})", set.tti_unit);
        bottom.axes(&mut svg, &axis, &heading, format::number);
        for &c in &shown {
            let cloud = &clouds[c];
            let points: Vec<Point> = set
                .levels
                .iter()
                .filter_map(|level| {
                    let cell = &level.cells[c];
                    Some(Point {
                        level: level.concurrency,
                        value: cell.tti_p95?,
                        tip: format!(
                            "{cloud} · concurrency {}: p95 time to interactive {}",
                            level.concurrency_text, cell.tti_p95_display
                        ),
                        ring: cell.knee.then(|| {
                            format!("{cloud}: knee at concurrency {}", level.concurrency_text)
                        }),
                    })
                })
                .collect();
            bottom.series(
                &mut svg,
                &axis,
                c,
                &format!("{cloud}: p95 time to interactive"),
                &points,
            );
        }
    }
    axis.caption(&mut svg, height, "concurrency (log2 scale)");
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
