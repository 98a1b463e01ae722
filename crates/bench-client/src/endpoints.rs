//! Where API and envd traffic goes, resolved once from `.e2b_env` and the
//! flags (shared by `info`, every scenario and `doctor`).
//!
//! - API: `E2B_API_URL`, else `https://api.<E2B_DOMAIN>`.
//! - envd, host routing (default): `--sandbox-url-pattern`, default
//!   `https://{port}-{sandbox_id}.{domain}`; the legacy form
//!   `https://{port}-{sandbox_id}-{client_id}.{domain}` for clusters older
//!   than infra@eeb9ca666 (2025-07-15).
//! - envd, header routing: `E2B_SANDBOX_URL` as the base URL plus
//!   `E2b-Sandbox-Id` / `E2b-Sandbox-Port` (SDK ≥ 2.7); an explicit
//!   `--sandbox-url-pattern` wins over it.
//! - `--connect-to HOST:PORT`: every connection goes to that address while
//!   URLs, Host and SNI stay as they are (curl's `--connect-to`), the way to
//!   reach a cluster by IP without client-proxy's "Invalid host".

use std::net::{SocketAddr, ToSocketAddrs};

use bench_core::env_file::Environment;
use bench_core::exit::Failure;
use e2b_wire::host::{ENVD_PORT, HEADER_SANDBOX_ID, HEADER_SANDBOX_PORT};
use url::Url;

/// The default host pattern of current SDKs.
pub const DEFAULT_PATTERN: &str = "https://{port}-{sandbox_id}.{domain}";
/// The legacy host pattern (py ≤ 1.5, JS ≤ 1.7).
pub const LEGACY_PATTERN: &str = "https://{port}-{sandbox_id}-{client_id}.{domain}";

/// How envd of a sandbox is addressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routing {
    /// The sandbox is named in the Host: a URL pattern with `{port}`,
    /// `{sandbox_id}`, `{client_id}` and `{domain}`.
    Host {
        /// The pattern, validated.
        pattern: String,
    },
    /// One base URL; the sandbox is named in headers.
    Header {
        /// `E2B_SANDBOX_URL`.
        base: Url,
    },
}

impl Routing {
    /// A short name for logs, parameters and doctor lines.
    pub fn describe(&self) -> String {
        match self {
            Routing::Host { pattern } => format!("host routing {pattern}"),
            Routing::Header { base } => {
                format!("header routing via {}", base.as_str().trim_end_matches('/'))
            }
        }
    }
}

/// Where a request for one sandbox's envd goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvdTarget {
    /// Base URL without a trailing slash.
    pub base: String,
    /// Routing headers (header routing only).
    pub headers: Vec<(&'static str, String)>,
}

/// Resolved endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Control-plane base URL, no trailing slash.
    pub api_url: String,
    /// `E2B_DOMAIN`, when set.
    pub domain: Option<String>,
    /// envd addressing.
    pub routing: Routing,
    /// `--connect-to`: every connection goes here.
    pub connect_to: Option<SocketAddr>,
}

/// The endpoint flags (parsed, not yet validated).
#[derive(Debug, Clone, Default)]
pub struct EndpointFlags {
    /// `--sandbox-url-pattern`.
    pub sandbox_url_pattern: Option<String>,
    /// `--connect-to HOST:PORT`.
    pub connect_to: Option<String>,
}

