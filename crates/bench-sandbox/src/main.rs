//! bench-sandbox: runs inside an E2B sandbox (uploaded by bench-client, or
//! pasted by hand) and measures what code there feels. Built without tokio
//! or object storage so the static binary stays small enough to paste.

use std::collections::BTreeMap;
use std::process::ExitCode;

use bench_core::cli::CommonArgs;
use bench_core::schema::{Tier, Tool};
use clap::{Parser, Subcommand};

/// Measure the inside of an E2B sandbox.
///
/// Results are written to outputs/<cloud>/ (or --output-dir / --output -);
/// progress and logs go to stderr.
#[derive(Debug, Parser)]
#[command(name = "bench-sandbox", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write this sandbox's fingerprint (CPU, memory, kernel, hypervisor) as
    /// 00_sandbox_info.json
    Info,
}

fn main() -> ExitCode {
    let tool = Tool::new("bench-sandbox", env!("CARGO_PKG_VERSION"));
    bench_core::cli::run_tier(
        tool,
        Tier::Sandbox,
        |cli: &Cli| &cli.common,
        |cli, settings| match cli.command {
            Command::Info => bench_core::info::run(&settings, BTreeMap::new()),
        },
    )
}
