//! A small SVG writer. Every string that reaches the output goes through
//! [`escape`]: labels, cloud names and units come from result files and are
//! untrusted (a label `</svg><script>` must stay text).

use std::fmt::Write;

/// Escapes text for XML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Horizontal alignment of a text.
#[derive(Debug, Clone, Copy)]
pub enum Anchor {
    /// Left edge at x.
    Start,
    /// Centred on x.
    Middle,
    /// Right edge at x.
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// An SVG document being written.
#[derive(Debug)]
pub struct Svg {
    out: String,
}

/// Coordinates are written with one decimal: enough for a screen, and the
/// files stay small.
fn n(v: f64) -> String {
    if v.is_finite() {
        let r = (v * 10.0).round() / 10.0;
        if r == r.trunc() {
            format!("{}", r as i64)
        } else {
            format!("{r:.1}")
        }
    } else {
        "0".to_owned()
    }
}

impl Svg {
    /// Starts a `width` × `height` drawing whose accessible name is `title`.
    pub fn new(width: f64, height: f64, title: &str) -> Self {
        let mut out = String::with_capacity(4096);
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{t}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12"><title>{t}</title>"#,
            w = n(width),
            h = n(height),
            t = escape(title)
        );
        Svg { out }
    }

    /// A filled rectangle with an optional hover text.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tip: Option<&str>) {
        let _ = write!(
            self.out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{}""#,
            n(x),
            n(y),
            n(w.max(0.0)),
            n(h.max(0.0)),
            escape(fill)
        );
        self.close_with_tip(tip, "rect");
    }

    /// A line segment.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, width: f64) {
        let _ = write!(
            self.out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"/>"#,
            n(x1),
            n(y1),
            n(x2),
            n(y2),
            escape(stroke),
            n(width)
        );
    }

    /// A dot with an optional hover text.
    pub fn dot(&mut self, x: f64, y: f64, r: f64, fill: &str, tip: Option<&str>) {
        let _ = write!(
            self.out,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{}""#,
            n(x),
            n(y),
            n(r),
            escape(fill)
        );
        self.close_with_tip(tip, "circle");
    }

    /// A line through `points` (no fill) with an optional hover text.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64, tip: Option<&str>) {
        let coords: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", n(*x), n(*y)))
            .collect();
        let _ = write!(
            self.out,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="{}" stroke-linejoin="round""#,
            coords.join(" "),
            escape(stroke),
            n(width)
        );
        self.close_with_tip(tip, "polyline");
    }

    /// An unfilled circle (a marker around a point) with an optional hover
    /// text.
    pub fn ring(&mut self, x: f64, y: f64, r: f64, stroke: &str, tip: Option<&str>) {
        let _ = write!(
            self.out,
            r#"<circle cx="{}" cy="{}" r="{}" fill="none" stroke="{}" stroke-width="2""#,
            n(x),
            n(y),
            n(r),
            escape(stroke)
        );
        self.close_with_tip(tip, "circle");
    }

    /// A hollow diamond of half-width `r` (a single observation), with an
    /// optional hover text.
    pub fn diamond(&mut self, x: f64, y: f64, r: f64, stroke: &str, tip: Option<&str>) {
        let _ = write!(
            self.out,
            r##"<path d="M{} {}L{} {}L{} {}L{} {}Z" fill="#fff" stroke="{}" stroke-width="2""##,
            n(x),
            n(y - r),
            n(x + r),
            n(y),
            n(x),
            n(y + r),
            n(x - r),
            n(y),
            escape(stroke)
        );
        self.close_with_tip(tip, "path");
    }

    /// A text; `class` picks a style (`label`, `value`, `axis`, `heading`).
    pub fn text(&mut self, x: f64, y: f64, text: &str, anchor: Anchor, class: &str) {
        let (weight, fill, size) = match class {
            "heading" => ("600", "#222", "12"),
            "axis" => ("400", "#666", "11"),
            "value" => ("400", "#333", "11"),
            _ => ("400", "#333", "12"),
        };
        let _ = write!(
            self.out,
            r#"<text x="{}" y="{}" text-anchor="{}" font-weight="{weight}" fill="{fill}" font-size="{size}">{}</text>"#,
            n(x),
            n(y),
            anchor.as_str(),
            escape(text)
        );
    }

    fn close_with_tip(&mut self, tip: Option<&str>, element: &str) {
        match tip {
            Some(t) => {
                let _ = write!(self.out, "><title>{}</title></{element}>", escape(t));
            }
            None => self.out.push_str("/>"),
        }
    }

    /// Ends the document.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// Round tick values from 0 to at least `max`: steps of 1, 2 or 5 × 10^k,
/// about five of them.
pub fn ticks(max: f64) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| max / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let count = (max / step).ceil() as usize;
    (0..=count.max(1)).map(|i| i as f64 * step).collect()
}

/// A width estimate for `text` at 12 px (no font metrics in a server-side
/// drawing; this errs wide).
pub fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_text() {
        let mut svg = Svg::new(100.0, 50.0, "t\"itle<");
        svg.text(
            1.0,
            2.0,
            "</svg><script>alert('x')</script>&",
            Anchor::Start,
            "label",
        );
        svg.rect(0.0, 0.0, 1.0, 1.0, "red\" onclick=\"x", Some("<b>tip</b>"));
        let out = svg.finish();
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<b>"), "{out}");
        assert!(!out.contains("\" onclick"), "{out}");
        assert!(out.contains("&lt;/svg&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"));
        assert_eq!(out.matches("</svg>").count(), 1);
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(9.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let t = ticks(2_382_364_672.0);
        assert!(
            *t.last().unwrap() >= 2_382_364_672.0 && t.len() <= 7,
            "{t:?}"
        );
        assert_eq!(ticks(0.0), vec![0.0, 1.0]);
        assert_eq!(ticks(f64::NAN), vec![0.0, 1.0]);
    }
}
