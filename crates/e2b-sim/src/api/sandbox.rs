//! One sandbox: `GET` and `DELETE /sandboxes/{id}`, `…/timeout`, `…/refreshes`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use e2b_wire::api::RefreshBody;

use super::list::listed_body;
use super::{
    ApiError, DEFAULT_TIMEOUT_SECS, MAX_REFRESH_SECS, Sim, error, lock, not_found, parse_body,
    required_timeout, secs,
};
use crate::state::Counters;

pub(super) async fn get_one(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match sim.registry.get(&id) {
        Some(sb) => axum::Json(listed_body(&sim, &sb, true)).into_response(),
        None => not_found(&id),
    }
}

pub(super) async fn kill(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match sim.registry.remove(&id) {
        Some(_) => {
            Counters::bump(&sim.registry.counters.killed);
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(&id),
    }
}

pub(super) async fn set_timeout(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let timeout = required_timeout(&body)?;
    let Some(sb) = sim.registry.get(&id) else {
        return Ok(not_found(&id));
    };
    lock(&sb.life).end_at = SystemTime::now() + secs(timeout);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn refresh(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req: RefreshBody = parse_body(&body)?;
    let duration = req.duration.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if !(0.0..=MAX_REFRESH_SECS).contains(&duration) {
        return Ok(error(
            StatusCode::BAD_REQUEST,
            "Invalid request: duration must be between 0 and 3600 seconds",
        ));
    }
    let Some(sb) = sim.registry.get(&id) else {
        return Ok(not_found(&id));
    };
    let mut life = lock(&sb.life);
    life.end_at = life.end_at.max(SystemTime::now() + secs(duration));
    Ok(StatusCode::NO_CONTENT.into_response())
}
