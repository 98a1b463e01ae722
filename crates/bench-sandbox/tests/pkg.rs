//! bench-sandbox's `pkg` probe end to end, against a package registry on
//! loopback (bench_testkit::registry): real pip, npm and uv install a tiny
//! package into fresh environments, and the registry's request log proves
//! every install downloaded it.
//!
//! uv comes from `E2B_BENCH_UV` (scripts/test-tools.sh); without it the uv
//! part is skipped, unless `E2B_BENCH_REQUIRE_SERVICES=1`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use assert_cmd::Command;
use bench_core::schema::{ErrorKind, ResultDocument};
use bench_testkit::e2e::{HANG, wait_for, wait_or_kill};
use bench_testkit::registry::{NPM_PACKAGE, PY_PACKAGE, Registry};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{document, document_from, stderr, usage_error};

/// The uv binary to test with, if any.
fn uv() -> Option<PathBuf> {
    match std::env::var_os("E2B_BENCH_UV").filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None if std::env::var("E2B_BENCH_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!(
                "E2B_BENCH_REQUIRE_SERVICES=1 but E2B_BENCH_UV is not set; source scripts/test-tools.sh"
            )
        }
        None => {
            eprintln!(
                "skipping the uv part: E2B_BENCH_UV is not set (source scripts/test-tools.sh)"
            );
            None
        }
    }
}

/// A scratch area for one run: HOME, TMPDIR and a bin directory of its own.
struct Scratch {
    root: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        let root = tempfile::tempdir().expect("tempdir");
        for sub in ["home", "tmp", "bin"] {
            std::fs::create_dir(root.path().join(sub)).expect("create scratch dir");
        }
        // The real interpreter, not a pyenv-style shim (which needs its own
        // HOME and PATH).
        let out = std::process::Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("these tests need python3 on PATH");
        let python = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        std::os::unix::fs::symlink(python, root.path().join("bin/python3")).expect("symlink");
        Scratch { root }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.root.path().join(sub)
    }

    /// The binary with nothing of the user's environment: PATH is the bin
    /// directory plus `extra`, HOME and TMPDIR are scratch directories, and
    /// no pip/npm/uv configuration file is read.
    fn std_command(&self, extra_path: &[PathBuf]) -> std::process::Command {
        let mut path = vec![self.path("bin")];
        path.extend(extra_path.iter().cloned());
        let mut cmd = std::process::Command::new(support::BIN);
        cmd.current_dir(self.root.path())
            .env_clear()
            .env("PATH", std::env::join_paths(path).expect("PATH"))
            .env("HOME", self.path("home"))
            .env("TMPDIR", self.path("tmp"))
            .env("PIP_CONFIG_FILE", "/dev/null")
            .env("NPM_CONFIG_USERCONFIG", self.path("home/.npmrc"))
            .env("UV_NO_CONFIG", "1");
        cmd
    }

    /// [`Scratch::std_command`] for assert_cmd.
    fn command(&self, extra_path: &[PathBuf]) -> Command {
        Command::from_std(self.std_command(extra_path))
    }

    /// A fake `npm` in the bin directory: answers `--version`, then runs
    /// `install_body` (shell) for anything else.
    fn fake_npm(&self, install_body: &str) {
        let fake = self.path("bin/npm");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 10.0.0; exit 0; fi\n{install_body}\n"
            ),
        )
        .expect("write fake npm");
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod fake npm");
    }

    /// Every temporary directory the probe made is gone.
    fn assert_tmp_empty(&self) {
        let left: Vec<_> = std::fs::read_dir(self.path("tmp"))
            .expect("read TMPDIR")
            .map(|e| e.expect("dir entry").file_name())
            .collect();
        assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
    }
}

/// The directory holding `npm` (and `node`) on this machine.
fn npm_dir() -> PathBuf {
    let out = std::process::Command::new("sh")
        .args(["-c", "command -v npm"])
        .output()
        .expect("sh runs");
    let npm = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!npm.is_empty(), "these tests need npm (Node.js) on PATH");
    Path::new(&npm)
        .parent()
        .expect("npm has a directory")
        .to_owned()
}

fn with_registry(cmd: &mut Command, registry: &Registry) {
    cmd.env("PIP_INDEX_URL", registry.pypi_url())
        .env("NPM_CONFIG_REGISTRY", registry.npm_url())
        .env("UV_DEFAULT_INDEX", registry.pypi_url());
}

/// `(manager, package, observations)` of every install sample.
fn installs(doc: &ResultDocument) -> Vec<(String, String, usize)> {
    doc.samples
        .iter()
        .map(|s| {
            assert_eq!(
                (s.metric.as_str(), s.unit.as_str()),
                ("pkg.install_ms", "ms")
            );
            assert!(s.value > 0.0 && s.raw.iter().all(|ms| *ms > 0.0), "{s:?}");
            (
                s.labels["manager"].clone(),
                s.labels["package"].clone(),
                s.raw.len(),
            )
        })
        .collect()
}

