//! The control plane: create (v2 or v1), kill, timeouts, pause and
//! resume, listing and templates.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use e2b_wire::api::{
    HEADER_API_KEY, HEADER_NEXT_TOKEN, ListedSandbox, NewSandbox, Sandbox, Template, TimeoutBody,
};
use serde::de::DeserializeOwned;

use super::{Answer, ApiError, Side, retry_after, send};

/// Which create path to use (`--api`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    /// `POST /v2/sandboxes`, falling back to v1 when the cluster answers 404.
    Auto,
    /// `POST /v2/sandboxes` (newest SDKs).
    V2,
    /// `POST /sandboxes`.
    V1,
}

const UNDECIDED: u8 = 0;
const USE_V2: u8 = 2;
const USE_V1: u8 = 1;

/// The control-plane client. Cheap to share: reqwest pools connections.
#[derive(Debug)]
pub struct ControlPlane {
    http: reqwest::Client,
    base: String,
    key: Option<String>,
    requested: ApiVersion,
    decided: AtomicU8,
}

impl ControlPlane {
    /// A client of the API at `base` (no trailing slash).
    pub fn new(http: reqwest::Client, base: &str, key: Option<String>, api: ApiVersion) -> Self {
        let decided = match api {
            ApiVersion::Auto => UNDECIDED,
            ApiVersion::V2 => USE_V2,
            ApiVersion::V1 => USE_V1,
        };
        ControlPlane {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
            requested: api,
            decided: AtomicU8::new(decided),
        }
    }

