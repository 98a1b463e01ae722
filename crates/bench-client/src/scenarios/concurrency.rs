//! `concurrency`: lifecycles at rising concurrency (1, 2, 4, … or
//! `--levels`), scheduled as a burst, a ramp of workers, or staggered
//! starts whose latency counts from the scheduled start (no coordinated
//! omission). Per level: creates per second, create and TTI percentiles,
//! success rate, 429s, wall clock and time to first ready. The knee is the
//! lowest level after which throughput stops growing
//! (`bench_core::stats::knee`): self-hosted E2B starts at most
//! `max-starting-instances-per-node` (default 3) sandboxes per node at once.

use std::sync::Arc;
use std::time::Duration;

use bench_core::contract::{file, metric, suite};
use bench_core::exit::{Failure, Status};
use bench_core::schema::{ErrorKind, Sample};
use bench_core::stats::knee::{DEFAULT_MIN_GAIN, find_knee};
use serde_json::json;
use tokio::time::Instant;

use super::is_permanent;
use crate::cli::{ConcurrencyArgs, Schedule};
use crate::collector::{Series, with_labels};
use crate::ctx::Ctx;
use crate::driver::{self, Cycle};
use crate::ledger::join_all;
use crate::output::DocWriter;
use crate::runner::Run;

/// Highest level of `--quick`.
const QUICK_MAX: u32 = 4;

/// 1, 2, 4, … up to `max` (and `max` itself).
pub fn ramp(max: u32) -> Vec<u32> {
    let mut levels = Vec::new();
    let mut n = 1u32;
    while n < max {
        levels.push(n);
        n = n.saturating_mul(2);
    }
    levels.push(max.max(1));
    levels
}

