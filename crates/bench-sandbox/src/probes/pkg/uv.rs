//! uv pip into a uv venv made from the configured Python.

use std::path::Path;
use std::process::Command;

use bench_core::probe::{Context, ProbeOutput};

use super::{Installer, Interrupted, Manager, PkgConfig, python, unavailable, version};
use crate::probes::child;

/// Finds uv (skipped with a note when nobody asked for it and it is not on
/// PATH) and the Python its venvs are made from.
pub(super) fn plan(
    config: &PkgConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<Option<Box<dyn Installer>>, Interrupted> {
    let Some(uv) = child::which(&config.uv) else {
        if config.uv_required {
            unavailable(
                out,
                config,
                Manager::Uv,
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
    if !version(config, ctx, out, Manager::Uv, &uv, "reinstall uv")? {
        return Ok(None);
    }
    let Some(python) = python(config) else {
        unavailable(
            out,
            config,
            Manager::Uv,
            format!(
                "uv: {} not found (uv's venvs need a Python); install Python 3 or pass --venv-python PATH",
                config.python
            ),
        );
        return Ok(None);
    };
    Ok(Some(Box::new(Uv { uv, python })))
}

/// `uv venv` (untimed), then `uv pip install` into it.
pub(super) struct Uv {
    pub(super) uv: String,
    pub(super) python: String,
}

impl Installer for Uv {
    fn describe(&self) -> String {
        let (uv, python) = (&self.uv, &self.python);
        format!(
            "{uv} venv --no-cache --python {python} DIR/venv (untimed); timed: {uv} pip install --no-cache --python DIR/venv/bin/python PACKAGE"
        )
    }

    fn prepare(&self, dir: &Path) -> Option<Command> {
        let mut cmd = Command::new(&self.uv);
        cmd.args(["venv", "--no-cache", "--python", &self.python])
            .arg(dir.join("venv"))
            // The interpreter is given; never fetch one.
            .env("UV_PYTHON_DOWNLOADS", "never");
        Some(cmd)
    }

    fn install(&self, dir: &Path, package: &str) -> Command {
        let mut cmd = Command::new(&self.uv);
        cmd.args(["pip", "install", "--no-cache", "--python"])
            .arg(dir.join("venv/bin/python"))
            .arg(package);
        cmd
    }
}
