//! Turns lifecycles into samples and error entries. Every phase sample of
//! one series carries the same labels, because the report joins the phases
//! by labels (`bench-report`'s phase chart).

use std::collections::BTreeMap;

use bench_core::contract::metric;
use bench_core::schema::{ErrorEntry, ErrorKind, Sample};

use crate::api::ApiError;
use crate::driver::Cycle;

/// The phase metrics, in order.
pub const PHASE_METRICS: [&str; 5] = [
    metric::SANDBOX_CREATE_MS,
    metric::SANDBOX_ENVD_READY_MS,
    metric::SANDBOX_FIRST_COMMAND_MS,
    metric::SANDBOX_TIME_TO_INTERACTIVE_MS,
    metric::SANDBOX_KILL_MS,
];

/// Observations of many lifecycles with one label set.
#[derive(Debug, Default)]
pub struct Series {
    /// Per phase metric, its observations.
    pub phases: [Vec<f64>; 5],
    /// One 1.0 (all phases ok) or 0.0 per attempt.
    pub outcomes: Vec<f64>,
    /// 429 answers waited out.
    pub rate_limited: u32,
    /// (phase, message, kind) → count.
    failures: BTreeMap<(String, String, ErrorKindKey), u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum ErrorKindKey {
    Failed,
    Timeout,
    Interrupted,
}

/// The `errors[].kind` of a failed request.
pub fn kind_of(e: &ApiError) -> ErrorKind {
    match e {
        ApiError::Timeout { .. } => ErrorKind::Timeout,
        ApiError::Interrupted => ErrorKind::Interrupted,
        _ => ErrorKind::Failed,
    }
}

impl Series {
    /// Adds one lifecycle.
    pub fn add(&mut self, c: &Cycle) {
        let p = &c.phases;
        let values = [
            p.create,
            p.envd_ready,
            p.first_command,
            p.time_to_interactive,
            p.kill,
        ];
        for (series, v) in self.phases.iter_mut().zip(values) {
            if let Some(v) = v {
                series.push(v);
            }
        }
        self.rate_limited += c.rate_limited;
        match &c.error {
            None => self.outcomes.push(1.0),
            // An interrupted attempt is neither a success nor a failure.
            Some((_, ApiError::Interrupted)) => {}
            Some((phase, e)) => {
                self.outcomes.push(0.0);
                let kind = match kind_of(e) {
                    ErrorKind::Timeout => ErrorKindKey::Timeout,
                    ErrorKind::Interrupted => ErrorKindKey::Interrupted,
                    _ => ErrorKindKey::Failed,
                };
                *self
                    .failures
                    .entry(((*phase).to_owned(), e.to_string(), kind))
                    .or_default() += 1;
            }
        }
    }

    /// Attempts that ended (successes and failures).
    pub fn attempts(&self) -> usize {
        self.outcomes.len()
    }

    /// Failed attempts.
    pub fn failures(&self) -> usize {
        self.outcomes.iter().filter(|o| **o == 0.0).count()
    }

    /// The phase samples (one per phase with observations) and the success
    /// rate, all with `labels`.
    pub fn samples(&self, labels: &[(&str, &str)]) -> Vec<Sample> {
        let mut out = Vec::new();
        for (metric, values) in PHASE_METRICS.iter().zip(&self.phases) {
            if values.is_empty() {
                continue;
            }
            out.push(with_labels(
                Sample::from_series(metric, "ms", values.clone()),
                labels,
            ));
        }
        if let Some(rate) = self.success_rate() {
            out.push(with_labels(
                Sample::from_series(metric::SANDBOX_SUCCESS_RATE, "ratio", self.outcomes.clone())
                    .with_value(rate),
                labels,
            ));
        }
        out
    }

    /// Successes ÷ attempts.
    pub fn success_rate(&self) -> Option<f64> {
        (!self.outcomes.is_empty())
            .then(|| self.outcomes.iter().sum::<f64>() / self.outcomes.len() as f64)
    }

    /// One entry per distinct failure, with its count; `probe` names the
    /// scenario and template.
    pub fn errors(&self, probe: &str) -> Vec<ErrorEntry> {
        self.failures
            .iter()
            .map(|((phase, message, kind), n)| ErrorEntry {
                probe: probe.to_owned(),
                kind: match kind {
                    ErrorKindKey::Timeout => ErrorKind::Timeout,
                    ErrorKindKey::Interrupted => ErrorKind::Interrupted,
                    ErrorKindKey::Failed => ErrorKind::Failed,
                },
                message: if *n == 1 {
                    format!("{phase}: {message}")
                } else {
                    format!("{phase} failed {n}×: {message}")
                },
            })
            .collect()
    }
}

/// Adds labels to a sample.
pub fn with_labels(mut s: Sample, labels: &[(&str, &str)]) -> Sample {
    for (k, v) in labels {
        s = s.label(k, v);
    }
    s
}
