//! An E2B-compatible local emulator: control plane, client-proxy routing and
//! envd, for tests and the quick start.
//!
//! ```no_run
//! # fn demo() -> anyhow::Result<()> {
//! let sim = e2b_sim::SimServer::spawn_blocking(e2b_sim::SimConfig::for_tests("key"))?;
//! println!("{} {} {}", sim.api_url, sim.sandbox_url, sim.domain);
//! assert_eq!(sim.stats().live, 0);
//! # Ok(()) }
//! ```

pub mod api;
pub mod config;
mod dates;
pub mod envd;
pub mod ids;
pub mod latency;
pub mod namespace;
pub mod process_table;
pub mod proxy;
pub mod state;
mod sys;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Dist, FaultConfig, FaultScope, LatencyConfig, RateLimit, SimConfig};
pub use namespace::Commands;
pub use state::Registry;

/// The response header by which the emulator names itself on every answer
/// of both listeners (control plane and client-proxy/envd); defined in
/// e2b-wire, beside the headers bench-client reads (docs/emulator.md).
pub const IDENTITY_HEADER: &str = e2b_wire::api::HEADER_EMULATOR;
/// Its value: `e2b-sim <version>`.
pub const IDENTITY: &str = concat!("e2b-sim ", env!("CARGO_PKG_VERSION"));

/// Adds [`IDENTITY_HEADER`] to a response (an `axum::middleware::map_response` layer).
pub(crate) async fn identify(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        IDENTITY_HEADER,
        axum::http::HeaderValue::from_static(IDENTITY),
    );
    resp
}

/// Counters served at `GET /_sim/stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Sandboxes alive now (running or paused).
    pub live: u64,
    /// Created since start.
    pub created: u64,
    /// Killed by `DELETE`.
    pub killed: u64,
    /// Expired at their timeout.
    pub expired: u64,
    /// How commands see their sandbox's files: `mount-namespace` or
    /// `user-namespace` (at `/home/user`, `/root`, `/tmp`), or `host`.
    pub commands: Commands,
}

/// The counters of a registry.
pub fn stats(registry: &Registry) -> Stats {
    let c = &registry.counters;
    Stats {
        live: registry.len() as u64,
        created: c.created.load(Ordering::Relaxed),
        killed: c.killed.load(Ordering::Relaxed),
        expired: c.expired.load(Ordering::Relaxed),
        commands: registry.commands(),
    }
}

/// A running emulator (on the caller's tokio runtime).
#[derive(Debug)]
pub struct SimServer {
    /// `E2B_API_URL`, e.g. `http://127.0.0.1:41234`.
    pub api_url: String,
    /// `E2B_SANDBOX_URL`: the client-proxy/envd listener.
    pub sandbox_url: String,
    /// `E2B_DOMAIN`.
    pub domain: String,
    /// Every sandbox.
    pub registry: Arc<Registry>,
    /// Parent of the sandboxes' working directories (removed at shutdown).
    pub root: PathBuf,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Binds both listeners on their (loopback) addresses and starts serving.
pub async fn start(config: SimConfig) -> anyhow::Result<SimServer> {
    anyhow::ensure!(
        !config.api_key.is_empty(),
        "an API key is required (the emulator runs commands)"
    );
    let api_listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let sandbox_listener = TcpListener::bind(config.sandbox_listen)
        .await
        .with_context(|| format!("binding {}", config.sandbox_listen))?;
    let api_addr = api_listener.local_addr()?;
    let sandbox_addr = sandbox_listener.local_addr()?;

    let parent = config
        .root_parent
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let root = parent.join(format!(
        "e2b-sim-{}-{stamp}-{}",
        std::process::id(),
        api_addr.port()
    ));
    std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;

    let commands = command_mode(&config, &root).await;
    let registry = Arc::new(Registry::new(commands));
    let domain = config.domain.clone();
    let tick = config.expiry_tick.max(Duration::from_millis(1));
    let envd_stall = Arc::new(latency::EnvdStall::new(&config));
    let sim = Arc::new(api::Sim::new(config, registry.clone(), root.clone()));
    let (stop, stop_rx) = watch::channel(false);

    let mut tasks = Vec::new();
    let api_router = api::router(sim.clone());
    tasks.push(tokio::spawn(serve(
        api_listener,
        api_router,
        stop_rx.clone(),
    )));
    let sandbox_router = proxy::router_with_stalls(registry.clone(), domain.clone(), envd_stall);
    tasks.push(tokio::spawn(serve(
        sandbox_listener,
        sandbox_router,
        stop_rx.clone(),
    )));
    let mut expiry_stop = stop_rx;
    let expiry_sim = sim.clone();
    tasks.push(tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => expiry_sim.expire(SystemTime::now()),
                _ = expiry_stop.changed() => break,
            }
        }
    }));
    tracing::info!(
        api = %api_addr,
        sandbox = %sandbox_addr,
        root = %root.display(),
        commands = commands.name(),
        "e2b-sim listening"
    );
    Ok(SimServer {
        api_url: format!("http://{api_addr}"),
        sandbox_url: format!("http://{sandbox_addr}"),
        domain,
        registry,
        root,
        stop,
        tasks,
    })
}

