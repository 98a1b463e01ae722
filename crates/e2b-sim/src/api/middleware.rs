//! Middleware of the API routes: rate limit, then auth, then injected faults.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::{Sim, error};
use crate::config::FaultScope;
use crate::latency::Fault;

/// The API key of a request: `X-API-Key` (any case), else `Authorization: Bearer`.
fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get("x-api-key") {
        return v.to_str().ok();
    }
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

pub(super) async fn auth(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    match presented_key(req.headers()) {
        None => error(
            StatusCode::UNAUTHORIZED,
            "Invalid API key: missing X-API-Key header",
        ),
        Some(k) if !constant_time_eq(k.as_bytes(), sim.config.api_key.as_bytes()) => {
            error(StatusCode::UNAUTHORIZED, "Invalid API key")
        }
        Some(_) => next.run(req).await,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) async fn rate_limit(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    match sim.model.admit() {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded");
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            resp
        }
    }
}

/// Whether a request is in the fault scope: `Create` means only the creates.
fn in_fault_scope(scope: FaultScope, req: &Request) -> bool {
    match scope {
        FaultScope::All => true,
        FaultScope::Create => {
            req.method() == Method::POST
                && matches!(req.uri().path(), "/sandboxes" | "/v2/sandboxes")
        }
    }
}

pub(super) async fn faults(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
    // Out-of-scope requests do not roll, so they do not shift the seeded sequence.
    if !in_fault_scope(sim.config.faults.scope, &req) {
        return next.run(req).await;
    }
    match sim.model.fault() {
        Fault::None => next.run(req).await,
        Fault::Error => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "injected fault (e2b-sim)",
        ),
        Fault::Stall(d) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
    }
}
