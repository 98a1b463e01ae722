//! Clients of the two things bench-client talks to: the control plane
//! ([`rest::ControlPlane`]) and a sandbox's envd ([`envd::Envd`]). The wire
//! facts (bodies, host names, Connect framing) come from `e2b-wire`, the
//! crate the emulator answers with.

pub mod envd;
pub mod error;
pub mod rest;

pub use error::{ApiError, Side};
pub use rest::{ApiVersion, ControlPlane};

use std::time::Duration;

use reqwest::header::HeaderMap;

/// A finished answer: status, headers, body text.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body as text.
    pub body: String,
}

/// Sends a request and reads the whole answer; transport errors are
/// classified, statuses are left to the caller.
pub async fn send(req: reqwest::RequestBuilder, url: &str) -> Result<Answer, ApiError> {
    let resp = req
        .send()
        .await
        .map_err(|e| ApiError::from_reqwest(&e, url))?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .text()
        .await
        .map_err(|e| ApiError::from_reqwest(&e, url))?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// `Retry-After` in seconds (the HTTP-date form is not used by E2B).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}