/// Whether commands get their own mount namespace: as configured, where
/// [`namespace::detect`] finds it works. Warns once when it does not.
async fn command_mode(config: &SimConfig, root: &Path) -> Commands {
    if !config.mount_namespace {
        tracing::info!(
            "mount namespace off (--no-mount-namespace): commands run as host processes in the \
             sandbox's directory; absolute paths such as /home/user/x written through envd are not \
             visible to them, paths relative to the home are"
        );
        return Commands::Host;
    }
    match namespace::detect(root).await {
        Ok(commands) => commands,
        Err(why) => {
            tracing::warn!(
                "no mount namespace for commands ({why}): they run as host processes in the \
                 sandbox's directory, so absolute paths such as /home/user/x written through envd \
                 are not visible to them (paths relative to the home are); \
                 --no-mount-namespace silences this"
            );
            Commands::Host
        }
    }
}

async fn serve(listener: TcpListener, router: axum::Router, mut stop: watch::Receiver<bool>) {
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(error = %e, "server failed");
    }
}

/// Removes every sandbox (killing its processes) and the root directory.
fn kill_everything(registry: &Registry, root: &Path) {
    for sb in registry.all() {
        registry.remove(&sb.id);
    }
    let _ = std::fs::remove_dir_all(root);
}

impl SimServer {
    /// Current counters.
    pub fn stats(&self) -> Stats {
        stats(&self.registry)
    }

    /// Stops serving (in-flight requests get up to 2 s), kills every sandbox
    /// and removes the working directories.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        for task in std::mem::take(&mut self.tasks) {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        kill_everything(&self.registry, &self.root);
    }

    /// Starts the emulator on its own tokio runtime thread, for callers that
    /// are not async (tests of other crates). Dropping the handle stops it.
    pub fn spawn_blocking(config: SimConfig) -> anyhow::Result<SimHandle> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("e2b-sim".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(anyhow::Error::from(e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    match start(config).await {
                        Ok(server) => {
                            let info = (
                                server.api_url.clone(),
                                server.sandbox_url.clone(),
                                server.domain.clone(),
                                server.registry.clone(),
                            );
                            let _ = ready_tx.send(Ok(info));
                            let _ = stop_rx.await;
                            server.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })?;
        let (api_url, sandbox_url, domain, registry) = ready_rx
            .recv()
            .context("the emulator thread exited before starting")??;
        Ok(SimHandle {
            api_url,
            sandbox_url,
            domain,
            registry,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if !self.tasks.is_empty() {
            let _ = self.stop.send(true);
            for t in &self.tasks {
                t.abort();
            }
            kill_everything(&self.registry, &self.root);
        }
    }
}

/// An emulator running on its own thread ([`SimServer::spawn_blocking`]).
#[derive(Debug)]
pub struct SimHandle {
    /// `E2B_API_URL`.
    pub api_url: String,
    /// `E2B_SANDBOX_URL`.
    pub sandbox_url: String,
    /// `E2B_DOMAIN`.
    pub domain: String,
    /// Every sandbox.
    pub registry: Arc<Registry>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SimHandle {
    /// Current counters.
    pub fn stats(&self) -> Stats {
        stats(&self.registry)
    }

    /// Stops the emulator and waits for its thread (also done on drop).
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
