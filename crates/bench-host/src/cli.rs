//! bench-host's command line: the common flags, one subcommand per probe
//! (each with that probe's own flags) and `run` for all of them.

use bench_core::cli::{CommonArgs, OneProbe};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::probes::StorageArgs;
use crate::probes::TemplatesArgs;
use crate::probes::{CpuArgs, DiskArgs, DiskTarget, HugepagesArgs, KvmArgs, MemoryArgs};

/// Measure an E2B orchestrator node.
///
/// Results are written to outputs/<cloud>/ (or --output-dir / --output -);
/// progress and logs go to stderr. Configuration comes from ./.e2b_env or
/// --env-file, with the process environment taking precedence.
#[derive(Debug, Parser)]
#[command(name = "bench-host", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write this node's fingerprint (CPU, memory, kernel, virtualization,
    /// cloud from DMI) and storage root as 00_host_info.json
    Info,
    /// Run every probe: cpu, memory, disk, hugepages, kvm into 04_host_performance.json,
    /// then storage (05_cloud_storage.json) and templates (06_templates.json)
    Run(RunArgs),
    /// CPU: sysbench's prime loop, events/s at 1 thread and all cores
    Cpu(OneProbe<CpuArgs>),
    /// Memory: STREAM copy/scale/add/triad bandwidth and random-access latency
    Memory(OneProbe<MemoryArgs>),
    /// Disk: IOPS, bandwidth and latency (io_uring, O_DIRECT) and fsync latency on a scratch file
    Disk(OneProbe<DiskArgs>),
    /// Hugepages: the 2 MiB pool, THP mode, fault-in bandwidth of 4k vs 2M vs THP pages
    Hugepages(OneProbe<HugepagesArgs>),
    /// KVM: /dev/kvm, API version, capabilities, VM/vCPU create latency, VM-exit round trip
    Kvm(OneProbe<KvmArgs>),
    /// Cloud object storage: small PUT/GET latency, throughput, LIST, and E2B's 4 MiB ranged
    /// chunk reads at concurrency 1/8/32, under a run prefix that is deleted, into 05_cloud_storage.json
    Storage(OneProbe<StorageArgs>),
    /// Template storage: every build (metadata, files, sizes, ok/alias/invalid), the caches,
    /// optionally rootfs read bandwidth and an audit against the E2B database, into 06_templates.json
    Templates(TemplatesArgs),
}

/// `run`: every probe with its defaults; tune one with its own subcommand.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Keep the whole run under a minute on a small machine
    #[arg(long)]
    pub quick: bool,
    /// Probes to leave out (comma-separated or repeated)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PROBE")]
    pub skip: Vec<ProbeName>,
    #[command(flatten)]
    pub disk: DiskTarget,
    #[command(flatten)]
    pub memory: bench_core::workloads::memory::RunMemoryArgs,
}

/// The probes `run` knows, in the order it runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeName {
    Cpu,
    Memory,
    Disk,
    Hugepages,
    Kvm,
    /// Object storage (05_cloud_storage.json), when a bucket URL is configured.
    Storage,
    /// Template storage inventory (06_templates.json), when the storage directory exists.
    Templates,
}

impl ProbeName {
    /// The probe's name in documents and `--skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeName::Cpu => "cpu",
            ProbeName::Memory => "memory",
            ProbeName::Disk => "disk",
            ProbeName::Hugepages => "hugepages",
            ProbeName::Kvm => "kvm",
            ProbeName::Storage => "storage",
            ProbeName::Templates => "templates",
        }
    }
}
