//! The emulated envd (the in-sandbox daemon on port 49983): its HTTP API
//! (`/health`, `/envs`, `/files`) and its Connect-RPC services
//! (`process.Process`, `filesystem.Filesystem`), served for one sandbox that
//! the proxy resolved and put in the request extensions.
//!
//! Paths: the sandbox's private directory is the emulated `/`; the user
//! `user` has home `/home/user`, `root` has `/root`. Relative paths resolve
//! in the home, absolute ones under the private directory, and a path that
//! would leave it (`..` above `/`, or a symlink pointing out) is refused.

// Handlers return early with ready responses; boxing them buys nothing.
#![allow(clippy::result_large_err)]

pub use e2b_wire::base64;
pub mod connect;
pub mod files;
pub mod filesystem;
pub mod process;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::state::Sandbox;
use connect::ConnectError;

/// The envd port; other ports answer as a closed port.
pub use e2b_wire::host::ENVD_PORT;

/// envd's message for a missing or wrong `X-Access-Token`.
pub const UNAUTHORIZED_MESSAGE: &str =
    "unauthorized access, please provide a valid access token or method signing if supported";

/// The envd routes. Every handler expects an `Extension<Arc<Sandbox>>`.
pub fn routes() -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/envs", get(envs))
        .route("/files", get(files::download).post(files::upload))
        .route("/process.Process/Start", post(process::start))
        .route("/process.Process/List", post(process::list))
        .route("/process.Process/SendInput", post(process::send_input))
        .route("/process.Process/SendSignal", post(process::send_signal))
        .route("/filesystem.Filesystem/Stat", post(filesystem::stat))
        .route("/filesystem.Filesystem/ListDir", post(filesystem::list_dir))
        .route("/filesystem.Filesystem/MakeDir", post(filesystem::make_dir))
        .route("/filesystem.Filesystem/Remove", post(filesystem::remove))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(1 << 30))
        .layer(middleware::from_fn(authorize))
}

async fn not_found() -> Response {
    go_http_error(StatusCode::NOT_FOUND, "404 page not found")
}

/// Go's `http.Error`: plain text with a trailing newline.
pub fn go_http_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{message}\n"),
    )
        .into_response()
}

/// envd's `jsonError`: `{"code":N,"message":"…"}` with a trailing newline.
pub fn json_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!(
            "{}\n",
            json!({ "code": status.as_u16(), "message": message })
        ),
    )
        .into_response()
}

/// The sandbox a request was routed to.
pub fn sandbox_of(req: &Request) -> Option<Arc<Sandbox>> {
    req.extensions().get::<Arc<Sandbox>>().cloned()
}

/// envd's `WithAuthorization`: with an access token set, everything but
/// `GET /health` and `GET`/`POST /files` needs `X-Access-Token`.
async fn authorize(req: Request, next: Next) -> Response {
    if let Some(sandbox) = sandbox_of(&req)
        && let Some(token) = &sandbox.access_token
    {
        let allowed = matches!(
            (req.method(), req.uri().path()),
            (&Method::GET, "/health") | (&Method::GET, "/files") | (&Method::POST, "/files")
        );
        let given = req
            .headers()
            .get("x-access-token")
            .and_then(|v| v.to_str().ok());
        if !allowed && given != Some(token.as_str()) {
            return json_error(StatusCode::UNAUTHORIZED, UNAUTHORIZED_MESSAGE);
        }
    }
    next.run(req).await
}

async fn health() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn envs(axum::Extension(sandbox): axum::Extension<Arc<Sandbox>>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!("{}\n", json!(sandbox.env_vars)),
    )
        .into_response()
}

/// A sandbox user (`user` or `root`, the two users of E2B templates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    /// `user`, home `/home/user`.
    User,
    /// `root`, home `/root`.
    Root,
}