fn row(manager: &str, package: &str, n: usize) -> (String, String, usize) {
    (manager.to_owned(), package.to_owned(), n)
}

#[test]
fn every_manager_installs_from_the_registry_every_time() {
    let registry = Registry::start();
    let scratch = Scratch::new();
    let uv = uv();
    let mut path = vec![npm_dir()];
    let mut managers = "pip,npm".to_owned();
    if let Some(uv) = &uv {
        path.push(uv.parent().expect("uv's directory").to_owned());
        managers.push_str(",uv");
    }
    let mut cmd = scratch.command(&path);
    with_registry(&mut cmd, &registry);
    // A password in the index URL reaches pip, never the document.
    let with_password = registry
        .pypi_url()
        .replace("http://", "http://e2buser:e2bsecret@");
    let out = cmd
        .env("PIP_INDEX_URL", &with_password)
        .args(["pkg", "--quick", "--installs", "2", "--managers", &managers])
        .args(["--pip-package", PY_PACKAGE, "--uv-package", PY_PACKAGE])
        .args(["--npm-package", NPM_PACKAGE])
        .output()
        .expect("run bench-sandbox");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = document(&out);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);

    let mut expected = vec![row("pip", PY_PACKAGE, 2), row("npm", NPM_PACKAGE, 2)];
    if uv.is_some() {
        expected.push(row("uv", PY_PACKAGE, 2));
    }
    assert_eq!(installs(&doc), expected);

    // Nothing came from a cache: every install fetched the package.
    assert_eq!(registry.downloads(&registry.wheel_path(), "pip/"), 2);
    assert_eq!(registry.downloads(&registry.tarball_path(), "npm/"), 2);
    if uv.is_some() {
        assert_eq!(registry.downloads(&registry.wheel_path(), "uv/"), 2);
    }

    let facts = &doc.parameters["pkg"];
    assert_eq!(facts["index_env"]["PIP_INDEX_URL"], registry.pypi_url());
    assert_eq!(
        facts["index_env"]["NPM_CONFIG_REGISTRY"],
        registry.npm_url()
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("e2bsecret") && !text.contains("e2buser"),
        "{text}"
    );
    assert!(
        facts["pip_version"]
            .as_str()
            .is_some_and(|v| v.starts_with("pip ")),
        "{facts}"
    );
    assert!(facts["npm_version"].as_str().is_some(), "{facts}");
    assert!(
        facts["pip_env"]
            .as_str()
            .is_some_and(|e| e.contains("venv")),
        "{facts}"
    );
    assert!(
        facts["npm_env"]
            .as_str()
            .is_some_and(|e| e.contains("--cache")),
        "{facts}"
    );
    if uv.is_some() {
        assert!(
            facts["uv_version"]
                .as_str()
                .is_some_and(|v| v.starts_with("uv ")),
            "{facts}"
        );
    }
    scratch.assert_tmp_empty();
}

#[test]
fn an_unknown_package_fails_and_the_rest_is_measured() {
    let registry = Registry::start();
    let scratch = Scratch::new();
    let mut cmd = scratch.command(&[npm_dir()]);
    with_registry(&mut cmd, &registry);
    let out = cmd
        .args(["pkg", "--quick", "--managers", "pip,npm"])
        .args([
            "--pip-package",
            "e2b-bench-no-such-pkg",
            "--pip-package",
            PY_PACKAGE,
        ])
        .args([
            "--npm-package",
            "e2b-bench-no-such-npm",
            "--npm-package",
            NPM_PACKAGE,
        ])
        .output()
        .expect("run bench-sandbox");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = document(&out);
    assert_eq!(
        installs(&doc),
        [row("pip", PY_PACKAGE, 1), row("npm", NPM_PACKAGE, 1)]
    );
    assert_eq!(doc.errors.len(), 2, "{:?}", doc.errors);
    for (error, manager, package) in [
        (&doc.errors[0], "pip", "e2b-bench-no-such-pkg"),
        (&doc.errors[1], "npm", "e2b-bench-no-such-npm"),
    ] {
        assert_eq!(
            (error.probe.as_str(), error.kind),
            ("pkg", ErrorKind::Failed)
        );
        assert!(
            error
                .message
                .starts_with(&format!("{manager} install {package}: failed")),
            "{}",
            error.message
        );
        assert!(!error.message.contains('\n'), "{}", error.message);
    }
    // The tool's own words are kept (pip: no matching distribution; npm: 404).
    assert!(
        doc.errors[0].message.contains("e2b-bench-no-such-pkg"),
        "{}",
        doc.errors[0].message
    );
    assert!(
        doc.errors[1].message.contains("404"),
        "{}",
        doc.errors[1].message
    );
    scratch.assert_tmp_empty();
}

