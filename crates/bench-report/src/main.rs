//! bench-report: reads the result files of every cloud, lists them and
//! imports pasted sandbox results. `main` only wires flags; the work is in
//! the modules.

mod import;
mod list;
mod schema_check;

use std::path::PathBuf;
use std::process::ExitCode;

use bench_core::exit::{self, Failure, Status};
use clap::{ArgAction, Parser, Subcommand};

/// List and compare e2b-bench results across clouds.
///
/// Reads outputs/<cloud>/*.json as written by bench-host, bench-client and
/// bench-sandbox (plus their history/<run_id>/ copies).
#[derive(Debug, Parser)]
#[command(name = "bench-report", version, about, long_about)]
struct Cli {
    /// Directory holding one sub-directory per cloud
    #[arg(long, global = true, value_name = "DIR", default_value = "outputs")]
    input: PathBuf,

    /// More log output on stderr
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List result files: cloud, suite, run id, start time, sample and error
    /// counts. Unreadable files are reported on stderr and skipped.
    List {
        /// Only this cloud
        #[arg(long, value_name = "NAME")]
        cloud: Option<String>,
        /// Include earlier runs kept under history/
        #[arg(long)]
        history: bool,
    },
    /// Store a bench-sandbox result copied out of a terminal (the output of
    /// `bench-sandbox run --paste`, BEGIN/END lines included or not) as
    /// <input>/<cloud>/sandbox_performance_manual.json, after checking it is
    /// complete, unchanged and schema-valid
    Import {
        /// Cloud the sandbox ran on (names the directory)
        #[arg(long, value_name = "NAME")]
        cloud: String,
        /// The saved paste, or - to read it from stdin
        #[arg(value_name = "FILE|-")]
        source: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = bench_core::cli::CommonArgs {
        verbose: cli.verbose,
        quiet: cli.quiet,
        ..Default::default()
    }
    .verbosity();
    bench_core::logging::init(verbosity);
    exit::finish("bench-report", run(cli))
}

fn run(cli: Cli) -> Result<Status, Failure> {
    match cli.command {
        Command::List { cloud, history } => list::run(&cli.input, cloud.as_deref(), history),
        Command::Import { cloud, source } => import::run(&cli.input, &cloud, &source),
    }
}
