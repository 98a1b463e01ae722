//! The control plane: E2B's REST API (`/sandboxes`, `/v2/sandboxes`,
//! `/templates`), `/health`, and the emulator's admin routes (`/_sim/…`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use e2b_wire::api::{ErrorBody, NewSandbox, RefreshBody, TimeoutBody};

use crate::config::{FaultScope, SimConfig};
use crate::ids::{self, Rng};
use crate::latency::{Fault, Model};
use crate::process_table::ProcessTable;
use crate::state::{Counters, Life, Registry, Sandbox, SandboxState};

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
            ids: Mutex::new(Rng::new(config.seed ^ 0x1d5_1d5)),
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
        .route("/sandboxes", post(create).get(list_v1))
        .route("/v2/sandboxes", post(create_v2).get(list_v2))
        .route("/sandboxes/{id}", get(get_one).delete(kill))
        .route("/sandboxes/{id}/timeout", post(set_timeout))
        .route("/sandboxes/{id}/refreshes", post(refresh))
        .route("/sandboxes/{id}/pause", post(pause))
        .route("/sandboxes/{id}/resume", post(resume))
        .route("/sandboxes/{id}/connect", post(connect))
        .route("/v2/sandboxes/{id}/connect", post(connect_v2))
        .route("/templates", get(templates))
        .layer(middleware::from_fn_with_state(sim.clone(), faults))
        .layer(middleware::from_fn_with_state(sim.clone(), auth))
        .layer(middleware::from_fn_with_state(sim.clone(), rate_limit));
    Router::new()
        .route(
            "/health",
            get(|| async { (StatusCode::OK, "Health check successful") }),
        )
        .route("/_sim/stats", get(stats))
        .route("/_sim/evict", post(evict))
        .merge(api)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not found") })
        .layer(middleware::map_response(crate::identify))
        .with_state(sim)
}

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

async fn auth(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
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

async fn rate_limit(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
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

async fn faults(State(sim): State<Arc<Sim>>, req: Request, next: Next) -> Response {
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

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::from_secs(86_400 * 365))
}

/// Reserves a running slot under the concurrency limit; released on drop.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn reserve(sim: &Sim) -> Result<Slot<'_>, ApiError> {
    let before = sim.inflight.fetch_add(1, Ordering::AcqRel);
    let slot = Slot(&sim.inflight);
    if let Some(max) = sim.config.max_concurrent
        && sim.registry.running_count() + before >= max
    {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "you have reached the maximum number of concurrent E2B sandboxes ({max}). If you need more, \
                 please visit 'https://e2b.dev/docs/billing'"
            ),
        ));
    }
    Ok(slot)
}

/// Waits for a start permit under `max_starting` (none when it is off).
async fn start_permit(sim: &Sim) -> Option<tokio::sync::SemaphorePermit<'_>> {
    // The semaphore is never closed, so `acquire` cannot fail.
    sim.starting.as_ref()?.acquire().await.ok()
}

/// `POST /sandboxes` (`NewSandbox`): timeout defaults to 15 s, envd is
/// secured only when the body says `secure: true`.
async fn create(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    create_sandbox(&sim, &body, CreateForm::V1).await
}

/// `POST /v2/sandboxes` (`NewSandboxV2`, newest SDKs): timeout defaults to
/// 300 s and there is no `secure` field: "all system communication with the
/// sandbox is always secured", so every v2 sandbox gets an access token.
async fn create_v2(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    create_sandbox(&sim, &body, CreateForm::V2).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CreateForm {
    V1,
    V2,
}

async fn create_sandbox(sim: &Sim, body: &Bytes, form: CreateForm) -> Response {
    let req: NewSandbox = match parse_body(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(template) = req.template_id.filter(|t| !t.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: templateID is required",
        );
    };
    // Template references may carry a tag (`base:latest`).
    let name = template.split(':').next().unwrap_or_default();
    if name != BASE_TEMPLATE_ID && name != BASE_ALIAS {
        return error(
            StatusCode::NOT_FOUND,
            format!("template '{template}' not found"),
        );
    }
    let timeout = req.timeout.unwrap_or(match form {
        CreateForm::V1 => DEFAULT_TIMEOUT_SECS,
        CreateForm::V2 => V2_DEFAULT_TIMEOUT_SECS,
    });
    if !timeout.is_finite() || timeout < 0.0 {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: timeout must be a non-negative number",
        );
    }
    let slot = match reserve(sim) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let permit = start_permit(sim).await;
    let delay = sim.model.create_delay(BASE_TEMPLATE_ID);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    drop(permit);
    let (id, token) = {
        let mut rng = sim.rng();
        let id = ids::sandbox_id(&mut rng);
        let secure = form == CreateForm::V2 || req.secure == Some(true);
        let token = secure.then(|| ids::hex_token(&mut rng, 16));
        (id, token)
    };
    let workdir = sim.root.join(&id);
    if let Err(e) = std::fs::create_dir(&workdir) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("creating the sandbox directory: {e}"),
        );
    }
    let now = SystemTime::now();
    let sandbox = Arc::new(Sandbox {
        id,
        template_id: BASE_TEMPLATE_ID.to_owned(),
        alias: Some(BASE_ALIAS.to_owned()),
        access_token: token,
        metadata: req.metadata.unwrap_or_default(),
        env_vars: req.env_vars.unwrap_or_default(),
        started_at: now,
        life: Mutex::new(Life {
            state: SandboxState::Running,
            end_at: now + secs(timeout),
            auto_pause: req.auto_pause.unwrap_or(false),
        }),
        workdir,
        commands: sim.registry.commands(),
        processes: ProcessTable::default(),
    });
    sim.registry.insert(sandbox.clone());
    drop(slot);
    Counters::bump(&sim.registry.counters.created);
    (StatusCode::CREATED, axum::Json(created_body(sim, &sandbox))).into_response()
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

