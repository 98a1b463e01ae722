//! Helpers shared by bench-sandbox's end-to-end tests.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::path::Path;

use assert_cmd::Command;

pub use bench_testkit::http::{Response, StaticServer};
pub use bench_testkit::{document, document_from, schema_errors};

/// The bench-sandbox binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_bench-sandbox");

/// Variables that would change where probes write, which registries they
/// use or how results are labelled.
pub const SCRUBBED: [&str; 14] = [
    "CLOUD_PROVIDER",
    "E2B_STORAGE_DIR",
    "E2B_API_KEY",
    "E2B_DOMAIN",
    "STORAGE_URL",
    "S3_BUCKET",
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_CONFIG_FILE",
    "NPM_CONFIG_REGISTRY",
    "npm_config_registry",
    "NPM_CONFIG_USERCONFIG",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
];

/// The binary, run in `dir`, with none of [`SCRUBBED`] inherited.
pub fn sandbox(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    cmd
}
