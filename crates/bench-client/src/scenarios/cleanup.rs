//! `cleanup`: kills every sandbox carrying our metadata key (all runs, or
//! the one of `--run-id`), with a count; `--dry-run` only lists them.

use std::io::Write as _;
use std::sync::Arc;

use bench_core::exit::{Failure, Status};

use crate::cli::CleanupArgs;
use crate::ctx::Ctx;
use crate::ledger::{RUN_METADATA_KEY, kill_with_retries};
use crate::runner::Run;

/// Runs the subcommand.
pub async fn run(ctx: Arc<Ctx>, run: Arc<Run>, args: CleanupArgs) -> Result<Status, Failure> {
    let run_filter = run.explicit_run_id.then(|| run.settings.run_id.clone());
    let listed = ctx
        .phase("list sandboxes", ctx.api.list_all())
        .await
        .map_err(|e| Failure::runtime(format!("cannot list sandboxes: {e}")))?;
    let ours: Vec<_> = listed
        .into_iter()
        .filter(|sb| {
            let tag = sb.metadata.as_ref().and_then(|m| m.get(RUN_METADATA_KEY));
            match (&run_filter, tag) {
                (_, None) => false,
                (None, Some(_)) => true,
                (Some(want), Some(have)) => want == have,
            }
        })
        .collect();
    let scope = run_filter
        .as_deref()
        .map_or("all e2b-bench runs".to_owned(), |r| format!("run {r}"));
    if args.dry_run {
        let mut out = std::io::stdout().lock();
        for sb in &ours {
            let tag = sb
                .metadata
                .as_ref()
                .and_then(|m| m.get(RUN_METADATA_KEY))
                .cloned()
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{} {} {} {}",
                sb.sandbox_id,
                sb.template_id,
                tag,
                sb.state.as_deref().unwrap_or("running")
            );
        }
        tracing::info!(
            "{} sandboxes of {scope} would be killed (--dry-run)",
            ours.len()
        );
        return Ok(Status::Complete);
    }
    let mut failed = 0;
    for sb in &ours {
        if !kill_with_retries(&ctx.api, &sb.sandbox_id).await {
            failed += 1;
        }
    }
    let _ = writeln!(
        std::io::stdout().lock(),
        "killed {} of {} sandboxes of {scope}",
        ours.len() - failed,
        ours.len()
    );
    if failed > 0 {
        tracing::warn!("{failed} sandboxes could not be killed; they expire at their timeout");
        return Ok(Status::Partial);
    }
    Ok(Status::Complete)
}