impl Endpoints {
    /// Resolves the endpoints; every mistake is a one-line usage error
    /// naming the variable or flag.
    pub fn resolve(env: &Environment, flags: &EndpointFlags) -> Result<Self, Failure> {
        let domain = env
            .get("E2B_DOMAIN")
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        let api_url = match (env.get("E2B_API_URL"), &domain) {
            (Some(url), _) => check_http_url("E2B_API_URL", url)?,
            (None, Some(d)) => format!("https://api.{d}"),
            (None, None) => {
                return Err(Failure::usage(
                    "no API address: set E2B_DOMAIN (the API is then https://api.<domain>) or E2B_API_URL in .e2b_env",
                ));
            }
        };
        let routing = match (&flags.sandbox_url_pattern, env.get("E2B_SANDBOX_URL")) {
            (Some(p), _) => Routing::Host {
                pattern: check_pattern("--sandbox-url-pattern", p, domain.as_deref())?,
            },
            (None, Some(base)) => Routing::Header {
                base: Url::parse(&check_http_url("E2B_SANDBOX_URL", base)?)
                    .map_err(|e| Failure::usage(format!("E2B_SANDBOX_URL '{base}': {e}")))?,
            },
            (None, None) => Routing::Host {
                pattern: check_pattern("--sandbox-url-pattern", DEFAULT_PATTERN, domain.as_deref())
                    .map_err(|_| {
                        Failure::usage(
                            "no envd address: set E2B_DOMAIN (envd is then https://49983-<id>.<domain>), \
                             E2B_SANDBOX_URL, or --sandbox-url-pattern",
                        )
                    })?,
            },
        };
        let connect_to = flags
            .connect_to
            .as_deref()
            .map(|v| parse_connect_to("--connect-to", v))
            .transpose()?;
        Ok(Endpoints {
            api_url,
            domain,
            routing,
            connect_to,
        })
    }

    /// The same endpoints with another routing (doctor tries each scheme).
    pub fn with_routing(&self, routing: Routing) -> Self {
        Endpoints {
            routing,
            ..self.clone()
        }
    }

    /// Where envd of `sandbox_id` answers. `domain` is the create answer's
    /// `domain` when the cluster gave one (SDK ≥ 1.7 uses it).
    pub fn envd(&self, sandbox_id: &str, client_id: &str, domain: Option<&str>) -> EnvdTarget {
        match &self.routing {
            Routing::Host { pattern } => EnvdTarget {
                base: expand(
                    pattern,
                    sandbox_id,
                    client_id,
                    domain.or(self.domain.as_deref()).unwrap_or(""),
                ),
                headers: Vec::new(),
            },
            Routing::Header { base } => EnvdTarget {
                base: base.as_str().trim_end_matches('/').to_owned(),
                headers: vec![
                    (HEADER_SANDBOX_ID, sandbox_id.to_owned()),
                    (HEADER_SANDBOX_PORT, ENVD_PORT.to_string()),
                ],
            },
        }
    }
}

/// Fills a pattern's placeholders.
pub fn expand(pattern: &str, sandbox_id: &str, client_id: &str, domain: &str) -> String {
    pattern
        .replace("{port}", &ENVD_PORT.to_string())
        .replace("{sandbox_id}", sandbox_id)
        .replace("{client_id}", client_id)
        .replace("{domain}", domain)
        .trim_end_matches('/')
        .to_owned()
}

