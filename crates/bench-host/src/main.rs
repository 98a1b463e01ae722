//! bench-host: runs on an E2B orchestrator node and measures what decides how
//! fast its sandboxes start and run. `main` only wires flags to the probes.

mod cli;
mod probes;
mod sys;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use bench_core::exit::{Failure, Status};
use bench_core::probe::ProbeArgs;
use bench_core::schema::{Tier, Tool};
use bench_core::settings::Settings;
use bench_core::suite::Suite;
use serde_json::{Value, json};

use cli::{Cli, Command, RunArgs};
use probes::{CpuArgs, DiskArgs, HugepagesArgs, KvmArgs, MemoryArgs};

/// Template storage root on a node when `E2B_STORAGE_DIR` is not set (contract).
const DEFAULT_STORAGE_DIR: &str = "/mnt/sdb/e2b-storage";

fn main() -> ExitCode {
    let tool = Tool::new("bench-host", env!("CARGO_PKG_VERSION"));
    bench_core::cli::run_tier(
        tool,
        Tier::Host,
        |cli: &Cli| &cli.common,
        |cli, settings| match cli.command {
            Command::Info => bench_core::info::run(&settings, info_parameters(&settings)),
            Command::Run(run) => run_all(&settings, &run),
            Command::Cpu(one) => bench_core::suite::run_one(&settings, suite(one.quick), &one),
            Command::Memory(one) => bench_core::suite::run_one(&settings, suite(one.quick), &one),
            Command::Disk(one) => bench_core::suite::run_one(&settings, suite(one.quick), &one),
            Command::Hugepages(one) => {
                bench_core::suite::run_one(&settings, suite(one.quick), &one)
            }
            Command::Kvm(one) => bench_core::suite::run_one(&settings, suite(one.quick), &one),
        },
    )
}

/// The host performance document (contract: `04_host_performance.json`).
fn suite(quick: bool) -> Suite {
    Suite {
        file_name: "04_host_performance.json".into(),
        name: "host_performance".into(),
        parameters: BTreeMap::from([("quick".into(), json!(quick))]),
    }
}

fn run_all(settings: &Settings, run: &RunArgs) -> Result<Status, Failure> {
    let disk = DiskArgs {
        target: run.disk.clone(),
        ..DiskArgs::default()
    };
    let all: [(&str, &dyn ProbeArgs); 5] = [
        ("cpu", &CpuArgs::default()),
        ("memory", &MemoryArgs::default()),
        ("disk", &disk),
        ("hugepages", &HugepagesArgs::default()),
        ("kvm", &KvmArgs::default()),
    ];
    let skip: Vec<&str> = run.skip.iter().map(|p| p.as_str()).collect();
    bench_core::suite::run_all(settings, suite(run.quick), run.quick, &all, &skip)
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
