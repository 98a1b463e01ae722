//! pip into a venv: one made without pip (fast) that imports the system's
//! pip through a `.pth` line, or, when the system python has no pip, a venv
//! with its own pip from ensurepip (seconds per venv).

use std::path::{Path, PathBuf};
use std::process::Command;

use bench_core::probe::{Context, ProbeOutput};

use super::{Installer, Interrupted, Manager, PkgConfig, python, query, unavailable};

/// Prints the system pip's version and package directory.
const PIP_LOCATE: &str =
    "import os, pip; print(pip.__version__); print(os.path.dirname(os.path.abspath(pip.__file__)))";

/// The timed pip command line, after `DIR/venv/bin/python -m pip`.
const PIP_FLAGS: [&str; 4] = [
    "install",
    "--no-cache-dir",
    "--disable-pip-version-check",
    "--no-input",
];

/// Where a [`LinkedPip`] venv finds pip: `DIR/pip-src/pip` links to the
/// system's pip package, and `DIR/venv/lib/*/site-packages/` gets a `.pth`
/// file naming `DIR/pip-src`. Nothing pip installs can write through the
/// link (a `pip` it installs goes to site-packages itself).
const PIP_SRC: &str = "pip-src";

/// `(version, package directory)` from what [`PIP_LOCATE`] printed.
pub fn parse_pip_location(text: &str) -> Option<(String, PathBuf)> {
    let mut lines = text.lines().map(str::trim);
    let version = lines.next().filter(|v| !v.is_empty())?;
    let dir = lines.next().filter(|d| d.starts_with('/'))?;
    Some((version.to_owned(), PathBuf::from(dir)))
}

/// Finds the Python and its pip; without a pip of its own, each venv gets
/// one from ensurepip.
pub(super) fn plan(
    config: &PkgConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<Option<Box<dyn Installer>>, Interrupted> {
    let Some(python) = python(config) else {
        unavailable(
            out,
            config,
            Manager::Pip,
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
                Box::new(LinkedPip { python, pip_dir })
            }
            None => {
                out.fact(
                    "pip_version",
                    format!("the one ensurepip puts in each venv ({python} has no pip)"),
                );
                Box::new(VenvPip { python })
            }
        },
    ))
}

/// A venv made without pip, which imports the system's pip through a
/// `.pth` line; the venv's python runs it.
pub(super) struct LinkedPip {
    pub(super) python: String,
    pub(super) pip_dir: PathBuf,
}

/// A venv with its own pip (`ensurepip`).
pub(super) struct VenvPip {
    pub(super) python: String,
}

/// `DIR/venv/bin/python -m pip install ... PACKAGE`: what a venv's own pip
/// runs.
fn pip_install(dir: &Path, package: &str) -> Command {
    let mut cmd = Command::new(dir.join("venv/bin/python"));
    cmd.args(["-m", "pip"]).args(PIP_FLAGS).arg(package);
    cmd
}

impl Installer for LinkedPip {
    fn describe(&self) -> String {
        format!(
            "{} -m venv --without-pip DIR/venv, the system pip ({}) put on the venv's sys.path by a .pth file (untimed); timed: DIR/venv/bin/python -m pip {} PACKAGE",
            self.python,
            self.pip_dir.display(),
            PIP_FLAGS.join(" ")
        )
    }

    fn prepare(&self, dir: &Path) -> Option<Command> {
        let mut cmd = Command::new(&self.python);
        cmd.args(["-m", "venv", "--without-pip"])
            .arg(dir.join("venv"));
        Some(cmd)
    }

    fn link(&self, dir: &Path) -> std::io::Result<()> {
        let src = dir.join(PIP_SRC);
        std::fs::create_dir(&src)?;
        std::os::unix::fs::symlink(&self.pip_dir, src.join("pip"))?;
        let site = site_packages(&dir.join("venv"))?;
        let mut line = src.into_os_string().into_encoded_bytes();
        line.push(b'\n');
        std::fs::write(site.join("_e2b_bench_pip.pth"), line)
    }

    fn install(&self, dir: &Path, package: &str) -> Command {
        pip_install(dir, package)
    }
}

impl Installer for VenvPip {
    fn describe(&self) -> String {
        let python = &self.python;
        format!(
            "{python} -m venv DIR/venv, with its own pip from ensurepip as {python} has no pip (untimed); timed: DIR/venv/bin/python -m pip {} PACKAGE",
            PIP_FLAGS.join(" ")
        )
    }

    fn prepare(&self, dir: &Path) -> Option<Command> {
        let mut cmd = Command::new(&self.python);
        cmd.args(["-m", "venv"]).arg(dir.join("venv"));
        Some(cmd)
    }

    fn install(&self, dir: &Path, package: &str) -> Command {
        pip_install(dir, package)
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

#[cfg(test)]
mod tests {
    use super::super::VERSION_TIMEOUT;
    use super::*;
    use crate::probes::child;

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
        let plan = LinkedPip { python, pip_dir };
        let dir = tempfile::tempdir().expect("temp dir");
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
}
