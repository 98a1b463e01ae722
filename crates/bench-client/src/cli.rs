//! bench-client's flags (parsing only; [`crate::runner`] validates).

use std::path::PathBuf;
use std::time::Duration;

use bench_core::cli::CommonArgs;
use clap::{Args, Parser, Subcommand};

use crate::api::ApiVersion;

/// Measure an E2B cluster from a jump box, through the E2B API and envd.
///
/// Reads E2B_API_KEY, E2B_DOMAIN (or E2B_API_URL / E2B_SANDBOX_URL) and
/// E2B_TEMPLATES from ./.e2b_env or --env-file; the process environment
/// takes precedence. Secrets never appear in results or logs.
#[derive(Debug, Parser)]
#[command(name = "bench-client", version, about, long_about)]
pub struct Cli {
    /// Common flags.
    #[command(flatten)]
    pub common: CommonArgs,
    /// How to reach the cluster.
    #[command(flatten)]
    pub conn: ConnArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach the cluster (every subcommand).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnArgs {
    /// Template to measure (repeatable) [default: $E2B_TEMPLATES, else base]
    #[arg(long = "template", global = true, value_name = "NAME")]
    pub templates: Vec<String>,
    /// Create path: v2 (POST /v2/sandboxes), v1 (POST /sandboxes), auto = v2, v1 on 404
    #[arg(long, global = true, value_enum, default_value = "auto")]
    pub api: ApiVersion,
    /// envd URL with {port}, {sandbox_id}, {client_id}, {domain}; the legacy
    /// form is https://{port}-{sandbox_id}-{client_id}.{domain}
    /// [default: https://{port}-{sandbox_id}.{domain}, or E2B_SANDBOX_URL header routing]
    #[arg(long, global = true, value_name = "PATTERN")]
    pub sandbox_url_pattern: Option<String>,
    /// Send API and envd connections to HOST:PORT, keeping Host and TLS names
    /// (curl's --connect-to): reach a cluster by IP without "Invalid host"
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub connect_to: Option<String>,
    /// Extra trusted CA certificates (PEM), for self-signed clusters [default: $SSL_CERT_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Open a new connection for every request (cold TCP+TLS each time);
    /// results are labelled connections=fresh
    #[arg(long, global = true)]
    pub fresh_connections: bool,
    /// Longest wait for one phase (create, envd ready, command, kill)
    #[arg(long, global = true, value_parser = humantime::parse_duration, default_value = "60s")]
    pub phase_timeout: Duration,
    /// Timeout of each sandbox at create, refreshed while in use, so a
    /// killed bench-client leaves nothing running past it
    #[arg(long, global = true, value_parser = humantime::parse_duration, default_value = "120s")]
    pub sandbox_timeout: Duration,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write this jump box's fingerprint and the resolved E2B endpoints as
    /// 00_client_info.json (nothing is contacted)
    Info,
    /// Cold and warm starts with a phase breakdown (01_cold_start.json, 01_warm_start.json)
    Lifecycle(LifecycleArgs),
    /// Concurrent starts at rising concurrency; finds the knee (02_concurrency.json)
    Concurrency(ConcurrencyArgs),
    /// Pause and resume latency (02_pause_resume.json)
    Pause(PauseArgs),
    /// Check DNS, TLS, key, templates, create, envd routing and kill, one line
    /// each with its fix; prints the settings that worked
    Doctor,
    /// Upload bench-sandbox into a sandbox of each template, run its suite
    /// there and store its document (03_sandbox_performance.json)
    Sandbox(SandboxArgs),
    /// Everything in order: lifecycle, concurrency, pause, sandbox, then
    /// summary_report.json
    Run(RunArgs),
    /// Write summary_report.json from the results already in --output-dir
    /// (nothing is contacted)
    Summary,
    /// Kill every sandbox created by e2b-bench (all runs, or --run-id)
    Cleanup(CleanupArgs),
    /// A canary: one lifecycle per template every --interval, served as
    /// Prometheus/OpenMetrics on --metrics-listen and logged as JSON Lines
    Watch(WatchArgs),
}

/// `lifecycle` flags.
#[derive(Debug, Clone, Args)]
pub struct LifecycleArgs {
    /// Warm starts per template
    #[arg(long, default_value_t = 30)]
    pub iterations: u32,
    /// Cold starts per template; only the first is cold unless
    /// --evict-command purges the caches between them
    #[arg(long, default_value_t = 1)]
    pub cold_iterations: u32,
    /// Shell command run before each cold start after the first (purges
    /// template caches on the nodes)
    #[arg(long, value_name = "CMD")]
    pub evict_command: Option<String>,
    /// Warm starts run first and left out of the statistics
    #[arg(long, default_value_t = 0)]
    pub warmup: u32,
    /// Keep the warm-up observations in parameters.warmup_raw
    #[arg(long)]
    pub record_warmup: bool,
    /// A short run: 5 warm starts
    #[arg(long)]
    pub quick: bool,
    /// Run as shard I of N jump boxes loading one cluster together (1-based):
    /// iterations and concurrent starts are split so the N shards add up to
    /// the whole; needs --run-id, the same on every shard
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

/// How starts are scheduled within a concurrency level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Schedule {
    /// All N creates at once.
    Burst,
    /// N workers, each running --rounds lifecycles back to back.
    Ramp,
    /// N creates, one every --interval; latency counts from the scheduled start.
    Staggered,
}

impl Schedule {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Burst => "burst",
            Schedule::Ramp => "ramp",
            Schedule::Staggered => "staggered",
        }
    }
}

