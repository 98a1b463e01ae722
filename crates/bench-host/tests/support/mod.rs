//! Helpers shared by bench-host's end-to-end tests: the binary with no
//! E2B/cloud configuration inherited, and documents checked against the
//! committed JSON Schema.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

/// The bench-host binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_bench-host");

/// Variables that would change where probes write or how results are labelled.
pub const SCRUBBED: [&str; 7] = [
    "CLOUD_PROVIDER",
    "E2B_STORAGE_DIR",
    "E2B_API_KEY",
    "E2B_DOMAIN",
    "E2B_API_URL",
    "STORAGE_URL",
    "S3_BUCKET",
];

/// The binary, run in `dir`, with none of [`SCRUBBED`] inherited.
pub fn host(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd
}

/// Asserts `out` exited with `code`, showing its stderr otherwise.
pub fn assert_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts a usage error: exit 2, exactly one stderr line starting with
/// `bench-host: error: ` and containing `needle`, no panic, nothing on stdout.
pub fn assert_usage_error(cmd: &mut Command, needle: &str) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{cmd:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("bench-host: error: "), "{stderr}");
    assert!(stderr.contains(needle), "expected {needle:?} in {stderr}");
    assert!(out.stdout.is_empty());
}

pub use bench_testkit::e2e::{read_until, sample, wait_or_kill};
pub use bench_testkit::{document, schema_errors};
