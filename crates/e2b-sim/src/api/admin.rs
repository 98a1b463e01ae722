//! The emulator's own routes: `GET /_sim/stats`, `POST /_sim/evict`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Sim;

pub(super) async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(crate::stats(&sim.registry)).into_response()
}

pub(super) async fn evict(State(sim): State<Arc<Sim>>) -> Response {
    sim.model.evict();
    StatusCode::NO_CONTENT.into_response()
}