#[test]
fn a_manager_missing_from_path_is_unavailable() {
    let registry = Registry::start();
    let scratch = Scratch::new();
    // PATH holds python3 only: pip runs, npm is missing, uv (not asked for
    // by name) is skipped without an error.
    let mut cmd = scratch.command(&[]);
    with_registry(&mut cmd, &registry);
    let out = cmd
        .args(["pkg", "--quick", "--pip-package", PY_PACKAGE])
        .output()
        .expect("run bench-sandbox");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = document(&out);
    assert_eq!(installs(&doc), [row("pip", PY_PACKAGE, 1)]);
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(doc.errors[0].kind, ErrorKind::Unavailable);
    let message = &doc.errors[0].message;
    assert!(
        message.starts_with("npm: npm not found on PATH") && message.contains("--managers pip,uv"),
        "{message}"
    );
    assert!(
        doc.parameters["pkg"]["uv_skipped"].as_str().is_some(),
        "{:?}",
        doc.parameters
    );

    // Asked for by name, a missing uv is an error entry too.
    let out = scratch
        .command(&[])
        .args(["pkg", "--quick", "--managers", "uv"])
        .output()
        .expect("run bench-sandbox");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = document(&out);
    assert!(doc.samples.is_empty());
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(doc.errors[0].kind, ErrorKind::Unavailable);
    assert!(
        doc.errors[0].message.starts_with("uv: uv not found"),
        "{}",
        doc.errors[0].message
    );
    scratch.assert_tmp_empty();
}

#[test]
fn an_install_past_its_deadline_is_killed() {
    let scratch = Scratch::new();
    // An "npm" that answers --version and then hangs on install.
    // It would hang for 10 minutes: the bound below proves the kill and
    // leaves a loaded machine minutes of room.
    scratch.fake_npm("echo resolving >&2\nexec /bin/sleep 600");
    let started = Instant::now();
    let out = scratch
        .command(&[])
        .args([
            "pkg",
            "--managers",
            "npm",
            "--installs",
            "3",
            "--install-timeout",
            "1s",
        ])
        .output()
        .expect("run bench-sandbox");
    assert!(started.elapsed() < HANG, "took {:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = document(&out);
    assert!(doc.samples.is_empty());
    // One timeout ends that package: no second hanging install.
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(doc.errors[0].kind, ErrorKind::Timeout);
    let message = &doc.errors[0].message;
    assert!(
        message.starts_with("npm install lodash: install still running after 1 s")
            && message.contains("resolving"),
        "{message}"
    );
    scratch.assert_tmp_empty();
}

#[test]
fn ctrl_c_kills_the_install_and_removes_its_directory() {
    let scratch = Scratch::new();
    let pid_file = scratch.path("npm.pid");
    // The install and its timeout would last 10 minutes: only the signal
    // can end the run within wait_or_kill's hang guard.
    scratch.fake_npm(&format!(
        "echo $$ > {}\nexec /bin/sleep 600",
        pid_file.display()
    ));
    let mut child = scratch
        .std_command(&[])
        .args(["pkg", "--managers", "npm", "--install-timeout", "600s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start bench-sandbox");
    let mut npm_pid = None;
    wait_for("the fake npm to start", || {
        npm_pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok());
        npm_pid.is_some()
    });
    let npm_pid = npm_pid.expect("set by wait_for");
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("a pid fits pid_t"));
    kill(pid, Signal::SIGINT).expect("SIGINT to bench-sandbox");
    let status = wait_or_kill(&mut child, "bench-sandbox pkg after SIGINT");
    assert_eq!(status.code(), Some(130));
    let mut stdout = Vec::new();
    std::io::Read::read_to_end(&mut child.stdout.take().expect("stdout"), &mut stdout)
        .expect("read stdout");
    let doc = document_from(&stdout, "after SIGINT");
    assert!(doc.samples.is_empty());
    assert!(
        doc.errors.iter().any(|e| e.kind == ErrorKind::Interrupted),
        "{:?}",
        doc.errors
    );
    // The install was killed (and reaped), and its directory removed.
    // No signal: kill(2) only checks that the pid exists.
    let alive = kill(Pid::from_raw(npm_pid), None).is_ok();
    assert!(!alive, "the fake npm (pid {npm_pid}) survived");
    scratch.assert_tmp_empty();
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let skip_others = "--skip=cpu,memory,disk,network,python";
    for (args, flag) in [
        (&["pkg", "--managers", "pip,yarn"][..], "--managers"),
        (&["pkg", "--installs", "0"][..], "--installs"),
        (
            &["pkg", "--install-timeout", "soon"][..],
            "--install-timeout",
        ),
        (&["pkg", "--pip-package=-r"][..], "--pip-package"),
        (&["pkg", "--npm-package", "a b"][..], "--npm-package"),
        // `run` takes the same flags.
        (&["run", skip_others, "--managers", "apt"][..], "--managers"),
    ] {
        usage_error(dir.path(), args, flag);
    }
}
