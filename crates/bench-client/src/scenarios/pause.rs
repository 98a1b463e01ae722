//! `pause`: create, pause (`sandbox.pause_ms`), resume through `connect`
//! (`sandbox.resume_ms`), then run a command to prove the resumed sandbox
//! works (`sandbox.resume_command_ms`), kill. A cluster without pause
//! (404/501) is `unavailable`, not a failure.

use std::sync::Arc;
use std::time::Duration;

use bench_core::contract::{file, metric, suite};
use bench_core::exit::{Failure, Status};
use bench_core::schema::{ErrorKind, Sample};
use serde_json::json;
use tokio::time::Instant;

use crate::api::ApiError;
use crate::api::envd::wait_ready;
use crate::cli::PauseArgs;
use crate::collector::{kind_of, with_labels};
use crate::ctx::{Ctx, PHASE_TIMEOUT_FLAG};
use crate::driver;
use crate::ledger::kill_with_retries;
use crate::output::DocWriter;
use crate::runner::Run;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs the scenario.
pub async fn run(ctx: Arc<Ctx>, run: Arc<Run>, args: PauseArgs) -> Result<Status, Failure> {
    let iterations = if args.quick {
        args.iterations.min(2)
    } else {
        args.iterations
    }
    .max(1);
    let total = iterations;
    let iterations = run.settings.shard.map_or(total, |s| s.share(total));
    let mut parameters = run.parameters.clone();
    parameters.insert("iterations".into(), json!(iterations));
    if let Some(s) = run.settings.shard {
        parameters.insert("iterations_total".into(), json!(total));
        if iterations == 0 {
            tracing::info!(
                "pause: shard {s} has no cycle to run ({total} over {} shards)",
                s.count()
            );
        }
    }
    parameters.insert("quick".into(), json!(args.quick));
    let mut doc = DocWriter::new(
        &run.settings,
        run.sink.clone(),
        file::PAUSE_RESUME,
        suite::PAUSE_RESUME,
        parameters,
    );
    for template in &run.templates {
        let (mut pause, mut resume, mut command) = (Vec::new(), Vec::new(), Vec::new());
        let probe = format!("pause {template}");
        for _ in 0..iterations {
            if ctx.cancel.is_cancelled() {
                break;
            }
            match one(&ctx, template).await {
                Ok((p, r, c)) => {
                    pause.push(p);
                    resume.push(r);
                    command.push(c);
                }
                Err(Outcome::Unavailable(why)) => {
                    doc.error(&probe, ErrorKind::Unavailable, why);
                    break;
                }
                Err(Outcome::Failed(phase, e)) => {
                    doc.error(&probe, kind_of(&e), format!("{phase}: {e}"));
                    if super::is_permanent(&e) {
                        break;
                    }
                }
            }
        }
        let labels = [("template", template.as_str())];
        for (metric, values) in [
            (metric::SANDBOX_PAUSE_MS, pause),
            (metric::SANDBOX_RESUME_MS, resume),
            (metric::SANDBOX_RESUME_COMMAND_MS, command),
        ] {
            if !values.is_empty() {
                doc.samples([with_labels(
                    Sample::from_series(metric, "ms", values),
                    &labels,
                )]);
            }
        }
        doc.checkpoint()?;
    }
    doc.finish(ctx.cancel.is_cancelled())
}

enum Outcome {
    Unavailable(String),
    Failed(&'static str, ApiError),
}

/// One pause/resume cycle: (pause, resume, command after resume) in ms.
async fn one(ctx: &Ctx, template: &str) -> Result<(f64, f64, f64), Outcome> {
    let mut limited = 0;
    let sb = driver::create(ctx, template, Instant::now(), &mut limited)
        .await
        .map_err(|e| Outcome::Failed("create", e))?;
    let id = sb.sandbox_id.clone();
    let result = async {
        let envd = driver::envd_of(ctx, &sb);
        ctx.phase(
            "envd ready",
            wait_ready(&envd, ctx.phase_timeout, PHASE_TIMEOUT_FLAG),
        )
        .await
        .map_err(|e| Outcome::Failed("envd_ready", e))?;
        let t = Instant::now();
        match ctx.phase("pause", ctx.api.pause(&id)).await {
            Ok(()) => {}
            Err(
                e @ ApiError::Status {
                    status: 404 | 405 | 501,
                    ..
                },
            ) => {
                return Err(Outcome::Unavailable(format!(
                    "the cluster does not pause sandboxes ({e})"
                )));
            }
            Err(e) => return Err(Outcome::Failed("pause", e)),
        }
        let paused = ms(t.elapsed());
        let t = Instant::now();
        let resumed = ctx
            .phase("resume", ctx.api.resume(&id, ctx.sandbox_timeout))
            .await
            .map_err(|e| Outcome::Failed("resume", e))?;
        let resume_ms = ms(t.elapsed());
        let mut resumed = resumed;
        if resumed.envd_access_token.is_none() {
            resumed.envd_access_token = sb.envd_access_token.clone();
        }
        let t = Instant::now();
        let envd = driver::envd_of(ctx, &resumed);
        ctx.phase(
            "envd ready",
            wait_ready(&envd, ctx.phase_timeout, PHASE_TIMEOUT_FLAG),
        )
        .await
        .map_err(|e| Outcome::Failed("envd_ready after resume", e))?;
        driver::first_command(ctx, &envd)
            .await
            .map_err(|e| Outcome::Failed("command after resume", e))?;
        Ok((paused, resume_ms, ms(t.elapsed())))
    }
    .await;
    if kill_with_retries(&ctx.api, &id).await {
        ctx.ledger.remove(&id);
    }
    result
}
