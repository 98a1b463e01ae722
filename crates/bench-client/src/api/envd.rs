//! A sandbox's envd, through client-proxy: `GET /health` and
//! `process.Process/Start` (Connect server streaming, JSON codec).

use std::path::Path;
use std::time::Duration;

use e2b_wire::api::HEADER_ACCESS_TOKEN;
use e2b_wire::base64;
use e2b_wire::connect::{
    CONTENT_TYPE_STREAM, DecodeError, FLAG_DATA, KEEPALIVE_HEADER, Message, PROTOCOL_VERSION,
    StreamDecoder, envelope,
};
use e2b_wire::process::{self, End, Event};

use super::{ApiError, Side, retry_after, send};
use crate::endpoints::EnvdTarget;

/// Seconds between keepalives we ask envd for (the SDK asks for 50), so a
/// long command survives proxies that close idle streams.
pub const KEEPALIVE_SECS: u64 = 50;

/// The envd of one sandbox.
#[derive(Debug, Clone)]
pub struct Envd {
    http: reqwest::Client,
    target: EnvdTarget,
    token: Option<String>,
    user: &'static str,
}

impl Envd {
    /// envd at `target`; `token` is the create answer's `envdAccessToken`.
    pub fn new(http: reqwest::Client, target: EnvdTarget, token: Option<String>) -> Self {
        if let Some(t) = &token {
            bench_core::redact::register_secret(t);
        }
        Envd {
            http,
            target,
            token,
            user: "user",
        }
    }

