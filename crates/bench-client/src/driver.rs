//! One sandbox lifecycle, timed phase by phase on a monotonic clock:
//! create (POST → 201), envd ready (201 → `/health` 2xx), first command
//! (`Start` of `true` → its end event), time to interactive (create
//! request → end of the first command, measured, not summed) and kill
//! (DELETE → 204). Lifecycle, concurrency and pause all drive sandboxes
//! through here.

use std::collections::BTreeMap;
use std::time::Duration;

use e2b_wire::api::{NewSandbox, Sandbox};
use tokio::time::Instant;

use crate::api::ApiError;
use crate::api::envd::{Envd, wait_ready};
use crate::ctx::{Ctx, PHASE_TIMEOUT_FLAG};
use crate::ledger::{RUN_METADATA_KEY, kill_with_retries};

/// The command of the first-command phase (the SDK wraps it in `bash -l -c`).
pub const FIRST_COMMAND: &str = "true";

/// Phase durations of one lifecycle, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Phases {
    /// POST → 201 (including Retry-After waits after a 429).
    pub create: Option<f64>,
    /// 201 → envd `/health` 2xx.
    pub envd_ready: Option<f64>,
    /// `Start` of `true` → its end event.
    pub first_command: Option<f64>,
    /// Scheduled start → end of the first command.
    pub time_to_interactive: Option<f64>,
    /// DELETE → 204.
    pub kill: Option<f64>,
}

/// How one lifecycle went.
#[derive(Debug)]
pub struct Cycle {
    /// What was measured.
    pub phases: Phases,
    /// The phase that failed and why.
    pub error: Option<(&'static str, ApiError)>,
    /// 429 answers received (each waited out).
    pub rate_limited: u32,
    /// When the create answered 201 (for throughput).
    pub created_at: Option<Instant>,
    /// When the first command ended (time to first ready).
    pub ready_at: Option<Instant>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The create body of every sandbox of ours.
pub fn new_sandbox(ctx: &Ctx, template: &str) -> NewSandbox {
    NewSandbox {
        template_id: Some(template.to_owned()),
        timeout: Some(ctx.sandbox_timeout.as_secs_f64().ceil()),
        secure: Some(true),
        metadata: Some(BTreeMap::from([(
            RUN_METADATA_KEY.to_owned(),
            ctx.run_id.clone(),
        )])),
        ..NewSandbox::default()
    }
}

/// Runs `call` until it is not answered 429, waiting as `Retry-After`
/// asks (else a doubling backoff), all within one phase timeout counted
/// from `started`; `rate_limited` counts the 429s.
pub async fn retrying<T, F, Fut>(
    ctx: &Ctx,
    what: &str,
    started: Instant,
    rate_limited: &mut u32,
    mut call: F,
) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let deadline = started + ctx.phase_timeout;
    let mut backoff = Duration::from_millis(100);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ctx.within(what, left, PHASE_TIMEOUT_FLAG, call()).await {
            Err(ApiError::RateLimited {
                message,
                retry_after,
            }) => {
                *rate_limited += 1;
                let wait = retry_after.unwrap_or(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(2));
                if Instant::now() + wait >= deadline {
                    return Err(ApiError::RateLimited {
                        message,
                        retry_after,
                    });
                }
                tracing::debug!("429 on {what}; retrying in {wait:?}");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = ctx.cancel.cancelled() => return Err(ApiError::Interrupted),
                }
            }
            other => return other,
        }
    }
}

/// Creates a sandbox, waiting out 429s, and registers it in the ledger.
pub async fn create(
    ctx: &Ctx,
    template: &str,
    started: Instant,
    rate_limited: &mut u32,
) -> Result<Sandbox, ApiError> {
    let body = new_sandbox(ctx, template);
    let sb = retrying(ctx, "POST create", started, rate_limited, || {
        ctx.api.create(&body)
    })
    .await?;
    ctx.ledger.add(&sb.sandbox_id);
    Ok(sb)
}

/// The envd of a created sandbox.
pub fn envd_of(ctx: &Ctx, sb: &Sandbox) -> Envd {
    let client_id = sb.client_id.as_deref().unwrap_or(e2b_wire::api::CLIENT_ID);
    let target = ctx
        .endpoints
        .envd(&sb.sandbox_id, client_id, sb.domain.as_deref());
    Envd::new(ctx.http.clone(), target, sb.envd_access_token.clone())
}

/// Runs the first command and checks it exited 0.
pub async fn first_command(ctx: &Ctx, envd: &Envd) -> Result<(), ApiError> {
    let end = ctx
        .phase("first command", envd.run(FIRST_COMMAND, |_| {}))
        .await?;
    if end.exit_code != 0 || end.error.is_some() {
        return Err(ApiError::Protocol {
            what: format!("`{FIRST_COMMAND}` in the sandbox"),
            detail: format!(
                "ended with {} ({})",
                end.status,
                end.error.unwrap_or_default()
            ),
        });
    }
    Ok(())
}

/// One whole lifecycle; `scheduled` is when it was meant to start (time to
/// interactive counts from there, so a late start is not hidden).
pub async fn cycle(ctx: &Ctx, template: &str, scheduled: Instant) -> Cycle {
    let mut out = Cycle {
        phases: Phases::default(),
        error: None,
        rate_limited: 0,
        created_at: None,
        ready_at: None,
    };
    let t0 = Instant::now();
    let sb = match create(ctx, template, t0, &mut out.rate_limited).await {
        Ok(sb) => sb,
        Err(e) => {
            out.error = Some(("create", e));
            return out;
        }
    };
    let t1 = Instant::now();
    out.created_at = Some(t1);
    out.phases.create = Some(ms(t1 - t0));
    let envd = envd_of(ctx, &sb);
    let result = async {
        ctx.phase(
            "envd ready",
            wait_ready(&envd, ctx.phase_timeout, PHASE_TIMEOUT_FLAG),
        )
        .await
        .map_err(|e| ("envd_ready", e))?;
        let t2 = Instant::now();
        out.phases.envd_ready = Some(ms(t2 - t1));
        first_command(ctx, &envd)
            .await
            .map_err(|e| ("first_command", e))?;
        let t3 = Instant::now();
        out.ready_at = Some(t3);
        out.phases.first_command = Some(ms(t3 - t2));
        out.phases.time_to_interactive = Some(ms(t3 - scheduled.min(t0)));
        Ok::<(), (&'static str, ApiError)>(())
    }
    .await;
    if let Err(e) = result {
        out.error = Some(e);
        kill_with_retries(&ctx.api, &sb.sandbox_id).await;
        ctx.ledger.remove(&sb.sandbox_id);
        return out;
    }
    let t4 = Instant::now();
    let id = sb.sandbox_id.clone();
    let killed = retrying(ctx, "kill", t4, &mut out.rate_limited, || ctx.api.kill(&id)).await;
    match killed {
        Ok(_) => {
            out.phases.kill = Some(ms(t4.elapsed()));
            ctx.ledger.remove(&sb.sandbox_id);
        }
        Err(e) => {
            out.error = Some(("kill", e));
            if kill_with_retries(&ctx.api, &sb.sandbox_id).await {
                ctx.ledger.remove(&sb.sandbox_id);
            }
        }
    }
    out
}
