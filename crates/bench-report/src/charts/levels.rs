//! What the charts against concurrency share ([`concurrency`](mod@super::concurrency),
//! [`storage`](mod@super::storage)): a legend of cloud swatches, the x axis
//! on a log2 scale through the levels, and stacked value panels with one line
//! per cloud.

use super::svg::{Anchor, Svg, text_width, ticks};
use super::{clip, color};

pub const WIDTH: f64 = 760.0;
const RIGHT: f64 = 24.0;
/// Inset of the first and last level from the plot's edges.
const INSET: f64 = 20.0;
const FIRST_TOP: f64 = 56.0;
/// Below a panel: its level labels and the next heading.
const PANEL_GAP: f64 = 48.0;
/// Radius of the ring that marks a point.
pub const RING_RADIUS: f64 = 7.0;

/// The top of the `index`-th of stacked panels `panel_height` tall.
pub fn panel_top(index: usize, panel_height: f64) -> f64 {
    FIRST_TOP + (panel_height + PANEL_GAP) * index as f64
}

/// The height of a chart of `panels` stacked panels, with the axis caption.
pub fn chart_height(panels: usize, panel_height: f64) -> f64 {
    panel_top(panels.saturating_sub(1), panel_height) + panel_height + 40.0
}

/// One level of a chart's set: where it sits and which clouds it has.
pub trait LevelRow {
    /// The level and its label.
    fn level(&self) -> (f64, &str);
    /// True when cloud `cloud` has a value at this level.
    fn has(&self, cloud: usize) -> bool;
}

impl LevelRow for crate::model::concurrency::Level {
    fn level(&self) -> (f64, &str) {
        (self.concurrency, &self.concurrency_text)
    }

    fn has(&self, cloud: usize) -> bool {
        self.cells[cloud].present
    }
}

impl LevelRow for crate::model::storage::StorageLevel {
    fn level(&self) -> (f64, &str) {
        (self.concurrency, &self.concurrency_text)
    }

    fn has(&self, cloud: usize) -> bool {
        self.cells[cloud].present
    }
}

/// The clouds (indices below `clouds`) with a value at any of `levels`.
pub fn shown_clouds(clouds: usize, levels: &[impl LevelRow]) -> Vec<usize> {
    (0..clouds)
        .filter(|&c| levels.iter().any(|l| l.has(c)))
        .collect()
}

/// One swatch and name per `(cloud index, hover text, name)`, left to right
/// from `left` along the top.
pub fn legend<'a>(
    svg: &mut Svg,
    left: f64,
    entries: impl IntoIterator<Item = (usize, &'a str, String)>,
) {
    let mut x = left;
    for (c, tip, name) in entries {
        svg.rect(x, 8.0, 12.0, 12.0, &color(c), Some(tip));
        svg.text(x + 16.0, 18.0, &name, Anchor::Start, "label");
        x += 30.0 + text_width(&name);
    }
}

/// The x axis: the levels (ascending) on a log2 scale between `left` and the
/// chart's right margin.
pub struct LevelAxis<'a> {
    /// Each level and its label.
    levels: Vec<(f64, &'a str)>,
    pub left: f64,
    pub right: f64,
    plot: (f64, f64),
    log2_range: (f64, f64),
}

impl<'a> LevelAxis<'a> {
    pub fn new(left: f64, levels: &'a [impl LevelRow]) -> Self {
        let levels: Vec<(f64, &str)> = levels.iter().map(LevelRow::level).collect();
        let log2_range = (
            levels.first().map_or(1.0, |l| l.0).log2(),
            levels.last().map_or(1.0, |l| l.0).log2(),
        );
        let right = WIDTH - RIGHT;
        LevelAxis {
            levels,
            left,
            right,
            plot: (left + INSET, right - INSET),
            log2_range,
        }
    }

    /// The x of `level`; the middle when there is a single level.
    pub fn x(&self, level: f64) -> f64 {
        let (lo, hi) = self.log2_range;
        let plot = self.plot;
        if hi > lo {
            plot.0 + (level.log2() - lo) / (hi - lo) * (plot.1 - plot.0)
        } else {
            (plot.0 + plot.1) / 2.0
        }
    }

    /// The axis caption, centred under the plot at the chart's bottom.
    pub fn caption(&self, svg: &mut Svg, chart_height: f64, text: &str) {
        let middle = (self.plot.0 + self.plot.1) / 2.0;
        svg.text(middle, chart_height - 6.0, text, Anchor::Middle, "axis");
    }
}