    /// The Host requests carry (for error lines).
    pub fn host(&self) -> String {
        url::Url::parse(&self.target.base)
            .ok()
            .map(|u| match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                _ => self.target.base.clone(),
            })
            .unwrap_or_else(|| self.target.base.clone())
    }

    fn request(&self, method: reqwest::Method, path: &str) -> (reqwest::RequestBuilder, String) {
        let url = format!("{}{path}", self.target.base);
        let mut req = self.http.request(method, &url);
        for (k, v) in &self.target.headers {
            req = req.header(*k, v);
        }
        if let Some(t) = &self.token {
            req = req.header(HEADER_ACCESS_TOKEN, t);
        }
        (req, url)
    }

    /// `GET /health`: any 2xx.
    pub async fn health(&self) -> Result<(), ApiError> {
        let (req, url) = self.request(reqwest::Method::GET, "/health");
        let a = send(req, &url).await?;
        if (200..300).contains(&a.status) {
            return Ok(());
        }
        Err(ApiError::from_status(
            Side::Envd,
            a.status,
            "envd GET /health",
            &a.body,
            retry_after(&a.headers),
            &self.host(),
        ))
    }

    /// `POST /files?path=&username=`: streams the local file `local` to
    /// `path` in the sandbox (a multipart field `file`, as the SDK sends it;
    /// read in chunks, never whole into memory). Returns the bytes sent.
    pub async fn upload(&self, local: &Path, path: &str) -> Result<u64, ApiError> {
        let what = "envd POST /files";
        let part = reqwest::multipart::Part::file(local)
            .await
            .map_err(|e| ApiError::Protocol {
                what: what.to_owned(),
                detail: format!("cannot read {}: {e}", local.display()),
            })?;
        let bytes = std::fs::metadata(local).map(|m| m.len()).unwrap_or(0);
        let form = reqwest::multipart::Form::new().part("file", part);
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("path", path)
            .append_pair("username", self.user)
            .finish();
        let (req, url) = self.request(reqwest::Method::POST, &format!("/files?{query}"));
        let a = send(req.multipart(form), &url).await?;
        if (200..300).contains(&a.status) {
            return Ok(bytes);
        }
        Err(ApiError::from_status(
            Side::Envd,
            a.status,
            what,
            &a.body,
            retry_after(&a.headers),
            &self.host(),
        ))
    }

    /// Runs `bash -l -c <command>` as the SDK does and waits for its end
    /// event; `on_event` sees every event (output, keepalives) as it comes.
    pub async fn run(&self, command: &str, on_event: impl FnMut(&Event)) -> Result<End, ApiError> {
        self.start(process::shell_request(command), on_event).await
    }

    /// `process.Process/Start` of `request` (see `e2b_wire::process`),
    /// waiting for its end event.
    pub async fn start(
        &self,
        request: serde_json::Value,
        mut on_event: impl FnMut(&Event),
    ) -> Result<End, ApiError> {
        let what = "envd process.Process/Start";
        let body = request.to_string();
        let (req, url) = self.request(reqwest::Method::POST, process::START_PATH);
        let req = req
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE_STREAM)
            .header(PROTOCOL_VERSION.0, PROTOCOL_VERSION.1)
            .header("connect-content-encoding", "identity")
            .header(KEEPALIVE_HEADER, KEEPALIVE_SECS.to_string())
            .header(
                reqwest::header::AUTHORIZATION,
                format!(
                    "Basic {}",
                    base64::encode(format!("{}:", self.user).as_bytes())
                ),
            )
            .body(envelope(FLAG_DATA, body.as_bytes()));
        let mut resp = req
            .send()
            .await
            .map_err(|e| ApiError::from_reqwest(&e, &url))?;
        let status = resp.status().as_u16();
        if status != 200 {
            let headers = resp.headers().clone();
            let text = resp.text().await.unwrap_or_default();
            return Err(ApiError::from_status(
                Side::Envd,
                status,
                what,
                &text,
                retry_after(&headers),
                &self.host(),
            ));
        }
        let mut decoder = StreamDecoder::default();
        let mut end: Option<End> = None;
        loop {
            let chunk = resp
                .chunk()
                .await
                .map_err(|e| ApiError::from_reqwest(&e, &url))?;
            let Some(chunk) = chunk else {
                return match end {
                    Some(e) => Ok(e),
                    None => Err(protocol(what, "the stream ended without an end event")),
                };
            };
            decoder.push(&chunk);
            while let Some(message) = decoder
                .next_message()
                .map_err(|e: DecodeError| protocol(what, &e.to_string()))?
            {
                match message {
                    Message::Data(v) => {
                        if let Some(event) = process::parse_event(&v) {
                            on_event(&event);
                            if let Event::End(e) = event {
                                end = Some(e);
                            }
                        }
                    }
                    Message::End(Some(err)) => {
                        let status = e2b_wire::connect::http_status(&err.code);
                        return Err(ApiError::from_status(
                            Side::Envd,
                            status,
                            what,
                            &serde_json::json!({ "message": format!("{}: {}", err.code, err.message) }).to_string(),
                            None,
                            &self.host(),
                        ));
                    }
                    Message::End(None) => {
                        return end.ok_or_else(|| {
                            protocol(what, "the stream ended without an end event")
                        });
                    }
                }
            }
        }
    }
}

fn protocol(what: &str, detail: &str) -> ApiError {
    ApiError::Protocol {
        what: what.to_owned(),
        detail: detail.to_owned(),
    }
}

/// Polls `GET /health` until it answers 2xx or `limit` passes: E2B answers
/// the create once envd is up, so this is mostly one round trip, but a
/// proxy may still report the new sandbox as not found for a moment.
/// `limit_name` says where `limit` comes from, for the timeout's message.
pub async fn wait_ready(
    envd: &Envd,
    limit: Duration,
    limit_name: &'static str,
) -> Result<(), ApiError> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut pause = Duration::from_millis(5);
    loop {
        let attempt = tokio::time::timeout_at(deadline, envd.health()).await;
        match attempt {
            Err(_) => {
                return Err(ApiError::Timeout {
                    what: "envd GET /health".into(),
                    limit,
                    limit_name,
                });
            }
            Ok(Ok(())) => return Ok(()),
            // 502: the proxy does not know the sandbox yet; try again.
            Ok(Err(ApiError::Status { status: 502, .. }))
                if tokio::time::Instant::now() + pause < deadline =>
            {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Ok(Err(e)) => return Err(e),
        }
    }
}
