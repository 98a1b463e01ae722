//! Running one child process for a probe: output captured (never inherited:
//! our stdout carries only the result document), a deadline, Ctrl-C
//! honoured, and the wall time from spawn to exit.
//!
//! The child leads its own process group, so Ctrl-C on the terminal reaches
//! only us, and a kill (deadline, interrupt) takes the whole group: pip's or
//! npm's own children go too. A dedicated thread blocks in `wait()` and
//! notes the instant the child exited, so the measured time does not depend
//! on how often the deadline and the interrupt flag are polled (every
//! [`POLL`]). That thread waits without reaping (`waitid(WNOWAIT)`), so the
//! group id stays ours until the rest of the group has been killed too: no
//! stray process keeps our pipes (and the reader threads) open.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bench_core::probe::Context;
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

/// How often the deadline and the interrupt flag are checked.
const POLL: Duration = Duration::from_millis(20);

/// A child that exited by itself.
#[derive(Debug)]
pub(crate) struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote on stderr.
    pub stderr: Vec<u8>,
    /// From just before spawn to the exit.
    pub elapsed: Duration,
}

/// Why a child did not exit by itself.
#[derive(Debug)]
pub(crate) enum ChildError {
    /// It could not be started (`NotFound`: no such program).
    Spawn(std::io::Error),
    /// The deadline passed; the child (and its group) was killed. Holds what
    /// it had written on stderr.
    Timeout(Vec<u8>),
    /// Ctrl-C; the child (and its group) was killed.
    Interrupted,
}

/// Runs `cmd` (stdin null, stdout and stderr captured) until it exits, the
/// `timeout` passes or `ctx` is interrupted; in the last two cases its
/// process group is killed and reaped before this returns.
pub(crate) fn run(
    cmd: &mut Command,
    timeout: Duration,
    ctx: &Context,
) -> Result<Finished, ChildError> {
    if ctx.interrupted() {
        return Err(ChildError::Interrupted);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(ChildError::Spawn)?;
    let pid = child.id();
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let exited = wait_exited(pid);
        let _ = tx.send(Instant::now());
        exited.and_then(|()| child.wait())
    });
    let deadline = started + timeout;
    let mut ended = None;
    let killed = loop {
        match rx.recv_timeout(POLL) {
            Ok(at) => {
                ended = Some(at);
                break None;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break None,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if ctx.interrupted() {
                    break Some(ChildError::Interrupted);
                }
                if Instant::now() >= deadline {
                    break Some(ChildError::Timeout(Vec::new()));
                }
            }
        }
    };
    // The leader is reaped only after this, so `pid` still names our group.
    kill_group(pid);
    let status = waiter
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let stdout = collect(stdout);
    let stderr = collect(stderr);
    match killed {
        Some(ChildError::Timeout(_)) => return Err(ChildError::Timeout(stderr)),
        Some(other) => return Err(other),
        None => {}
    }
    let status = status.map_err(ChildError::Spawn)?;
    let elapsed = ended.unwrap_or_else(Instant::now).duration_since(started);
    Ok(Finished {
        status,
        stdout,
        stderr,
        elapsed,
    })
}

/// Reads a pipe to its end on a thread of its own.
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn collect(reader: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    reader
        .map(|r| r.join().unwrap_or_default())
        .unwrap_or_default()
}

/// Blocks until child `pid` has exited, leaving it a zombie (not reaped):
/// its pid, and so its process group id, cannot be reused until
/// `Child::wait` reaps it.
fn wait_exited(pid: u32) -> std::io::Result<()> {
    let pid = Pid::from_raw(pid_t(pid)?);
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// SIGKILL to every process of group `pgid` (a child started with
/// `process_group(0)`, so its pid is the group id). Errors (ESRCH: the group
/// is already gone) are ignored.
fn kill_group(pgid: u32) {
    // pgid > 1 is the group our unreaped child leads (see `wait_exited`);
    // killpg(1) or (0) would reach init's group or our own.
    match pid_t(pgid) {
        Ok(pgid) if pgid > 1 => {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
        _ => {}
    }
}

/// A child id as the kernel's signed `pid_t`.
fn pid_t(pid: u32) -> std::io::Result<i32> {
    i32::try_from(pid).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("process id {pid} is out of range"),
        )
    })
}

