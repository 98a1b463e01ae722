//! Ranged-read throughput and p95 latency against concurrency, one chart per
//! chunk size of the storage section: on top the throughput of each level,
//! below the p95 latency of one ranged GET, the x axis on a log2 scale
//! through the levels (1, 8, 32), one line per cloud in its colour.

use super::levels::{self, LevelAxis, Panel, Point, WIDTH};
use super::svg::Svg;
use super::{Chart, clip};
use crate::format;
use crate::model::storage::{StorageCell, StorageSet};

const LEFT: f64 = 72.0;
const PANEL_HEIGHT: f64 = 140.0;

/// The chart of one set; `clouds` in report order.
pub fn storage(set: &StorageSet, clouds: &[String]) -> Chart {
    let axis = LevelAxis::new(LEFT, &set.levels);
    let shown = levels::shown_clouds(clouds.len(), &set.levels);
    let height = levels::chart_height(2, PANEL_HEIGHT);
    let title = format!("Cloud storage · {}", set.title);
    let mut svg = Svg::new(WIDTH, height, &title);
    levels::legend(
        &mut svg,
        LEFT,
        shown.iter().map(|&c| {
            let name = if set.backends[c].is_empty() {
                clouds[c].clone()
            } else {
                format!("{} ({})", clouds[c], set.backends[c])
            };
            (c, clouds[c].as_str(), clip(&name, 32))
        }),
    );
    type Pick = fn(&StorageCell) -> Option<f64>;
    let panels: [(Pick, String, &str); 2] = [
        (
            |c| c.throughput,
            format!("throughput ({})", set.throughput_unit),
            set.throughput_unit.as_str(),
        ),
        (
            |c| c.p95,
            format!("p95 latency of one ranged GET ({})", set.latency_unit),
            set.latency_unit.as_str(),
        ),
    ];
    for (index, (pick, heading, unit)) in panels.into_iter().enumerate() {
        let panel = Panel::new(
            levels::panel_top(index, PANEL_HEIGHT),
            PANEL_HEIGHT,
            set.levels.iter().flat_map(|l| &l.cells).filter_map(pick),
        );
        panel.axes(&mut svg, &axis, &heading, |t| format::value(t, unit));
        for &c in &shown {
            let points: Vec<Point> = set
                .levels
                .iter()
                .filter_map(|level| {
                    let value = pick(&level.cells[c])?;
                    Some(Point {
                        level: level.concurrency,
                        value,
                        tip: format!(
                            "{} · concurrency {}: {}",
                            clouds[c],
                            level.concurrency_text,
                            format::value(value, unit)
                        ),
                        ring: None,
                    })
                })
                .collect();
            let line_tip = format!("{}: {heading}", clouds[c]);
            panel.series(&mut svg, &axis, c, &line_tip, &points);
        }
    }
    axis.caption(&mut svg, height, "concurrent ranged GETs (log2 scale)");
    Chart {
        id: set.id.clone(),
        title,
        caption:
            "Top: throughput of all ranged GETs of a level; below: p95 latency of one ranged GET. \
                  E2B reads template chunks this way on a cold sandbox start."
                .to_owned(),
        svg: svg.finish(),
    }
}
