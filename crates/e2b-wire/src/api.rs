//! The control plane's REST bodies (infra `spec/openapi.yml`) and headers.
//! Optional fields are skipped when absent, as the SDKs send them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The deprecated `clientID`, a constant in E2B (`shared/pkg/consts`).
pub const CLIENT_ID: &str = "6532622b";

/// The API key header (the py SDK spells it `X-API-KEY`; names are case-insensitive).
pub const HEADER_API_KEY: &str = "x-api-key";
/// envd's access-token header for secure sandboxes.
pub const HEADER_ACCESS_TOKEN: &str = "x-access-token";
/// The next-page token of `GET /v2/sandboxes`.
pub const HEADER_NEXT_TOKEN: &str = "x-next-token";
/// Not E2B's: the header by which e2b-sim names itself on every answer
/// (`e2b-sim <version>`), so a client can tell emulated figures from a
/// cluster's. No E2B component or SDK sends or reads it.
pub const HEADER_EMULATOR: &str = "x-e2b-emulator";

/// `NewSandbox` (v1 `POST /sandboxes`) and `NewSandboxV2` (`POST /v2/sandboxes`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewSandbox {
    /// Template id or alias (may carry a `:tag`).
    #[serde(
        rename = "templateID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub template_id: Option<String>,
    /// Seconds until the sandbox is killed (spec default 15 on v1, 300 on v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// Pause instead of kill at the timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_pause: Option<bool>,
    /// v1 only: an explicit `true` secures envd with an access token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secure: Option<bool>,
    /// Internet access of the sandbox (snake_case in the spec).
    #[serde(
        rename = "allow_internet_access",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub allow_internet_access: Option<bool>,
    /// User metadata; bench-client tags its sandboxes here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    /// Environment variables of the sandbox.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_vars: Option<BTreeMap<String, String>>,
}

/// The `Sandbox` answer of create, resume and connect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sandbox {
    /// Template id.
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// Sandbox id (20 × `[a-z0-9]`).
    #[serde(rename = "sandboxID")]
    pub sandbox_id: String,
    /// Template alias the sandbox was created from.
    #[serde(default)]
    pub alias: Option<String>,
    /// Deprecated constant [`CLIENT_ID`]; older clusters still route by it.
    #[serde(rename = "clientID", default)]
    pub client_id: Option<String>,
    /// Version of envd inside the sandbox.
    #[serde(rename = "envdVersion", default)]
    pub envd_version: Option<String>,
    /// Token for envd of a secure sandbox (`X-Access-Token`).
    #[serde(
        rename = "envdAccessToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub envd_access_token: Option<String>,
    /// Token for the sandbox's other ports (2025-11+).
    #[serde(
        rename = "trafficAccessToken",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub traffic_access_token: Option<String>,
    /// Domain of the sandbox when it differs from the API's (usually null).
    #[serde(default)]
    pub domain: Option<String>,
}

/// One item of `GET /sandboxes` and `GET /v2/sandboxes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedSandbox {
    /// Template id.
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// Template alias.
    #[serde(default)]
    pub alias: Option<String>,
    /// Sandbox id.
    #[serde(rename = "sandboxID")]
    pub sandbox_id: String,
    /// Deprecated constant.
    #[serde(rename = "clientID", default)]
    pub client_id: Option<String>,
    /// RFC 3339 start time.
    #[serde(rename = "startedAt", default)]
    pub started_at: Option<String>,
    /// RFC 3339 end (timeout) time.
    #[serde(rename = "endAt", default)]
    pub end_at: Option<String>,
    /// User metadata.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// `running` or `paused` (v2).
    #[serde(default)]
    pub state: Option<String>,
    /// Version of envd.
    #[serde(rename = "envdVersion", default)]
    pub envd_version: Option<String>,
}

/// One item of `GET /templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// Template id.
    #[serde(rename = "templateID")]
    pub template_id: String,
    /// Current build.
    #[serde(rename = "buildID", default)]
    pub build_id: Option<String>,
    /// Aliases (names) of the template.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// envd version of the build.
    #[serde(rename = "envdVersion", default)]
    pub envd_version: Option<String>,
    /// `ready`, `building`, `error`, …
    #[serde(rename = "buildStatus", default)]
    pub build_status: Option<String>,
}

/// `{"timeout": s}` of `…/timeout`, `…/connect` and `…/resume`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeoutBody {
    /// Seconds from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

/// `{"duration": s}` of `…/refreshes` (at most 3600).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefreshBody {
    /// Seconds from now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
}

/// E2B's error body: `{"code": <int>, "message": "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// HTTP status repeated.
    pub code: u16,
    /// What went wrong.
    #[serde(default)]
    pub message: String,
}

/// The start of the message E2B gives when a team's concurrent-sandbox
/// limit is reached (`api/internal/orchestrator/create_instance.go`); the
/// other 429 is the rate limiter's `Rate limit exceeded` with `Retry-After`.
pub const CONCURRENCY_LIMIT_MESSAGE: &str =
    "you have reached the maximum number of concurrent E2B sandboxes";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_sandbox_uses_the_spec_names_and_skips_absent_fields() {
        let body = NewSandbox {
            template_id: Some("base".into()),
            timeout: Some(120.0),
            metadata: Some(BTreeMap::from([("e2b-bench-run".into(), "r1".into())])),
            allow_internet_access: Some(true),
            ..NewSandbox::default()
        };
        let v = serde_json::to_value(&body).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"templateID": "base", "timeout": 120.0,
                "allow_internet_access": true, "metadata": {"e2b-bench-run": "r1"}})
        );
        let sb: Sandbox = serde_json::from_str(
            r#"{"templateID":"t","sandboxID":"s","clientID":"6532622b","envdVersion":"0.2.0","domain":null}"#,
        )
        .unwrap();
        assert_eq!(sb.client_id.as_deref(), Some(CLIENT_ID));
        assert_eq!(sb.envd_access_token, None);
    }
}
