//! `GET /files` and `POST /files` as envd 0.2.0 serves them: `username`
//! required (`user` or `root`), `path` resolved in the sandbox.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Multipart, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{SandboxPath, User, go_http_error, json_error, resolve_path};
use crate::state::Sandbox;

type Params = Query<HashMap<String, String>>;

/// envd's signing check: with a token set, the header must carry it (URL
/// signatures are not emulated and always fail).
fn check_signing(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
) -> Result<(), Response> {
    let Some(token) = &sandbox.access_token else {
        return Ok(());
    };
    let given = headers
        .get("x-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let message = if !given.is_empty() {
        if given == token {
            return Ok(());
        }
        "access token present in header but does not match"
    } else if params.contains_key("signature") {
        "invalid signature"
    } else {
        "missing signature query parameter"
    };
    Err(json_error(StatusCode::UNAUTHORIZED, message))
}

/// Validates `username` and `path`; errors are envd's answers.
fn user_and_path(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    default_path: Option<&str>,
) -> Result<(User, Option<SandboxPath>), Response> {
    let Some(username) = params.get("username") else {
        return Err(go_http_error(
            StatusCode::BAD_REQUEST,
            "Query argument username is required, but not found",
        ));
    };
    check_signing(sandbox, headers, params)?;
    let Some(user) = User::lookup(username) else {
        return Err(json_error(
            StatusCode::UNAUTHORIZED,
            &format!("error looking up user '{username}': user: unknown user {username}"),
        ));
    };
    let Some(path) = params.get("path").map(String::as_str).or(default_path) else {
        return Ok((user, None));
    };
    match resolve_path(&sandbox.workdir, path, user) {
        Ok(p) => Ok((user, Some(p))),
        Err(e) => Err(json_error(
            StatusCode::BAD_REQUEST,
            &format!("error expanding and resolving path '{path}': {e}"),
        )),
    }
}

/// `GET /files?path=&username=`: the file's bytes.
pub async fn download(
    Extension(sandbox): Extension<Arc<Sandbox>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    let (_, path) = match user_and_path(&sandbox, &headers, &params, Some("")) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(path) = path else {
        return json_error(StatusCode::BAD_REQUEST, "missing path");
    };
    let shown = &path.virtual_path;
    match tokio::fs::metadata(&path.host).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => json_error(
            StatusCode::NOT_FOUND,
            &format!("path '{shown}' does not exist"),
        ),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("error checking if path exists '{shown}': {e}"),
        ),
        Ok(m) if m.is_dir() => json_error(
            StatusCode::BAD_REQUEST,
            &format!("path '{shown}' is a directory"),
        ),
        Ok(_) => match tokio::fs::read(&path.host).await {
            Ok(bytes) => {
                ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
            }
            Err(e) => json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("error opening file '{shown}': {e}"),
            ),
        },
    }
}

/// `POST /files?path=&username=` with multipart field(s) `file`: writes them
/// and answers `[{"path","name","type":"file"}]`.
pub async fn upload(
    Extension(sandbox): Extension<Arc<Sandbox>>,
    headers: HeaderMap,
    Query(params): Params,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let (user, fixed_path) = match user_and_path(&sandbox, &headers, &params, None) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("error parsing multipart form: {e}"),
            );
        }
    };
    let mut written: Vec<serde_json::Value> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("error reading form: {e}"),
                );
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let target = match &fixed_path {
            Some(p) => p.clone(),
            None => {
                let name = field.file_name().unwrap_or("").to_string();
                match resolve_path(&sandbox.workdir, &name, user) {
                    Ok(p) => p,
                    Err(e) => {
                        return json_error(
                            StatusCode::BAD_REQUEST,
                            &format!("error resolving path: {e}"),
                        );
                    }
                }
            }
        };
        if written
            .iter()
            .any(|w| w["path"] == target.virtual_path.as_str())
        {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "you cannot upload multiple files to the same path '{}' in one upload request, only the first specified file was uploaded",
                    target.virtual_path
                ),
            );
        }
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("error reading file: {e}"),
                );
            }
        };
        if tokio::fs::metadata(&target.host)
            .await
            .is_ok_and(|m| m.is_dir())
        {
            return json_error(
                StatusCode::BAD_REQUEST,
                &format!("path is a directory: {}", target.virtual_path),
            );
        }
        if let Some(parent) = target.host.parent()
            && let Err(e) = tokio::fs::create_dir_all(parent).await
        {
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("error ensuring directories: {e}"),
            );
        }
        if let Err(e) = tokio::fs::write(&target.host, &bytes).await {
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("error creating file: {e}"),
            );
        }
        let name = target
            .virtual_path
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string();
        written.push(json!({ "path": target.virtual_path, "name": name, "type": "file" }));
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::Value::Array(written).to_string(),
    )
        .into_response()
}
