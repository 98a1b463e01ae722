//! The control plane: E2B's REST API (`/sandboxes`, `/v2/sandboxes`,
//! `/templates`), `/health`, and the emulator's admin routes (`/_sim/…`).
//!
//! One file per resource: `create` (v1 and v2 creates), `sandbox` (one
//! sandbox: get, kill, timeout, refresh), `resume` (pause, resume,
//! connect), `list` (v1 and v2 listings), `templates`, `admin`
//! (`/_sim/…`), and `middleware` (rate limit, auth, injected faults).

mod admin;
mod create;
mod list;
mod middleware;
mod resume;
mod sandbox;
mod templates;

use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tokio::sync::Semaphore;

use e2b_wire::api::{ErrorBody, TimeoutBody};

use crate::config::SimConfig;
use crate::ids::Rng;
use crate::latency::Model;
use crate::state::{Counters, Registry, Sandbox, SandboxState};

pub use e2b_wire::api::CLIENT_ID;
/// Id of the one template the emulator serves, `base`.
pub const BASE_TEMPLATE_ID: &str = "rki5dems9wqfm4r03t7g";
/// Its alias.
pub const BASE_ALIAS: &str = "base";
const BASE_BUILD_ID: &str = "6c1f0a42-8a8e-4d6b-9d55-2f1c1c0e5b01";
const CPU_COUNT: u32 = 2;
const MEMORY_MB: u32 = 512;
const DISK_SIZE_MB: u32 = 1024;
/// Timeout when a create request gives none (the OpenAPI default).
const DEFAULT_TIMEOUT_SECS: f64 = 15.0;
/// `NewSandboxV2.timeout` and `ConnectSandboxV2.timeout` default (spec: `default: 300`).
const V2_DEFAULT_TIMEOUT_SECS: f64 = 300.0;
/// Longest `…/refreshes` duration.
const MAX_REFRESH_SECS: f64 = 3600.0;

/// Shared state of the control plane.
#[derive(Debug)]
pub struct Sim {
    /// The configuration it was started with.
    pub config: SimConfig,
    /// All sandboxes.
    pub registry: Arc<Registry>,
    /// Latency, faults and rate limit.
    pub model: Model,
    /// Parent of the sandboxes' working directories.
    pub root: PathBuf,
    ids: Mutex<Rng>,
    inflight: AtomicUsize,
    /// `max_starting` permits: creates and resumes in their start delay.
    starting: Option<Semaphore>,
}

impl Sim {
    /// Control-plane state over `registry`; working dirs go under `root`.
    pub fn new(config: SimConfig, registry: Arc<Registry>, root: PathBuf) -> Self {
        Self {
            model: Model::new(&config),
            ids: Mutex::new(Rng::seed_from_u64(config.seed ^ 0x1d5_1d5)),
            starting: config.max_starting.map(|n| Semaphore::new(n.max(1))),
            config,
            registry,
            root,
            inflight: AtomicUsize::new(0),
        }
    }

    fn rng(&self) -> std::sync::MutexGuard<'_, Rng> {
        self.ids.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Kills (or pauses, with autoPause) running sandboxes past their end.
    pub fn expire(&self, now: SystemTime) {
        for sb in self.registry.all() {
            let kill = {
                let mut life = lock(&sb.life);
                if life.state != SandboxState::Running || life.end_at > now {
                    continue;
                }
                if life.auto_pause {
                    life.state = SandboxState::Paused;
                    false
                } else {
                    true
                }
            };
            if kill && self.registry.remove(&sb.id).is_some() {
                Counters::bump(&self.registry.counters.expired);
                tracing::debug!(id = %sb.id, "sandbox expired");
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A `{"code","message"}` error response, E2B's shape.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = ErrorBody {
        code: status.as_u16(),
        message: message.into(),
    };
    (status, axum::Json(body)).into_response()
}

/// An error answer, turned into `{"code","message"}` when returned.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

fn not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("sandbox \"{id}\" doesn't exist or you don't have access to it"),
    )
}

/// The control-plane router.
pub fn router(sim: Arc<Sim>) -> Router {
    let api = Router::new()
        .route("/sandboxes", post(create::create).get(list::list_v1))
        .route("/v2/sandboxes", post(create::create_v2).get(list::list_v2))
        .route(
            "/sandboxes/{id}",
            get(sandbox::get_one).delete(sandbox::kill),
        )
        .route("/sandboxes/{id}/timeout", post(sandbox::set_timeout))
        .route("/sandboxes/{id}/refreshes", post(sandbox::refresh))
        .route("/sandboxes/{id}/pause", post(resume::pause))
        .route("/sandboxes/{id}/resume", post(resume::resume))
        .route("/sandboxes/{id}/connect", post(resume::connect))
        .route("/v2/sandboxes/{id}/connect", post(resume::connect_v2))
        .route("/templates", get(templates::templates))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            middleware::faults,
        ))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            middleware::auth,
        ))
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            middleware::rate_limit,
        ));
    Router::new()
        .route(
            "/health",
            get(|| async { (StatusCode::OK, "Health check successful") }),
        )
        .route("/_sim/stats", get(admin::stats))
        .route("/_sim/evict", post(admin::evict))
        .merge(api)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not found") })
        .layer(axum::middleware::map_response(crate::identify))
        .with_state(sim)
}

fn parse_body<T: for<'de> Deserialize<'de> + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("Error when parsing request: {e}"),
        )
    })
}

/// The `timeout` of a `TimeoutBody`, which `…/timeout` and v1 `…/connect` require.
fn required_timeout(body: &Bytes) -> Result<f64, ApiError> {
    let req: TimeoutBody = parse_body(body)?;
    req.timeout
        .filter(|t| t.is_finite() && *t >= 0.0)
        .ok_or_else(|| {
            ApiError(
                StatusCode::BAD_REQUEST,
                "Invalid request: timeout is required".to_owned(),
            )
        })
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::from_secs(86_400 * 365))
}

/// The `Sandbox` object of create, resume and connect answers (`domain`
/// null, `envdAccessToken` only for secured sandboxes).
fn created_body(sim: &Sim, sb: &Sandbox) -> e2b_wire::api::Sandbox {
    e2b_wire::api::Sandbox {
        template_id: sb.template_id.clone(),
        sandbox_id: sb.id.clone(),
        alias: sb.alias.clone(),
        client_id: Some(CLIENT_ID.to_owned()),
        envd_version: Some(sim.config.envd_version.clone()),
        envd_access_token: sb.access_token.clone(),
        traffic_access_token: None,
        domain: None,
    }
}
