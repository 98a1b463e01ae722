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
//! The registries are whatever the tools are configured with; the probe
//! overrides none, but records the index variables that are set
//! (`PIP_INDEX_URL`, `NPM_CONFIG_REGISTRY`, `UV_DEFAULT_INDEX`, …) with any
//! `user:password@` removed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bench_core::exit::Failure;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::schema::{ErrorKind, Sample};
use bench_core::settings::Settings;
use serde_json::{Value, json};

use super::child::{self, ChildError, Finished};

/// Installs per package.
pub const DEFAULT_INSTALLS: usize = 3;
/// … with `--quick`.
pub const QUICK_INSTALLS: usize = 1;
/// Longest one install may take.
pub const DEFAULT_INSTALL_TIMEOUT: Duration = Duration::from_secs(300);
/// … with `--quick`.
pub const QUICK_INSTALL_TIMEOUT: Duration = Duration::from_secs(60);
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

/// Flags of the `pkg` probe.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PkgArgs {
    /// Package pip installs; repeat for several (a requirement such as requests==2.32.3 works) [default: requests]
    #[arg(long, value_name = "NAME")]
    pub pip_package: Vec<String>,
    /// Package npm installs; repeat for several (name or name@version) [default: lodash]
    #[arg(long, value_name = "NAME")]
    pub npm_package: Vec<String>,
    /// Package uv installs; repeat for several [default: requests]
    #[arg(long, value_name = "NAME")]
    pub uv_package: Vec<String>,
    /// Package managers to time, comma-separated, of pip, npm, uv [default: pip,npm,uv; uv only when it is on PATH or --uv is given]
    #[arg(long, value_name = "NAME,...")]
    pub managers: Option<String>,
    /// Installs of each package, each into a fresh environment with an empty cache [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub installs: Option<String>,
    /// Longest one install may take before it is killed (e.g. 300s, 2m) [default: 300s; 60s with --quick]
    #[arg(long, value_name = "DURATION")]
    pub install_timeout: Option<String>,
    /// Python that creates the environments, and runs pip [default: python3 on PATH]
    #[arg(long, value_name = "PATH")]
    pub venv_python: Option<String>,
    /// npm to run [default: npm on PATH]
    #[arg(long, value_name = "PATH")]
    pub npm: Option<String>,
    /// uv to run; implies timing uv [default: uv on PATH, timed only when found]
    #[arg(long, value_name = "PATH")]
    pub uv: Option<String>,
}

impl ProbeArgs for PkgArgs {
    fn build(&self, quick: bool, _settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        Ok(Box::new(PkgProbe {
            config: PkgConfig::from_args(self, quick)?,
        }))
    }
}

/// A package manager the probe times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
    /// pip into a venv.
    Pip,
    /// npm into a prefix.
    Npm,
    /// uv pip into a uv venv.
    Uv,
}

impl Manager {
    const ALL: [Manager; 3] = [Manager::Pip, Manager::Npm, Manager::Uv];

    /// The name used in labels and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            Manager::Pip => "pip",
            Manager::Npm => "npm",
            Manager::Uv => "uv",
        }
    }
}

/// A validated `pkg` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct PkgConfig {
    /// Managers, in the order they run.
    pub managers: Vec<Manager>,
    /// True when uv was asked for (by `--managers` or `--uv`): then a
    /// missing uv is an `unavailable` entry rather than a skip.
    pub uv_required: bool,
    /// Packages of pip.
    pub pip_packages: Vec<String>,
    /// Packages of npm.
    pub npm_packages: Vec<String>,
    /// Packages of uv.
    pub uv_packages: Vec<String>,
    /// Installs per package.
    pub installs: usize,
    /// Deadline of one install (and of preparing its environment).
    pub timeout: Duration,
    /// Python that creates venvs and runs pip.
    pub python: String,
    /// npm.
    pub npm: String,
    /// uv.
    pub uv: String,
}

