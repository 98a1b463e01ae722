//! `watch`: a canary. Per template, one lifecycle ([`driver::cycle`]) every
//! `--interval` on an open-loop schedule (start `k` is due at
//! `start + k × interval` whatever earlier ones did; a late start is logged
//! and counted in time to interactive), forever or `--count N` times. The
//! figures so far are served as Prometheus text (or OpenMetrics, when the
//! scraper asks for it) on `--metrics-listen` ([`server`], [`metrics`]), and
//! every lifecycle is appended to a JSON Lines log. Sandboxes go through the
//! ledger like every other scenario's, so the runner kills what is alive on
//! every way out.

mod metrics;
mod server;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bench_core::exit::{Failure, Status};
use bench_core::settings::Settings;
use bench_core::sink::OutputTarget;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::api::ApiError;
use crate::cli::WatchArgs;
use crate::ctx::Ctx;
use crate::driver::{self, Cycle};
use crate::runner::Run;

use metrics::Figures;
use server::{bind, serve};

/// The log's default file name in the output directory.
pub const LOG_FILE: &str = "watch.jsonl";

/// The log's path: `--log`, else `watch.jsonl` in the local output
/// directory (`watch.<node>.jsonl` with `--node`, like every result file).
fn log_path(args: &WatchArgs, settings: &Settings) -> Result<PathBuf, Failure> {
    if let Some(p) = &args.log {
        return Ok(p.clone());
    }
    match &settings.output {
        OutputTarget::Dir(d) => Ok(d.join(settings.file_name(LOG_FILE))),
        _ => Err(Failure::usage(
            "watch appends its log to a local file: give --log FILE (or a local --output-dir DIR)",
        )),
    }
}

fn open_log(path: &PathBuf) -> Result<std::fs::File, Failure> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Failure::usage(format!("--log {}: {e}", path.display())))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Failure::usage(format!("--log {}: cannot append: {e}", path.display())))
}

/// Shared between the schedule, the log and the HTTP server.
struct State {
    figures: Mutex<Figures>,
    log: Mutex<std::fs::File>,
    /// Lifecycles expected in all (`--count` × templates).
    expected: Option<u64>,
    /// Set once a scrape has served the figures of every expected lifecycle.
    final_scraped: watch::Sender<bool>,
}

