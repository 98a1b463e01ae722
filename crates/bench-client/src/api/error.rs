//! What can go wrong talking to the API or envd, each with one line saying
//! what happened and what to change. A failed request is data (an `errors`
//! entry, a success-rate zero), never a panic.

use std::time::Duration;

use e2b_wire::api::CONCURRENCY_LIMIT_MESSAGE;

/// Which side a request went to (the fix differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The control plane.
    Api,
    /// A sandbox's envd, through client-proxy.
    Envd,
}

/// A failed request.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    /// The name did not resolve.
    #[error(
        "cannot resolve {host}: check E2B_DOMAIN / E2B_API_URL / the sandbox URL, or reach the cluster by IP with --connect-to IP:PORT"
    )]
    Dns {
        /// The name.
        host: String,
    },
    /// Nothing listens there.
    #[error(
        "connection refused by {url}: nothing listens there; check the port in E2B_API_URL / the sandbox URL, or --connect-to"
    )]
    Refused {
        /// The URL.
        url: String,
    },
    /// The TLS handshake failed; `detail` names the certificate problem.
    #[error(
        "TLS to {host} failed: {detail}; for a self-signed cluster pass --ca-cert FILE (or SSL_CERT_FILE) with its CA"
    )]
    Tls {
        /// The name.
        host: String,
        /// What was wrong.
        detail: String,
    },
    /// Any other transport failure (reset, closed, protocol).
    #[error("request to {url} failed: {detail}")]
    Transport {
        /// The URL.
        url: String,
        /// The cause chain.
        detail: String,
    },
    /// The phase did not finish in time.
    #[error("{what} took longer than {limit:?} ({limit_name})")]
    Timeout {
        /// What was waited for.
        what: String,
        /// The limit.
        limit: Duration,
        /// Where the limit comes from (`--phase-timeout`, `--suite-timeout`),
        /// so the message names the flag to raise.
        limit_name: &'static str,
    },
    /// 401 from the API.
    #[error(
        "401 from the API: E2B_API_KEY is missing or not valid for this cluster; set it in .e2b_env ({message})"
    )]
    Unauthorized {
        /// The server's message.
        message: String,
    },
    /// 401 from envd: a secure sandbox without (or with a wrong) access token.
    #[error(
        "401 from envd: the sandbox is secure and envd wants X-Access-Token (envdAccessToken of the create answer); {message}"
    )]
    EnvdUnauthorized {
        /// envd's message.
        message: String,
    },
    /// client-proxy could not route the request (400 `Invalid host`, …).
    #[error("{}", invalid_host_line(.answer, .host))]
    Routing {
        /// The proxy's answer (`Invalid host`, `Invalid sandbox ID`, …).
        answer: String,
        /// The Host the request carried.
        host: String,
    },
    /// 429: the rate limiter (with `Retry-After`) or the concurrency limit.
    #[error("{}", rate_limited_line(.message, .retry_after))]
    RateLimited {
        /// The server's message.
        message: String,
        /// `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// Any other non-success status.
    #[error("{status} from {what}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The request (`POST /sandboxes`).
        what: String,
        /// The server's message.
        message: String,
    },
    /// A success status with a body we cannot read.
    #[error("{what}: unexpected answer: {detail}")]
    Protocol {
        /// The request.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// Ctrl-C or SIGTERM.
    #[error("interrupted")]
    Interrupted,
}

fn invalid_host_line(answer: &str, host: &str) -> String {
    format!(
        "client-proxy answered '{answer}' for Host '{host}': it routes by a Host of the form \
         <port>-<sandboxID>.<domain> (or E2b-Sandbox-Id/-Port headers when Host is an IP, localhost \
         or sandbox.<domain>); use the cluster's domain in --sandbox-url-pattern, reach it by IP with \
         --connect-to IP:PORT keeping that Host, or set E2B_SANDBOX_URL for header routing \
         (bench-client doctor shows which works)"
    )
}

fn rate_limited_line(message: &str, retry_after: &Option<Duration>) -> String {
    if message.contains(CONCURRENCY_LIMIT_MESSAGE) {
        format!(
            "429: the team's concurrent-sandbox limit is reached ({message}); lower --max-concurrency, \
             kill leftovers with bench-client cleanup, or raise the team's limit"
        )
    } else {
        match retry_after {
            Some(d) => format!(
                "429 rate limited ({message}); retried after {}s as Retry-After asks",
                d.as_secs()
            ),
            None => {
                format!("429 rate limited ({message}); slow down (--interval, --max-concurrency)")
            }
        }
    }
}