impl PkgConfig {
    /// Applies the defaults (which depend on `quick`) and validates the
    /// flags; the error names the flag.
    pub fn from_args(args: &PkgArgs, quick: bool) -> Result<Self, Failure> {
        let (managers, explicit) = match &args.managers {
            None => (Manager::ALL.to_vec(), false),
            Some(text) => (parse_managers(text)?, true),
        };
        let uv_required = managers.contains(&Manager::Uv) && (explicit || args.uv.is_some());
        let packages = |flag: &str, given: &[String], default: &str| {
            if given.is_empty() {
                return Ok(vec![default.to_owned()]);
            }
            let mut packages: Vec<String> = Vec::new();
            for p in given {
                check_package(flag, p)?;
                if !packages.contains(p) {
                    packages.push(p.clone());
                }
            }
            Ok::<_, Failure>(packages)
        };
        let installs = match &args.installs {
            None if quick => QUICK_INSTALLS,
            None => DEFAULT_INSTALLS,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    return Err(Failure::usage(format!(
                        "--installs '{text}': must be a whole number between 1 and 100"
                    )));
                }
            },
        };
        let timeout = match &args.install_timeout {
            None if quick => QUICK_INSTALL_TIMEOUT,
            None => DEFAULT_INSTALL_TIMEOUT,
            Some(text) => {
                let d = bench_core::units::parse_duration(text)
                    .map_err(|e| Failure::usage(format!("--install-timeout {e}")))?;
                if d < Duration::from_secs(1) {
                    return Err(Failure::usage(format!(
                        "--install-timeout '{text}': must be at least 1s; use e.g. 300s or 5m"
                    )));
                }
                d
            }
        };
        let program = |flag: &str, given: &Option<String>, default: &str| match given {
            Some(p) if p.trim().is_empty() => Err(Failure::usage(format!(
                "{flag} '': give the program's path or name"
            ))),
            Some(p) => Ok(p.clone()),
            None => Ok(default.to_owned()),
        };
        Ok(PkgConfig {
            uv_required,
            pip_packages: packages("--pip-package", &args.pip_package, "requests")?,
            npm_packages: packages("--npm-package", &args.npm_package, "lodash")?,
            uv_packages: packages("--uv-package", &args.uv_package, "requests")?,
            managers,
            installs,
            timeout,
            python: program("--venv-python", &args.venv_python, "python3")?,
            npm: program("--npm", &args.npm, "npm")?,
            uv: program("--uv", &args.uv, "uv")?,
        })
    }

    /// The packages of `manager`.
    pub fn packages(&self, manager: Manager) -> &[String] {
        match manager {
            Manager::Pip => &self.pip_packages,
            Manager::Npm => &self.npm_packages,
            Manager::Uv => &self.uv_packages,
        }
    }

    /// What the document's `parameters.pkg` records.
    pub fn to_json(&self) -> Value {
        json!({
            "managers": self.managers.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "pip_packages": self.pip_packages,
            "npm_packages": self.npm_packages,
            "uv_packages": self.uv_packages,
            "installs": self.installs,
            "install_timeout_s": self.timeout.as_secs_f64(),
        })
    }
}

/// `pip,npm` → managers, duplicates dropped, order kept.
fn parse_managers(text: &str) -> Result<Vec<Manager>, Failure> {
    let mut managers = Vec::new();
    for item in text.split(',').map(str::trim) {
        let manager = Manager::ALL
            .into_iter()
            .find(|m| m.as_str() == item)
            .ok_or_else(|| {
                Failure::usage(format!(
                    "--managers '{text}': '{item}' is not a package manager; use some of pip, npm, uv"
                ))
            })?;
        if !managers.contains(&manager) {
            managers.push(manager);
        }
    }
    Ok(managers)
}

/// A package argument must be one word that no tool reads as an option.
fn check_package(flag: &str, package: &str) -> Result<(), Failure> {
    if package.is_empty()
        || package.starts_with('-')
        || package.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Failure::usage(format!(
            "{flag} '{package}': not a package name; use e.g. requests, requests==2.32.3 or lodash@4"
        )));
    }
    Ok(())
}