/// `concurrency` flags.
#[derive(Debug, Clone, Args)]
pub struct ConcurrencyArgs {
    /// Highest level of the ramp 1, 2, 4, …
    #[arg(long, default_value_t = 32)]
    pub max_concurrency: u32,
    /// Explicit levels instead of the ramp, e.g. 1,10,100
    #[arg(long, value_delimiter = ',', value_name = "N,N,…")]
    pub levels: Vec<u32>,
    /// How starts are scheduled within a level
    #[arg(long, value_enum, default_value = "burst")]
    pub mode: Schedule,
    /// Time between scheduled starts (staggered)
    #[arg(long, value_parser = humantime::parse_duration, default_value = "200ms")]
    pub interval: Duration,
    /// Lifecycles per worker (ramp)
    #[arg(long, default_value_t = 2)]
    pub rounds: u32,
    /// Stop the ramp when a level's failure share passes this
    #[arg(long, default_value_t = 0.2)]
    pub max_error_rate: f64,
    /// A short run: levels up to 4
    #[arg(long)]
    pub quick: bool,
    /// Run as shard I of N jump boxes loading one cluster together (1-based):
    /// iterations and concurrent starts are split so the N shards add up to
    /// the whole; needs --run-id, the same on every shard
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

/// `pause` flags.
#[derive(Debug, Clone, Args)]
pub struct PauseArgs {
    /// Pause/resume cycles per template
    #[arg(long, default_value_t = 5)]
    pub iterations: u32,
    /// A short run: 2 cycles
    #[arg(long)]
    pub quick: bool,
    /// Run as shard I of N jump boxes loading one cluster together (1-based):
    /// iterations and concurrent starts are split so the N shards add up to
    /// the whole; needs --run-id, the same on every shard
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

/// `cleanup` flags.
#[derive(Debug, Clone, Args)]
pub struct CleanupArgs {
    /// List what would be killed, kill nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Which bench-sandbox to upload and how to run it (`sandbox`, `run`).
#[derive(Debug, Clone, Args)]
pub struct SandboxTarget {
    /// The bench-sandbox binary to upload [default: beside bench-client,
    /// then target/static/bench-sandbox]
    #[arg(long, value_name = "PATH")]
    pub bench_sandbox: Option<PathBuf>,
    /// Longest wait for the whole in-sandbox suite of one template
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30m")]
    pub suite_timeout: Duration,
    /// Flags for `bench-sandbox run`, after `--` (e.g. -- --skip pkg)
    #[arg(last = true, value_name = "BENCH_SANDBOX_FLAGS")]
    pub sandbox_flags: Vec<String>,
}

/// `sandbox` flags.
#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// A short run: `bench-sandbox run --quick`
    #[arg(long)]
    pub quick: bool,
    /// Binary, time limit, pass-through flags.
    #[command(flatten)]
    pub target: SandboxTarget,
}

/// The suites of `run`, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum SuiteName {
    /// `lifecycle`.
    Lifecycle,
    /// `concurrency`.
    Concurrency,
    /// `pause`.
    Pause,
    /// `sandbox`.
    Sandbox,
}

/// `run` flags.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Every suite short (about a minute against a real cluster)
    #[arg(long)]
    pub quick: bool,
    /// Suites to leave out (comma-separated or repeated)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SUITE")]
    pub skip: Vec<SuiteName>,
    /// Only these suites (comma-separated or repeated)
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        value_name = "SUITE",
        conflicts_with = "skip"
    )]
    pub only: Vec<SuiteName>,
    /// Run as shard I of N jump boxes loading one cluster together (1-based):
    /// each suite's iterations and concurrent starts are split so the N
    /// shards add up to the whole; the in-sandbox suite runs on shard 1
    /// only; needs --run-id, the same on every shard
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The in-sandbox suite's binary, limit and flags.
    #[command(flatten)]
    pub target: SandboxTarget,
}

/// `watch` flags.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Time between scheduled lifecycles of one template (open loop: a slow
    /// lifecycle does not delay the next start)
    #[arg(long, value_parser = humantime::parse_duration, default_value = "60s")]
    pub interval: Duration,
    /// Lifecycles per template, then stop [default: forever]
    #[arg(long, value_name = "N")]
    pub count: Option<u32>,
    /// Where GET /metrics is served (port 0 picks one; the address is logged)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:9464")]
    pub metrics_listen: String,
    /// Append-only JSON Lines log, one line per lifecycle [default: <output dir>/watch.jsonl]
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// With --count: after the last lifecycle, keep serving /metrics until
    /// one scrape has seen the final figures, at most this long
    #[arg(long, value_parser = humantime::parse_duration, default_value = "0s")]
    pub linger: Duration,
}
