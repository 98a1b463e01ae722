//! Helpers shared by bench-host's end-to-end tests: the binary with no
//! E2B/cloud configuration inherited, and documents checked against the
//! committed JSON Schema.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::path::Path;

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

pub use bench_testkit::{document, schema_errors};