/// The last `lines` non-empty lines of a tool's output, joined with ` | `
/// (an error entry's message is one line).
pub(crate) fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let kept: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    kept[kept.len().saturating_sub(lines)..].join(" | ")
}

/// Where `program` would be found: itself when it contains a `/`, else the
/// first executable file of that name on `PATH`.
pub(crate) fn which(program: &str) -> Option<PathBuf> {
    let executable = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = PathBuf::from(program);
        return executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_status() {
        let ctx = Context::uninterruptible();
        let done = run(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
            &ctx,
        )
        .expect("sh runs");
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(done.stdout, b"out\n");
        assert_eq!(done.stderr, b"err\n");
        assert!(done.elapsed < Duration::from_secs(10));
    }

    #[test]
    fn elapsed_is_the_child_s_lifetime() {
        let ctx = Context::uninterruptible();
        let done = run(
            Command::new("sleep").arg("0.25"),
            Duration::from_secs(10),
            &ctx,
        )
        .expect("sleep runs");
        assert!(done.status.success());
        // At least the child's life; the upper bound is loose (a loaded
        // 2-core CI machine can delay the waiter thread) but still far
        // below what the 10 s deadline or a hung cleanup would give.
        assert!(
            done.elapsed >= Duration::from_millis(250) && done.elapsed < Duration::from_secs(3),
            "{:?}",
            done.elapsed
        );
    }

    #[test]
    fn a_deadline_kills_the_whole_group() {
        let ctx = Context::uninterruptible();
        let started = Instant::now();
        // The grandchild (sleep) holds the pipes; the kill must reach it too.
        let err = run(
            Command::new("sh").args(["-c", "echo partial >&2; sleep 30 & wait"]),
            Duration::from_millis(300),
            &ctx,
        )
        .expect_err("the deadline passes");
        // Well under the 30 s the grandchild would live if the kill missed it.
        assert!(started.elapsed() < Duration::from_secs(20));
        match err {
            ChildError::Timeout(stderr) => assert_eq!(stderr, b"partial\n"),
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn an_interrupt_kills_the_child() {
        let interrupt = bench_core::interrupt::Interrupt::new();
        let ctx = Context::new(interrupt.clone());
        let trigger = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            interrupt.trigger();
        });
        let started = Instant::now();
        let err = run(
            Command::new("sleep").arg("30"),
            Duration::from_secs(60),
            &ctx,
        )
        .expect_err("interrupted");
        trigger.join().expect("trigger thread");
        assert!(matches!(err, ChildError::Interrupted), "{err:?}");
        // Well under the 30 s sleep would live if the kill missed it.
        assert!(started.elapsed() < Duration::from_secs(20));
        // Already interrupted: nothing is started.
        assert!(matches!(
            run(&mut Command::new("true"), Duration::from_secs(1), &ctx),
            Err(ChildError::Interrupted)
        ));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        let ctx = Context::uninterruptible();
        match run(
            &mut Command::new("/nonexistent/e2b-bench-tool"),
            Duration::from_secs(1),
            &ctx,
        ) {
            Err(ChildError::Spawn(e)) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
            other => panic!("expected a spawn error, got {other:?}"),
        }
        assert!(which("/nonexistent/e2b-bench-tool").is_none());
        assert!(which("sh").is_some());
        assert!(which("e2b-bench-no-such-tool").is_none());
    }

    #[test]
    fn tail_keeps_the_last_non_empty_lines() {
        assert_eq!(tail(b"a\n\nb\n  c  \n\n", 2), "b | c");
        assert_eq!(tail(b"only", 5), "only");
        assert_eq!(tail(b"", 3), "");
    }
}
