//! SIGINT/SIGTERM → an atomic flag.
#![allow(unsafe_code)]

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};

/// The flag the handler sets; a pointer because a handler cannot capture.
static TARGET: AtomicPtr<AtomicBool> = AtomicPtr::new(std::ptr::null_mut());
static INSTALL: Once = Once::new();

extern "C" fn on_signal(_signal: libc::c_int) {
    let target = TARGET.load(Ordering::Relaxed);
    if !target.is_null() {
        // SAFETY: TARGET only ever holds a pointer to a `'static AtomicBool`
        // (set below), and an atomic store is async-signal-safe.
        unsafe { (*target).store(true, Ordering::Relaxed) };
    }
}

/// Routes SIGINT and SIGTERM to `flag` for the rest of the process. No
/// SA_RESTART, so a blocking wait returns EINTR and its loop sees the flag.
pub(crate) fn install_flag_handler(flag: &'static AtomicBool) -> std::io::Result<()> {
    TARGET.store(std::ptr::from_ref(flag).cast_mut(), Ordering::Relaxed);
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    let mut result = Ok(());
    INSTALL.call_once(|| {
        for signal in [Signal::SIGINT, Signal::SIGTERM] {
            // SAFETY: the handler only does an atomic store, which is
            // async-signal-safe; the previous disposition is not used.
            if let Err(e) = unsafe { sigaction(signal, &action) } {
                result = Err(e.into());
            }
        }
    });
    result
}
