//! `…/pause`, `…/resume`, `…/connect` and `/v2/…/connect`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::create::{reserve, start_permit};
use super::{
    ApiError, DEFAULT_TIMEOUT_SECS, Sim, V2_DEFAULT_TIMEOUT_SECS, created_body, error, lock,
    not_found, parse_body, required_timeout, secs,
};
use crate::state::{Sandbox, SandboxState};

pub(super) async fn pause(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let Some(sb) = sim.registry.get(&id) else {
        return not_found(&id);
    };
    let mut life = lock(&sb.life);
    if life.state == SandboxState::Paused {
        return error(
            StatusCode::CONFLICT,
            format!("Sandbox {id} is already paused"),
        );
    }
    life.state = SandboxState::Paused;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResumeBody {
    timeout: Option<f64>,
    auto_pause: Option<bool>,
}

/// Resumes a paused sandbox: concurrency slot, warm delay, new end.
async fn do_resume(
    sim: &Sim,
    sb: &Sandbox,
    timeout: f64,
    auto_pause: Option<bool>,
) -> Result<(), ApiError> {
    let slot = reserve(sim)?;
    let permit = start_permit(sim).await;
    let delay = sim.model.resume_delay();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    drop(permit);
    let mut life = lock(&sb.life);
    if life.state == SandboxState::Running {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("Sandbox {} is already running", sb.id),
        ));
    }
    life.state = SandboxState::Running;
    life.end_at = SystemTime::now() + secs(timeout);
    if let Some(a) = auto_pause {
        life.auto_pause = a;
    }
    drop(life);
    drop(slot);
    Ok(())
}

pub(super) async fn resume(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: ResumeBody = parse_body(&body)?;
    let Some(sb) = sim.registry.get(&id) else {
        return Ok(not_found(&id));
    };
    if lock(&sb.life).state == SandboxState::Running {
        return Err(ApiError(
            StatusCode::CONFLICT,
            format!("Sandbox {id} is already running"),
        ));
    }
    let timeout = req.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS);
    do_resume(&sim, &sb, timeout, req.auto_pause).await?;
    Ok((StatusCode::CREATED, axum::Json(created_body(&sim, &sb))).into_response())
}

/// `POST /sandboxes/{id}/connect`: `ConnectSandbox.timeout` is required.
pub(super) async fn connect(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let timeout = required_timeout(&body)?;
    Ok(do_connect(&sim, id, timeout).await)
}

#[derive(Debug, Default, Deserialize)]
struct ConnectV2Body {
    timeout: Option<f64>,
    /// `false` asks for a disk-only (cold-boot) resume; the emulator keeps no
    /// memory, so both forms resume the same way.
    #[allow(dead_code)]
    memory: Option<bool>,
}

/// `POST /v2/sandboxes/{id}/connect` (newest SDKs): `ConnectSandboxV2` has an
/// optional `timeout` defaulting to 300 s and an optional `memory` flag; the
/// SDK omits `timeout` when the caller gives none.
pub(super) async fn connect_v2(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: ConnectV2Body = parse_body(&body)?;
    let timeout = req.timeout.unwrap_or(V2_DEFAULT_TIMEOUT_SECS);
    if !timeout.is_finite() || timeout < 0.0 {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "Invalid request: timeout must be a non-negative number of seconds".to_owned(),
        ));
    }
    Ok(do_connect(&sim, id, timeout).await)
}

/// Connects to a sandbox, resuming it when paused: 200 when it was running
/// (its end only moves later), 201 when it was resumed.
async fn do_connect(sim: &Sim, id: String, timeout: f64) -> Response {
    let Some(sb) = sim.registry.get(&id) else {
        return not_found(&id);
    };
    {
        let mut life = lock(&sb.life);
        if life.state == SandboxState::Running {
            life.end_at = life.end_at.max(SystemTime::now() + secs(timeout));
            drop(life);
            return (StatusCode::OK, axum::Json(created_body(sim, &sb))).into_response();
        }
    }
    match do_resume(sim, &sb, timeout, None).await {
        Ok(()) => (StatusCode::CREATED, axum::Json(created_body(sim, &sb))).into_response(),
        // Resumed concurrently by someone else: it is running now.
        Err(e) if e.0 == StatusCode::CONFLICT => {
            (StatusCode::OK, axum::Json(created_body(sim, &sb))).into_response()
        }
        Err(e) => e.into_response(),
    }
}