    /// The create path in use: `v2`, `v1`, or `auto` before the first create.
    pub fn create_path(&self) -> &'static str {
        match self.decided.load(Ordering::Relaxed) {
            USE_V2 => "v2",
            USE_V1 => "v1",
            _ => "auto",
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> (reqwest::RequestBuilder, String) {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url);
        if let Some(key) = &self.key {
            req = req.header(HEADER_API_KEY, key);
        }
        (req, url)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Answer, ApiError> {
        let (mut req, url) = self.request(method, path);
        if let Some(b) = body {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        send(req, &url).await
    }

    fn fail(&self, what: &str, a: &Answer) -> ApiError {
        let host = url::Url::parse(&self.base)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default();
        ApiError::from_status(
            Side::Api,
            a.status,
            what,
            &a.body,
            retry_after(&a.headers),
            &host,
        )
    }

    fn parse<T: DeserializeOwned>(what: &str, a: &Answer) -> Result<T, ApiError> {
        serde_json::from_str(&a.body).map_err(|e| ApiError::Protocol {
            what: what.to_owned(),
            detail: format!("{e} in {}", super::error::server_message(&a.body)),
        })
    }

    /// One create attempt (no retry). Under `--api auto` the first 404 that
    /// is not about the template switches to v1 for the rest of the run.
    pub async fn create(&self, body: &NewSandbox) -> Result<Sandbox, ApiError> {
        let value = serde_json::to_value(body).map_err(|e| ApiError::Protocol {
            what: "create".into(),
            detail: e.to_string(),
        })?;
        if self.decided.load(Ordering::Relaxed) != USE_V1 {
            let mut v2 = value.clone();
            // NewSandboxV2 has no `secure`: v2 sandboxes are always secured.
            if let Some(o) = v2.as_object_mut() {
                o.remove("secure");
            }
            let a = self
                .call(reqwest::Method::POST, "/v2/sandboxes", Some(v2))
                .await?;
            let route_missing = a.status == 404
                && !super::error::server_message(&a.body)
                    .to_ascii_lowercase()
                    .contains("template");
            if !(route_missing && self.requested == ApiVersion::Auto) {
                if a.status == 201 || a.status == 200 {
                    self.decided.store(USE_V2, Ordering::Relaxed);
                    return Self::parse("POST /v2/sandboxes", &a);
                }
                return Err(self.fail("POST /v2/sandboxes", &a));
            }
            tracing::info!("POST /v2/sandboxes answered 404: using v1 POST /sandboxes");
            self.decided.store(USE_V1, Ordering::Relaxed);
        }
        let a = self
            .call(reqwest::Method::POST, "/sandboxes", Some(value))
            .await?;
        if a.status == 201 || a.status == 200 {
            return Self::parse("POST /sandboxes", &a);
        }
        Err(self.fail("POST /sandboxes", &a))
    }

    /// `DELETE /sandboxes/{id}`: `Ok(true)` killed, `Ok(false)` already gone.
    pub async fn kill(&self, id: &str) -> Result<bool, ApiError> {
        let a = self
            .call(reqwest::Method::DELETE, &format!("/sandboxes/{id}"), None)
            .await?;
        match a.status {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(self.fail("DELETE /sandboxes/{id}", &a)),
        }
    }

    /// `POST /sandboxes/{id}/timeout`: the sandbox lives `timeout` from now.
    pub async fn set_timeout(&self, id: &str, timeout: Duration) -> Result<(), ApiError> {
        let body = serde_json::to_value(TimeoutBody {
            timeout: Some(timeout.as_secs_f64().ceil()),
        })
        .unwrap_or_default();
        let a = self
            .call(
                reqwest::Method::POST,
                &format!("/sandboxes/{id}/timeout"),
                Some(body),
            )
            .await?;
        match a.status {
            200..=299 => Ok(()),
            _ => Err(self.fail("POST /sandboxes/{id}/timeout", &a)),
        }
    }

    /// `POST /sandboxes/{id}/pause` (204).
    pub async fn pause(&self, id: &str) -> Result<(), ApiError> {
        let a = self
            .call(
                reqwest::Method::POST,
                &format!("/sandboxes/{id}/pause"),
                Some(serde_json::json!({})),
            )
            .await?;
        match a.status {
            200..=299 => Ok(()),
            _ => Err(self.fail("POST /sandboxes/{id}/pause", &a)),
        }
    }

    /// Resumes a paused sandbox: `POST /sandboxes/{id}/connect` (2025-10+),
    /// else the deprecated `…/resume` when `connect` is not routed.
    pub async fn resume(&self, id: &str, timeout: Duration) -> Result<Sandbox, ApiError> {
        let body = serde_json::json!({ "timeout": timeout.as_secs_f64().ceil() });
        let a = self
            .call(
                reqwest::Method::POST,
                &format!("/sandboxes/{id}/connect"),
                Some(body.clone()),
            )
            .await?;
        if a.status == 200 || a.status == 201 {
            return Self::parse("POST /sandboxes/{id}/connect", &a);
        }
        let msg = super::error::server_message(&a.body).to_ascii_lowercase();
        if a.status != 404 || msg.contains("sandbox") {
            return Err(self.fail("POST /sandboxes/{id}/connect", &a));
        }
        let a = self
            .call(
                reqwest::Method::POST,
                &format!("/sandboxes/{id}/resume"),
                Some(body),
            )
            .await?;
        if a.status == 200 || a.status == 201 {
            return Self::parse("POST /sandboxes/{id}/resume", &a);
        }
        Err(self.fail("POST /sandboxes/{id}/resume", &a))
    }

    /// Every sandbox (running and paused) whose metadata has `key=value`:
    /// `GET /v2/sandboxes` page by page, else the v1 list.
    pub async fn list_tagged(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<ListedSandbox>, ApiError> {
        let filter = percent_encode(&format!(
            "{}={}",
            percent_encode(key),
            percent_encode(value)
        ));
        self.list(Some(&filter)).await
    }

    /// Every sandbox (running and paused) of the team.
    pub async fn list_all(&self) -> Result<Vec<ListedSandbox>, ApiError> {
        self.list(None).await
    }

    async fn list(&self, filter: Option<&str>) -> Result<Vec<ListedSandbox>, ApiError> {
        let query = filter.map(|f| format!("&metadata={f}")).unwrap_or_default();
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/v2/sandboxes?state=running,paused&limit=100{query}");
            if let Some(t) = &token {
                path.push_str(&format!("&nextToken={}", percent_encode(t)));
            }
            let a = self.call(reqwest::Method::GET, &path, None).await?;
            if a.status == 404 && token.is_none() {
                let a = self
                    .call(
                        reqwest::Method::GET,
                        &format!("/sandboxes?{}", query.trim_start_matches('&')),
                        None,
                    )
                    .await?;
                if a.status != 200 {
                    return Err(self.fail("GET /sandboxes", &a));
                }
                return Self::parse("GET /sandboxes", &a);
            }
            if a.status != 200 {
                return Err(self.fail("GET /v2/sandboxes", &a));
            }
            let page: Vec<ListedSandbox> = Self::parse("GET /v2/sandboxes", &a)?;
            all.extend(page);
            token = a
                .headers
                .get(HEADER_NEXT_TOKEN)
                .and_then(|v| v.to_str().ok())
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                return Ok(all);
            }
        }
    }

    /// `GET /templates`.
    pub async fn templates(&self) -> Result<Vec<Template>, ApiError> {
        let a = self.call(reqwest::Method::GET, "/templates", None).await?;
        if a.status != 200 {
            return Err(self.fail("GET /templates", &a));
        }
        Self::parse("GET /templates", &a)
    }

    /// `GET /health` (any 2xx; the key is not needed).
    pub async fn health(&self) -> Result<(), ApiError> {
        let a = self.call(reqwest::Method::GET, "/health", None).await?;
        if (200..300).contains(&a.status) {
            Ok(())
        } else {
            Err(self.fail("GET /health", &a))
        }
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
