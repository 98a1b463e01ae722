//! Helpers shared by bench-sandbox's end-to-end tests.
#![allow(dead_code, unused_imports)] // each test binary uses a different subset

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use bench_core::schema::ResultDocument;

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

/// A command's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the binary in `dir` with `args` and asserts a usage error: exit 2,
/// `needle` on stderr, nothing on stdout. Returns the stderr.
pub fn usage_error(dir: &Path, args: &[&str], needle: &str) -> String {
    let out = sandbox(dir).args(args).output().expect("run bench-sandbox");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: {needle:?} not in {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
    err
}

/// Runs `cmd` to its end: exit `code` (its stderr shown otherwise) and the
/// schema-valid document it wrote on stdout.
pub fn run_document(cmd: &mut Command, code: i32) -> (Output, ResultDocument) {
    let out = cmd.output().expect("run bench-sandbox");
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    let doc = document(&out);
    (out, doc)
}
