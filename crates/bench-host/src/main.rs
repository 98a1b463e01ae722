//! bench-host: runs on an E2B orchestrator node and measures what decides how
//! fast its sandboxes start and run. `main` only wires flags to bench-core.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use bench_core::cli::CommonArgs;
use bench_core::schema::{Tier, Tool};
use bench_core::settings::Settings;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

/// Template storage root on a node when `E2B_STORAGE_DIR` is not set (contract).
const DEFAULT_STORAGE_DIR: &str = "/mnt/sdb/e2b-storage";

/// Measure an E2B orchestrator node.
///
/// Results are written to outputs/<cloud>/ (or --output-dir / --output -);
/// progress and logs go to stderr. Configuration comes from ./.e2b_env or
/// --env-file, with the process environment taking precedence.
#[derive(Debug, Parser)]
#[command(name = "bench-host", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write this node's fingerprint (CPU, memory, kernel, virtualization,
    /// cloud from DMI) and storage root as 00_host_info.json
    Info,
}

fn main() -> ExitCode {
    let tool = Tool::new("bench-host", env!("CARGO_PKG_VERSION"));
    bench_core::cli::run_tier(
        tool,
        Tier::Host,
        |cli: &Cli| &cli.common,
        |cli, settings| match cli.command {
            Command::Info => bench_core::info::run(&settings, info_parameters(&settings)),
        },
    )
}

fn info_parameters(settings: &Settings) -> BTreeMap<String, Value> {
    let storage_dir = settings
        .env
        .get("E2B_STORAGE_DIR")
        .unwrap_or(DEFAULT_STORAGE_DIR);
    BTreeMap::from([
        ("storage_dir".into(), json!(storage_dir)),
        (
            "storage_dir_exists".into(),
            json!(Path::new(storage_dir).is_dir()),
        ),
    ])
}
