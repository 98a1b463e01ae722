//! client-proxy routing, as infra's `packages/shared/pkg/proxy/host.go` and
//! `proxy/handler.go` do it: `Host: <port>-<sandboxID>[-…].<domain>`, or the
//! `E2b-Sandbox-Id` / `E2b-Sandbox-Port` headers when Host is `localhost`, an
//! IP or `sandbox.<domain>`. Requests for port 49983 of a running sandbox go
//! to the emulated envd.
//!
//! One deliberate difference from infra HEAD: since infra@424e40c22
//! (2026-02) a bad port there falls through to a 500 ("Unexpected error when
//! routing request: invalid sandbox port") because `errors.As` is given a
//! pointer target for a value error; this emulator answers the 400
//! `Invalid sandbox port` that the proxy gave before, as the issue asks.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::envd::{self, go_http_error};
use crate::latency::EnvdStall;
use crate::state::{Registry, SandboxState};

use e2b_wire::host::{HEADER_SANDBOX_ID, HEADER_SANDBOX_PORT};
pub use e2b_wire::host::{RouteError, parse_host, should_parse_headers};

/// The proxy's answer to a request it cannot route: 400 with Go's `http.Error` text.
pub fn route_error_response(e: &RouteError) -> Response {
    go_http_error(StatusCode::BAD_REQUEST, e.text())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `GetTargetFromRequest`: `(sandbox id, port)` of a request.
pub fn target(host: &str, headers: &HeaderMap) -> Result<(String, u64), RouteError> {
    e2b_wire::host::target(
        host,
        header_str(headers, HEADER_SANDBOX_ID),
        header_str(headers, HEADER_SANDBOX_PORT),
    )
}

fn json_502(body: serde_json::Value) -> Response {
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

#[derive(Clone)]
struct ProxyState {
    registry: Arc<Registry>,
    stall: Arc<EnvdStall>,
}

async fn route(State(state): State<ProxyState>, mut req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let (id, port) = match target(&host, req.headers()) {
        Ok(t) => t,
        Err(e) => return route_error_response(&e),
    };
    // A paused sandbox is not in the proxy's catalog: "not found" (infra's
    // auto-resume through the proxy is not emulated).
    let sandbox = state.registry.get(&id).filter(|s| {
        s.life
            .lock()
            .map(|l| l.state == SandboxState::Running)
            .unwrap_or(false)
    });
    let Some(sandbox) = sandbox else {
        return json_502(
            json!({ "sandboxId": id, "message": "The sandbox was not found", "code": 502 }),
        );
    };
    if port != envd::ENVD_PORT {
        return json_502(json!({
            "sandboxId": id,
            "message": "The sandbox is running but port is not open",
            "port": port,
            "code": 502,
        }));
    }
    req.extensions_mut().insert(sandbox);
    // Injected envd stall: after routing, so only requests that reach envd hang.
    if let Some(d) = state.stall.roll() {
        tokio::time::sleep(d).await;
    }
    next.run(req).await
}

/// The sandbox-traffic router: routes by Host or headers, then serves envd.
/// `domain` is accepted for symmetry with the control plane; like the real
/// proxy, routing does not check the domain part of Host.
pub fn router(registry: Arc<Registry>, domain: String) -> Router {
    router_with_stalls(registry, domain, Arc::new(EnvdStall::off()))
}

/// [`router`] with injected envd stalls ([`crate::FaultConfig::envd_stall_rate`]).
pub fn router_with_stalls(
    registry: Arc<Registry>,
    domain: String,
    stall: Arc<EnvdStall>,
) -> Router {
    let _ = domain;
    envd::routes()
        .layer(middleware::from_fn_with_state(
            ProxyState { registry, stall },
            route,
        ))
        .layer(middleware::map_response(crate::identify))
}
