//! bench-host: runs on an E2B orchestrator node and measures what decides how
//! fast its sandboxes start and run. `main` only wires flags to the probes.

mod cli;
mod probes;
mod sys;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::ExitCode;

use bench_core::contract;
use bench_core::exit::{Failure, Status};
use bench_core::probe::ProbeArgs;
use bench_core::schema::{Tier, Tool};
use bench_core::settings::Settings;
use bench_core::suite::Suite;
use serde_json::{Value, json};

use bench_core::exit::worst_of;
use bench_core::probe::Unavailable;
use bench_core::sink::OutputTarget;
use cli::{Cli, Command, ProbeName, RunArgs};
use probes::templates::MissingStorage;
use probes::{CpuArgs, DiskArgs, HugepagesArgs, KvmArgs, StorageArgs, TemplatesArgs};

use bench_core::settings::DEFAULT_STORAGE_DIR;

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
            Command::Storage(one) => {
                bench_core::suite::run_one(&settings, probes::storage::suite(one.quick), &one)
            }
            Command::Templates(args) => probes::templates::run(&settings, &args),
        },
    )
}

/// The host performance document (contract: `04_host_performance.json`).
fn suite(quick: bool) -> Suite {
    Suite {
        file_name: contract::file::HOST_PERFORMANCE.into(),
        name: contract::suite::HOST_PERFORMANCE.into(),
        parameters: BTreeMap::from([("quick".into(), json!(quick))]),
    }
}

/// `run`: the node probes into 04, then object storage into 05 (only with a
/// bucket URL) and the template inventory into 06 (only where the storage
/// directory exists). One that cannot run says why with an `unavailable`
/// entry in 04, so a node with neither still gets one document. Everything
/// is validated before the first probe runs; the exit code is the worst.
fn run_all(settings: &Settings, run: &RunArgs) -> Result<Status, Failure> {
    let skipped = |p: ProbeName| run.skip.contains(&p);
    let storage_args = StorageArgs::default();
    let storage = match storage_args.url(settings) {
        _ if skipped(ProbeName::Storage) => None,
        Some(_) => Some(Ok(storage_args.build(run.quick, settings)?)),
        None => Some(Err(Unavailable {
            name: "storage",
            reason: probes::storage::NO_URL.into(),
        })),
    };
    let templates = match probes::templates::storage_root(None, settings) {
        _ if skipped(ProbeName::Templates) => None,
        Ok(_) => {
            let args = TemplatesArgs::default();
            // Validated (the database read too) before the first probe runs.
            let probe = args.probe_with(settings, MissingStorage::Fail)?;
            Some(Ok((args, probe)))
        }
        Err(why) => Some(Err(Unavailable {
            name: "templates",
            reason: why.message,
        })),
    };
    let separate = matches!(storage, Some(Ok(_))) || matches!(templates, Some(Ok(_)));
    if separate && matches!(settings.output, OutputTarget::File(_)) {
        return Err(Failure::usage(format!(
            "--output FILE: run writes {} plus {} and/or {} here; use --output-dir DIR, --output - or --skip storage,templates",
            contract::file::HOST_PERFORMANCE,
            contract::file::CLOUD_STORAGE,
            contract::file::TEMPLATES
        )));
    }

    let disk = DiskArgs {
        target: run.disk.clone(),
        ..DiskArgs::default()
    };
    let (cpu, memory, hugepages, kvm) = (
        CpuArgs::default(),
        run.memory.memory_args(),
        HugepagesArgs::default(),
        KvmArgs::default(),
    );
    let mut all: Vec<(&str, &dyn ProbeArgs)> = vec![
        ("cpu", &cpu),
        ("memory", &memory),
        ("disk", &disk),
        ("hugepages", &hugepages),
        ("kvm", &kvm),
    ];
    if let Some(Err(u)) = &storage {
        all.push((u.name, u));
    }
    if let Some(Err(u)) = &templates {
        all.push((u.name, u));
    }
    let skip: Vec<&str> = run.skip.iter().map(|p| p.as_str()).collect();
    let mut statuses = Vec::new();
    if all.iter().any(|(name, _)| !skip.contains(name)) || !separate {
        statuses.push(bench_core::suite::run_all(
            settings,
            suite(run.quick),
            run.quick,
            &all,
            &skip,
        )?);
    }
    let go_on = |s: &[Status]| !s.contains(&Status::Interrupted);
    if let Some(Ok(probe)) = storage
        && go_on(&statuses)
    {
        statuses.push(bench_core::suite::run(
            settings,
            probes::storage::suite(run.quick),
            vec![probe],
        )?);
    }
    if let Some(Ok((args, probe))) = templates
        && go_on(&statuses)
    {
        statuses.push(probes::templates::run_probe(settings, &args, probe)?);
    }
    Ok(worst_of(statuses))
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
