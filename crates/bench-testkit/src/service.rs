//! Local test services (moto, Azurite) as child processes on free loopback
//! ports: found through an environment variable or PATH, skipped (or failed
//! with `E2B_BENCH_REQUIRE_SERVICES=1`) when absent, killed when dropped.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::client::http;

/// Finds a service executable: the path in `env_var`, else `exe` on PATH.
/// When absent, fails the test if `E2B_BENCH_REQUIRE_SERVICES=1`, else
/// prints `skipped: ...` to stderr and returns `None`.
pub fn service(exe: &str, env_var: &str) -> Option<PathBuf> {
    let found = match std::env::var_os(env_var) {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "{env_var}={} does not exist; run `source scripts/test-tools.sh`",
                p.display()
            );
            Some(p)
        }
        _ => on_path(exe),
    };
    if found.is_none() {
        let why = format!(
            "{exe} not found ({env_var} unset and not on PATH); run `source scripts/test-tools.sh` to install it"
        );
        if std::env::var("E2B_BENCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("E2B_BENCH_REQUIRE_SERVICES=1 but {why}");
        }
        eprintln!("skipped: {why}");
    }
    found
}

fn on_path(exe: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(exe))
        .find(|p| p.is_file())
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// `export NAME=value` lines, as an `.e2b_env` (or `--env-file`) holds them.
pub fn exports<K: AsRef<str>, V: AsRef<str>>(vars: &[(K, V)]) -> String {
    vars.iter()
        .map(|(k, v)| format!("export {}={}\n", k.as_ref(), v.as_ref()))
        .collect()
}

/// A server process, killed (and reaped) on drop.
pub struct Server {
    child: Child,
    /// The loopback port it listens on.
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `exe args...` (with its output in a log file, without the
    /// cloud variables of this process) and waits until an HTTP request to
    /// `port` gets any response.
    pub fn start(exe: &Path, args: &[&str], port: u16) -> Server {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).expect("server log file");
        let mut cmd = Command::new(exe);
        // A server is configured by its arguments only: the developer's
        // cloud settings (an AWS_PROFILE moto cannot find makes it answer
        // 500) are not its business.
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if ["AWS_", "AZURE_", "AZURITE_", "GOOGLE_"]
                .iter()
                .any(|p| name.starts_with(p))
            {
                cmd.env_remove(&key);
            }
        }
        let child = cmd
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("server log file"))
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = Server {
            child,
            port,
            log,
            _dir: dir,
        };
        server.wait_ready(Duration::from_secs(30));
        server
    }

    fn wait_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited early ({status}): {}", self.log_text());
            }
            if http(self.port, "GET", "/", &[], b"").is_ok() {
                return;
            }
            if started.elapsed() > limit {
                panic!("server not ready after {limit:?}: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's output so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