/// Runs the scenario.
pub async fn run(ctx: Arc<Ctx>, run: Arc<Run>, args: ConcurrencyArgs) -> Result<Status, Failure> {
    if !(0.0..=1.0).contains(&args.max_error_rate) {
        return Err(Failure::usage(
            "--max-error-rate must be between 0 and 1, e.g. 0.2",
        ));
    }
    let levels = if !args.levels.is_empty() {
        if args.levels.contains(&0) {
            return Err(Failure::usage("--levels: every level must be at least 1"));
        }
        let mut l = args.levels.clone();
        l.sort_unstable();
        l.dedup();
        l
    } else if args.quick {
        ramp(args.max_concurrency.clamp(1, QUICK_MAX))
    } else {
        ramp(args.max_concurrency.max(1))
    };
    let schedule = args.mode.as_str();
    let mut parameters = run.parameters.clone();
    parameters.insert("levels".into(), json!(levels));
    parameters.insert("schedule".into(), json!(schedule));
    parameters.insert(
        "interval_ms".into(),
        json!(args.interval.as_secs_f64() * 1e3),
    );
    parameters.insert("rounds".into(), json!(args.rounds));
    parameters.insert("max_error_rate".into(), json!(args.max_error_rate));
    parameters.insert("quick".into(), json!(args.quick));
    let shard = run.settings.shard;
    if let Some(s) = shard {
        // Samples keep the level (`concurrency`), so the shards' figures of
        // one level line up when merged; this says how many starts were ours.
        let shares: Vec<u32> = levels.iter().map(|&l| s.share(l)).collect();
        parameters.insert("level_shares".into(), json!(shares));
    }
    let mut doc = DocWriter::new(
        &run.settings,
        run.sink.clone(),
        file::CONCURRENCY,
        suite::CONCURRENCY,
        parameters,
    );
    let mut knees = serde_json::Map::new();
    let mut stops = serde_json::Map::new();
    for template in &run.templates {
        if ctx.cancel.is_cancelled() {
            break;
        }
        // One lifecycle first, not counted, so every level measures warm starts.
        let warmup = driver::cycle(&ctx, template, Instant::now()).await;
        if let Some((phase, e)) = &warmup.error {
            doc.error(
                &format!("concurrency {template}"),
                crate::collector::kind_of(e),
                format!("warm-up {phase}: {e}"),
            );
            if is_permanent(e) {
                doc.checkpoint()?;
                continue;
            }
        }
        let mut points = Vec::new();
        for &level in &levels {
            if ctx.cancel.is_cancelled() {
                break;
            }
            // Starts are dealt round-robin over the shards: ours are these
            // (their index also places a staggered start on the schedule).
            let starts: Vec<u32> = (0..level)
                .filter(|&j| shard.is_none_or(|s| s.owns(j)))
                .collect();
            if starts.is_empty() {
                if let Some(s) = shard {
                    tracing::info!(
                        "{template} concurrency {level}: no start for shard {s} (fewer starts than shards)"
                    );
                }
                continue;
            }
            let started = Instant::now();
            let cycles = run_level(&ctx, template, &starts, &args).await;
            let wall = started.elapsed();
            let mut series = Series::default();
            for c in &cycles {
                series.add(c);
            }
            let n = level.to_string();
            let mode_labels = [
                ("template", template.as_str()),
                ("mode", "warm"),
                ("concurrency", n.as_str()),
                ("schedule", schedule),
            ];
            let level_labels = [
                ("template", template.as_str()),
                ("concurrency", n.as_str()),
                ("schedule", schedule),
            ];
            for s in series.samples(&mode_labels) {
                match s.metric.as_str() {
                    metric::SANDBOX_CREATE_MS | metric::SANDBOX_TIME_TO_INTERACTIVE_MS => {
                        doc.samples([s])
                    }
                    metric::SANDBOX_SUCCESS_RATE => {
                        let mut s = s;
                        s.labels.remove("mode");
                        doc.samples([s]);
                    }
                    _ => {}
                }
            }
            let created: Vec<Instant> = cycles.iter().filter_map(|c| c.created_at).collect();
            let throughput = created
                .iter()
                .max()
                .map(|last| created.len() as f64 / (*last - started).as_secs_f64().max(1e-9))
                .unwrap_or(0.0);
            doc.samples([
                with_labels(
                    Sample::new(
                        metric::SANDBOX_CREATES_PER_SECOND,
                        "sandboxes/s",
                        throughput,
                    ),
                    &level_labels,
                ),
                with_labels(
                    Sample::new(
                        metric::SANDBOX_WALL_CLOCK_MS,
                        "ms",
                        wall.as_secs_f64() * 1e3,
                    ),
                    &level_labels,
                ),
                with_labels(
                    Sample::new(
                        metric::SANDBOX_RATE_LIMITED,
                        "count",
                        f64::from(series.rate_limited),
                    ),
                    &level_labels,
                ),
            ]);
            if let Some(first) = cycles.iter().filter_map(|c| c.ready_at).min() {
                doc.samples([with_labels(
                    Sample::new(
                        metric::SANDBOX_TIME_TO_FIRST_READY_MS,
                        "ms",
                        (first - started).as_secs_f64() * 1e3,
                    ),
                    &level_labels,
                )]);
            }
            doc.errors(series.errors(&format!("concurrency {template} c={level}")));
            points.push((f64::from(level), throughput));
            tracing::info!(
                "{template} concurrency {level}: {throughput:.2} sandboxes/s, {}/{} ok, {} × 429",
                series.attempts() - series.failures(),
                series.attempts(),
                series.rate_limited
            );
            let knee = find_knee(&points, DEFAULT_MIN_GAIN)
                .map(|i| json!({"concurrency": points[i].0, "creates_per_second": points[i].1}));
            knees.insert(template.clone(), knee.unwrap_or(serde_json::Value::Null));
            doc.parameter("knee", serde_json::Value::Object(knees.clone()));
            let error_rate = series.failures() as f64 / series.attempts().max(1) as f64;
            if error_rate > args.max_error_rate {
                let why = format!(
                    "stopped after concurrency {level}: {:.0}% of lifecycles failed (--max-error-rate {})",
                    error_rate * 100.0,
                    args.max_error_rate
                );
                doc.error(
                    &format!("concurrency {template}"),
                    ErrorKind::Failed,
                    why.clone(),
                );
                stops.insert(template.clone(), json!(why));
                doc.parameter("stopped", serde_json::Value::Object(stops.clone()));
                doc.checkpoint()?;
                break;
            }
            doc.checkpoint()?;
        }
    }
    doc.parameter("create_path", json!(ctx.api.create_path()));
    doc.finish(ctx.cancel.is_cancelled())
}

/// The lifecycles of one level, scheduled as asked: one start (a worker
/// for a ramp) per index in `starts`, the level's whole `0..level` unless
/// this run is a shard.
async fn run_level(
    ctx: &Arc<Ctx>,
    template: &str,
    starts: &[u32],
    args: &ConcurrencyArgs,
) -> Vec<Cycle> {
    let start = Instant::now();
    let interval = args.interval;
    let rounds = args.rounds.max(1);
    let tasks = starts.iter().map(|&i| {
        let ctx = ctx.clone();
        let template = template.to_owned();
        let mode = args.mode;
        async move {
            match mode {
                Schedule::Burst => vec![driver::cycle(&ctx, &template, start).await],
                Schedule::Staggered => {
                    let at = start + interval.saturating_mul(i);
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = ctx.cancel.cancelled() => return Vec::new(),
                    }
                    vec![driver::cycle(&ctx, &template, at).await]
                }
                Schedule::Ramp => {
                    let mut out = Vec::new();
                    for _ in 0..rounds {
                        if ctx.cancel.is_cancelled() {
                            break;
                        }
                        out.push(driver::cycle(&ctx, &template, Instant::now()).await);
                    }
                    out
                }
            }
        }
    });
    let all = join_all(tasks).await;
    let _ = Duration::ZERO;
    all.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_doubles_up_to_the_maximum() {
        assert_eq!(ramp(32), vec![1, 2, 4, 8, 16, 32]);
        assert_eq!(ramp(20), vec![1, 2, 4, 8, 16, 20]);
        assert_eq!(ramp(1), vec![1]);
    }
}
