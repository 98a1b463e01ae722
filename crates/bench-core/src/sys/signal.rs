//! SIGINT/SIGTERM → an atomic flag.
#![allow(unsafe_code)]

use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

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
    let mut result = Ok(());
    INSTALL.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: an all-zero `sigaction` is a valid value (empty mask,
            // no flags); we then set a handler that only does an atomic
            // store, and pass valid pointers to sigaction(2).
            let rc = unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut())
            };
            if rc != 0 {
                result = Err(std::io::Error::last_os_error());
            }
        }
    });
    result
}
