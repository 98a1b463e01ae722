//! The processes one sandbox started through envd, by pid. Each runs in its
//! own process group; `kill_all` kills every group when the sandbox goes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use serde_json::Value;
use tokio::process::ChildStdin;

/// One running process.
#[derive(Debug, Clone)]
pub struct ProcessEntry {
    /// Its pid (also its process-group id).
    pub pid: u32,
    /// The tag given at start, if any.
    pub tag: Option<String>,
    /// The `ProcessConfig` from the start request (`cmd`, `args`, `envs`, `cwd`).
    pub config: Value,
    /// Its stdin, when started with one.
    pub stdin: Option<Arc<tokio::sync::Mutex<ChildStdin>>>,
}

/// Processes of one sandbox.
#[derive(Debug, Default)]
pub struct ProcessTable {
    entries: Mutex<BTreeMap<u32, ProcessEntry>>,
}

impl ProcessTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, ProcessEntry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a started process.
    pub fn insert(&self, entry: ProcessEntry) {
        self.lock().insert(entry.pid, entry);
    }

    /// Forgets a process that ended.
    pub fn remove(&self, pid: u32) -> Option<ProcessEntry> {
        self.lock().remove(&pid)
    }

    /// The process with this pid.
    pub fn by_pid(&self, pid: u32) -> Option<ProcessEntry> {
        self.lock().get(&pid).cloned()
    }

    /// The (first) process with this tag.
    pub fn by_tag(&self, tag: &str) -> Option<ProcessEntry> {
        self.lock()
            .values()
            .find(|e| e.tag.as_deref() == Some(tag))
            .cloned()
    }

    /// All processes, by pid.
    pub fn list(&self) -> Vec<ProcessEntry> {
        self.lock().values().cloned().collect()
    }

    /// Number of running processes.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when none runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Kills every process group (SIGKILL): the sandbox is going away.
    pub fn kill_all(&self) {
        let entries = std::mem::take(&mut *self.lock());
        for pid in entries.keys() {
            let _ = kill_group(*pid, Signal::SIGKILL);
        }
    }
}

/// Sends `signal` to process `pid`.
pub fn kill(pid: u32, signal: Signal) -> std::io::Result<()> {
    nix::sys::signal::kill(positive(pid, 0)?, signal).map_err(std::io::Error::from)
}

/// Sends `signal` to the process group `pgid`.
pub fn kill_group(pgid: u32, signal: Signal) -> std::io::Result<()> {
    // Above 1: never our own group (0) or init's.
    nix::sys::signal::killpg(positive(pgid, 1)?, signal).map_err(std::io::Error::from)
}

/// `id` as a pid above `floor`: kill(2) and killpg(3) read 0 and negative
/// ids as "our group" or "every process", which must never be addressed.
fn positive(id: u32, floor: i32) -> std::io::Result<Pid> {
    match i32::try_from(id) {
        Ok(raw) if raw > floor => Ok(Pid::from_raw(raw)),
        _ => Err(std::io::Error::from(nix::errno::Errno::ESRCH)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_ids_are_refused() {
        for id in [0, u32::MAX, 1u32 << 31] {
            let e = kill(id, Signal::SIGTERM).unwrap_err();
            assert_eq!(e.raw_os_error(), Some(nix::libc::ESRCH), "{id}");
        }
        let e = kill_group(1, Signal::SIGTERM).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(nix::libc::ESRCH));
    }

    #[test]
    fn signals_a_child_group() {
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        kill_group(child.id(), Signal::SIGKILL).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(nix::libc::SIGKILL));
    }
}
