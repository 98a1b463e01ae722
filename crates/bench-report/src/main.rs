//! bench-report: reads the result files of every cloud; lists, renders,
//! compares, validates and imports them. `main` only wires flags to the
//! subcommand modules.

mod charts;
mod cli;
mod compare;
mod export;
mod format;
mod import;
mod list;
mod load;
mod model;
mod parallel;
mod render;
mod significance;
mod source;
mod thresholds;
mod validate;

use std::process::ExitCode;

use bench_core::env_file::Environment;
use bench_core::exit::{self, Failure, Status};
use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    bench_core::logging::init(cli.log.verbosity());
    exit::finish("bench-report", run(cli))
}

fn run(cli: Cli) -> Result<Status, Failure> {
    let env = Environment::load(cli.env_file.as_deref())?;
    let open = || source::Source::open(&cli.input, env.iter());
    match cli.command {
        Command::List { cloud, history } => list::run(&open()?, cloud.as_deref(), history),
        Command::Render(args) => render::run(&open()?, &args),
        Command::Compare(args) => compare::run(&cli.input, open, &args),
        Command::Validate { paths } => validate::run(&cli.input, open, &paths, cli.log.quiet),
        Command::Import { cloud, source } => {
            if matches!(
                bench_core::sink::OutputTarget::from_output_dir(&cli.input),
                Ok(bench_core::sink::OutputTarget::Object(_))
            ) {
                return Err(Failure::usage(format!(
                    "--input {}: import stores into a local results directory; import locally, then copy it to the store",
                    cli.input
                )));
            }
            import::run(std::path::Path::new(&cli.input), &cloud, &source)
        }
    }
}
