//! `run`: lifecycle, concurrency, pause and the in-sandbox suite, in that
//! order, each with its own defaults (or `--quick`), each document written
//! as it completes; then `summary_report.json`. The exit code is the worst
//! of the suites'. With `--shard i/N` (in the settings) every suite runs
//! its share; the in-sandbox suite runs on shard 1 only.

use std::sync::Arc;

use bench_core::exit::{Failure, Status, worst_of};

use crate::cli::{ConcurrencyArgs, LifecycleArgs, PauseArgs, RunArgs, SuiteName};
use crate::ctx::Ctx;
use crate::runner::Run;
use crate::summary;

use super::{concurrency, lifecycle, pause, sandbox};

/// The suites `args` selects, in running order.
pub fn selected(args: &RunArgs) -> Vec<SuiteName> {
    [
        SuiteName::Lifecycle,
        SuiteName::Concurrency,
        SuiteName::Pause,
        SuiteName::Sandbox,
    ]
    .into_iter()
    .filter(|s| args.only.is_empty() || args.only.contains(s))
    .filter(|s| !args.skip.contains(s))
    .collect()
}

/// A subcommand's flags with clap's defaults, so `run` uses exactly what
/// the subcommand alone would.
fn defaults<A: clap::Args + clap::FromArgMatches>() -> Result<A, Failure> {
    let command = A::augment_args(clap::Command::new("defaults"));
    command
        .try_get_matches_from(["defaults"])
        .and_then(|m| A::from_arg_matches(&m))
        .map_err(|e| Failure::runtime(format!("internal error: default flags: {e}")))
}

/// Runs the selected suites.
pub async fn run(ctx: Arc<Ctx>, run: Arc<Run>, args: RunArgs) -> Result<Status, Failure> {
    let suites = selected(&args);
    let mut statuses = Vec::new();
    for suite in suites {
        if ctx.cancel.is_cancelled() {
            statuses.push(Status::Interrupted);
            break;
        }
        tracing::info!("run: {suite:?}");
        let status = match suite {
            SuiteName::Lifecycle => {
                let a = LifecycleArgs {
                    quick: args.quick,
                    ..defaults()?
                };
                lifecycle::run(ctx.clone(), run.clone(), a).await?
            }
            SuiteName::Concurrency => {
                let a = ConcurrencyArgs {
                    quick: args.quick,
                    ..defaults()?
                };
                concurrency::run(ctx.clone(), run.clone(), a).await?
            }
            SuiteName::Pause => {
                let a = PauseArgs {
                    quick: args.quick,
                    ..defaults()?
                };
                pause::run(ctx.clone(), run.clone(), a).await?
            }
            SuiteName::Sandbox => {
                sandbox::run(ctx.clone(), run.clone(), args.quick, args.target.clone()).await?
            }
        };
        statuses.push(status);
    }
    write_summary(&run)?;
    Ok(worst_of(statuses))
}

/// `summary_report.json` from what this run wrote, completed by what the
/// output directory already held (bench-host's results, say).
fn write_summary(run: &Run) -> Result<(), Failure> {
    let Some(recorder) = &run.recorder else {
        return Ok(());
    };
    let earlier = match &run.settings.output {
        bench_core::sink::OutputTarget::Dir(dir) => {
            summary::load_named(dir, |f| run.settings.file_name(f)).unwrap_or_else(|e| {
                tracing::warn!("summary: leaving out earlier results: {e}");
                summary::Docs::default()
            })
        }
        _ => summary::Docs::default(),
    };
    let docs = summary::Docs::from_written(&recorder.written(), earlier);
    if docs.is_empty() {
        return Ok(());
    }
    let at = summary::write(run.sink.as_ref(), &summary::build(&docs))
        .map_err(|e| Failure::runtime(format!("cannot write {}: {e}", summary::FILE_NAME)))?;
    tracing::info!("summary written to {at}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_clap_defaults() {
        let l: LifecycleArgs = defaults().unwrap();
        assert_eq!((l.iterations, l.cold_iterations, l.quick), (30, 1, false));
        let c: ConcurrencyArgs = defaults().unwrap();
        assert_eq!(c.max_concurrency, 32);
        let p: PauseArgs = defaults().unwrap();
        assert_eq!(p.iterations, 5);
    }
}