/// One value of a cloud's series.
pub struct Point {
    pub level: f64,
    pub value: f64,
    /// Hover text of its dot.
    pub tip: String,
    /// Hover text of a ring around the dot, when it gets one.
    pub ring: Option<String>,
}

/// One value panel: its vertical extent and a scale from 0 to the last tick.
pub struct Panel {
    pub top: f64,
    height: f64,
    value_ticks: Vec<f64>,
    max: f64,
}

impl Panel {
    /// A panel at `top` whose scale covers `values`.
    pub fn new(top: f64, height: f64, values: impl IntoIterator<Item = f64>) -> Self {
        let value_ticks = ticks(values.into_iter().fold(0.0, f64::max));
        let max = *value_ticks.last().unwrap_or(&1.0);
        Panel {
            top,
            height,
            value_ticks,
            max,
        }
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }

    fn y(&self, v: f64) -> f64 {
        self.bottom() - (v / self.max).clamp(0.0, 1.0) * self.height
    }

    /// The heading, horizontal grid with value ticks (`tick_label` writes
    /// them), and the level ticks under the panel.
    pub fn axes(
        &self,
        svg: &mut Svg,
        axis: &LevelAxis,
        heading: &str,
        tick_label: impl Fn(f64) -> String,
    ) {
        let (left, right, bottom) = (axis.left, axis.right, self.bottom());
        svg.text(left, self.top - 10.0, heading, Anchor::Start, "heading");
        for &t in &self.value_ticks {
            let y = self.y(t);
            svg.line(left, y, right, y, "#e5e5e5", 1.0);
            svg.text(left - 6.0, y + 4.0, &tick_label(t), Anchor::End, "axis");
        }
        svg.line(left, self.top, left, bottom, "#999", 1.0);
        svg.line(left, bottom, right, bottom, "#999", 1.0);
        for &(level, text) in &axis.levels {
            let x = axis.x(level);
            svg.line(x, bottom, x, bottom + 4.0, "#999", 1.0);
            svg.text(x, bottom + 16.0, &clip(text, 8), Anchor::Middle, "axis");
        }
    }

    /// Cloud `cloud`'s line through `points` and a dot (and maybe a ring) at
    /// each; returns where each point was drawn.
    pub fn series(
        &self,
        svg: &mut Svg,
        axis: &LevelAxis,
        cloud: usize,
        line_tip: &str,
        points: &[Point],
    ) -> Vec<(f64, f64)> {
        let at: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (axis.x(p.level), self.y(p.value)))
            .collect();
        svg.polyline(&at, &color(cloud), 2.0, Some(line_tip));
        for (point, &(x, y)) in points.iter().zip(&at) {
            svg.dot(x, y, 3.0, &color(cloud), Some(&point.tip));
            if let Some(tip) = &point.ring {
                svg.ring(x, y, RING_RADIUS, &color(cloud), Some(tip));
            }
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::storage::StorageLevel;

    fn level(concurrency: f64) -> StorageLevel {
        StorageLevel {
            concurrency,
            concurrency_text: concurrency.to_string(),
            cells: Vec::new(),
        }
    }

    #[test]
    fn levels_are_spaced_by_log2() {
        let rows = [level(1.0), level(2.0), level(8.0)];
        let axis = LevelAxis::new(64.0, &rows);
        let (first, second, last) = (axis.x(1.0), axis.x(2.0), axis.x(8.0));
        assert_eq!(first, 84.0);
        assert_eq!(last, WIDTH - RIGHT - 20.0);
        assert!(((second - first) * 3.0 - (last - first)).abs() < 1e-9);
        let row = [level(4.0)];
        let single = LevelAxis::new(64.0, &row);
        assert_eq!(single.x(4.0), (84.0 + WIDTH - RIGHT - 20.0) / 2.0);
    }

    #[test]
    fn panels_stack_and_scale_to_their_last_tick() {
        assert_eq!(panel_top(0, 150.0), 56.0);
        assert_eq!(panel_top(1, 150.0), 56.0 + 198.0);
        assert_eq!(chart_height(2, 140.0), 56.0 + 188.0 + 140.0 + 40.0);
        assert_eq!(chart_height(1, 150.0), 56.0 + 150.0 + 40.0);
        let panel = Panel::new(56.0, 150.0, [3.0, 9.0]);
        assert_eq!(panel.y(0.0), 206.0);
        assert_eq!(panel.y(10.0), 56.0);
        assert_eq!(panel.y(20.0), 56.0, "clamped to the panel");
    }
}
