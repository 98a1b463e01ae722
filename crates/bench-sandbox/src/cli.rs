//! bench-sandbox's command line: the common flags, one subcommand per probe
//! (each with that probe's own flags, the same as bench-host's where the
//! probe is the same) and `run` for all of them.

use bench_core::cli::{CommonArgs, OneProbe};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::probes::{CpuArgs, DiskArgs, DiskTarget, MemoryArgs, NetworkArgs, PkgArgs, PythonArgs};

/// Measure the inside of an E2B sandbox.
///
/// The result document goes to stdout (or --output-dir / --output FILE);
/// progress and logs go to stderr. With --paste it is framed by BEGIN/END
/// lines for copying out of a terminal and `bench-report import`.
#[derive(Debug, Parser)]
#[command(name = "bench-sandbox", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Frame the document with BEGIN/END marker lines (and a checksum) for
    /// copying out of a terminal into `bench-report import`
    #[arg(long, global = true, conflicts_with_all = ["output_dir", "output"])]
    pub paste: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write this sandbox's fingerprint (CPU, memory, kernel, hypervisor) as
    /// 00_sandbox_info.json
    Info,
    /// Run every probe (cpu, memory, disk, network, python, pkg) into 03_sandbox_performance.json
    Run(Box<RunArgs>),
    /// CPU: sysbench's prime loop, events/s at 1 thread and all cores (the same code as bench-host)
    Cpu(OneProbe<CpuArgs>),
    /// Memory: STREAM copy/scale/add/triad bandwidth and random-access latency (the same code as bench-host)
    Memory(OneProbe<MemoryArgs>),
    /// Disk of the rootfs: IOPS, bandwidth and latency (io_uring, O_DIRECT) and fsync latency
    Disk(OneProbe<DiskArgs>),
    /// Network: DNS, TCP connect and HTTP(S) download to --target URLs, or to the pip/npm registries
    Network(OneProbe<NetworkArgs>),
    /// Python: interpreter start, a fixed pure-Python workload, standard-module import time
    Python(OneProbe<PythonArgs>),
    /// Package managers: pip, npm and uv install time into fresh, cache-less environments
    Pkg(OneProbe<PkgArgs>),
}

/// `run`: every probe; cpu, memory and disk with their defaults (tune them
/// with their own subcommand), network, python and pkg with their flags.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Keep the whole run under 30 seconds
    #[arg(long)]
    pub quick: bool,
    /// Probes to leave out (comma-separated or repeated)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PROBE")]
    pub skip: Vec<ProbeName>,
    #[command(flatten)]
    pub disk: DiskTarget,
    #[command(flatten)]
    pub memory: bench_core::workloads::memory::RunMemoryArgs,
    #[command(flatten)]
    pub network: NetworkArgs,
    #[command(flatten)]
    pub python: PythonArgs,
    #[command(flatten)]
    pub pkg: PkgArgs,
}

/// The probes `run` knows, in the order it runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeName {
    Cpu,
    Memory,
    Disk,
    Network,
    Python,
    Pkg,
}

impl ProbeName {
    /// The probe's name in documents and `--skip`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeName::Cpu => "cpu",
            ProbeName::Memory => "memory",
            ProbeName::Disk => "disk",
            ProbeName::Network => "network",
            ProbeName::Python => "python",
            ProbeName::Pkg => "pkg",
        }
    }
}
