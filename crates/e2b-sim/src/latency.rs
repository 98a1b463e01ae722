//! Seeded latency and fault model.
//!
//! Start delays are lognormal. A lognormal with parameters `mu`, `sigma` has
//! `mean = exp(mu + sigma²/2)` and `p95 = exp(mu + z·sigma)` with
//! `z = 1.6449` (the standard normal 95th percentile). With
//! `d = ln(p95 / mean)` these give `sigma²/2 − z·sigma + d = 0`, so
//! `sigma = z − sqrt(z² − 2d)` (the smaller root; the larger one would put
//! most of the mass far below the mean) and `mu = ln(mean) − sigma²/2`.
//! The fit needs `0 ≤ d ≤ z²/2` (p95 between the mean and `mean·e^1.35`);
//! outside it sigma is clamped. Defaults: cold mean 7.5 s / p95 10.9 s gives
//! sigma ≈ 0.246, mu ≈ 1.985; warm mean 2.8 s / p95 6.1 s gives sigma ≈ 0.573,
//! mu ≈ 0.865.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::{Dist, SimConfig};
use crate::ids::Rng;

const Z95: f64 = 1.644_853_626_951_472_2;

/// A lognormal distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    /// Mean of the underlying normal.
    pub mu: f64,
    /// Standard deviation of the underlying normal.
    pub sigma: f64,
}

impl LogNormal {
    /// The lognormal with this mean and 95th percentile (see the module docs).
    pub fn from_mean_p95(mean: f64, p95: f64) -> Self {
        if mean <= 0.0 {
            return Self {
                mu: f64::NEG_INFINITY,
                sigma: 0.0,
            };
        }
        let d = (p95.max(mean) / mean).ln();
        let disc = (Z95 * Z95 - 2.0 * d).max(0.0);
        let sigma = Z95 - disc.sqrt();
        Self {
            mu: mean.ln() - sigma * sigma / 2.0,
            sigma,
        }
    }

    /// One sample.
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        if self.mu == f64::NEG_INFINITY {
            return 0.0;
        }
        (self.mu + self.sigma * rng.normal()).exp()
    }
}

impl From<Dist> for LogNormal {
    fn from(d: Dist) -> Self {
        Self::from_mean_p95(d.mean, d.p95)
    }
}

/// What the fault dice said for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serve normally.
    None,
    /// Answer 500.
    Error,
    /// Hang for this long, then serve.
    Stall(Duration),
}

