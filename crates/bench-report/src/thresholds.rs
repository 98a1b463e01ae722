//! The decision rule's numbers from the command line: `--significance P`,
//! `--noise-threshold PCT` and `compare`'s per-metric `--threshold
//! METRIC=PCT`.

use bench_core::exit::Failure;

use crate::cli::Thresholds;

/// Validated thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// p must be below this.
    pub significance: f64,
    /// |relative change| must be above this (a fraction).
    pub noise_threshold: f64,
    /// Per-metric noise thresholds: (pattern, fraction); a pattern ending in
    /// `*` matches a prefix. The last matching one wins.
    pub per_metric: Vec<(String, f64)>,
    /// `--exhaustive-resampling`: every random split, no shortcut.
    pub exhaustive: bool,
}

impl Rule {
    /// Validates the shared flags and `compare`'s `--threshold` values.
    pub fn from_args(args: &Thresholds, per_metric: &[String]) -> Result<Self, Failure> {
        let significance: f64 = args
            .significance
            .trim()
            .parse()
            .ok()
            .filter(|p: &f64| *p > 0.0 && *p < 1.0)
            .ok_or_else(|| {
                Failure::usage(format!(
                    "--significance {}: give a p-value between 0 and 1, e.g. 0.01",
                    args.significance
                ))
            })?;
        let noise_threshold = fraction("--noise-threshold", &args.noise_threshold)?;
        let per_metric = per_metric
            .iter()
            .map(|spec| {
                let (metric, pct) = spec.split_once('=').ok_or_else(|| {
                    Failure::usage(format!(
                        "--threshold {spec}: use METRIC=PCT, e.g. sandbox.create_ms=10%"
                    ))
                })?;
                let metric = metric.trim();
                if metric.is_empty() || metric.trim_end_matches('*').contains('*') {
                    return Err(Failure::usage(format!(
                        "--threshold {spec}: name a metric, or a prefix ending in * (disk.*=8%)"
                    )));
                }
                Ok((metric.to_owned(), fraction("--threshold", pct)?))
            })
            .collect::<Result<Vec<_>, Failure>>()?;
        Ok(Rule {
            significance,
            noise_threshold,
            per_metric,
            exhaustive: args.exhaustive_resampling,
        })
    }

    /// The noise threshold that applies to `metric`.
    pub fn noise_for(&self, metric: &str) -> f64 {
        self.per_metric
            .iter()
            .rev()
            .find(|(pattern, _)| match pattern.strip_suffix('*') {
                Some(prefix) => metric.starts_with(prefix),
                None => metric == pattern,
            })
            .map_or(self.noise_threshold, |(_, t)| *t)
    }
}

/// `5%` or `0.05` as 0.05; 0 ≤ value < 10 (1000%).
fn fraction(flag: &str, value: &str) -> Result<f64, Failure> {
    let v = value.trim();
    let parsed = match v.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map(|p| p / 100.0),
        None => v.parse::<f64>(),
    };
    parsed
        .ok()
        .filter(|f| f.is_finite() && (0.0..10.0).contains(f))
        .ok_or_else(|| {
            Failure::usage(format!(
                "{flag} {value}: give a percentage such as 5% (or a fraction such as 0.05)"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(p: &str, noise: &str) -> Thresholds {
        Thresholds {
            significance: p.to_owned(),
            noise_threshold: noise.to_owned(),
            exhaustive_resampling: false,
        }
    }

    #[test]
    fn parses_percentages_fractions_and_patterns() {
        let rule = Rule::from_args(
            &args("0.01", "5%"),
            &["disk.*=8%".to_owned(), "disk.iops=0.2".to_owned()],
        )
        .unwrap();
        assert_eq!(rule.significance, 0.01);
        assert_eq!(rule.noise_threshold, 0.05);
        assert_eq!(rule.noise_for("cpu.events_per_second"), 0.05);
        assert_eq!(rule.noise_for("disk.latency_us"), 0.08);
        assert_eq!(rule.noise_for("disk.iops"), 0.2);
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (p, n, extra, flag) in [
            ("1.5", "5%", "", "--significance"),
            ("x", "5%", "", "--significance"),
            ("0.01", "five", "", "--noise-threshold"),
            ("0.01", "-1%", "", "--noise-threshold"),
            ("0.01", "5%", "disk.iops", "--threshold"),
            ("0.01", "5%", "=5%", "--threshold"),
            ("0.01", "5%", "d*sk=5%", "--threshold"),
        ] {
            let extra: Vec<String> = if extra.is_empty() {
                vec![]
            } else {
                vec![extra.to_owned()]
            };
            let e = Rule::from_args(&args(p, n), &extra).unwrap_err();
            assert!(e.message.starts_with(flag), "{}", e.message);
            assert_eq!(e.code, 2);
        }
    }
}
