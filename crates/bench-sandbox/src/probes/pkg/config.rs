//! The `pkg` probe's flags, their defaults and their validation.

use std::time::Duration;

use bench_core::exit::Failure;
use serde_json::{Value, json};

/// Installs per package.
pub const DEFAULT_INSTALLS: usize = 3;
/// … with `--quick`.
pub const QUICK_INSTALLS: usize = 1;
/// Longest one install may take.
pub const DEFAULT_INSTALL_TIMEOUT: Duration = Duration::from_secs(300);
/// … with `--quick`.
pub const QUICK_INSTALL_TIMEOUT: Duration = Duration::from_secs(60);

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
            Some(text) => bench_core::units::parse_duration_in(text, Duration::from_secs(1)..)
                .map_err(|e| Failure::usage(format!("--install-timeout {e}")))?,
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
}
