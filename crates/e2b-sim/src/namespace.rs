//! A sandbox's commands in their own mount namespace, where the sandbox's
//! directory appears at the absolute paths the files API uses: its
//! `home/user`, `root` and `tmp` are bind-mounted on `/home/user`, `/root`
//! and `/tmp`. A file uploaded to `/home/user/x` is then `cat /home/user/x`
//! for a command, as in a real sandbox. Everything else (`/usr`, `/etc`, …)
//! is the host's, read-write as before: this is a view, not a jail.
//!
//! The child enters the namespace between fork and exec
//! (`CommandExt::pre_exec`), where only async-signal-safe work is allowed:
//! [`Plan::new`] prepares every path and the id maps in the parent, and
//! `enter` makes nothing but syscalls (through nix, which passes a `&CStr`
//! through without copying and reports plain errno values). As root it
//! unshares the mount namespace alone; otherwise (or when root may not) a
//! user namespace too, mapping our uid and gid to themselves.
//!
//! [`detect`] tries it once at startup in a throwaway child. Where it fails
//! (no privilege, user namespaces disabled, seccomp) commands stay host
//! processes started in the sandbox's directory ([`Commands::Host`]), and
//! only paths relative to the home are shared between files and commands.

use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use nix::fcntl::{OFlag, open};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, fchdir, mkdir, write};
use serde::Serialize;

/// How a sandbox's commands see its files (`commands` in `GET /_sim/stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Commands {
    /// Host processes started in the sandbox's directory: a command's
    /// `/home/user`, `/root` and `/tmp` are the host's, so only paths
    /// relative to the home mean the same file to the files API and to it.
    #[default]
    Host,
    /// Their own mount namespace (the emulator runs as root).
    MountNamespace,
    /// Their own user and mount namespace (not root, or root without
    /// `CAP_SYS_ADMIN`); our uid and gid are mapped to themselves.
    UserNamespace,
}

impl Commands {
    /// True when commands see the sandbox's trees at their absolute paths.
    pub fn namespaced(self) -> bool {
        self != Self::Host
    }

    /// The name served in `GET /_sim/stats`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::MountNamespace => "mount-namespace",
            Self::UserNamespace => "user-namespace",
        }
    }
}

/// The trees of a sandbox's directory its commands see at the same absolute
/// path, in mount order.
pub const SHARED: [&str; 3] = ["/home/user", "/root", "/tmp"];
const TARGETS: [&CStr; 3] = [c"/home/user", c"/root", c"/tmp"];

/// True when `virtual_path` (absolute, normalised) lies in one of the
/// [`SHARED`] trees, so a command sees the sandbox's file there.
pub fn is_shared(virtual_path: &str) -> bool {
    SHARED.iter().any(|tree| {
        virtual_path
            .strip_prefix(tree)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// Creates the sandbox's [`SHARED`] trees (the bind-mount sources), on
/// every start: a files-API `Remove` may have taken one away.
pub async fn make_dirs(workdir: &Path) -> std::io::Result<()> {
    let workdir = workdir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        SHARED
            .iter()
            .try_for_each(|tree| std::fs::create_dir_all(workdir.join(&tree[1..])))
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Everything the child needs to enter the namespace, prepared before the
/// fork so that `enter` allocates nothing.
#[derive(Debug)]
pub struct Plan {
    /// `"<uid> <uid> 1\n"` and the same for the gid, with a user namespace.
    id_maps: Option<(Vec<u8>, Vec<u8>)>,
    /// The sandbox's trees, in the order of [`TARGETS`].
    sources: [CString; 3],
    /// The host has no `/home/user` to mount on: put a tmpfs on `/home`
    /// (inside the namespace) and make it there.
    home_tmpfs: bool,
    /// Where the command starts, as the sandbox sees it.
    cwd: CString,
}

fn c_path(path: &Path) -> std::io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} contains a NUL byte", path.display()),
        )
    })
}

impl Plan {
    /// The plan for a command of a sandbox in `workdir` that starts in `cwd`
    /// (a sandbox path); `None` with [`Commands::Host`].
    pub fn new(commands: Commands, workdir: &Path, cwd: &str) -> std::io::Result<Option<Self>> {
        let user_namespace = match commands {
            Commands::Host => return Ok(None),
            Commands::MountNamespace => false,
            Commands::UserNamespace => true,
        };
        let id_maps = user_namespace.then(|| {
            let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
            (
                format!("{uid} {uid} 1\n").into_bytes(),
                format!("{gid} {gid} 1\n").into_bytes(),
            )
        });
        let source = |tree: &str| c_path(&workdir.join(&tree[1..]));
        Ok(Some(Self {
            id_maps,
            sources: [source(SHARED[0])?, source(SHARED[1])?, source(SHARED[2])?],
            home_tmpfs: !Path::new("/home/user").is_dir(),
            cwd: c_path(Path::new(cwd))?,
        }))
    }

    /// Makes `command` enter the namespace before it execs.
    pub fn apply(self, command: &mut tokio::process::Command) {
        crate::sys::enter_before_exec(command, self);
    }
}

