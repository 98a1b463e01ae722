//! How sandbox traffic is addressed, as infra's client-proxy parses it
//! (`packages/shared/pkg/proxy/host.go`): `Host: <port>-<sandboxID>[-…].<domain>`,
//! or the `E2b-Sandbox-Id` / `E2b-Sandbox-Port` headers when Host is
//! `localhost`, an IP or `sandbox.<domain>`.

use std::net::IpAddr;

/// The envd port inside every sandbox.
pub const ENVD_PORT: u64 = 49983;

/// Header naming the sandbox under header routing.
pub const HEADER_SANDBOX_ID: &str = "e2b-sandbox-id";
/// Header naming the port under header routing.
pub const HEADER_SANDBOX_PORT: &str = "e2b-sandbox-port";

/// Why client-proxy could not route a request (each is its 400 answer).
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
    /// The proxy's plain-text answer (Go's `http.Error`, without the newline).
    pub fn text(&self) -> &'static str {
        match self {
            Self::InvalidHost => "Invalid host",
            Self::InvalidPort => "Invalid sandbox port",
            Self::InvalidSandboxId => "Invalid sandbox ID",
            Self::MissingHeader(_) => "missing header",
        }
    }
}

/// The current host form: `<port>-<sandboxID>.<domain>` (SDKs since py 1.6.0 / JS 1.8.0).
pub fn sandbox_host(port: u64, sandbox_id: &str, domain: &str) -> String {
    format!("{port}-{sandbox_id}.{domain}")
}

/// The legacy host form `<port>-<sandboxID>-<clientID>.<domain>` (py ≤1.5, JS ≤1.7).
pub fn legacy_sandbox_host(port: u64, sandbox_id: &str, client_id: &str, domain: &str) -> String {
    format!("{port}-{sandbox_id}-{client_id}.{domain}")
}

/// Go's `url.URL{Host: h}.Hostname()`: the host without port or brackets.
pub fn hostname(host: &str) -> &str {
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

/// E2B's sandbox id alphabet: `^[a-z0-9]+$`.
pub fn valid_sandbox_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// `GetTargetFromRequest`: `(sandbox id, port)` of a request with this Host
/// and these routing header values (empty when absent).
pub fn target(host: &str, id_header: &str, port_header: &str) -> Result<(String, u64), RouteError> {
    if should_parse_headers(host) {
        match (id_header.is_empty(), port_header.is_empty()) {
            (true, true) => {}
            (true, false) => return Err(RouteError::MissingHeader("E2b-Sandbox-Id")),
            (false, true) => return Err(RouteError::MissingHeader("E2b-Sandbox-Port")),
            (false, false) => {
                let port = parse_port(port_header)?;
                if !valid_sandbox_id(id_header) {
                    return Err(RouteError::InvalidSandboxId);
                }
                return Ok((id_header.to_string(), port));
            }
        }
    }
    let (id, port) = parse_host(host)?;
    if !valid_sandbox_id(&id) {
        return Err(RouteError::InvalidSandboxId);
    }
    Ok((id, port))
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
        // An IP without routing headers: the seed's "Invalid host".
        assert_eq!(
            target("10.0.0.5:3002", "", ""),
            Err(RouteError::InvalidHost)
        );
        assert_eq!(hostname("[::1]:80"), "::1");
        assert!(should_parse_headers("127.0.0.1:3002"));
        assert!(should_parse_headers("localhost"));
        assert!(should_parse_headers("sandbox.e2b.local"));
        assert!(!should_parse_headers("49983-abc.e2b.local"));
        assert_eq!(
            target("49983-ABC.e2b.local", "", ""),
            Err(RouteError::InvalidSandboxId)
        );
        assert_eq!(
            target("localhost", "abc", ""),
            Err(RouteError::MissingHeader("E2b-Sandbox-Port"))
        );
        assert_eq!(
            target("localhost", "abc", "49983"),
            Ok(("abc".into(), 49983))
        );
    }

    #[test]
    fn builds_both_host_forms() {
        assert_eq!(
            legacy_sandbox_host(ENVD_PORT, "abc", "6532622b", "e2b.dev"),
            "49983-abc-6532622b.e2b.dev"
        );
        let legacy = legacy_sandbox_host(ENVD_PORT, "abc", "6532622b", "e2b.dev");
        assert_eq!(parse_host(&legacy), Ok(("abc".into(), ENVD_PORT)));
    }
}
