//! Package managers: how long pip, npm and uv take to install a package
//! into a fresh environment with nothing cached (`pkg.install_ms{manager,
//! package}`).
//!
//! Every install gets a new temporary directory, removed afterwards on every
//! path. Only the install command is timed (spawn to exit); the environment
//! is prepared beforehand:
//!
//! - pip: `python3 -m venv --without-pip DIR/venv` (0.1 s, where a venv
//!   that bootstraps its own pip with ensurepip takes 3-8 s), and a `.pth`
//!   file that puts the system's pip package on the venv's `sys.path`; then,
//!   timed, `DIR/venv/bin/python -m pip install --no-cache-dir
//!   --disable-pip-version-check --no-input PACKAGE`: exactly what a venv's
//!   own pip runs. (pip's `--python` option would do without the `.pth`, but
//!   it re-executes pip in the venv's interpreter, adding about 0.8 s to every
//!   install.) When the system python has no pip, the venv is made with its
//!   own (`python3 -m venv DIR/venv`), and timed the same way.
//! - npm: timed, `npm install --no-audit --no-fund --no-package-lock
//!   --update-notifier=false --cache DIR/cache --prefix DIR/prefix PACKAGE`
//!   (a fresh cache each time; no update check against the registry).
//! - uv: `uv venv --no-cache --python python3 DIR/venv`, then, timed,
//!   `uv pip install --no-cache --python DIR/venv/bin/python PACKAGE`.
//!
//! One file per manager (`pip.rs`, `npm.rs`, `uv.rs`), each behind
//! [`Installer`]: finding the tool, preparing an environment, the timed
//! install. This file runs them and words the errors.
//!
//! The registries are whatever the tools are configured with; the probe
//! overrides none, but records the index variables that are set
//! (`PIP_INDEX_URL`, `NPM_CONFIG_REGISTRY`, `UV_DEFAULT_INDEX`, …) with any
//! `user:password@` removed.

mod config;
mod npm;
mod pip;
mod uv;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bench_core::contract::metric::PKG_INSTALL_MS;
use bench_core::exit::Failure;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::redact::strip_url_userinfo;
use bench_core::schema::{ErrorKind, Sample};
use bench_core::settings::Settings;
use serde_json::Value;

use super::child::{self, ChildError, Finished};

pub use config::{Manager, PkgArgs, PkgConfig};

/// Deadline of `--version` queries.
const VERSION_TIMEOUT: Duration = Duration::from_secs(60);
/// Lines of a failing tool's stderr kept in the error entry.
const STDERR_LINES: usize = 4;

/// Index variables recorded in the facts when set.
const INDEX_VARS: [&str; 7] = [
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "NPM_CONFIG_REGISTRY",
    "npm_config_registry",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "UV_INDEX",
];

impl ProbeArgs for PkgArgs {
    fn build(&self, quick: bool, _settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        Ok(Box::new(PkgProbe {
            config: PkgConfig::from_args(self, quick)?,
        }))
    }
}

/// The `pkg` probe.
#[derive(Debug, Clone)]
pub struct PkgProbe {
    /// What it runs.
    pub config: PkgConfig,
}

impl Probe for PkgProbe {
    fn name(&self) -> &'static str {
        "pkg"
    }

    fn parameters(&self) -> Value {
        self.config.to_json()
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        run_pkg(&self.config, ctx)
    }
}

const PROBE: &str = "pkg";

/// Ctrl-C: stop everything.
struct Interrupted;

/// How one manager prepares its fresh environments and runs its installs.
/// Each install gets a new directory `dir`; only [`Installer::install`] is
/// timed.
trait Installer {
    /// What the facts say about it (`<manager>_env`).
    fn describe(&self) -> String;

    /// The untimed command that prepares `dir`, if any.
    fn prepare(&self, _dir: &Path) -> Option<Command> {
        None
    }

    /// What remains to prepare after [`Installer::prepare`]'s command ran.
    fn link(&self, _dir: &Path) -> std::io::Result<()> {
        Ok(())
    }

    /// The timed install of `package` into `dir`.
    fn install(&self, dir: &Path, package: &str) -> Command;
}

