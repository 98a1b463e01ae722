//! Shared state of the emulator: the sandboxes and the counters. The control
//! plane (`api`) creates, pauses and kills sandboxes here; the proxy and envd
//! (`proxy`, `envd`) look them up by id to serve their files and processes.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::namespace::Commands;
use crate::process_table::ProcessTable;

/// Lifecycle state as the API reports it (`running`, `paused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxState {
    /// Serving envd.
    Running,
    /// Paused: envd answers as E2B's proxy does for a paused sandbox.
    Paused,
}

/// One emulated sandbox.
#[derive(Debug)]
pub struct Sandbox {
    /// 20 lower-case alphanumerics (E2B's id format).
    pub id: String,
    /// Template it was created from.
    pub template_id: String,
    /// Alias the template was requested by, if any.
    pub alias: Option<String>,
    /// `envdAccessToken` when created with `secure: true`.
    pub access_token: Option<String>,
    /// User metadata from the create request.
    pub metadata: BTreeMap<String, String>,
    /// Environment variables given at create time (`GET /envs`, processes).
    pub env_vars: BTreeMap<String, String>,
    /// When it started.
    pub started_at: SystemTime,
    /// Mutable part: state and expiry.
    pub life: Mutex<Life>,
    /// Private directory, the sandbox's `/`: files resolve here, and its
    /// `home/user`, `root` and `tmp` are what commands see at `/home/user`,
    /// `/root` and `/tmp` (or, with [`Commands::Host`], commands run in it).
    pub workdir: PathBuf,
    /// How its commands see its files.
    pub commands: Commands,
    /// Processes started through envd; all are killed with the sandbox.
    pub processes: ProcessTable,
}

/// The part of a sandbox that changes.
#[derive(Debug, Clone)]
pub struct Life {
    /// Running or paused.
    pub state: SandboxState,
    /// When it expires (killed, or paused with autoPause).
    pub end_at: SystemTime,
    /// Pause instead of kill at expiry.
    pub auto_pause: bool,
}

/// Counters served at `GET /_sim/stats`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Sandboxes created.
    pub created: AtomicU64,
    /// Killed by DELETE.
    pub killed: AtomicU64,
    /// Expired at their timeout.
    pub expired: AtomicU64,
}

impl Counters {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every sandbox, by id.
#[derive(Debug, Default)]
pub struct Registry {
    sandboxes: Mutex<HashMap<String, Arc<Sandbox>>>,
    /// Counters.
    pub counters: Counters,
    commands: Commands,
}

impl Registry {
    /// An empty registry whose new sandboxes run commands this way
    /// (`Registry::default()`: [`Commands::Host`]).
    pub fn new(commands: Commands) -> Self {
        Self {
            commands,
            ..Self::default()
        }
    }

    /// How commands of new sandboxes see their files.
    pub fn commands(&self) -> Commands {
        self.commands
    }

    /// The sandbox with this id, if it exists (running or paused).
    pub fn get(&self, id: &str) -> Option<Arc<Sandbox>> {
        self.lock().get(id).cloned()
    }

    /// Adds a sandbox.
    pub fn insert(&self, sandbox: Arc<Sandbox>) {
        self.lock().insert(sandbox.id.clone(), sandbox);
    }

    /// Removes a sandbox and kills its processes; its directory is removed.
    pub fn remove(&self, id: &str) -> Option<Arc<Sandbox>> {
        let sandbox = self.lock().remove(id)?;
        sandbox.processes.kill_all();
        discard_dir(&sandbox.workdir);
        Some(sandbox)
    }

    /// All sandboxes (a snapshot).
    pub fn all(&self) -> Vec<Arc<Sandbox>> {
        self.lock().values().cloned().collect()
    }

    /// Number of sandboxes alive (running or paused).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Sandbox>>> {
        self.sandboxes.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Registry {
    /// Number of running sandboxes (the concurrency limit counts these).
    pub fn running_count(&self) -> usize {
        self.lock()
            .values()
            .filter(|s| {
                s.life
                    .lock()
                    .map(|l| l.state == SandboxState::Running)
                    .unwrap_or(true)
            })
            .count()
    }
}

/// Removes a sandbox's directory without making the caller (a DELETE, say)
/// wait for it: the tree is renamed aside at once (one syscall, so the path
/// is gone when this returns) and deleted on a blocking thread. Deleting a
/// tree a process has run in costs ~0.7 ms here, which a zero-latency
/// emulator would otherwise add to every kill a client times.
fn discard_dir(dir: &std::path::Path) {
    let mut doomed = dir.as_os_str().to_owned();
    // Sandbox ids are alphanumeric, so no sandbox directory ends like this.
    doomed.push(".gone");
    let doomed = PathBuf::from(doomed);
    match (
        std::fs::rename(dir, &doomed),
        tokio::runtime::Handle::try_current(),
    ) {
        (Ok(()), Ok(runtime)) => {
            runtime.spawn_blocking(move || std::fs::remove_dir_all(doomed));
        }
        (Ok(()), Err(_)) => {
            let _ = std::fs::remove_dir_all(doomed);
        }
        (Err(_), _) => {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
