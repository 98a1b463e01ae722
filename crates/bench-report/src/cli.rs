//! bench-report's flags (clap derive). Parsing only; the subcommand modules
//! validate and run.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// List, render and compare e2b-bench results across clouds.
///
/// Reads <input>/<cloud>/*.json as written by bench-host, bench-client and
/// bench-sandbox (plus their history/<run_id>/ copies).
#[derive(Debug, Parser)]
#[command(name = "bench-report", version, about, long_about)]
pub struct Cli {
    /// Results: a directory with one sub-directory per cloud, or an
    /// object-store URL (s3://bucket/prefix, gs://, az://, file://)
    #[arg(long, global = true, value_name = "DIR|URL", default_value = "outputs")]
    pub input: String,

    /// Configuration file with object-store credentials (default ./.e2b_env when present)
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// `-v` and `-q`.
    #[command(flatten)]
    pub log: bench_core::cli::LogArgs,

    /// What to do
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
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
    /// Render the multi-cloud report: visual_report.md, report.html (with
    /// inline SVG charts) and report.csv. Unusable files are warnings.
    Render(RenderArgs),
    /// Compare two runs (run ids under --input, or two directories) and exit
    /// 1 when a metric regressed: permutation test p below --significance
    /// and a change above the noise threshold, as Firecracker's A/B tests
    Compare(CompareArgs),
    /// Check result files against the JSON Schema (docs/schema/result-v1.json);
    /// exit 1 when one is invalid
    Validate {
        /// Files or directories (searched recursively); default: --input
        #[arg(value_name = "PATH")]
        paths: Vec<PathBuf>,
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

/// `render`'s flags.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Where the reports go
    #[arg(long, value_name = "DIR", default_value = "outputs/reports")]
    pub output_dir: PathBuf,
    /// The cloud every other is compared against (default: the first, alphabetically)
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// Only these clouds (comma-separated or repeated; default: all)
    #[arg(long, value_name = "NAME,...", value_delimiter = ',')]
    pub clouds: Vec<String>,
    /// Formats to write (default: all three)
    #[arg(long, value_name = "FORMAT,...", value_delimiter = ',', value_enum)]
    pub format: Vec<FormatArg>,
    /// A directory of Tera templates that replace the built-in ones by name
    /// (visual_report.md.tera, report.html.tera, report.csv.tera, partials/...)
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    #[command(flatten)]
    pub thresholds: Thresholds,
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// visual_report.md
    Md,
    /// report.html
    Html,
    /// report.csv
    Csv,
}

/// The decision rule shared by `render` and `compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct Thresholds {
    /// A difference needs a permutation-test p below this
    #[arg(long, value_name = "P", default_value = "0.01")]
    pub significance: String,
    /// ... and a relative change of the mean above this (5% or 0.05)
    #[arg(long, value_name = "PCT", default_value = "5%")]
    pub noise_threshold: String,
    /// Draw all 9999 random splits of every permutation test, without the
    /// shortcuts that stop once the verdict is certain (same verdicts,
    /// slower; p-values above the threshold at full Monte Carlo precision)
    #[arg(long)]
    pub exhaustive_resampling: bool,
}

/// `compare`'s flags.
#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Baseline: a run id under --input, or a directory of result files
    #[arg(value_name = "A")]
    pub a: String,
    /// Candidate: a run id under --input, or a directory of result files
    #[arg(value_name = "B")]
    pub b: String,
    /// Only documents of this cloud
    #[arg(long, value_name = "NAME")]
    pub cloud: Option<String>,
    /// Noise threshold of one metric, e.g. sandbox.create_ms=10% or 'disk.*=8%'
    /// (repeatable; a trailing * matches a prefix)
    #[arg(long = "threshold", value_name = "METRIC=PCT")]
    pub metric_thresholds: Vec<String>,
    /// Output on stdout
    #[arg(long, value_enum, default_value = "table")]
    pub format: CompareFormat,
    #[command(flatten)]
    pub thresholds: Thresholds,
}

/// `compare`'s output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// Aligned columns
    Table,
    /// A GitHub Markdown table (for a pull-request comment)
    Markdown,
    /// One JSON document
    Json,
}