/// Finds `manager`'s tools and decides how it is run; `Ok(None)` after an
/// error entry (or a note, for a uv nobody asked for) when it cannot run.
fn plan(
    manager: Manager,
    config: &PkgConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<Option<Box<dyn Installer>>, Interrupted> {
    match manager {
        Manager::Pip => pip::plan(config, ctx, out),
        Manager::Npm => npm::plan(config, ctx, out),
        Manager::Uv => uv::plan(config, ctx, out),
    }
}

/// The `unavailable` entry of a manager that cannot run: `why`, and how to
/// leave it out.
fn unavailable(out: &mut ProbeOutput, config: &PkgConfig, manager: Manager, why: String) {
    let others: Vec<&str> = config
        .managers
        .iter()
        .filter(|m| **m != manager)
        .map(|m| m.as_str())
        .collect();
    let skip = if others.is_empty() {
        "skip the pkg probe (--skip pkg)".to_owned()
    } else {
        format!("skip it with --managers {}", others.join(","))
    };
    out.error(PROBE, ErrorKind::Unavailable, format!("{why}, or {skip}"));
}

/// `TOOL --version` as the `<manager>_version` fact; `Ok(false)` after an
/// `unavailable` entry (ending in `fix`) when it fails.
fn version(
    config: &PkgConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
    manager: Manager,
    tool: &str,
    fix: &str,
) -> Result<bool, Interrupted> {
    let name = manager.as_str();
    match query(Command::new(tool).arg("--version"), ctx)? {
        Ok(v) => {
            out.fact(&format!("{name}_version"), v);
            Ok(true)
        }
        Err(why) => {
            let why = format!("{name}: '{tool} --version' failed ({why}); {fix}");
            unavailable(out, config, manager, why);
            Ok(false)
        }
    }
}

/// The configured Python, found on PATH.
fn python(config: &PkgConfig) -> Option<String> {
    child::which(&config.python).map(|p| p.to_string_lossy().into_owned())
}

/// Measures every manager of `config`.
pub fn run_pkg(config: &PkgConfig, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
    let mut out = ProbeOutput::default();
    let indexes: serde_json::Map<String, Value> = INDEX_VARS
        .iter()
        .filter_map(|var| {
            let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
            Some(((*var).to_owned(), strip_url_userinfo(&value).into()))
        })
        .collect();
    if !indexes.is_empty() {
        out.fact("index_env", Value::Object(indexes));
    }
    for &manager in &config.managers {
        if run_manager(manager, config, ctx, &mut out).is_err() {
            if out.samples.is_empty() {
                return Err(ProbeError::Interrupted);
            }
            out.error(
                PROBE,
                ErrorKind::Interrupted,
                "interrupted; the installs that finished are kept",
            );
            break;
        }
    }
    Ok(out)
}

/// Runs `cmd` for a `--version`-like query: its trimmed stdout, or why not.
fn query(cmd: &mut Command, ctx: &Context) -> Result<Result<String, String>, Interrupted> {
    match child::run(cmd, VERSION_TIMEOUT, ctx) {
        Ok(done) if done.status.success() => {
            Ok(Ok(String::from_utf8_lossy(&done.stdout).trim().to_owned()))
        }
        Ok(done) => Ok(Err(format!(
            "exited with {}: {}",
            done.status,
            strip_url_userinfo(&child::tail(&done.stderr, 2))
        ))),
        Err(ChildError::Spawn(e)) => Ok(Err(e.to_string())),
        Err(ChildError::Timeout(_)) => Ok(Err(format!(
            "no answer within {} s",
            VERSION_TIMEOUT.as_secs()
        ))),
        Err(ChildError::Interrupted) => Err(Interrupted),
    }
}

/// All installs of one manager.
fn run_manager(
    manager: Manager,
    config: &PkgConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<(), Interrupted> {
    let Some(plan) = plan(manager, config, ctx, out)? else {
        return Ok(());
    };
    let name = manager.as_str();
    out.fact(&format!("{name}_env"), plan.describe());
    for package in config.packages(manager) {
        ctx.step(
            PROBE,
            &format!(
                "{name} install {package}: {} fresh install(s)",
                config.installs
            ),
        );
        let mut ms = Vec::new();
        for _ in 0..config.installs {
            match install_once(plan.as_ref(), package, config.timeout, ctx) {
                Ok(elapsed) => ms.push(elapsed.as_secs_f64() * 1e3),
                Err(Outcome::Interrupted) => {
                    push_sample(out, manager, package, ms);
                    return Err(Interrupted);
                }
                Err(Outcome::Error(kind, message)) => {
                    out.error(PROBE, kind, format!("{name} install {package}: {message}"));
                    break;
                }
            }
        }
        push_sample(out, manager, package, ms);
    }
    Ok(())
}

fn push_sample(out: &mut ProbeOutput, manager: Manager, package: &str, ms: Vec<f64>) {
    if !ms.is_empty() {
        out.samples.push(
            Sample::from_series(PKG_INSTALL_MS, "ms", ms)
                .label("manager", manager.as_str())
                .label("package", package),
        );
    }
}

/// Why one install produced no time.
enum Outcome {
    Interrupted,
    Error(ErrorKind, String),
}

/// One install into a fresh directory: prepare (untimed), install (timed).
/// The directory is removed afterwards on every path.
fn install_once(
    plan: &dyn Installer,
    package: &str,
    timeout: Duration,
    ctx: &Context,
) -> Result<Duration, Outcome> {
    let dir = tempfile::Builder::new()
        .prefix("e2b-bench-pkg-")
        .tempdir()
        .map_err(|e| {
            Outcome::Error(
                ErrorKind::Failed,
                format!(
                    "cannot create a directory in {}: {e}",
                    std::env::temp_dir().display()
                ),
            )
        })?;
    let result = install_in(plan, dir.path(), package, timeout, ctx);
    let path = dir.path().to_owned();
    // TempDir's Drop would remove it too, but silently.
    if let Err(e) = dir.close() {
        tracing::warn!("pkg: could not remove {}: {e}", path.display());
    }
    result
}

/// [`install_once`] in the directory `dir`.
fn install_in(
    plan: &dyn Installer,
    dir: &Path,
    package: &str,
    timeout: Duration,
    ctx: &Context,
) -> Result<Duration, Outcome> {
    if let Some(mut prepare) = plan.prepare(dir) {
        let done = finished(
            child::run(&mut prepare, timeout, ctx),
            "preparing the environment",
            timeout,
        )?;
        if !done.status.success() {
            return Err(Outcome::Error(
                ErrorKind::Failed,
                format!(
                    "preparing the environment failed ({}): {}; on Debian/Ubuntu, apt-get install python3-venv python3-pip",
                    done.status,
                    strip_url_userinfo(&child::tail(&done.stderr, STDERR_LINES))
                ),
            ));
        }
    }
    plan.link(dir).map_err(|e| {
        Outcome::Error(
            ErrorKind::Failed,
            format!("preparing the environment: linking pip into the venv: {e}"),
        )
    })?;
    let done = finished(
        child::run(&mut plan.install(dir, package), timeout, ctx),
        "install",
        timeout,
    )?;
    if !done.status.success() {
        let stderr = if done.stderr.iter().any(|b| !b.is_ascii_whitespace()) {
            &done.stderr
        } else {
            &done.stdout
        };
        return Err(Outcome::Error(
            ErrorKind::Failed,
            format!(
                "failed ({}): {}",
                done.status,
                strip_url_userinfo(&child::tail(stderr, STDERR_LINES))
            ),
        ));
    }
    Ok(done.elapsed)
}

/// A child that ran to its exit, or the outcome that stops this package.
fn finished(
    result: Result<Finished, ChildError>,
    what: &str,
    timeout: Duration,
) -> Result<Finished, Outcome> {
    match result {
        Ok(done) => Ok(done),
        Err(ChildError::Interrupted) => Err(Outcome::Interrupted),
        Err(ChildError::Timeout(stderr)) => Err(Outcome::Error(
            ErrorKind::Timeout,
            format!(
                "{what} still running after {} s (--install-timeout), killed; last output: {}",
                timeout.as_secs_f64(),
                strip_url_userinfo(&child::tail(&stderr, STDERR_LINES))
            ),
        )),
        Err(ChildError::Spawn(e)) => Err(Outcome::Error(
            ErrorKind::Failed,
            format!("{what}: cannot start: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_the_documented_ones() {
        let line = |cmd: &Command| {
            std::iter::once(cmd.get_program())
                .chain(cmd.get_args())
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        const PIP: &str = "-m pip install --no-cache-dir --disable-pip-version-check --no-input";
        /// Installer, prepare, install of `requests`, describe.
        type Case = (Box<dyn Installer>, Option<&'static str>, String, String);
        let cases: [Case; 4] = [
            (
                Box::new(pip::LinkedPip {
                    python: "/usr/bin/python3".into(),
                    pip_dir: "/usr/lib/python3/dist-packages/pip".into(),
                }),
                Some("/usr/bin/python3 -m venv --without-pip /tmp/x/venv"),
                format!("/tmp/x/venv/bin/python {PIP} requests"),
                format!(
                    "/usr/bin/python3 -m venv --without-pip DIR/venv, the system pip (/usr/lib/python3/dist-packages/pip) put on the venv's sys.path by a .pth file (untimed); timed: DIR/venv/bin/python {PIP} PACKAGE"
                ),
            ),
            (
                Box::new(pip::VenvPip {
                    python: "python3".into(),
                }),
                Some("python3 -m venv /tmp/x/venv"),
                format!("/tmp/x/venv/bin/python {PIP} requests"),
                format!(
                    "python3 -m venv DIR/venv, with its own pip from ensurepip as python3 has no pip (untimed); timed: DIR/venv/bin/python {PIP} PACKAGE"
                ),
            ),
            (
                Box::new(npm::Npm { npm: "npm".into() }),
                None,
                "npm install --no-audit --no-fund --no-package-lock --update-notifier=false --cache /tmp/x/cache --prefix /tmp/x/prefix requests".into(),
                "timed: npm install --no-audit --no-fund --no-package-lock --update-notifier=false --cache DIR/cache --prefix DIR/prefix PACKAGE".into(),
            ),
            (
                Box::new(uv::Uv {
                    uv: "uv".into(),
                    python: "/usr/bin/python3".into(),
                }),
                Some("uv venv --no-cache --python /usr/bin/python3 /tmp/x/venv"),
                "uv pip install --no-cache --python /tmp/x/venv/bin/python requests".into(),
                "uv venv --no-cache --python /usr/bin/python3 DIR/venv (untimed); timed: uv pip install --no-cache --python DIR/venv/bin/python PACKAGE".into(),
            ),
        ];
        let dir = Path::new("/tmp/x");
        for (installer, prepare, install, describe) in cases {
            assert_eq!(
                installer.prepare(dir).as_ref().map(line).as_deref(),
                prepare
            );
            assert_eq!(line(&installer.install(dir, "requests")), install);
            assert_eq!(installer.describe(), describe);
        }
    }

    #[test]
    fn temp_dirs_are_removed_on_every_path() {
        /// Prepares by writing a tree into `dir`, records where, then fails.
        struct Fails(std::sync::Mutex<Option<std::path::PathBuf>>);
        impl Installer for Fails {
            fn describe(&self) -> String {
                "timed: false".into()
            }
            fn link(&self, dir: &Path) -> std::io::Result<()> {
                std::fs::create_dir_all(dir.join("a/b"))?;
                std::fs::write(dir.join("a/b/c"), "x")?;
                *self.0.lock().expect("not poisoned") = Some(dir.to_owned());
                Ok(())
            }
            fn install(&self, _dir: &Path, _package: &str) -> Command {
                Command::new("false")
            }
        }
        let plan = Fails(std::sync::Mutex::new(None));
        let ctx = Context::uninterruptible();
        let outcome = install_once(&plan, "x", Duration::from_secs(30), &ctx);
        assert!(
            matches!(&outcome, Err(Outcome::Error(ErrorKind::Failed, m)) if m.starts_with("failed (exit status: 1)")),
            "{:?}",
            outcome.as_ref().err().map(|o| match o {
                Outcome::Error(_, m) => m.as_str(),
                Outcome::Interrupted => "interrupted",
            })
        );
        let dir = plan
            .0
            .lock()
            .expect("not poisoned")
            .take()
            .expect("link ran");
        assert!(
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("e2b-bench-pkg-"))
        );
        assert!(!dir.exists(), "{} was left behind", dir.display());
    }
}
