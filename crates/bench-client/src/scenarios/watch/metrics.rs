//! The watch figures and their exposition: Prometheus text 0.0.4, or
//! OpenMetrics 1.0 when the scraper asks for it. Latencies in seconds.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::api::ApiError;
use crate::driver::Cycle;

/// Upper bounds of the latency histograms, seconds (50 ms … 60 s).
pub const BUCKETS: [f64; 18] = [
    0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 45.0,
    60.0,
];

/// Metric families served.
pub(super) const CREATE: &str = "e2b_bench_sandbox_create_seconds";
pub(super) const TTI: &str = "e2b_bench_sandbox_time_to_interactive_seconds";
pub(super) const LIFECYCLES: &str = "e2b_bench_sandbox_lifecycles";
pub(super) const LAST: &str = "e2b_bench_sandbox_last_lifecycle_timestamp_seconds";

/// A cumulative histogram (per-bucket counts are kept non-cumulative).
#[derive(Debug, Clone, Default)]
pub(super) struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// What one template has done so far.
#[derive(Debug, Clone, Default)]
pub(super) struct TemplateFigures {
    create: Histogram,
    tti: Histogram,
    ok: u64,
    failed: u64,
    last_unix: Option<f64>,
}

/// Every template's figures, in the order given.
#[derive(Debug, Default)]
pub struct Figures {
    cloud: String,
    templates: Vec<(String, TemplateFigures)>,
}

impl Figures {
    /// Zeroed figures for these templates (so every series exists from the
    /// first scrape).
    pub fn new(cloud: &str, templates: &[String]) -> Self {
        Figures {
            cloud: cloud.to_owned(),
            templates: templates
                .iter()
                .map(|t| (t.clone(), TemplateFigures::default()))
                .collect(),
        }
    }

    /// Adds one finished lifecycle; an interrupted one counts as neither a
    /// success nor a failure.
    pub(super) fn record(&mut self, template: &str, c: &Cycle) {
        let Some((_, f)) = self.templates.iter_mut().find(|(t, _)| t == template) else {
            return;
        };
        if let Some(ms) = c.phases.create {
            f.create.observe(ms / 1e3);
        }
        if let Some(ms) = c.phases.time_to_interactive {
            f.tti.observe(ms / 1e3);
        }
        match &c.error {
            None => f.ok += 1,
            Some((_, ApiError::Interrupted)) => {}
            Some(_) => f.failed += 1,
        }
        f.last_unix = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs_f64());
    }

    /// Lifecycles that ended (successes and failures).
    pub(super) fn finished(&self) -> u64 {
        self.templates.iter().map(|(_, f)| f.ok + f.failed).sum()
    }

    /// The exposition: Prometheus text format 0.0.4, or OpenMetrics 1.0
    /// (family names without `_total`, `# UNIT`, `# EOF`).
    pub fn render(&self, openmetrics: bool) -> String {
        let mut out = String::new();
        let labels = |t: &str| {
            format!(
                "cloud=\"{}\",template=\"{}\"",
                escape_label(&self.cloud),
                escape_label(t)
            )
        };
        let hist =
            |out: &mut String, name: &str, help: &str, pick: fn(&TemplateFigures) -> &Histogram| {
                header(
                    out,
                    name,
                    "histogram",
                    help,
                    openmetrics.then_some("seconds"),
                );
                for (t, f) in &self.templates {
                    let h = pick(f);
                    let l = labels(t);
                    let mut cumulative = 0;
                    for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                        cumulative += n;
                        let _ = writeln!(
                            out,
                            "{name}_bucket{{{l},le=\"{}\"}} {cumulative}",
                            float(*bound)
                        );
                    }
                    let _ = writeln!(out, "{name}_bucket{{{l},le=\"+Inf\"}} {}", h.count);
                    let _ = writeln!(out, "{name}_sum{{{l}}} {}", float(h.sum));
                    let _ = writeln!(out, "{name}_count{{{l}}} {}", h.count);
                }
            };
        hist(
            &mut out,
            CREATE,
            "Sandbox create: POST /v2/sandboxes sent until its 201 is read (429 waits included)",
            |f| &f.create,
        );
        hist(
            &mut out,
            TTI,
            "Time to interactive: the scheduled start until the first command in the sandbox ended",
            |f| &f.tti,
        );
        let family = if openmetrics {
            LIFECYCLES.to_owned()
        } else {
            format!("{LIFECYCLES}_total")
        };
        header(
            &mut out,
            &family,
            "counter",
            "Lifecycles (create, envd ready, first command, kill) that ended, by result",
            None,
        );
        for (t, f) in &self.templates {
            let l = labels(t);
            let _ = writeln!(out, "{LIFECYCLES}_total{{{l},result=\"ok\"}} {}", f.ok);
            let _ = writeln!(
                out,
                "{LIFECYCLES}_total{{{l},result=\"failed\"}} {}",
                f.failed
            );
        }
        header(
            &mut out,
            LAST,
            "gauge",
            "Unix time at which the last lifecycle of the template ended",
            openmetrics.then_some("seconds"),
        );
        for (t, f) in &self.templates {
            if let Some(at) = f.last_unix {
                let _ = writeln!(out, "{LAST}{{{}}} {}", labels(t), float(at));
            }
        }
        if openmetrics {
            out.push_str("# EOF\n");
        }
        out
    }
}

pub(super) fn header(out: &mut String, name: &str, kind: &str, help: &str, unit: Option<&str>) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
    if let Some(u) = unit {
        let _ = writeln!(out, "# UNIT {name} {u}");
    }
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// HELP text with `\` and newlines escaped.
pub(super) fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A float as both formats accept it (`1.0`, `0.05`, `12.5`).
pub(super) fn float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_buckets_cumulate() {
        let mut f = Figures::new("a\"b\\c\nd", &["base".into()]);
        f.templates[0].1.create.observe(0.07);
        f.templates[0].1.create.observe(100.0);
        let text = f.render(false);
        assert!(text.contains(r#"cloud="a\"b\\c\nd""#), "{text}");
        assert!(text.contains(r#"le="0.05"} 0"#), "{text}");
        assert!(text.contains(r#"le="0.1"} 1"#), "{text}");
        assert!(text.contains(r#"le="60.0"} 1"#), "{text}");
        assert!(text.contains(r#"le="+Inf"} 2"#), "{text}");
        assert!(text.contains("# TYPE e2b_bench_sandbox_lifecycles_total counter"));
        let om = f.render(true);
        assert!(om.contains("# TYPE e2b_bench_sandbox_lifecycles counter"));
        assert!(om.ends_with("# EOF\n"));
    }
}
