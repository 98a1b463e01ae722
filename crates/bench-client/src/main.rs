//! bench-client: runs on a jump box and measures an E2B cluster through its
//! API and envd. `main` only wires flags to bench-core.

use std::collections::BTreeMap;
use std::process::ExitCode;

use bench_core::cli::CommonArgs;
use bench_core::schema::{Tier, Tool};
use bench_core::settings::Settings;
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

/// Measure an E2B cluster from a jump box, through the E2B API and envd.
///
/// Reads E2B_API_KEY, E2B_DOMAIN (or E2B_API_URL / E2B_SANDBOX_URL) and
/// E2B_TEMPLATES from ./.e2b_env or --env-file; the process environment
/// takes precedence. Secrets never appear in results or logs.
#[derive(Debug, Parser)]
#[command(name = "bench-client", version, about, long_about)]
struct Cli {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write this jump box's fingerprint and the resolved E2B endpoints as
    /// 00_client_info.json (nothing is contacted)
    Info,
}

fn main() -> ExitCode {
    let tool = Tool::new("bench-client", env!("CARGO_PKG_VERSION"));
    bench_core::cli::run_tier(
        tool,
        Tier::Client,
        |cli: &Cli| &cli.common,
        |cli, settings| match cli.command {
            Command::Info => bench_core::info::run(&settings, info_parameters(&settings)),
        },
    )
}

/// The endpoints the client would use, as the SDKs derive them: the API at
/// `E2B_API_URL`, else `https://api.<E2B_DOMAIN>`.
fn info_parameters(settings: &Settings) -> BTreeMap<String, Value> {
    let env = &settings.env;
    let domain = env.get("E2B_DOMAIN");
    let api_url = env
        .get("E2B_API_URL")
        .map(str::to_owned)
        .or_else(|| domain.map(|d| format!("https://api.{d}")));
    let templates: Vec<&str> = env
        .get("E2B_TEMPLATES")
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    BTreeMap::from([
        ("e2b_domain".into(), json!(domain)),
        ("e2b_api_url".into(), json!(api_url)),
        ("e2b_sandbox_url".into(), json!(env.get("E2B_SANDBOX_URL"))),
        ("e2b_templates".into(), json!(templates)),
        (
            "e2b_api_key_present".into(),
            json!(env.get("E2B_API_KEY").is_some()),
        ),
    ])
}
