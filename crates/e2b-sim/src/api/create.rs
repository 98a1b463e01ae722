//! `POST /sandboxes` and `POST /v2/sandboxes`, and the concurrency slot and
//! start permit they share with resumes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use e2b_wire::api::NewSandbox;

use super::{
    ApiError, BASE_ALIAS, BASE_TEMPLATE_ID, DEFAULT_TIMEOUT_SECS, Sim, V2_DEFAULT_TIMEOUT_SECS,
    created_body, error, parse_body, secs,
};
use crate::ids;
use crate::process_table::ProcessTable;
use crate::state::{Counters, Life, Sandbox, SandboxState};

/// Reserves a running slot under the concurrency limit; released on drop.
pub(super) struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

pub(super) fn reserve(sim: &Sim) -> Result<Slot<'_>, ApiError> {
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
pub(super) async fn start_permit(sim: &Sim) -> Option<tokio::sync::SemaphorePermit<'_>> {
    // The semaphore is never closed, so `acquire` cannot fail.
    sim.starting.as_ref()?.acquire().await.ok()
}

/// `POST /sandboxes` (`NewSandbox`): timeout defaults to 15 s, envd is
/// secured only when the body says `secure: true`.
pub(super) async fn create(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    create_sandbox(&sim, &body, CreateForm::V1).await
}

/// `POST /v2/sandboxes` (`NewSandboxV2`, newest SDKs): timeout defaults to
/// 300 s and there is no `secure` field: "all system communication with the
/// sandbox is always secured", so every v2 sandbox gets an access token.
pub(super) async fn create_v2(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
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
