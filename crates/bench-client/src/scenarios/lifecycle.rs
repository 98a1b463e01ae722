//! `lifecycle`: per template, the cold start(s), then warm ones, every
//! phase timed per sandbox (see [`crate::driver`]). "Cold" is the first
//! create of a template in this run; only a host-side cache purge
//! (`--evict-command`) makes later ones cold again.

use std::sync::Arc;

use bench_core::contract::{file, suite};
use bench_core::exit::{Failure, Status};
use bench_core::schema::ErrorKind;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::is_permanent;
use crate::cli::LifecycleArgs;
use crate::collector::Series;
use crate::ctx::Ctx;
use crate::driver;
use crate::output::DocWriter;
use crate::runner::Run;

/// Warm starts of `--quick`.
const QUICK_ITERATIONS: u32 = 5;

/// Runs the scenario.
pub async fn run(ctx: Arc<Ctx>, run: Arc<Run>, args: LifecycleArgs) -> Result<Status, Failure> {
    let iterations = if args.quick {
        QUICK_ITERATIONS.min(args.iterations.max(1))
    } else {
        args.iterations
    };
    // A shard runs its share of both counts; the shares of all shards add
    // up to the whole (bench_core::shard::Shard::share).
    let shard = run.settings.shard;
    let share = |total: u32| shard.map_or(total, |s| s.share(total));
    let (warm_share, cold_share) = (share(iterations), share(args.cold_iterations.max(1)));
    if let Some(s) = shard {
        if cold_share == 0 {
            tracing::info!("lifecycle: shard {s} has no cold start to run (another shard runs it)");
        }
        if warm_share == 0 {
            tracing::info!(
                "lifecycle: shard {s} has no warm start to run ({iterations} over {} shards)",
                s.count()
            );
        }
    }
    let mut parameters = run.parameters.clone();
    parameters.insert("iterations".into(), json!(warm_share));
    parameters.insert(
        "cold_iterations".into(),
        json!(shard.map_or(args.cold_iterations, |_| cold_share)),
    );
    if shard.is_some() {
        parameters.insert("iterations_total".into(), json!(iterations));
        parameters.insert(
            "cold_iterations_total".into(),
            json!(args.cold_iterations.max(1)),
        );
    }
    parameters.insert("warmup".into(), json!(args.warmup));
    parameters.insert("quick".into(), json!(args.quick));
    parameters.insert(
        "cold_evict".into(),
        json!(if args.evict_command.is_some() {
            "command"
        } else {
            "none"
        }),
    );
    let mut cold = DocWriter::new(
        &run.settings,
        run.sink.clone(),
        file::COLD_START,
        suite::COLD_START,
        parameters.clone(),
    );
    let mut warm = DocWriter::new(
        &run.settings,
        run.sink.clone(),
        file::WARM_START,
        suite::WARM_START,
        parameters,
    );
    let mut warmup_raw = serde_json::Map::new();
    for template in &run.templates {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let labels = |mode: &'static str| {
            [
                ("template", template.as_str()),
                ("mode", mode),
                ("concurrency", "1"),
            ]
        };
        let mut series = Series::default();
        let mut permanent = None;
        for i in 0..cold_share {
            if i > 0
                && let Some(cmd) = &args.evict_command
            {
                evict(cmd, &mut cold).await;
            }
            let c = driver::cycle(&ctx, template, Instant::now()).await;
            series.add(&c);
            if let Some((_, e)) = &c.error
                && is_permanent(e)
            {
                permanent = Some(e.to_string());
                break;
            }
            if ctx.cancel.is_cancelled() {
                break;
            }
        }
        if cold_share > 0 {
            cold.samples(series.samples(&labels("cold")));
            cold.errors(series.errors(&format!("lifecycle {template} cold")));
            cold.checkpoint()?;
        }
        if let Some(why) = permanent {
            warm.error(
                &format!("lifecycle {template} warm"),
                ErrorKind::Failed,
                format!("not run: the cold start failed for good ({why})"),
            );
            warm.checkpoint()?;
            continue;
        }
        if warm_share == 0 {
            continue;
        }
        let mut wu = Series::default();
        for _ in 0..args.warmup {
            if ctx.cancel.is_cancelled() {
                break;
            }
            wu.add(&driver::cycle(&ctx, template, Instant::now()).await);
        }
        if args.record_warmup && args.warmup > 0 {
            let phases: serde_json::Map<String, Value> = crate::collector::PHASE_METRICS
                .iter()
                .zip(&wu.phases)
                .map(|(m, v)| ((*m).to_owned(), json!(v)))
                .collect();
            warmup_raw.insert(template.clone(), Value::Object(phases));
            warm.parameter("warmup_raw", Value::Object(warmup_raw.clone()));
        }
        let mut series = Series::default();
        for _ in 0..warm_share {
            if ctx.cancel.is_cancelled() {
                break;
            }
            let c = driver::cycle(&ctx, template, Instant::now()).await;
            series.add(&c);
            if let Some((_, e)) = &c.error
                && is_permanent(e)
            {
                break;
            }
        }
        warm.samples(series.samples(&labels("warm")));
        warm.errors(series.errors(&format!("lifecycle {template} warm")));
        warm.checkpoint()?;
    }
    let path = json!(ctx.api.create_path());
    cold.parameter("create_path", path.clone());
    warm.parameter("create_path", path);
    let interrupted = ctx.cancel.is_cancelled();
    let a = cold.finish(interrupted)?;
    let b = warm.finish(interrupted)?;
    Ok(bench_core::exit::worst(a, b))
}

/// Runs the cache-purge command; a failure is recorded, the run goes on.
async fn evict(cmd: &str, doc: &mut DocWriter) {
    let out = tokio::process::Command::new("/bin/sh")
        .args(["-c", cmd])
        .output()
        .await;
    match out {
        Ok(o) if o.status.success() => tracing::debug!("--evict-command ran"),
        Ok(o) => doc.error(
            "lifecycle evict",
            ErrorKind::Failed,
            format!(
                "--evict-command exited with {}: {}",
                o.status,
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ),
        ),
        Err(e) => doc.error(
            "lifecycle evict",
            ErrorKind::Failed,
            format!("--evict-command: {e}"),
        ),
    }
}