/// `text` with the `user:password@` of every URL in it removed.
pub fn strip_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| {
                matches!(c, '/' | '?' | '#') || c.is_whitespace() || "\"'<>".contains(c)
            })
            .unwrap_or(tail.len());
        match tail[..authority_end].rfind('@') {
            Some(userinfo_end) => rest = &tail[userinfo_end + 1..],
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// Prints the system pip's version and package directory.
const PIP_LOCATE: &str =
    "import os, pip; print(pip.__version__); print(os.path.dirname(os.path.abspath(pip.__file__)))";

/// `(version, package directory)` from what [`PIP_LOCATE`] printed.
pub fn parse_pip_location(text: &str) -> Option<(String, PathBuf)> {
    let mut lines = text.lines().map(str::trim);
    let version = lines.next().filter(|v| !v.is_empty())?;
    let dir = lines.next().filter(|d| d.starts_with('/'))?;
    Some((version.to_owned(), PathBuf::from(dir)))
}

/// A temporary directory, removed (with everything in it) when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir();
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default();
            let path = base.join(format!(
                "e2b-bench-pkg-{}-{n}-{nanos:x}",
                std::process::id()
            ));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(TempDir(path)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!("pkg: could not remove {}: {e}", self.0.display());
        }
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

/// How a manager's environments are prepared and its installs run.
enum Plan {
    /// A venv made without pip (fast), which imports the system's pip
    /// through a `.pth` line; the venv's python runs it.
    LinkedPip {
        python: String,
        pip_dir: PathBuf,
    },
    /// A venv with its own pip (`ensurepip`: seconds per venv), when the
    /// system python has no pip of its own.
    VenvPip {
        python: String,
    },
    Npm {
        npm: String,
    },
    Uv {
        uv: String,
        python: String,
    },
}

/// Where a [`Plan::LinkedPip`] venv finds pip: `DIR/pip-src/pip` links to
/// the system's pip package, and `DIR/venv/lib/*/site-packages/` gets a
/// `.pth` file naming `DIR/pip-src`. Nothing pip installs can write through
/// the link (a `pip` it installs goes to site-packages itself).
const PIP_SRC: &str = "pip-src";

impl Plan {
    /// What the facts say about it.
    fn describe(&self) -> String {
        const PIP_FLAGS: &str =
            "install --no-cache-dir --disable-pip-version-check --no-input PACKAGE";
        match self {
            Plan::LinkedPip { python, pip_dir } => format!(
                "{python} -m venv --without-pip DIR/venv, the system pip ({}) put on the venv's sys.path by a .pth file (untimed); timed: DIR/venv/bin/python -m pip {PIP_FLAGS}",
                pip_dir.display()
            ),
            Plan::VenvPip { python } => format!(
                "{python} -m venv DIR/venv, with its own pip from ensurepip as {python} has no pip (untimed); timed: DIR/venv/bin/python -m pip {PIP_FLAGS}"
            ),
            Plan::Npm { npm } => format!(
                "timed: {npm} install --no-audit --no-fund --no-package-lock --update-notifier=false --cache DIR/cache --prefix DIR/prefix PACKAGE"
            ),
            Plan::Uv { uv, python } => format!(
                "{uv} venv --no-cache --python {python} DIR/venv (untimed); timed: {uv} pip install --no-cache --python DIR/venv/bin/python PACKAGE"
            ),
        }
    }

    /// The untimed command that prepares `dir`, if any.
    fn prepare(&self, dir: &Path) -> Option<Command> {
        let venv = dir.join("venv");
        match self {
            Plan::LinkedPip { python, .. } => {
                let mut cmd = Command::new(python);
                cmd.args(["-m", "venv", "--without-pip"]).arg(&venv);
                Some(cmd)
            }
            Plan::VenvPip { python } => {
                let mut cmd = Command::new(python);
                cmd.args(["-m", "venv"]).arg(&venv);
                Some(cmd)
            }
            Plan::Npm { .. } => None,
            Plan::Uv { uv, python } => {
                let mut cmd = Command::new(uv);
                cmd.args(["venv", "--no-cache", "--python", python])
                    .arg(&venv)
                    // The interpreter is given; never fetch one.
                    .env("UV_PYTHON_DOWNLOADS", "never");
                Some(cmd)
            }
        }
    }

    /// What remains to prepare after [`Plan::prepare`]'s command ran.
    fn link(&self, dir: &Path) -> std::io::Result<()> {
        let Plan::LinkedPip { pip_dir, .. } = self else {
            return Ok(());
        };
        let src = dir.join(PIP_SRC);
        std::fs::create_dir(&src)?;
        std::os::unix::fs::symlink(pip_dir, src.join("pip"))?;
        let site = site_packages(&dir.join("venv"))?;
        let mut line = src.into_os_string().into_encoded_bytes();
        line.push(b'\n');
        std::fs::write(site.join("_e2b_bench_pip.pth"), line)
    }

    /// The timed install of `package` into `dir`.
    fn install(&self, dir: &Path, package: &str) -> Command {
        let venv_python = dir.join("venv/bin/python");
        const PIP_FLAGS: [&str; 4] = [
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
        ];
        match self {
            Plan::LinkedPip { .. } | Plan::VenvPip { .. } => {
                let mut cmd = Command::new(&venv_python);
                cmd.args(["-m", "pip"]).args(PIP_FLAGS).arg(package);
                cmd
            }
            Plan::Npm { npm } => {
                let mut cmd = Command::new(npm);
                cmd.args([
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--no-package-lock",
                    "--update-notifier=false",
                    "--cache",
                ])
                .arg(dir.join("cache"))
                .arg("--prefix")
                .arg(dir.join("prefix"))
                .arg(package);
                cmd
            }
            Plan::Uv { uv, .. } => {
                let mut cmd = Command::new(uv);
                cmd.args(["pip", "install", "--no-cache", "--python"])
                    .arg(&venv_python)
                    .arg(package);
                cmd
            }
        }
    }
}

/// The one `lib/*/site-packages` directory of a venv.
fn site_packages(venv: &Path) -> std::io::Result<PathBuf> {
    let lib = venv.join("lib");
    for entry in std::fs::read_dir(&lib)? {
        let site = entry?.path().join("site-packages");
        if site.is_dir() {
            return Ok(site);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("no site-packages under {}", lib.display()),
    ))
}

/// Measures every manager of `config`.
pub fn run_pkg(config: &PkgConfig, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
    let mut out = ProbeOutput::default();
    let indexes: serde_json::Map<String, Value> = INDEX_VARS
        .iter()
        .filter_map(|var| {
            let value = std::env::var(var).ok().filter(|v| !v.trim().is_empty())?;
            Some(((*var).to_owned(), strip_userinfo(&value).into()))
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
            strip_userinfo(&child::tail(&done.stderr, 2))
        ))),
        Err(ChildError::Spawn(e)) => Ok(Err(e.to_string())),
        Err(ChildError::Timeout(_)) => Ok(Err(format!(
            "no answer within {} s",
            VERSION_TIMEOUT.as_secs()
        ))),
        Err(ChildError::Interrupted) => Err(Interrupted),
    }
}

