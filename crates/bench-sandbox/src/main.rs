//! bench-sandbox: runs inside an E2B sandbox (uploaded by bench-client, or
//! pasted by hand) and measures what code there feels. Built without tokio
//! or object storage so the static binary stays small enough to paste.
//! `main` only wires flags to the probes.

mod cli;
mod probes;

use std::collections::BTreeMap;
use std::process::ExitCode;

use bench_core::contract;
use bench_core::exit::{Failure, Status};
use bench_core::probe::ProbeArgs;
use bench_core::schema::{Tier, Tool};
use bench_core::settings::Settings;
use bench_core::sink::OutputTarget;
use bench_core::suite::Suite;
use serde_json::json;

use cli::{Cli, Command, RunArgs};
use probes::{CpuArgs, DiskArgs};

fn main() -> ExitCode {
    let tool = Tool::new("bench-sandbox", env!("CARGO_PKG_VERSION"));
    bench_core::cli::run_tier(
        tool,
        Tier::Sandbox,
        |cli: &Cli| &cli.common,
        |cli, mut settings| {
            if cli.paste {
                settings.output = OutputTarget::Paste;
            }
            match cli.command {
                Command::Info => bench_core::info::run(&settings, BTreeMap::new()),
                Command::Run(run) => run_all(&settings, &run),
                Command::Cpu(one) => bench_core::suite::run_one(&settings, suite(one.quick), &one),
                Command::Memory(one) => {
                    bench_core::suite::run_one(&settings, suite(one.quick), &one)
                }
                Command::Disk(one) => bench_core::suite::run_one(&settings, suite(one.quick), &one),
                Command::Network(one) => {
                    bench_core::suite::run_one(&settings, suite(one.quick), &one)
                }
                Command::Python(one) => {
                    bench_core::suite::run_one(&settings, suite(one.quick), &one)
                }
                Command::Pkg(one) => bench_core::suite::run_one(&settings, suite(one.quick), &one),
            }
        },
    )
}

/// The sandbox performance document (contract: `03_sandbox_performance.json`).
fn suite(quick: bool) -> Suite {
    Suite {
        file_name: contract::file::SANDBOX_PERFORMANCE.into(),
        name: contract::suite::SANDBOX_PERFORMANCE.into(),
        parameters: BTreeMap::from([("quick".into(), json!(quick))]),
    }
}

fn run_all(settings: &Settings, run: &RunArgs) -> Result<Status, Failure> {
    let disk = DiskArgs {
        target: run.disk.clone(),
        ..DiskArgs::default()
    };
    let memory = run.memory.memory_args();
    let all: [(&str, &dyn ProbeArgs); 6] = [
        ("cpu", &CpuArgs::default()),
        ("memory", &memory),
        ("disk", &disk),
        ("network", &run.network),
        ("python", &run.python),
        ("pkg", &run.pkg),
    ];
    let skip: Vec<&str> = run.skip.iter().map(|p| p.as_str()).collect();
    bench_core::suite::run_all(settings, suite(run.quick), run.quick, &all, &skip)
}
