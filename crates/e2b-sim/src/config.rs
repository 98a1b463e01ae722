//! Configuration of one emulator instance ([`SimConfig`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// A latency distribution given by its mean and 95th percentile (seconds
/// before `time_scale`). The model samples a lognormal fitted to both; see
/// [`crate::latency::LogNormal::from_mean_p95`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dist {
    /// Mean, seconds.
    pub mean: f64,
    /// 95th percentile, seconds.
    pub p95: f64,
}

impl Dist {
    /// A distribution with this mean and p95 (seconds).
    pub const fn new(mean: f64, p95: f64) -> Self {
        Self { mean, p95 }
    }
}

/// Per-template start delays and envd readiness.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyConfig {
    /// First create of a template after start or after `POST /_sim/evict`.
    /// Default: mean 7.5 s, p95 10.9 s (the seed's self-hosted measurements).
    pub cold_start: Dist,
    /// Later creates (and resumes). Default: mean 2.8 s, p95 6.1 s.
    pub warm_start: Dist,
    /// Extra delay until envd answers; the create response waits for it, as
    /// E2B's API answers once envd is reachable. Default: mean 50 ms, p95 120 ms.
    pub envd_ready: Dist,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        Self {
            cold_start: Dist::new(7.5, 10.9),
            warm_start: Dist::new(2.8, 6.1),
            envd_ready: Dist::new(0.05, 0.12),
        }
    }
}

/// Which control-plane requests the 500s and stalls of [`FaultConfig`] hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FaultScope {
    /// Every control-plane route (not `/health`, not `/_sim/…`).
    #[default]
    All,
    /// Only creates: `POST /sandboxes` and `POST /v2/sandboxes`. Lets a test
    /// fail creates without also failing the kills that clean up after them.
    Create,
}

impl std::str::FromStr for FaultScope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(Self::All),
            "create" => Ok(Self::Create),
            other => Err(format!("unknown fault scope {other:?} (all, create)")),
        }
    }
}

/// Injected faults: 500s and stalls on control-plane routes (not `/health`,
/// not `/_sim/…`), and stalls of envd requests.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    /// Fraction of requests answered `500 {"code":500,"message":…}`.
    pub error_rate: f64,
    /// Fraction of requests that stall for `stall_for` before being served.
    pub stall_rate: f64,
    /// How long a stalled request hangs (not scaled by `time_scale`).
    pub stall_for: Duration,
    /// Which control-plane requests `error_rate` and `stall_rate` apply to.
    pub scope: FaultScope,
    /// Fraction of envd requests (on the sandbox listener, after client-proxy
    /// routing found a running sandbox) that hang for `envd_stall_for` before
    /// being served: a stalled envd, as seen by `GET /health` or
    /// `process.Process/Start`. Not affected by `scope`.
    pub envd_stall_rate: f64,
    /// How long a stalled envd request hangs (not scaled by `time_scale`).
    pub envd_stall_for: Duration,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            stall_rate: 0.0,
            stall_for: Duration::from_secs(60),
            scope: FaultScope::All,
            envd_stall_rate: 0.0,
            envd_stall_for: Duration::from_secs(60),
        }
    }
}

/// Token-bucket rate limit on control-plane requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Bucket size (requests allowed in a burst).
    pub burst: u32,
}

/// Everything `start` needs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Control-plane listener (`E2B_API_URL`). Port 0 picks one.
    pub listen: SocketAddr,
    /// Sandbox/envd listener (`E2B_SANDBOX_URL`). Port 0 picks one.
    pub sandbox_listen: SocketAddr,
    /// The only accepted API key (`X-API-Key` or `Authorization: Bearer`).
    pub api_key: String,
    /// Sandbox domain (`E2B_DOMAIN`), `e2b.local` by default.
    pub domain: String,
    /// Multiplies every modelled delay; 0 disables them.
    pub time_scale: f64,
    /// Seed of the latency and fault model (and of the ids).
    pub seed: u64,
    /// `envdVersion` reported for sandboxes and templates.
    pub envd_version: String,
    /// Start and readiness delays.
    pub latency: LatencyConfig,
    /// Injected faults.
    pub faults: FaultConfig,
    /// Maximum running sandboxes; more creates get E2B's 429. `None`: no limit.
    pub max_concurrent: Option<usize>,
    /// Most creates and resumes in their start delay at once, like self-hosted
    /// E2B's orchestrator flag `max-starting-instances-per-node` (3 there).
    /// Later ones wait (first come, first served) before their start delay,
    /// so throughput against concurrency flattens at this many. `None`: off.
    /// `Some(0)` is taken as 1.
    pub max_starting: Option<usize>,
    /// Control-plane rate limit; `None`: unlimited.
    pub rate_limit: Option<RateLimit>,
    /// Parent of the per-run root directory (default: the system temp dir).
    pub root_parent: Option<PathBuf>,
    /// How often the expiry task looks for sandboxes past their timeout.
    pub expiry_tick: Duration,
    /// Run each sandbox's commands in their own mount namespace, where the
    /// sandbox's directory is at `/home/user`, `/root` and `/tmp`, when this
    /// machine allows it (checked at start; see [`crate::namespace`]).
    /// `false` (`--no-mount-namespace`): host processes in the sandbox's
    /// directory, as where namespaces are unavailable. Default `true`.
    pub mount_namespace: bool,
}

impl SimConfig {
    /// Loopback, random ports, this API key, no delays (`time_scale` 0).
    pub fn for_tests(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into(),
            time_scale: 0.0,
            ..Self::default()
        }
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            listen: loopback,
            sandbox_listen: loopback,
            api_key: String::new(),
            domain: "e2b.local".to_owned(),
            time_scale: 1.0,
            seed: 0x5eed,
            envd_version: "0.2.0".to_owned(),
            latency: LatencyConfig::default(),
            faults: FaultConfig::default(),
            max_concurrent: None,
            max_starting: None,
            rate_limit: None,
            root_parent: None,
            expiry_tick: Duration::from_millis(50),
            mount_namespace: true,
        }
    }
}