/// Finds a manager's tools and decides how it is run; `Ok(None)` after an
/// error entry (or a note, for a uv nobody asked for) when it cannot run.
fn plan(
    manager: Manager,
    config: &PkgConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<Option<Plan>, Interrupted> {
    let unavailable = |out: &mut ProbeOutput, why: String| {
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
    };
    let python = || child::which(&config.python).map(|p| p.to_string_lossy().into_owned());
    match manager {
        Manager::Pip => {
            let Some(python) = python() else {
                unavailable(
                    out,
                    format!(
                        "pip: {} not found (needed for pip and its venvs); install Python 3 or pass --venv-python PATH",
                        config.python
                    ),
                );
                return Ok(None);
            };
            let located = query(Command::new(&python).args(["-c", PIP_LOCATE]), ctx)?;
            Ok(Some(
                match located.ok().as_deref().and_then(parse_pip_location) {
                    Some((version, pip_dir)) => {
                        out.fact(
                            "pip_version",
                            format!("pip {version} from {}", pip_dir.display()),
                        );
                        Plan::LinkedPip { python, pip_dir }
                    }
                    None => {
                        out.fact(
                            "pip_version",
                            format!("the one ensurepip puts in each venv ({python} has no pip)"),
                        );
                        Plan::VenvPip { python }
                    }
                },
            ))
        }
        Manager::Npm => {
            let Some(npm) = child::which(&config.npm) else {
                unavailable(
                    out,
                    format!(
                        "npm: {} not found on PATH; install Node.js (with npm) or pass --npm PATH",
                        config.npm
                    ),
                );
                return Ok(None);
            };
            let npm = npm.to_string_lossy().into_owned();
            match query(Command::new(&npm).arg("--version"), ctx)? {
                Ok(v) => out.fact("npm_version", v),
                Err(why) => {
                    unavailable(
                        out,
                        format!("npm: '{npm} --version' failed ({why}); repair Node.js/npm"),
                    );
                    return Ok(None);
                }
            }
            Ok(Some(Plan::Npm { npm }))
        }
        Manager::Uv => {
            let Some(uv) = child::which(&config.uv) else {
                if config.uv_required {
                    unavailable(
                        out,
                        format!(
                            "uv: {} not found; install uv (https://docs.astral.sh/uv/) or pass --uv PATH",
                            config.uv
                        ),
                    );
                } else {
                    out.fact(
                        "uv_skipped",
                        "uv is not on PATH (pass --uv PATH or --managers ...,uv to require it)",
                    );
                }
                return Ok(None);
            };
            let uv = uv.to_string_lossy().into_owned();
            match query(Command::new(&uv).arg("--version"), ctx)? {
                Ok(v) => out.fact("uv_version", v),
                Err(why) => {
                    unavailable(
                        out,
                        format!("uv: '{uv} --version' failed ({why}); reinstall uv"),
                    );
                    return Ok(None);
                }
            }
            let Some(python) = python() else {
                unavailable(
                    out,
                    format!(
                        "uv: {} not found (uv's venvs need a Python); install Python 3 or pass --venv-python PATH",
                        config.python
                    ),
                );
                return Ok(None);
            };
            Ok(Some(Plan::Uv { uv, python }))
        }
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
            match install_once(&plan, package, config.timeout, ctx) {
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
            Sample::from_series("pkg.install_ms", "ms", ms)
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
fn install_once(
    plan: &Plan,
    package: &str,
    timeout: Duration,
    ctx: &Context,
) -> Result<Duration, Outcome> {
    let dir = TempDir::new().map_err(|e| {
        Outcome::Error(
            ErrorKind::Failed,
            format!(
                "cannot create a directory in {}: {e}",
                std::env::temp_dir().display()
            ),
        )
    })?;
    if let Some(mut prepare) = plan.prepare(dir.path()) {
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
                    strip_userinfo(&child::tail(&done.stderr, STDERR_LINES))
                ),
            ));
        }
    }
    plan.link(dir.path()).map_err(|e| {
        Outcome::Error(
            ErrorKind::Failed,
            format!("preparing the environment: linking pip into the venv: {e}"),
        )
    })?;
    let done = finished(
        child::run(&mut plan.install(dir.path(), package), timeout, ctx),
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
                strip_userinfo(&child::tail(stderr, STDERR_LINES))
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
                strip_userinfo(&child::tail(&stderr, STDERR_LINES))
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
    fn defaults_depend_on_quick() {
        let c = PkgConfig::from_args(&PkgArgs::default(), false).expect("defaults");
        assert_eq!(c.managers, [Manager::Pip, Manager::Npm, Manager::Uv]);
        assert!(!c.uv_required);
        assert_eq!(c.pip_packages, ["requests"]);
        assert_eq!(c.npm_packages, ["lodash"]);
        assert_eq!(c.uv_packages, ["requests"]);
        assert_eq!(c.installs, 3);
        assert_eq!(c.timeout, Duration::from_secs(300));
        assert_eq!(
            (c.python.as_str(), c.npm.as_str(), c.uv.as_str()),
            ("python3", "npm", "uv")
        );
        let q = PkgConfig::from_args(&PkgArgs::default(), true).expect("quick");
        assert_eq!((q.installs, q.timeout), (1, Duration::from_secs(60)));

        let c = PkgConfig::from_args(
            &PkgArgs {
                pip_package: vec!["six==1.16.0".into(), "idna".into(), "six==1.16.0".into()],
                npm_package: vec!["@types/node@20".into()],
                managers: Some("npm, pip,npm".into()),
                installs: Some("2".into()),
                install_timeout: Some("2m".into()),
                ..PkgArgs::default()
            },
            false,
        )
        .expect("valid flags");
        assert_eq!(c.managers, [Manager::Npm, Manager::Pip]);
        assert_eq!(c.pip_packages, ["six==1.16.0", "idna"]);
        assert_eq!(c.npm_packages, ["@types/node@20"]);
        assert_eq!((c.installs, c.timeout), (2, Duration::from_secs(120)));
        assert_eq!(c.to_json()["managers"], json!(["npm", "pip"]));

        // uv is required once asked for by name or path.
        let asked = |managers: Option<&str>, uv: Option<&str>| {
            PkgConfig::from_args(
                &PkgArgs {
                    managers: managers.map(str::to_owned),
                    uv: uv.map(str::to_owned),
                    ..PkgArgs::default()
                },
                true,
            )
            .expect("valid")
            .uv_required
        };
        assert!(asked(Some("uv"), None));
        assert!(asked(None, Some("/opt/uv")));
        assert!(!asked(Some("pip"), Some("/opt/uv")));
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let cases = [
            (
                PkgArgs {
                    managers: Some("pip,yarn".into()),
                    ..PkgArgs::default()
                },
                "--managers",
            ),
            (
                PkgArgs {
                    managers: Some("".into()),
                    ..PkgArgs::default()
                },
                "--managers",
            ),
            (
                PkgArgs {
                    installs: Some("0".into()),
                    ..PkgArgs::default()
                },
                "--installs",
            ),
            (
                PkgArgs {
                    install_timeout: Some("10ms".into()),
                    ..PkgArgs::default()
                },
                "--install-timeout",
            ),
            (
                PkgArgs {
                    install_timeout: Some("later".into()),
                    ..PkgArgs::default()
                },
                "--install-timeout",
            ),
            (
                PkgArgs {
                    pip_package: vec!["--index-url=http://x".into()],
                    ..PkgArgs::default()
                },
                "--pip-package",
            ),
            (
                PkgArgs {
                    npm_package: vec!["a b".into()],
                    ..PkgArgs::default()
                },
                "--npm-package",
            ),
            (
                PkgArgs {
                    uv_package: vec!["".into()],
                    ..PkgArgs::default()
                },
                "--uv-package",
            ),
            (
                PkgArgs {
                    uv: Some(" ".into()),
                    ..PkgArgs::default()
                },
                "--uv",
            ),
        ];
        for (args, flag) in cases {
            let e = PkgConfig::from_args(&args, false).expect_err(flag);
            assert_eq!(e.code, bench_core::exit::USAGE);
            assert!(e.message.starts_with(flag), "{}", e.message);
            assert!(!e.message.contains('\n'), "{}", e.message);
        }
    }

    #[test]
    fn userinfo_is_stripped_from_urls() {
        assert_eq!(
            strip_userinfo(
                "Looking in indexes: https://user:s3cret@pypi.example.com/simple/ and more"
            ),
            "Looking in indexes: https://pypi.example.com/simple/ and more"
        );
        assert_eq!(
            strip_userinfo("http://token@127.0.0.1:8080, https://a:b@c.d"),
            "http://127.0.0.1:8080, https://c.d"
        );
        // An @ after the host is not userinfo.
        assert_eq!(
            strip_userinfo("https://registry.npmjs.org/@types%2fnode x@y"),
            "https://registry.npmjs.org/@types%2fnode x@y"
        );
        assert_eq!(strip_userinfo("no url here"), "no url here");
        assert_eq!(strip_userinfo("odd ://"), "odd ://");
    }

    #[test]
    fn pip_locations_parse() {
        assert_eq!(
            parse_pip_location("23.2.1\n/usr/lib/python3/dist-packages/pip\n"),
            Some((
                "23.2.1".to_owned(),
                PathBuf::from("/usr/lib/python3/dist-packages/pip")
            ))
        );
        assert_eq!(parse_pip_location(""), None);
        assert_eq!(parse_pip_location("23.2.1\n"), None);
        assert_eq!(parse_pip_location("23.2.1\nrelative/pip"), None);
    }

    #[test]
    fn a_linked_pip_runs_in_a_venv_made_without_pip() {
        let Some(python) = child::which("python3") else {
            eprintln!("skipped: no python3 on PATH");
            return;
        };
        let python = python.to_string_lossy().into_owned();
        let ctx = Context::uninterruptible();
        let located = child::run(
            Command::new(&python).args(["-c", PIP_LOCATE]),
            VERSION_TIMEOUT,
            &ctx,
        )
        .expect("python3 runs");
        let Some((version, pip_dir)) =
            parse_pip_location(&String::from_utf8_lossy(&located.stdout))
        else {
            eprintln!("skipped: python3 has no pip");
            return;
        };
        let plan = Plan::LinkedPip { python, pip_dir };
        let dir = TempDir::new().expect("temp dir");
        let done = child::run(
            &mut plan.prepare(dir.path()).expect("a venv command"),
            VERSION_TIMEOUT,
            &ctx,
        )
        .expect("venv runs");
        assert!(done.status.success(), "{}", child::tail(&done.stderr, 5));
        plan.link(dir.path()).expect("link pip");
        let done = child::run(
            Command::new(dir.path().join("venv/bin/python")).args(["-m", "pip", "--version"]),
            VERSION_TIMEOUT,
            &ctx,
        )
        .expect("the venv's python runs");
        let printed = String::from_utf8_lossy(&done.stdout);
        assert!(done.status.success(), "{}", child::tail(&done.stderr, 5));
        assert!(printed.starts_with(&format!("pip {version} ")), "{printed}");
    }

    #[test]
    fn temp_dirs_are_removed() {
        let dir = TempDir::new().expect("create temp dir");
        let path = dir.path().to_owned();
        std::fs::create_dir_all(path.join("a/b")).expect("nested dir");
        std::fs::write(path.join("a/b/c"), "x").expect("file");
        let other = TempDir::new().expect("a second one");
        assert_ne!(other.path(), path);
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn commands_are_the_documented_ones() {
        let dir = Path::new("/tmp/x");
        let args = |cmd: &Command| {
            std::iter::once(cmd.get_program())
                .chain(cmd.get_args())
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let pip = Plan::LinkedPip {
            python: "/usr/bin/python3".into(),
            pip_dir: "/usr/lib/python3/dist-packages/pip".into(),
        };
        assert_eq!(
            args(&pip.prepare(dir).expect("a venv")),
            "/usr/bin/python3 -m venv --without-pip /tmp/x/venv"
        );
        assert_eq!(
            args(&pip.install(dir, "requests")),
            "/tmp/x/venv/bin/python -m pip install --no-cache-dir --disable-pip-version-check --no-input requests"
        );
        let npm = Plan::Npm { npm: "npm".into() };
        assert!(npm.prepare(dir).is_none());
        assert_eq!(
            args(&npm.install(dir, "lodash")),
            "npm install --no-audit --no-fund --no-package-lock --update-notifier=false --cache /tmp/x/cache --prefix /tmp/x/prefix lodash"
        );
        let uv = Plan::Uv {
            uv: "uv".into(),
            python: "/usr/bin/python3".into(),
        };
        assert_eq!(
            args(&uv.prepare(dir).expect("a venv")),
            "uv venv --no-cache --python /usr/bin/python3 /tmp/x/venv"
        );
        assert_eq!(
            args(&uv.install(dir, "requests")),
            "uv pip install --no-cache --python /tmp/x/venv/bin/python requests"
        );
        let old = Plan::VenvPip {
            python: "python3".into(),
        };
        assert_eq!(
            args(&old.prepare(dir).expect("a venv")),
            "python3 -m venv /tmp/x/venv"
        );
        assert!(
            args(&old.install(dir, "six"))
                .starts_with("/tmp/x/venv/bin/python -m pip install --no-cache-dir")
        );
        for plan in [pip, npm, uv, old] {
            assert!(plan.describe().contains("timed"));
        }
    }
}