/// Writes `data` to a /proc file in one `write`, as the id-map files want.
fn write_proc(path: &CStr, data: &[u8]) -> nix::Result<()> {
    let fd = open(path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    write(&fd, data).map(drop)
}

/// Runs in the forked child before exec: syscalls only, on the plan's
/// prepared paths (see the module comment).
pub(crate) fn enter(plan: &Plan) -> std::io::Result<()> {
    let none = None::<&CStr>;
    if let Some((uid_map, gid_map)) = &plan.id_maps {
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS)?;
        // Unprivileged gid maps need setgroups denied first (Linux >= 3.19;
        // older kernels have no such file and need nothing).
        match write_proc(c"/proc/self/setgroups", b"deny") {
            Ok(()) | Err(nix::Error::ENOENT) => {}
            Err(e) => return Err(e.into()),
        }
        write_proc(c"/proc/self/uid_map", uid_map)?;
        write_proc(c"/proc/self/gid_map", gid_map)?;
    } else {
        unshare(CloneFlags::CLONE_NEWNS)?;
    }
    // Nothing mounted here may propagate back to the host.
    mount(
        none,
        c"/",
        none,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        none,
    )?;
    // Open the sources before mounting anything: the sandbox's directory
    // usually lies under the host's /tmp (or maybe /home), which the mounts
    // below cover. Opened after unshare, so they belong to this namespace
    // (bind mounts refuse sources of another one).
    let dir = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let sources = [
        open(plan.sources[0].as_c_str(), dir, Mode::empty())?,
        open(plan.sources[1].as_c_str(), dir, Mode::empty())?,
        open(plan.sources[2].as_c_str(), dir, Mode::empty())?,
    ];
    if plan.home_tmpfs {
        mount(
            Some(c"tmpfs"),
            c"/home",
            Some(c"tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some(c"mode=0755"),
        )?;
        mkdir(c"/home/user", Mode::from_bits_truncate(0o755))?;
    }
    for (source, target) in sources.iter().zip(TARGETS) {
        // "." after fchdir is the opened directory, wherever it is now.
        fchdir(source)?;
        mount(
            Some(c"."),
            target,
            none,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            none,
        )?;
    }
    chdir(plan.cwd.as_c_str())?;
    Ok(())
}

/// Tries the namespace in a throwaway child: a sandbox directory under
/// `root` with a marker file in each shared tree, and `/bin/sh` checking it
/// sees them at their absolute paths, starting in `/home/user`. As root it
/// tries a mount namespace alone first, then with a user namespace.
///
/// `Err` says why neither works, for the startup warning.
pub async fn detect(root: &Path) -> Result<Commands, String> {
    let dir = root.join(".mount-namespace-probe");
    let result = probe_in(&dir).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

const MARKER: &str = ".e2b-sim-probe";

async fn probe_in(dir: &Path) -> Result<Commands, String> {
    make_dirs(dir)
        .await
        .map_err(|e| format!("creating {}: {e}", dir.display()))?;
    for tree in SHARED {
        let marker: PathBuf = dir.join(&tree[1..]).join(MARKER);
        tokio::fs::write(&marker, b"")
            .await
            .map_err(|e| format!("creating {}: {e}", marker.display()))?;
    }
    let kinds: &[Commands] = if nix::unistd::geteuid().is_root() {
        &[Commands::MountNamespace, Commands::UserNamespace]
    } else {
        &[Commands::UserNamespace]
    };
    let mut failures = Vec::new();
    for &kind in kinds {
        match try_kind(kind, dir).await {
            Ok(()) => return Ok(kind),
            Err(e) => failures.push(format!("{}: {e}", kind.name())),
        }
    }
    Err(failures.join("; "))
}

async fn try_kind(kind: Commands, dir: &Path) -> Result<(), String> {
    let plan = Plan::new(kind, dir, SHARED[0])
        .map_err(|e| e.to_string())?
        .ok_or("no plan")?;
    let check = SHARED
        .iter()
        .map(|tree| format!("test -e {tree}/{MARKER}"))
        .chain(["test \"$(pwd -P)\" = /home/user".to_owned()])
        .collect::<Vec<_>>()
        .join(" && ");
    let mut command = tokio::process::Command::new("/bin/sh");
    command
        .args(["-c", &check])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    plan.apply(&mut command);
    let status = command.status().await.map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "the probe did not see its files at {} ({status})",
            SHARED.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_trees() {
        for p in ["/home/user", "/home/user/x", "/root", "/tmp/a/b", "/tmp"] {
            assert!(is_shared(p), "{p}");
        }
        for p in [
            "/",
            "/home",
            "/home/username",
            "/tmpfoo",
            "/usr/bin",
            "/rootx",
        ] {
            assert!(!is_shared(p), "{p}");
        }
    }

    #[test]
    fn stats_names() {
        for c in [
            Commands::Host,
            Commands::MountNamespace,
            Commands::UserNamespace,
        ] {
            assert_eq!(serde_json::to_value(c).unwrap(), c.name());
        }
    }

    #[test]
    fn host_needs_no_plan() {
        assert!(
            Plan::new(Commands::Host, Path::new("/x"), "/home/user")
                .unwrap()
                .is_none()
        );
        let plan = Plan::new(Commands::UserNamespace, Path::new("/w"), "/tmp")
            .unwrap()
            .unwrap();
        assert_eq!(plan.sources[2].as_bytes(), b"/w/tmp");
        assert!(plan.id_maps.unwrap().0.ends_with(b" 1\n"));
    }
}
