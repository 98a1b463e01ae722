//! npm into a fresh prefix with a fresh cache; nothing to prepare.

use std::path::Path;
use std::process::Command;

use bench_core::probe::{Context, ProbeOutput};

use super::{Installer, Interrupted, Manager, PkgConfig, unavailable, version};
use crate::probes::child;

/// The flags of the timed `npm install`, before `--cache`.
const NPM_FLAGS: [&str; 5] = [
    "install",
    "--no-audit",
    "--no-fund",
    "--no-package-lock",
    "--update-notifier=false",
];

/// Finds npm and records its version.
pub(super) fn plan(
    config: &PkgConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<Option<Box<dyn Installer>>, Interrupted> {
    let Some(npm) = child::which(&config.npm) else {
        unavailable(
            out,
            config,
            Manager::Npm,
            format!(
                "npm: {} not found on PATH; install Node.js (with npm) or pass --npm PATH",
                config.npm
            ),
        );
        return Ok(None);
    };
    let npm = npm.to_string_lossy().into_owned();
    if !version(config, ctx, out, Manager::Npm, &npm, "repair Node.js/npm")? {
        return Ok(None);
    }
    Ok(Some(Box::new(Npm { npm })))
}

/// `npm install` with its cache and prefix in the fresh directory.
pub(super) struct Npm {
    pub(super) npm: String,
}

impl Installer for Npm {
    fn describe(&self) -> String {
        format!(
            "timed: {} {} --cache DIR/cache --prefix DIR/prefix PACKAGE",
            self.npm,
            NPM_FLAGS.join(" ")
        )
    }

    fn install(&self, dir: &Path, package: &str) -> Command {
        let mut cmd = Command::new(&self.npm);
        cmd.args(NPM_FLAGS)
            .arg("--cache")
            .arg(dir.join("cache"))
            .arg("--prefix")
            .arg(dir.join("prefix"))
            .arg(package);
        cmd
    }
}