impl User {
    /// Looks a name up; only `user` and `root` exist.
    pub fn lookup(name: &str) -> Option<Self> {
        match name {
            "user" => Some(Self::User),
            "root" => Some(Self::Root),
            _ => None,
        }
    }

    /// The user name.
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Root => "root",
        }
    }

    /// The home directory inside the sandbox.
    pub fn home(self) -> &'static str {
        match self {
            Self::User => "/home/user",
            Self::Root => "/root",
        }
    }
}

/// The RPC user from `Authorization: Basic base64("name:")`: `Ok(None)` when
/// absent, an `unauthenticated` error when the name is unknown.
pub fn rpc_user(headers: &HeaderMap) -> Result<Option<User>, ConnectError> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let Some(decoded) = base64::decode(encoded.trim()).and_then(|b| String::from_utf8(b).ok())
    else {
        return Ok(None);
    };
    let Some((name, _password)) = decoded.split_once(':') else {
        return Ok(None);
    };
    User::lookup(name)
        .map(Some)
        .ok_or_else(|| ConnectError::unauthenticated(format!("invalid username: '{name}'")))
}

/// The RPC user, required (envd 0.2.0: `unauthenticated: no user specified`).
pub fn require_user(headers: &HeaderMap) -> Result<User, ConnectError> {
    rpc_user(headers)?.ok_or_else(|| ConnectError::unauthenticated("no user specified"))
}

/// A path inside a sandbox: as the sandbox sees it and on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxPath {
    /// Absolute, normalised path as seen inside the sandbox.
    pub virtual_path: String,
    /// Where it lives on the host, under the sandbox's directory.
    pub host: PathBuf,
}

/// Resolves a sandbox path (`~` expanded, relative to the user's home,
/// normalised) to the host, refusing anything that leaves the sandbox.
pub fn resolve_path(workdir: &Path, path: &str, user: User) -> Result<SandboxPath, String> {
    let expanded = if path == "~" {
        user.home().to_string()
    } else if let Some(rest) = path.strip_prefix("~/") {
        format!("{}/{rest}", user.home())
    } else if path.starts_with('~') {
        return Err(format!(
            "failed to expand path '{path}' for user '{}': cannot expand user-specific home dir",
            user.name()
        ));
    } else if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", user.home())
    };
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(&expanded).components() {
        match component {
            Component::Normal(p) => parts.push(p.to_str().unwrap_or("")),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(format!("path '{path}' escapes the sandbox"));
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let virtual_path = format!("/{}", parts.join("/"));
    let host = parts
        .iter()
        .fold(workdir.to_path_buf(), |p, part| p.join(part));
    // A symlink made inside the sandbox must not lead out of it either.
    let root = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let mut existing = host.as_path();
    loop {
        if let Ok(real) = existing.canonicalize() {
            if !real.starts_with(&root) {
                return Err(format!("path '{path}' escapes the sandbox"));
            }
            break;
        }
        match existing.parent() {
            Some(parent) if parent.starts_with(workdir) => existing = parent,
            _ => break,
        }
    }
    Ok(SandboxPath { virtual_path, host })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_the_workdir() {
        let dir = tempfile::tempdir().unwrap();
        let w = dir.path();
        let p = resolve_path(w, "x.txt", User::User).unwrap();
        assert_eq!(p.virtual_path, "/home/user/x.txt");
        assert_eq!(p.host, w.join("home/user/x.txt"));
        assert_eq!(
            resolve_path(w, "/etc/passwd", User::User).unwrap().host,
            w.join("etc/passwd")
        );
        assert_eq!(
            resolve_path(w, "~/a/../b", User::Root)
                .unwrap()
                .virtual_path,
            "/root/b"
        );
        assert_eq!(resolve_path(w, "/", User::User).unwrap().virtual_path, "/");
        assert!(resolve_path(w, "../../../etc/passwd", User::User).is_err());
        assert!(resolve_path(w, "/../x", User::User).is_err());
        assert!(resolve_path(w, "~bob/x", User::User).is_err());
    }
}