impl State {
    fn figures(&self) -> std::sync::MutexGuard<'_, Figures> {
        self.figures.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs the canary.
pub async fn run(ctx: Arc<Ctx>, run: Arc<Run>, args: WatchArgs) -> Result<Status, Failure> {
    if args.interval.is_zero() {
        return Err(Failure::usage("--interval must be > 0"));
    }
    if args.count == Some(0) {
        return Err(Failure::usage(
            "--count must be at least 1 (leave it out to run forever)",
        ));
    }
    let listener = bind(&args.metrics_listen)?;
    let path = log_path(&args, &run.settings)?;
    let log = open_log(&path)?;
    let addr = listener
        .local_addr()
        .map_err(|e| Failure::runtime(format!("--metrics-listen: {e}")))?;
    let (final_scraped, mut scraped) = watch::channel(false);
    let state = Arc::new(State {
        figures: Mutex::new(Figures::new(&run.settings.cloud, &run.templates)),
        log: Mutex::new(log),
        expected: args
            .count
            .map(|n| u64::from(n) * run.templates.len() as u64),
        final_scraped,
    });
    tracing::info!("serving metrics on http://{addr}/metrics");
    tracing::info!(
        "watching {} every {} ({}), log {}",
        run.templates.join(", "),
        humantime::format_duration(args.interval),
        args.count.map_or_else(
            || "until interrupted".to_owned(),
            |n| format!("{n} per template")
        ),
        path.display()
    );
    let server = tokio::spawn(serve(listener, state.clone()));

    let start = Instant::now();
    let mut schedules = JoinSet::new();
    for template in run.templates.clone() {
        let (ctx, state, run) = (ctx.clone(), state.clone(), run.clone());
        let (interval, count) = (args.interval, args.count);
        schedules.spawn(async move {
            schedule(ctx, run, state, template, start, interval, count).await
        });
    }
    let mut failed = false;
    while let Some(r) = schedules.join_next().await {
        match r {
            Ok(f) => failed |= f,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    if !ctx.cancel.is_cancelled() && !args.linger.is_zero() {
        tokio::select! {
            _ = scraped.wait_for(|v| *v) => {}
            _ = tokio::time::sleep(args.linger) => {
                tracing::info!("--linger {} passed without a final scrape", humantime::format_duration(args.linger));
            }
            _ = ctx.cancel.cancelled() => {}
        }
    }
    server.abort();
    Ok(if ctx.cancel.is_cancelled() {
        Status::Interrupted
    } else if failed {
        Status::Partial
    } else {
        Status::Complete
    })
}

/// One template's open-loop schedule; true when some lifecycle failed.
async fn schedule(
    ctx: Arc<Ctx>,
    run: Arc<Run>,
    state: Arc<State>,
    template: String,
    start: Instant,
    interval: Duration,
    count: Option<u32>,
) -> bool {
    let mut cycles = JoinSet::new();
    let mut k: u32 = 0;
    while count.is_none_or(|n| k < n) && !ctx.cancel.is_cancelled() {
        let due = start + interval * k;
        tokio::select! {
            _ = tokio::time::sleep_until(due) => {}
            _ = ctx.cancel.cancelled() => break,
        }
        let (ctx, state, run, template) =
            (ctx.clone(), state.clone(), run.clone(), template.clone());
        let seq = k;
        cycles.spawn(async move {
            let began = SystemTime::now();
            let late = Instant::now().saturating_duration_since(due);
            if late >= interval {
                tracing::warn!(
                    "{template}: lifecycle {seq} started {} late (the jump box is overloaded?); time to interactive counts it",
                    humantime::format_duration(Duration::from_millis(late.as_millis() as u64))
                );
            }
            let c = driver::cycle(&ctx, &template, due).await;
            report(&ctx, &run, &state, &template, seq, began, late, &c);
            matches!(&c.error, Some((_, e)) if !matches!(e, ApiError::Interrupted))
        });
        // Reap what finished so a forever-watch does not grow.
        while let Some(r) = cycles.try_join_next() {
            if let Err(e) = r
                && e.is_panic()
            {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        k = k.saturating_add(1);
    }
    let mut failed = false;
    while let Some(r) = cycles.join_next().await {
        match r {
            Ok(f) => failed |= f,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => {}
        }
    }
    // A forever-watch ends only by a signal; failures before it are in the log.
    failed
}

/// Records a lifecycle in the figures, then appends its log line.
#[allow(clippy::too_many_arguments)]
fn report(
    ctx: &Ctx,
    run: &Run,
    state: &State,
    template: &str,
    seq: u32,
    began: SystemTime,
    late: Duration,
    c: &Cycle,
) {
    state.figures().record(template, c);
    let p = &c.phases;
    let (result, error) = match &c.error {
        None => ("ok", Value::Null),
        Some((_, ApiError::Interrupted)) => ("interrupted", Value::Null),
        Some((phase, e)) => (
            "failed",
            json!({
                "phase": phase,
                "message": bench_core::redact::redact_str(&e.to_string()),
            }),
        ),
    };
    match result {
        "ok" => tracing::info!(
            "{template}: lifecycle {seq} ok, create {:.0} ms, time to interactive {:.0} ms",
            p.create.unwrap_or_default(),
            p.time_to_interactive.unwrap_or_default()
        ),
        "failed" => tracing::warn!(
            "{template}: lifecycle {seq} failed: {}",
            error["message"].as_str().unwrap_or_default()
        ),
        _ => {}
    }
    let line = json!({
        "timestamp": humantime::format_rfc3339_millis(began).to_string(),
        "cloud": run.settings.cloud,
        "run_id": ctx.run_id,
        "template": template,
        "seq": seq,
        "late_ms": late.as_secs_f64() * 1e3,
        "result": result,
        "phases_ms": {
            "create": p.create,
            "envd_ready": p.envd_ready,
            "first_command": p.first_command,
            "time_to_interactive": p.time_to_interactive,
            "kill": p.kill,
        },
        "rate_limited": c.rate_limited,
        "error": error,
    });
    // One write per line (O_APPEND), so a reader never sees two lines' bytes interleaved.
    let mut text = line.to_string();
    text.push('\n');
    let mut log = state.log.lock().unwrap_or_else(|e| e.into_inner());
    let written = log.write_all(text.as_bytes()).and_then(|()| log.flush());
    if let Err(e) = written {
        tracing::warn!("cannot append to the watch log: {e}");
    }
}