/// The `ListedSandbox` object (plus `detail` fields for `GET /sandboxes/{id}`).
fn listed_body(sim: &Sim, sb: &Sandbox, detail: bool) -> Value {
    let life = lock(&sb.life).clone();
    let mut v = json!({
        "templateID": sb.template_id,
        "alias": sb.alias,
        "sandboxID": sb.id,
        "clientID": CLIENT_ID,
        "startedAt": rfc3339(sb.started_at),
        "endAt": rfc3339(life.end_at),
        "cpuCount": CPU_COUNT,
        "memoryMB": MEMORY_MB,
        "diskSizeMB": DISK_SIZE_MB,
        "metadata": sb.metadata,
        "state": state_name(life.state),
        "envdVersion": sim.config.envd_version,
    });
    if detail {
        if let Some(t) = &sb.access_token {
            v["envdAccessToken"] = json!(t);
        }
        v["domain"] = Value::Null;
    }
    v
}

fn state_name(s: SandboxState) -> &'static str {
    match s {
        SandboxState::Running => "running",
        SandboxState::Paused => "paused",
    }
}

async fn get_one(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match sim.registry.get(&id) {
        Some(sb) => axum::Json(listed_body(&sim, &sb, true)).into_response(),
        None => not_found(&id),
    }
}

async fn kill(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match sim.registry.remove(&id) {
        Some(_) => {
            Counters::bump(&sim.registry.counters.killed);
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(&id),
    }
}

async fn set_timeout(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let req: TimeoutBody = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(timeout) = req.timeout.filter(|t| t.is_finite() && *t >= 0.0) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: timeout is required",
        );
    };
    let Some(sb) = sim.registry.get(&id) else {
        return not_found(&id);
    };
    lock(&sb.life).end_at = SystemTime::now() + secs(timeout);
    StatusCode::NO_CONTENT.into_response()
}

async fn refresh(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let req: RefreshBody = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let duration = req.duration.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if !(0.0..=MAX_REFRESH_SECS).contains(&duration) {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: duration must be between 0 and 3600 seconds",
        );
    }
    let Some(sb) = sim.registry.get(&id) else {
        return not_found(&id);
    };
    let mut life = lock(&sb.life);
    life.end_at = life.end_at.max(SystemTime::now() + secs(duration));
    StatusCode::NO_CONTENT.into_response()
}

async fn pause(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
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

async fn resume(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let req: ResumeBody = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(sb) = sim.registry.get(&id) else {
        return not_found(&id);
    };
    if lock(&sb.life).state == SandboxState::Running {
        return error(
            StatusCode::CONFLICT,
            format!("Sandbox {id} is already running"),
        );
    }
    let timeout = req.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS);
    if let Err(e) = do_resume(&sim, &sb, timeout, req.auto_pause).await {
        return e.into_response();
    }
    (StatusCode::CREATED, axum::Json(created_body(&sim, &sb))).into_response()
}

/// `POST /sandboxes/{id}/connect`: `ConnectSandbox.timeout` is required.
async fn connect(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let req: TimeoutBody = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let Some(timeout) = req.timeout.filter(|t| t.is_finite() && *t >= 0.0) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: timeout is required",
        );
    };
    do_connect(&sim, id, timeout).await
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
async fn connect_v2(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let req: ConnectV2Body = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let timeout = req.timeout.unwrap_or(V2_DEFAULT_TIMEOUT_SECS);
    if !timeout.is_finite() || timeout < 0.0 {
        return error(
            StatusCode::BAD_REQUEST,
            "Invalid request: timeout must be a non-negative number of seconds",
        );
    }
    do_connect(&sim, id, timeout).await
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

/// Query pairs, percent-decoded (`+` is a space).
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `metadata` filter: `k=v&k2=v2`, itself URL-encoded in the query.
fn metadata_filter(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(k, _)| k == "metadata")
        .flat_map(|(_, v)| query_pairs(Some(v)))
        .collect()
}