/// The model: seeded generator, warm templates, rate-limit bucket.
#[derive(Debug)]
pub struct Model {
    time_scale: f64,
    cold: LogNormal,
    warm: LogNormal,
    envd_ready: LogNormal,
    error_rate: f64,
    stall_rate: f64,
    stall_for: Duration,
    rng: Mutex<Rng>,
    warm_templates: Mutex<HashSet<String>>,
    bucket: Option<Mutex<Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    per_second: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Model {
    /// The model for this configuration.
    pub fn new(config: &SimConfig) -> Self {
        Self {
            time_scale: config.time_scale.max(0.0),
            cold: config.latency.cold_start.into(),
            warm: config.latency.warm_start.into(),
            envd_ready: config.latency.envd_ready.into(),
            error_rate: config.faults.error_rate,
            stall_rate: config.faults.stall_rate,
            stall_for: config.faults.stall_for,
            rng: Mutex::new(Rng::seed_from_u64(config.seed)),
            warm_templates: Mutex::new(HashSet::new()),
            bucket: config.rate_limit.map(|r| {
                Mutex::new(Bucket {
                    per_second: r.per_second.max(1e-9),
                    burst: f64::from(r.burst.max(1)),
                    tokens: f64::from(r.burst.max(1)),
                    at: Instant::now(),
                })
            }),
        }
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, Rng> {
        self.rng.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delay of a create of `template`: cold the first time (since start or
    /// the last [`Model::evict`]), warm after; plus envd readiness. The
    /// template becomes warm.
    pub fn create_delay(&self, template: &str) -> Duration {
        let cold = self
            .warm_templates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(template.to_owned());
        if self.time_scale == 0.0 {
            return Duration::ZERO;
        }
        let mut rng = self.rng();
        let start = if cold {
            self.cold.sample(&mut rng)
        } else {
            self.warm.sample(&mut rng)
        };
        let ready = self.envd_ready.sample(&mut rng);
        scaled(start + ready, self.time_scale)
    }

    /// Delay of a resume (a warm start plus envd readiness).
    pub fn resume_delay(&self) -> Duration {
        if self.time_scale == 0.0 {
            return Duration::ZERO;
        }
        let mut rng = self.rng();
        let s = self.warm.sample(&mut rng) + self.envd_ready.sample(&mut rng);
        scaled(s, self.time_scale)
    }

    /// Makes every template cold again.
    pub fn evict(&self) {
        self.warm_templates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Rolls the fault dice for one request.
    pub fn fault(&self) -> Fault {
        if self.error_rate <= 0.0 && self.stall_rate <= 0.0 {
            return Fault::None;
        }
        let x = self.rng().next_f64();
        if x < self.error_rate {
            Fault::Error
        } else if x < self.error_rate + self.stall_rate {
            Fault::Stall(self.stall_for)
        } else {
            Fault::None
        }
    }

    /// Takes a token from the rate-limit bucket; `Err(retry_after)` when empty.
    pub fn admit(&self) -> Result<(), Duration> {
        let Some(bucket) = &self.bucket else {
            return Ok(());
        };
        let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let elapsed = now.duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * b.per_second).min(b.burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / b.per_second))
        }
    }
}

/// The envd-stall dice ([`crate::FaultConfig::envd_stall_rate`]): seeded
/// from the same `seed` as [`Model`] but with a generator of their own, so
/// envd traffic does not shift the control plane's fault sequence.
#[derive(Debug)]
pub struct EnvdStall {
    rate: f64,
    stall_for: Duration,
    rng: Mutex<Rng>,
}

impl EnvdStall {
    /// The envd-stall dice of this configuration.
    pub fn new(config: &SimConfig) -> Self {
        Self {
            rate: config.faults.envd_stall_rate,
            stall_for: config.faults.envd_stall_for,
            rng: Mutex::new(Rng::seed_from_u64(config.seed ^ 0xe5d_57a1)),
        }
    }

    /// No envd stalls.
    pub fn off() -> Self {
        Self {
            rate: 0.0,
            stall_for: Duration::ZERO,
            rng: Mutex::new(Rng::seed_from_u64(0)),
        }
    }

    /// Rolls for one envd request: `Some(how long)` when it stalls.
    pub fn roll(&self) -> Option<Duration> {
        if self.rate <= 0.0 {
            return None;
        }
        let x = self
            .rng
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .next_f64();
        (x < self.rate).then_some(self.stall_for)
    }
}

fn scaled(seconds: f64, scale: f64) -> Duration {
    let s = seconds * scale;
    if s.is_finite() && s > 0.0 {
        Duration::from_secs_f64(s.min(3600.0))
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_fit_matches_mean_and_p95() {
        for (mean, p95) in [(7.5, 10.9), (2.8, 6.1)] {
            let d = LogNormal::from_mean_p95(mean, p95);
            let fitted_mean = (d.mu + d.sigma * d.sigma / 2.0).exp();
            let fitted_p95 = (d.mu + Z95 * d.sigma).exp();
            assert!((fitted_mean - mean).abs() < 1e-9, "{fitted_mean}");
            assert!((fitted_p95 - p95).abs() < 1e-9, "{fitted_p95}");
            let mut rng = Rng::seed_from_u64(1);
            let n = 200_000;
            let mut xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            xs.sort_by(f64::total_cmp);
            let q = xs[n * 95 / 100];
            assert!((m - mean).abs() / mean < 0.02, "mean {m}");
            assert!((q - p95).abs() / p95 < 0.03, "p95 {q}");
        }
    }

    #[test]
    fn zero_time_scale_means_no_delay_and_cold_then_warm() {
        let mut c = SimConfig::for_tests("k");
        assert_eq!(Model::new(&c).create_delay("base"), Duration::ZERO);
        c.time_scale = 0.001;
        c.latency.cold_start = Dist::new(100.0, 100.0);
        c.latency.warm_start = Dist::new(1.0, 1.0);
        c.latency.envd_ready = Dist::new(0.0, 0.0);
        let m = Model::new(&c);
        let cold = m.create_delay("base");
        let warm = m.create_delay("base");
        assert!(
            cold > Duration::from_millis(90) && warm < Duration::from_millis(10),
            "{cold:?} {warm:?}"
        );
        m.evict();
        assert!(m.create_delay("base") > Duration::from_millis(90));
    }

    #[test]
    fn envd_stall_dice_follow_the_rate_and_seed() {
        let mut c = SimConfig::for_tests("k");
        assert_eq!(EnvdStall::new(&c).roll(), None);
        c.faults.envd_stall_rate = 1.0;
        c.faults.envd_stall_for = Duration::from_secs(7);
        assert_eq!(EnvdStall::new(&c).roll(), Some(Duration::from_secs(7)));
        c.faults.envd_stall_rate = 0.3;
        let a: Vec<_> = (0..64)
            .map({
                let d = EnvdStall::new(&c);
                move |_| d.roll()
            })
            .collect();
        let b: Vec<_> = (0..64)
            .map({
                let d = EnvdStall::new(&c);
                move |_| d.roll()
            })
            .collect();
        assert_eq!(a, b);
        let stalled = a.iter().filter(|x| x.is_some()).count();
        assert!((5..=40).contains(&stalled), "{stalled}");
    }
}
