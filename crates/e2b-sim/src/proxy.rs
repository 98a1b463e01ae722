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

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::envd::{self, go_http_error};
use crate::state::{Registry, SandboxState};

const HEADER_SANDBOX_ID: &str = "e2b-sandbox-id";
const HEADER_SANDBOX_PORT: &str = "e2b-sandbox-port";

/// Why a request could not be routed (each maps to the proxy's 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No dot in Host, or no `-` in its first label.
    InvalidHost,
    /// The port part is not a base-10 unsigned integer.
    InvalidPort,
    /// The sandbox id is not `^[a-z0-9]+$`.
    InvalidSandboxId,
    /// Only one of the two routing headers was sent.
    MissingHeader(&'static str),
}

impl RouteError {
    /// The proxy's answer: 400 with Go's `http.Error` text.
    pub fn response(&self) -> Response {
        let text = match self {
            Self::InvalidHost => "Invalid host",
            Self::InvalidPort => "Invalid sandbox port",
            Self::InvalidSandboxId => "Invalid sandbox ID",
            Self::MissingHeader(_) => "missing header",
        };
        go_http_error(StatusCode::BAD_REQUEST, text)
    }
}

/// Go's `url.URL{Host: h}.Hostname()`: the host without port or brackets.
fn hostname(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rfind(':') {
        Some(i) => &host[..i],
        None => host,
    }
}

/// Header routing applies when Host is `localhost`, an IP or `sandbox.<x>`.
pub fn should_parse_headers(host: &str) -> bool {
    let name = hostname(host);
    let shared = name.strip_prefix("sandbox.").is_some_and(|d| !d.is_empty());
    name == "localhost" || name.parse::<IpAddr>().is_ok() || shared
}

/// Go's `strconv.ParseUint(s, 10, 64)`.
fn parse_port(s: &str) -> Result<u64, RouteError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RouteError::InvalidPort);
    }
    s.parse().map_err(|_| RouteError::InvalidPort)
}

/// `parseHost`: `(sandbox id, port)` from `<port>-<id>[-…].<domain>`.
pub fn parse_host(host: &str) -> Result<(String, u64), RouteError> {
    let Some(dot) = host.find('.') else {
        return Err(RouteError::InvalidHost);
    };
    let mut parts = host[..dot].split('-');
    let port = parts.next().unwrap_or("");
    let Some(id) = parts.next() else {
        return Err(RouteError::InvalidHost);
    };
    Ok((id.to_string(), parse_port(port)?))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `GetTargetFromRequest`: `(sandbox id, port)` of a request.
pub fn target(host: &str, headers: &HeaderMap) -> Result<(String, u64), RouteError> {
    if should_parse_headers(host) {
        let id = header_str(headers, HEADER_SANDBOX_ID);
        let port = header_str(headers, HEADER_SANDBOX_PORT);
        match (id.is_empty(), port.is_empty()) {
            (true, true) => {}
            (true, false) => return Err(RouteError::MissingHeader("E2b-Sandbox-Id")),
            (false, true) => return Err(RouteError::MissingHeader("E2b-Sandbox-Port")),
            (false, false) => {
                let port = parse_port(port)?;
                if !valid_id(id) {
                    return Err(RouteError::InvalidSandboxId);
                }
                return Ok((id.to_string(), port));
            }
        }
    }
    let (id, port) = parse_host(host)?;
    if !valid_id(&id) {
        return Err(RouteError::InvalidSandboxId);
    }
    Ok((id, port))
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
        Err(e) => return e.response(),
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
    next.run(req).await
}

/// The sandbox-traffic router: routes by Host or headers, then serves envd.
/// `domain` is accepted for symmetry with the control plane; like the real
/// proxy, routing does not check the domain part of Host.
pub fn router(registry: Arc<Registry>, domain: String) -> Router {
    let _ = domain;
    envd::routes().layer(middleware::from_fn_with_state(
        ProxyState { registry },
        route,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_like_infra() {
        assert_eq!(parse_host("49983-abc.e2b.local"), Ok(("abc".into(), 49983)));
        assert_eq!(
            parse_host("49983-abc-6532622b.e2b.local:3002"),
            Ok(("abc".into(), 49983))
        );
        assert_eq!(parse_host("localhost"), Err(RouteError::InvalidHost));
        assert_eq!(parse_host("abc.e2b.local"), Err(RouteError::InvalidHost));
        assert_eq!(parse_host("x-abc.e2b.local"), Err(RouteError::InvalidPort));
        assert_eq!(parse_host("+1-abc.e2b.local"), Err(RouteError::InvalidPort));
        assert_eq!(hostname("[::1]:80"), "::1");
        assert!(should_parse_headers("127.0.0.1:3002"));
        assert!(should_parse_headers("localhost"));
        assert!(should_parse_headers("sandbox.e2b.local"));
        assert!(!should_parse_headers("49983-abc.e2b.local"));
        let empty = HeaderMap::new();
        assert_eq!(
            target("49983-ABC.e2b.local", &empty),
            Err(RouteError::InvalidSandboxId)
        );
    }
}