fn check_http_url(name: &str, value: &str) -> Result<String, Failure> {
    let url = Url::parse(value.trim()).map_err(|e| {
        Failure::usage(format!(
            "{name} '{value}': {e}; give a URL such as https://api.example.com"
        ))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Failure::usage(format!(
            "{name} '{value}': use an http:// or https:// URL with a host"
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn check_pattern(flag: &str, pattern: &str, domain: Option<&str>) -> Result<String, Failure> {
    if !pattern.contains("{sandbox_id}") {
        return Err(Failure::usage(format!(
            "{flag} '{pattern}': the pattern must contain {{sandbox_id}}, e.g. {DEFAULT_PATTERN}"
        )));
    }
    if pattern.contains("{domain}") && domain.is_none() {
        return Err(Failure::usage(format!(
            "{flag} '{pattern}' uses {{domain}} but E2B_DOMAIN is not set"
        )));
    }
    let example = expand(
        pattern,
        "sbx0example0000000000",
        e2b_wire::api::CLIENT_ID,
        domain.unwrap_or("example.com"),
    );
    check_http_url(flag, &example).map_err(|_| {
        Failure::usage(format!(
            "{flag} '{pattern}' does not make an http(s) URL (got '{example}'); e.g. {DEFAULT_PATTERN}"
        ))
    })?;
    Ok(pattern.trim_end_matches('/').to_owned())
}

/// `HOST:PORT` (a name is resolved now, once).
pub fn parse_connect_to(flag: &str, value: &str) -> Result<SocketAddr, Failure> {
    let bad = |why: String| {
        Failure::usage(format!(
            "{flag} '{value}': {why}; use HOST:PORT, e.g. 203.0.113.7:443"
        ))
    };
    if let Ok(addr) = value.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let (_, port) = value
        .rsplit_once(':')
        .ok_or_else(|| bad("no port".into()))?;
    port.parse::<u16>()
        .map_err(|_| bad(format!("'{port}' is not a port")))?;
    value
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("the name has no address".into()))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Environment::from_parts(None, map)
    }

    #[test]
    fn domain_gives_api_and_host_routing() {
        let e = Endpoints::resolve(&env(&[("E2B_DOMAIN", "e2b.example")]), &Default::default())
            .unwrap();
        assert_eq!(e.api_url, "https://api.e2b.example");
        let t = e.envd("abc", "6532622b", None);
        assert_eq!(t.base, "https://49983-abc.e2b.example");
        assert!(t.headers.is_empty());
        let legacy = e.with_routing(Routing::Host {
            pattern: LEGACY_PATTERN.into(),
        });
        assert_eq!(
            legacy.envd("abc", "6532622b", Some("other.dom")).base,
            "https://49983-abc-6532622b.other.dom"
        );
    }

    #[test]
    fn sandbox_url_means_header_routing_unless_a_pattern_is_given() {
        let vars = [
            ("E2B_API_URL", "http://127.0.0.1:3000/"),
            ("E2B_SANDBOX_URL", "http://127.0.0.1:3002"),
        ];
        let e = Endpoints::resolve(&env(&vars), &Default::default()).unwrap();
        assert_eq!(e.api_url, "http://127.0.0.1:3000");
        let t = e.envd("abc", "x", None);
        assert_eq!(t.base, "http://127.0.0.1:3002");
        assert_eq!(
            t.headers,
            vec![
                ("e2b-sandbox-id", "abc".to_owned()),
                ("e2b-sandbox-port", "49983".to_owned())
            ]
        );
        let flags = EndpointFlags {
            sandbox_url_pattern: Some("http://{port}-{sandbox_id}.sbx.test:8080".into()),
            connect_to: Some("127.0.0.1:9".into()),
        };
        let e = Endpoints::resolve(&env(&vars), &flags).unwrap();
        assert_eq!(
            e.envd("abc", "x", None).base,
            "http://49983-abc.sbx.test:8080"
        );
        assert_eq!(e.connect_to, Some("127.0.0.1:9".parse().unwrap()));
    }

    #[test]
    fn mistakes_name_the_variable_or_flag() {
        let msg = |vars: &[(&str, &str)], flags: EndpointFlags| {
            Endpoints::resolve(&env(vars), &flags).unwrap_err().message
        };
        assert!(msg(&[], Default::default()).contains("E2B_DOMAIN"));
        assert!(msg(&[("E2B_API_URL", "ftp://x")], Default::default()).starts_with("E2B_API_URL"));
        let no_id = EndpointFlags {
            sandbox_url_pattern: Some("https://{port}.x".into()),
            ..Default::default()
        };
        assert!(msg(&[("E2B_DOMAIN", "d")], no_id).contains("{sandbox_id}"));
        let bad_to = EndpointFlags {
            connect_to: Some("10.0.0.1".into()),
            ..Default::default()
        };
        assert!(msg(&[("E2B_DOMAIN", "d")], bad_to).starts_with("--connect-to '10.0.0.1'"));
    }
}
