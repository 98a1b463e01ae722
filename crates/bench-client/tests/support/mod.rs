//! Shared by bench-client's end-to-end tests: an emulator on loopback and
//! a bench-client command pointed at it, with the secrets every test
//! checks for in every output.

#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bench_core::schema::ResultDocument;
use e2b_sim::{SimConfig, SimHandle};

pub use bench_testkit::e2e::{find_sample, read_until, wait_for};

/// The API key of every test (an E2B-shaped key, so the redactor's shape
/// rule would catch it too; tests check the value never appears).
pub const KEY: &str = "e2b_51a3c0ffee0123456789abcdef0123456789ab";

/// An emulator with `config` (its key is set here).
pub fn sim(mut config: SimConfig) -> SimHandle {
    config.api_key = KEY.to_owned();
    e2b_sim::SimServer::spawn_blocking(config).expect("start the emulator")
}

/// A no-delay emulator.
pub fn quick_sim() -> SimHandle {
    sim(SimConfig::for_tests(KEY))
}

/// A bench-client command in a fresh directory, aimed at `sim` by
/// E2B_API_URL / E2B_SANDBOX_URL (header routing).
pub struct Client {
    pub dir: tempfile::TempDir,
    pub cmd: Command,
}

impl Client {
    pub fn new(sim: &SimHandle) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-client"));
        cmd.current_dir(dir.path());
        for var in [
            "E2B_API_URL",
            "E2B_SANDBOX_URL",
            "E2B_DOMAIN",
            "E2B_TEMPLATES",
            "E2B_API_KEY",
            "CLOUD_PROVIDER",
            "SSL_CERT_FILE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("E2B_API_KEY", KEY)
            .env("E2B_API_URL", &sim.api_url)
            .env("E2B_SANDBOX_URL", &sim.sandbox_url)
            .env("E2B_DOMAIN", &sim.domain)
            .args(["--cloud", "sim", "--output-dir"])
            .arg(dir.path().join("out"));
        Client { dir, cmd }
    }

    /// Like [`Client::new`] but with no `--output-dir` (for `--output`).
    pub fn without_output_dir(sim: &SimHandle) -> Self {
        let mut client = Client::new(sim);
        let dir = client.dir.path().to_owned();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-client"));
        cmd.current_dir(&dir);
        cmd.env_clear();
        for (k, v) in client.cmd.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        cmd.args(["--cloud", "sim"]);
        client.cmd = cmd;
        client
    }

    pub fn arg_path(mut self, path: &Path) -> Self {
        self.cmd.arg(path);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Self {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.cmd.env(k, v);
        self
    }

    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }

    /// Starts it with stdout discarded and stderr piped; the directory
    /// lives as long as the returned guard.
    pub fn spawn(self) -> (std::process::Child, tempfile::TempDir) {
        let Client { dir, mut cmd } = self;
        let child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        (child, dir)
    }

    /// Runs to the end and asserts its exit code (see [`Client::run`]).
    pub fn run_code(self, code: i32) -> Ran {
        let ran = self.run();
        ran.assert_code(code);
        ran
    }

    /// Runs to the end; panics if a secret shows in its output.
    pub fn run(mut self) -> Ran {
        let out = self.cmd.output().unwrap();
        let ran = Ran { dir: self.dir, out };
        ran.assert_no_secret();
        ran
    }
}

/// A finished bench-client.
pub struct Ran {
    pub dir: tempfile::TempDir,
    pub out: Output,
}

impl Ran {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    /// Asserts the exit code, showing stderr otherwise.
    pub fn assert_code(&self, code: i32) {
        assert_eq!(self.code(), code, "{}", self.stderr());
    }

    /// Asserts that stdout contains `needle`, showing it otherwise.
    pub fn assert_stdout_has(&self, needle: &str) {
        assert!(self.stdout().contains(needle), "{}", self.stdout());
    }

    /// Asserts that stderr contains `needle`, showing it otherwise.
    pub fn assert_stderr_has(&self, needle: &str) {
        assert!(self.stderr().contains(needle), "{}", self.stderr());
    }

    pub fn out_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    pub fn doc(&self, file: &str) -> ResultDocument {
        read_doc(&self.out_dir().join(file))
    }

    pub fn assert_no_secret(&self) {
        assert_no_secret_in(&self.stdout(), "stdout");
        assert_no_secret_in(&self.stderr(), "stderr");
        for file in files(&self.dir.path().join("out")) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            assert_no_secret_in(&text, &file.display().to_string());
        }
    }
}

pub fn assert_no_secret_in(text: &str, what: &str) {
    assert!(!text.contains(KEY), "the API key is in {what}:\n{text}");
}

pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn read_doc(path: &Path) -> ResultDocument {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let errors = bench_testkit::schema_errors(&bytes);
    assert!(errors.is_empty(), "{}: {errors:?}", path.display());
    ResultDocument::from_json(std::str::from_utf8(&bytes).unwrap()).unwrap()
}

/// Server-side TCP connections of the emulator's control plane still open
/// (ESTABLISHED or CLOSE_WAIT in /proc/net/tcp and tcp6 of this process's
/// network namespace). Once a client is dead and this is 0, no request of
/// its is in flight there: hyper closes a connection only after its request
/// is answered or dropped.
pub fn api_connections(sim: &SimHandle) -> usize {
    let port = sim
        .api_url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or_else(|| panic!("no port in {}", sim.api_url));
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|table| std::fs::read_to_string(table).ok())
        .map(|table| {
            table
                .lines()
                .skip(1)
                .filter(|row| {
                    // `sl local_address rem_address st ...`, addresses as HEX_IP:HEX_PORT.
                    let fields: Vec<&str> = row.split_whitespace().collect();
                    let local_port = fields
                        .get(1)
                        .and_then(|a| a.rsplit(':').next())
                        .and_then(|p| u16::from_str_radix(p, 16).ok());
                    local_port == Some(port) && matches!(fields.get(3), Some(&"01" | &"08"))
                })
                .count()
        })
        .sum()
}

/// The samples of `metric`.
pub fn samples<'a>(doc: &'a ResultDocument, metric: &str) -> Vec<&'a bench_core::schema::Sample> {
    doc.samples.iter().filter(|s| s.metric == metric).collect()
}