fn matches(sb: &Sandbox, filter: &[(String, String)]) -> bool {
    filter.iter().all(|(k, v)| sb.metadata.get(k) == Some(v))
}

async fn list_v1(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let filter = metadata_filter(&query_pairs(q.as_deref()));
    let mut all = sim.registry.all();
    all.sort_by(|a, b| {
        b.started_at
            .cmp(&a.started_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    let items: Vec<Value> = all
        .iter()
        .filter(|sb| lock(&sb.life).state == SandboxState::Running && matches(sb, &filter))
        .map(|sb| listed_body(&sim, sb, false))
        .collect();
    axum::Json(items).into_response()
}

fn nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

async fn list_v2(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let filter = metadata_filter(&pairs);
    let mut want_running = false;
    let mut want_paused = false;
    let mut any_state = false;
    let mut limit = 100usize;
    let mut after: Option<(u128, String)> = None;
    for (k, v) in &pairs {
        match k.as_str() {
            "state" => {
                for s in v.split(',').filter(|s| !s.is_empty()) {
                    any_state = true;
                    match s {
                        "running" => want_running = true,
                        "paused" => want_paused = true,
                        other => {
                            return error(
                                StatusCode::BAD_REQUEST,
                                format!("Invalid state: {other}"),
                            );
                        }
                    }
                }
            }
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Invalid limit: must be between 1 and 100",
                    );
                }
            },
            "nextToken" => {
                let parsed = v
                    .split_once('-')
                    .and_then(|(n, id)| Some((n.parse::<u128>().ok()?, id.to_owned())));
                match parsed {
                    Some(p) => after = Some(p),
                    None => return error(StatusCode::BAD_REQUEST, "Invalid next token"),
                }
            }
            _ => {}
        }
    }
    if !any_state {
        want_running = true;
        want_paused = true;
    }
    // Newest first, then by id: a total order the token can point into.
    let mut all: Vec<(u128, Arc<Sandbox>)> = sim
        .registry
        .all()
        .into_iter()
        .map(|s| (nanos(s.started_at), s))
        .collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let mut page = Vec::new();
    let mut more = None;
    for (n, sb) in &all {
        if let Some((an, aid)) = &after
            && (*n > *an || (*n == *an && sb.id <= *aid))
        {
            continue;
        }
        let state = lock(&sb.life).state;
        let keep = match state {
            SandboxState::Running => want_running,
            SandboxState::Paused => want_paused,
        };
        if !keep || !matches(sb, &filter) {
            continue;
        }
        if page.len() == limit {
            more = page
                .last()
                .map(|(n, sb): &(u128, &Arc<Sandbox>)| format!("{n}-{}", sb.id));
            break;
        }
        page.push((*n, sb));
    }
    let items: Vec<Value> = page
        .iter()
        .map(|(_, sb)| listed_body(&sim, sb, false))
        .collect();
    let mut resp = axum::Json(items).into_response();
    if let Some(token) = more
        && let Ok(v) = HeaderValue::from_str(&token)
    {
        resp.headers_mut().insert("x-next-token", v);
    }
    resp
}

async fn templates(State(sim): State<Arc<Sim>>) -> Response {
    let created = "2025-01-01T00:00:00.000Z";
    axum::Json(json!([{
        "templateID": BASE_TEMPLATE_ID,
        "buildID": BASE_BUILD_ID,
        "cpuCount": CPU_COUNT,
        "memoryMB": MEMORY_MB,
        "diskSizeMB": DISK_SIZE_MB,
        "public": true,
        "aliases": [BASE_ALIAS],
        "names": [BASE_ALIAS],
        "createdAt": created,
        "updatedAt": created,
        "lastSpawnedAt": Value::Null,
        "spawnCount": sim.registry.counters.created.load(Ordering::Relaxed),
        "buildCount": 1,
        "envdVersion": sim.config.envd_version,
        "buildStatus": "ready",
    }]))
    .into_response()
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    axum::Json(crate::stats(&sim.registry)).into_response()
}

async fn evict(State(sim): State<Arc<Sim>>) -> Response {
    sim.model.evict();
    StatusCode::NO_CONTENT.into_response()
}

/// RFC 3339 in UTC with milliseconds, e.g. `2025-01-02T03:04:05.678Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_200_123); // 2024-03-01
        assert_eq!(rfc3339(t), "2024-03-01T00:00:00.123Z");
    }

    #[test]
    fn percent_decoding_and_metadata_filter() {
        assert_eq!(percent_decode("a%3Db%26c+d%zz%4"), "a=b&c d%zz%4");
        let pairs = query_pairs(Some("metadata=user%3Dalice%26app%3Dx&state=running"));
        assert_eq!(
            metadata_filter(&pairs),
            vec![
                ("user".to_owned(), "alice".to_owned()),
                ("app".to_owned(), "x".to_owned())
            ]
        );
    }
}
