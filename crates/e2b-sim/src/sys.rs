//! The emulator's one `unsafe`: small wrappers whose soundness the callers
//! cannot get wrong (docs/architecture.md: `unsafe` only in a `sys` module).
#![allow(unsafe_code)]

use crate::namespace::{self, Plan};

/// Makes `command` run [`namespace::enter`] with `plan` in the child,
/// between fork and exec.
pub(crate) fn enter_before_exec(command: &mut tokio::process::Command, plan: Plan) {
    // SAFETY: the closure runs in the forked child before exec, where
    // only async-signal-safe work is allowed. `enter` only makes syscalls
    // (unshare, open, write, mount, mkdir, fchdir, chdir, close) on paths
    // and bytes the plan prepared before the fork: nix passes a `&CStr`
    // through without copying and its errors are plain errno values, so
    // nothing allocates or takes a lock. It touches no other state.
    unsafe {
        command.pre_exec(move || namespace::enter(&plan));
    }
}
