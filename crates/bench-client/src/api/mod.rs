//! Clients of the two things bench-client talks to: the control plane
//! ([`rest::ControlPlane`]) and a sandbox's envd ([`envd::Envd`]). The wire
//! facts (bodies, host names, Connect framing) come from `e2b-wire`, the
//! crate the emulator answers with.

pub mod envd;
pub mod error;
pub mod rest;

pub use error::{ApiError, Side};
pub use rest::{ApiVersion, ControlPlane};

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::HeaderMap;

/// The answer header by which the local emulator names itself
/// (`e2b_sim::IDENTITY_HEADER`; a real cluster never sends it).
pub const EMULATOR_HEADER: &str = e2b_wire::api::HEADER_EMULATOR;

/// Longest emulator name kept: it comes from the server, so it is bounded.
const EMULATOR_MAX_LEN: usize = 64;

/// The emulator the API said it is, from the first answer that carried
/// [`EMULATOR_HEADER`]. Process-wide, because one bench-client process talks
/// to one API: every document it writes records it (`output::Recorder`).
static EMULATOR: OnceLock<String> = OnceLock::new();

/// `e2b-sim 0.1.0` once an answer named an emulator; `None` against a cluster.
pub fn emulator() -> Option<&'static str> {
    EMULATOR.get().map(String::as_str)
}

/// Remembers the emulator an answer names, if it names one.
fn notice_emulator(headers: &HeaderMap) {
    if EMULATOR.get().is_some() {
        return;
    }
    if let Some(name) = emulator_name(headers) {
        let _ = EMULATOR.set(name);
    }
}

/// The header's value when it is printable and short (`to_str` admits
/// visible ASCII only), cut to [`EMULATOR_MAX_LEN`].
fn emulator_name(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(EMULATOR_HEADER)?.to_str().ok()?.trim();
    (!value.is_empty()).then(|| value.chars().take(EMULATOR_MAX_LEN).collect())
}

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
    notice_emulator(&headers);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulator_name_is_read_bounded_and_optional() {
        let mut h = HeaderMap::new();
        assert_eq!(emulator_name(&h), None);
        h.insert(EMULATOR_HEADER, "e2b-sim 0.1.0".parse().unwrap());
        assert_eq!(emulator_name(&h).as_deref(), Some("e2b-sim 0.1.0"));
        h.insert(EMULATOR_HEADER, "x".repeat(500).parse().unwrap());
        assert_eq!(emulator_name(&h).map(|n| n.len()), Some(EMULATOR_MAX_LEN));
        h.insert(EMULATOR_HEADER, "  ".parse().unwrap());
        assert_eq!(emulator_name(&h), None);
        // Not visible ASCII: ignored rather than recorded garbled.
        h.insert(
            EMULATOR_HEADER,
            reqwest::header::HeaderValue::from_bytes(b"sim\xff").unwrap(),
        );
        assert_eq!(emulator_name(&h), None);
    }
}
