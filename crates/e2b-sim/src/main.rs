//! `bench-sim`: runs the E2B emulator for the quick start.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use e2b_sim::{Dist, FaultScope, RateLimit, SimConfig};

#[derive(Debug, Parser)]
#[command(
    name = "bench-sim",
    version,
    about = "An E2B-compatible local emulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the control plane and the sandbox (client-proxy + envd) endpoints.
    ///
    /// Prints `E2B_API_URL=…`, `E2B_SANDBOX_URL=…` and `E2B_DOMAIN=…` first on
    /// stdout, so `eval "$(bench-sim serve … | head -3)"` works; logs go to stderr.
    Serve(Serve),
}

#[derive(Debug, clap::Args)]
struct Serve {
    /// Control-plane address (port 0 picks one). Loopback only unless --allow-remote.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Sandbox/envd address (default: the listen port + 2, or 0 when that is 0).
    #[arg(long)]
    sandbox_listen: Option<SocketAddr>,
    /// Required API key. Sandboxes run commands as local processes on this
    /// machine, so every request must carry this key.
    #[arg(long)]
    api_key: Option<String>,
    /// Sandbox domain.
    #[arg(long, default_value = "e2b.local")]
    domain: String,
    /// Multiplies every modelled delay (0 = no delays).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Seed of the latency and fault model.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// envdVersion reported for sandboxes and templates.
    #[arg(long, default_value = "0.2.0")]
    envd_version: String,
    /// Cold start mean and p95 in seconds, e.g. `7.5,10.9`.
    #[arg(long, value_parser = parse_dist)]
    cold_start: Option<Dist>,
    /// Warm start mean and p95 in seconds, e.g. `2.8,6.1`.
    #[arg(long, value_parser = parse_dist)]
    warm_start: Option<Dist>,
    /// envd readiness mean and p95 in seconds.
    #[arg(long, value_parser = parse_dist)]
    envd_ready: Option<Dist>,
    /// Maximum running sandboxes; more creates get E2B's 429.
    #[arg(long)]
    max_concurrent: Option<usize>,
    /// Most creates/resumes starting at once (the orchestrator's
    /// max-starting-instances-per-node, 3 in self-hosted E2B); later ones wait.
    /// Default: no limit.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_starting: Option<u64>,
    /// Control-plane requests per second (429 + Retry-After above it).
    #[arg(long)]
    rate_limit: Option<f64>,
    /// Burst allowed by --rate-limit.
    #[arg(long, default_value_t = 10)]
    rate_burst: u32,
    /// Fraction of control-plane requests answered 500.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Fraction of control-plane requests that stall.
    #[arg(long, default_value_t = 0.0)]
    stall_rate: f64,
    /// How long a stalled request hangs, seconds.
    #[arg(long, default_value_t = 60.0)]
    stall_secs: f64,
    /// Which control-plane requests --error-rate and --stall-rate hit: `all`,
    /// or `create` (only POST /sandboxes and POST /v2/sandboxes).
    #[arg(long, default_value = "all", value_parser = ["all", "create"])]
    fault_scope: String,
    /// Fraction of envd requests (sandbox listener, after routing) that stall.
    #[arg(long, default_value_t = 0.0)]
    envd_stall_rate: f64,
    /// How long a stalled envd request hangs, seconds.
    #[arg(long, default_value_t = 60.0)]
    envd_stall_secs: f64,
    /// Run commands as plain host processes in the sandbox's directory instead
    /// of in a mount namespace that shows it at /home/user, /root and /tmp
    /// (absolute paths written through envd are then not visible to commands).
    #[arg(long)]
    no_mount_namespace: bool,
    /// Allow a non-loopback listen address (anyone reaching it with the key runs commands here).
    #[arg(long)]
    allow_remote: bool,
}

fn parse_dist(s: &str) -> Result<Dist, String> {
    let (m, p) = s.split_once(',').ok_or("expected MEAN,P95 in seconds")?;
    let mean: f64 = m.trim().parse().map_err(|e| format!("mean: {e}"))?;
    let p95: f64 = p.trim().parse().map_err(|e| format!("p95: {e}"))?;
    if !(mean >= 0.0 && p95 >= mean) {
        return Err("need 0 <= MEAN <= P95".into());
    }
    Ok(Dist::new(mean, p95))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve(args) = cli.command;
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-sim: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Serve) -> anyhow::Result<()> {
    let Some(api_key) = args.api_key.filter(|k| !k.is_empty()) else {
        anyhow::bail!(
            "--api-key is required: the emulator runs commands as local processes on this machine, \
             so every request must carry the key"
        );
    };
    let sandbox_listen = args.sandbox_listen.unwrap_or_else(|| {
        let port = if args.listen.port() == 0 {
            0
        } else {
            args.listen.port().saturating_add(2)
        };
        SocketAddr::new(args.listen.ip(), port)
    });
    for addr in [args.listen, sandbox_listen] {
        if !addr.ip().is_loopback() && !args.allow_remote {
            anyhow::bail!(
                "{addr} is not a loopback address; sandboxes run commands on this machine, \
                 pass --allow-remote to listen there anyway"
            );
        }
    }
    anyhow::ensure!(
        args.time_scale >= 0.0 && args.time_scale.is_finite(),
        "--time-scale must be >= 0"
    );
    let mut config = SimConfig {
        listen: args.listen,
        sandbox_listen,
        api_key,
        domain: args.domain,
        time_scale: args.time_scale,
        seed: args.seed,
        envd_version: args.envd_version,
        max_concurrent: args.max_concurrent,
        max_starting: args
            .max_starting
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        rate_limit: args.rate_limit.map(|per_second| RateLimit {
            per_second,
            burst: args.rate_burst,
        }),
        mount_namespace: !args.no_mount_namespace,
        ..SimConfig::default()
    };
    if let Some(d) = args.cold_start {
        config.latency.cold_start = d;
    }
    if let Some(d) = args.warm_start {
        config.latency.warm_start = d;
    }
    if let Some(d) = args.envd_ready {
        config.latency.envd_ready = d;
    }
    config.faults.error_rate = args.error_rate;
    config.faults.stall_rate = args.stall_rate;
    config.faults.stall_for = Duration::try_from_secs_f64(args.stall_secs.max(0.0))?;
    config.faults.scope = args
        .fault_scope
        .parse::<FaultScope>()
        .map_err(anyhow::Error::msg)?;
    config.faults.envd_stall_rate = args.envd_stall_rate;
    config.faults.envd_stall_for = Duration::try_from_secs_f64(args.envd_stall_secs.max(0.0))?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let stop = signals().await?;
        let server = e2b_sim::start(config).await?;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "E2B_API_URL={}", server.api_url)?;
            writeln!(out, "E2B_SANDBOX_URL={}", server.sandbox_url)?;
            writeln!(out, "E2B_DOMAIN={}", server.domain)?;
            out.flush()?;
        }
        stop.await;
        tracing::info!("shutting down; killing every sandbox");
        server.shutdown().await;
        anyhow::Ok(())
    })
}

/// Ctrl-C / SIGTERM, registered before anything is printed so a signal sent
/// right after the env lines is not missed.
async fn signals() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    })
}