impl ApiError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } | ApiError::EnvdUnauthorized { .. } => Some(401),
            ApiError::Routing { .. } => Some(400),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Classifies a transport error of reqwest.
    pub fn from_reqwest(e: &reqwest::Error, url: &str) -> Self {
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| url.to_owned());
        if let Some(detail) = tls_problem(e) {
            return ApiError::Tls { host, detail };
        }
        let chain = cause_chain(e);
        let lower = chain.to_ascii_lowercase();
        if lower.contains("dns error")
            || lower.contains("failed to lookup address")
            || lower.contains("name or service not known")
        {
            return ApiError::Dns { host };
        }
        if lower.contains("connection refused") {
            return ApiError::Refused {
                url: url.to_owned(),
            };
        }
        if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
            return ApiError::Tls {
                host,
                detail: chain,
            };
        }
        ApiError::Transport {
            url: url.to_owned(),
            detail: chain,
        }
    }

    /// An answer with a non-success status; `what` names the request.
    pub fn from_status(
        side: Side,
        status: u16,
        what: &str,
        body: &str,
        retry_after: Option<Duration>,
        host: &str,
    ) -> Self {
        let message = server_message(body);
        match (side, status) {
            (Side::Api, 401) => ApiError::Unauthorized { message },
            (Side::Envd, 401) => ApiError::EnvdUnauthorized { message },
            (_, 429) => ApiError::RateLimited {
                message,
                retry_after,
            },
            (Side::Envd, 400)
                if matches!(
                    message.as_str(),
                    "Invalid host"
                        | "Invalid sandbox port"
                        | "Invalid sandbox ID"
                        | "missing header"
                ) =>
            {
                ApiError::Routing {
                    answer: message,
                    host: host.to_owned(),
                }
            }
            _ => ApiError::Status {
                status,
                what: what.to_owned(),
                message,
            },
        }
    }
}

/// The `message` of an E2B or Connect error body, else the text itself
/// (Go's `http.Error` answers are plain text), on one short line.
pub fn server_message(body: &str) -> String {
    let from_json = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned));
    let text = from_json.unwrap_or_else(|| body.trim().to_owned());
    let one_line = text.replace(['\n', '\r'], " ");
    let mut short: String = one_line.chars().take(300).collect();
    if short.len() < one_line.len() {
        short.push('…');
    }
    short
}

/// Every message of an error's cause chain, joined (io::Error hides its
/// inner error from `source()`, so look inside it too).
fn cause_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => err.source(),
        };
    }
    parts.join(": ")
}

/// The certificate problem of a failed TLS handshake, in words.
fn tls_problem(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(describe_tls(tls));
        }
        current = match err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner),
            None => err.source(),
        };
    }
    None
}

fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::UnknownIssuer => {
                "the certificate is signed by an unknown authority (self-signed or a private CA)"
                    .into()
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "the certificate does not name this host (check E2B_DOMAIN)".into()
            }
            C::Expired | C::ExpiredContext { .. } => "the certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "the certificate is not valid yet (check this machine's clock)".into()
            }
            C::Revoked => "the certificate is revoked".into(),
            other => format!("invalid certificate ({other:?})"),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_the_right_lines() {
        let e = ApiError::from_status(
            Side::Api,
            401,
            "POST /sandboxes",
            r#"{"code":401,"message":"Invalid API key"}"#,
            None,
            "api.x",
        );
        assert!(e.to_string().contains("E2B_API_KEY"), "{e}");
        let e = ApiError::from_status(
            Side::Envd,
            400,
            "GET /health",
            "Invalid host\n",
            None,
            "10.0.0.5:443",
        );
        let line = e.to_string();
        assert!(
            line.contains("'Invalid host' for Host '10.0.0.5:443'"),
            "{line}"
        );
        assert!(line.contains("--connect-to"), "{line}");
        let e = ApiError::from_status(
            Side::Api,
            429,
            "POST /sandboxes",
            r#"{"code":429,"message":"you have reached the maximum number of concurrent E2B sandboxes (20). If you need more"}"#,
            None,
            "api.x",
        );
        assert!(e.to_string().contains("--max-concurrency"), "{e}");
        let e = ApiError::from_status(
            Side::Api,
            429,
            "x",
            r#"{"code":429,"message":"Rate limit exceeded"}"#,
            Some(Duration::from_secs(2)),
            "h",
        );
        assert!(e.to_string().contains("Retry-After"), "{e}");
        assert!(!e.to_string().contains('\n'));
        assert_eq!(server_message("a\nb"), "a b");
    }
}
