//! The flags every e2b-bench binary shares (contract: "Common flags"),
//! flattened into each binary's clap parser. Parsing only: validation and
//! defaults happen in [`crate::settings::Settings::resolve`].

use std::path::PathBuf;

use clap::{ArgAction, Args};

/// Common flags of every binary. All are global, so they may be given before
/// or after the subcommand.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Common options")]
pub struct CommonArgs {
    /// Where result files go: a directory, or an s3://, gs://, az://, file://
    /// URL [default: outputs/<cloud>; bench-sandbox: stdout]
    #[arg(long, global = true, value_name = "DIR|URL")]
    pub output_dir: Option<String>,

    /// Write the result document to this file instead, or to stdout with '-'
    #[arg(
        long,
        global = true,
        value_name = "FILE|-",
        conflicts_with = "output_dir"
    )]
    pub output: Option<String>,

    /// Cloud label of this run [default: $CLOUD_PROVIDER, else aws/gcp/azure
    /// detected from DMI, else local]
    #[arg(long, global = true, value_name = "NAME")]
    pub cloud: Option<String>,

    /// Run id shared by the files of one run [default: UTC start time + random suffix]
    #[arg(long, global = true, value_name = "ID")]
    pub run_id: Option<String>,

    /// Name of this machine in the results: recorded in the fingerprint and,
    /// when given, in every file name (04_host_performance.NAME.json), so
    /// nodes writing one run to one destination never overwrite each other
    /// [default: the hostname, file names unchanged]
    #[arg(long, global = true, value_name = "NAME")]
    pub node: Option<String>,

    /// Read configuration from this file [default: ./.e2b_env when present]
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// `-v` and `-q`.
    #[command(flatten)]
    pub log: LogArgs,
}

/// `-v`/`-q`, shared by the tiers ([`CommonArgs`]) and bench-report.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct LogArgs {
    /// More log output on stderr (-v debug, -vv trace)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr; no progress
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// A probe subcommand (`bench-host disk`, `bench-sandbox network`): `--quick`
/// and the probe's own flags, the same in every binary that runs the probe.
#[derive(Debug, Args)]
pub struct OneProbe<A: Args> {
    /// Short run (seconds instead of minutes): fewer iterations, smaller sizes
    #[arg(long)]
    pub quick: bool,
    /// The probe's flags.
    #[command(flatten)]
    pub args: A,
}

/// How much goes to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only, no progress (`-q`).
    Quiet,
    /// Info lines and progress (default).
    Normal,
    /// Debug lines (`-v`).
    Verbose,
    /// Trace lines (`-vv`).
    Trace,
}

impl CommonArgs {
    /// The verbosity the flags ask for.
    pub fn verbosity(&self) -> Verbosity {
        self.log.verbosity()
    }
}

impl LogArgs {
    /// The verbosity the flags ask for.
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, 0) => Verbosity::Normal,
            (false, 1) => Verbosity::Verbose,
            (false, _) => Verbosity::Trace,
        }
    }
}

/// The whole `main` of a tier binary: parse the flags, set up logging,
/// resolve [`Settings`](crate::settings::Settings) (exit 2 on a configuration
/// error), run the subcommand, and turn the outcome into the contract's exit
/// code with any error printed as one redacted line.
pub fn run_tier<C: clap::Parser>(
    tool: crate::schema::Tool,
    tier: crate::schema::Tier,
    common: fn(&C) -> &CommonArgs,
    run: impl FnOnce(C, crate::settings::Settings) -> Result<crate::exit::Status, crate::exit::Failure>,
) -> std::process::ExitCode {
    let cli = C::parse();
    crate::logging::init(common(&cli).verbosity());
    let program = tool.name.clone();
    let outcome = crate::settings::Settings::resolve(common(&cli), tool, tier)
        .and_then(|settings| run(cli, settings));
    crate::exit::finish(&program, outcome)
}
