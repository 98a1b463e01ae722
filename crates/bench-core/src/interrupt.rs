//! Ctrl-C and SIGTERM as a flag that probes poll, so an interrupted run
//! still removes its scratch files, kills what it created and writes what
//! finished (exit 130), instead of dying mid-write.
//!
//! The handler only stores to an atomic (async-signal-safe). It is not reset
//! after the first signal: probes answer within a fraction of a second, and
//! a second Ctrl-C must not skip the cleanup of a 1 GiB scratch file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The process-wide flag the signal handler sets.
static SIGNALLED: AtomicBool = AtomicBool::new(false);

/// An interruption flag: the process-wide one fed by signals, or a private
/// one a test triggers.
#[derive(Debug, Clone)]
pub struct Interrupt {
    flag: Source,
}

#[derive(Debug, Clone)]
enum Source {
    Signals,
    Private(Arc<AtomicBool>),
}

impl Interrupt {
    /// Installs SIGINT and SIGTERM handlers (once; later calls only return
    /// the flag) and returns the process-wide flag.
    pub fn from_signals() -> std::io::Result<Self> {
        crate::sys::signal::install_flag_handler(&SIGNALLED)?;
        Ok(Interrupt {
            flag: Source::Signals,
        })
    }

    /// A private flag no signal sets; [`Interrupt::trigger`] sets it.
    pub fn new() -> Self {
        Interrupt {
            flag: Source::Private(Arc::new(AtomicBool::new(false))),
        }
    }

    /// True once interrupted.
    pub fn is_set(&self) -> bool {
        self.atomic().load(Ordering::Relaxed)
    }

    /// Sets the flag, as a signal would.
    pub fn trigger(&self) {
        self.atomic().store(true, Ordering::Relaxed);
    }

    fn atomic(&self) -> &AtomicBool {
        match &self.flag {
            Source::Signals => &SIGNALLED,
            Source::Private(flag) => flag,
        }
    }
}

impl Default for Interrupt {
    fn default() -> Self {
        Interrupt::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_flags_are_independent() {
        let a = Interrupt::new();
        let b = Interrupt::new();
        let a2 = a.clone();
        a.trigger();
        assert!(a2.is_set());
        assert!(!b.is_set());
    }
}
