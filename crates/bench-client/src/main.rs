//! bench-client: runs on a jump box and measures an E2B cluster through its
//! API and envd. `main` only wires flags to the runner.

mod api;
mod cli;
mod collector;
mod ctx;
mod driver;
mod endpoints;
mod http;
mod ledger;
mod output;
mod runner;
mod scenarios;
mod summary;

use std::process::ExitCode;

use bench_core::schema::{Tier, Tool};

fn main() -> ExitCode {
    let tool = Tool::new("bench-client", env!("CARGO_PKG_VERSION"));
    bench_core::cli::run_tier(tool, Tier::Client, |c: &cli::Cli| &c.common, runner::run)
}
