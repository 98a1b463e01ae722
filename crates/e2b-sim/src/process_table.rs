//! The processes one sandbox started through envd, by pid. Each runs in its
//! own process group; `kill_all` kills every group when the sandbox goes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

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
            let _ = sys::kill_group(*pid, libc::SIGKILL);
        }
    }
}

/// Signals, the one place with `unsafe`.
pub mod sys {
    #![allow(unsafe_code)]

    /// Sends `signal` to process `pid`.
    pub fn kill(pid: u32, signal: i32) -> std::io::Result<()> {
        let pid = libc::pid_t::try_from(pid)
            .map_err(|_| std::io::Error::from_raw_os_error(libc::ESRCH))?;
        if pid <= 0 {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
        // SAFETY: kill(2) takes plain integers and touches no memory of ours;
        // pid is positive so it addresses one process, never a broadcast.
        let rc = unsafe { libc::kill(pid, signal) };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Sends `signal` to the process group `pgid`.
    pub fn kill_group(pgid: u32, signal: i32) -> std::io::Result<()> {
        let pgid = libc::pid_t::try_from(pgid)
            .map_err(|_| std::io::Error::from_raw_os_error(libc::ESRCH))?;
        if pgid <= 1 {
            return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
        }
        // SAFETY: killpg(3) takes plain integers and touches no memory of ours;
        // pgid > 1 so it never addresses our own group (0) or init.
        let rc = unsafe { libc::killpg(pgid, signal) };
        if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }
}
