//! `doctor`: checks, in order, everything a run needs, one pass/fail line
//! each on stderr with the exact fix, and ends by printing (on stdout) the
//! `.e2b_env` lines and flags that worked.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bench_core::exit::{Failure, Status};
use tokio::time::Instant;

use crate::api::envd::Envd;
use crate::api::{ApiError, envd::wait_ready};
use crate::ctx::Ctx;
use crate::driver;
use crate::endpoints::{Endpoints, LEGACY_PATTERN, Routing};
use crate::runner::Run;

const TCP_TIMEOUT: Duration = Duration::from_secs(5);

struct Report {
    failures: usize,
}

impl Report {
    fn line(&mut self, ok: bool, check: &str, text: &str) {
        if !ok {
            self.failures += 1;
        }
        let mark = if ok { "pass" } else { "FAIL" };
        eprintln!(
            "{}",
            bench_core::redact::redact_str(&format!("{mark}  {check:<22} {text}"))
        );
    }

    fn note(&self, text: &str) {
        eprintln!(
            "{}",
            bench_core::redact::redact_str(&format!("      {:<22} {text}", ""))
        );
    }
}

/// Runs the checks.
pub async fn run(ctx: Arc<Ctx>, run: Arc<Run>) -> Result<Status, Failure> {
    let mut r = Report { failures: 0 };
    let api_url = url::Url::parse(&ctx.endpoints.api_url)
        .map_err(|e| Failure::usage(format!("API URL {}: {e}", ctx.endpoints.api_url)))?;
    let host = api_url.host_str().unwrap_or_default().to_owned();
    let port = api_url.port_or_known_default().unwrap_or(443);

    // 1. DNS and TCP.
    let addr = match ctx.endpoints.connect_to {
        Some(a) => {
            r.line(
                true,
                "dns",
                &format!("{host} → {a} (--connect-to; Host stays {host})"),
            );
            Some(a)
        }
        None => match tokio::net::lookup_host((host.as_str(), port)).await {
            Ok(mut addrs) => {
                let a = addrs.next();
                r.line(
                    a.is_some(),
                    "dns",
                    &format!("{host} → {}", a.map_or("nothing".into(), |a| a.to_string())),
                );
                a
            }
            Err(e) => {
                r.line(
                    false,
                    "dns",
                    &ApiError::Dns { host: host.clone() }.to_string(),
                );
                r.note(&format!("resolver said: {e}"));
                None
            }
        },
    };
    if let Some(a) = addr {
        let a = if ctx.endpoints.connect_to.is_some() && api_url.port().is_some() {
            std::net::SocketAddr::new(a.ip(), port)
        } else {
            a
        };
        match tokio::time::timeout(TCP_TIMEOUT, tokio::net::TcpStream::connect(a)).await {
            Ok(Ok(_)) => r.line(true, "tcp", &format!("connected to {a}")),
            Ok(Err(e)) => r.line(false, "tcp", &format!("{a}: {e}; check the port of E2B_API_URL, firewalls, or --connect-to")),
            Err(_) => r.line(false, "tcp", &format!("{a}: no answer in {TCP_TIMEOUT:?}; a firewall drops the traffic, or the address is wrong")),
        }
    }

    // 2. TLS and the API's health.
    let tls = if api_url.scheme() == "https" {
        "TLS and "
    } else {
        ""
    };
    match ctx.phase("api health", ctx.api.health()).await {
        Ok(()) => r.line(
            true,
            "api",
            &format!("{tls}GET {}/health answered", ctx.endpoints.api_url),
        ),
        Err(e) => r.line(false, "api", &e.to_string()),
    }

    // 3. The key.
    let key_ok = match ctx.phase("list sandboxes", ctx.api.list_all()).await {
        Ok(list) => {
            r.line(
                true,
                "api key",
                &format!("accepted ({} sandboxes running or paused)", list.len()),
            );
            true
        }
        Err(e) => {
            r.line(false, "api key", &e.to_string());
            false
        }
    };

    // 4. Templates.
    match ctx.phase("templates", ctx.api.templates()).await {
        Ok(list) => {
            for t in &run.templates {
                let found = list
                    .iter()
                    .any(|x| x.template_id == *t || x.aliases.iter().any(|a| a == t));
                let names: Vec<String> = list
                    .iter()
                    .map(|x| {
                        x.aliases
                            .first()
                            .cloned()
                            .unwrap_or_else(|| x.template_id.clone())
                    })
                    .collect();
                r.line(
                    found,
                    "template",
                    &if found {
                        format!("{t} exists")
                    } else {
                        format!(
                            "{t} not found; the cluster has: {}; fix --template / E2B_TEMPLATES",
                            names.join(", ")
                        )
                    },
                );
            }
        }
        Err(e) if key_ok => r.note(&format!(
            "cannot list templates ({e}); the create check below tells"
        )),
        Err(_) => {}
    }

    // 5. Create.
    let template = run.templates[0].clone();
    let mut limited = 0;
    let t = Instant::now();
    let sb = match driver::create(&ctx, &template, t, &mut limited).await {
        Ok(sb) => {
            r.line(
                true,
                "create",
                &format!(
                    "sandbox {} from {template} in {:.0} ms (envd {}, POST {})",
                    sb.sandbox_id,
                    t.elapsed().as_secs_f64() * 1e3,
                    sb.envd_version.as_deref().unwrap_or("?"),
                    if ctx.api.create_path() == "v1" {
                        "/sandboxes"
                    } else {
                        "/v2/sandboxes"
                    },
                ),
            );
            sb
        }
        Err(e) => {
            r.line(false, "create", &e.to_string());
            r.note("the envd, token and kill checks need a sandbox: fix the create first");
            return Ok(Status::Partial);
        }
    };

    // 6. envd under each routing scheme.
    let client_id = sb
        .client_id
        .clone()
        .unwrap_or_else(|| e2b_wire::api::CLIENT_ID.to_owned());
    let mut working: Vec<Routing> = Vec::new();
    for (name, routing) in schemes(&ctx.endpoints, &run) {
        let endpoints = ctx.endpoints.with_routing(routing.clone());
        let target = endpoints.envd(&sb.sandbox_id, &client_id, sb.domain.as_deref());
        let envd = Envd::new(
            ctx.http.clone(),
            target.clone(),
            sb.envd_access_token.clone(),
        );
        // doctor's own short limit: it diagnoses, it does not wait out a slow start.
        const DOCTOR_LIMIT: &str = "doctor's fixed 10 s limit";
        let check = async {
            ctx.within(
                "envd /health",
                Duration::from_secs(10),
                DOCTOR_LIMIT,
                wait_ready(&envd, Duration::from_secs(10), DOCTOR_LIMIT),
            )
            .await?;
            driver::first_command(&ctx, &envd).await
        };
        match check.await {
            Ok(()) => {
                r.line(true, name, &format!("{} → envd ran `true`", target.base));
                working.push(routing);
            }
            Err(e) => {
                // A scheme that is only an alternative is informative.
                let configured = routing == ctx.endpoints.routing;
                if configured {
                    r.line(false, name, &format!("{}: {e}", target.base));
                } else {
                    r.note(&format!("{name}: {} does not work: {e}", target.base));
                }
            }
        }
    }

    // 7. The access token of a secure sandbox.
    if let (Some(routing), Some(_)) = (working.first(), &sb.envd_access_token) {
        let target = ctx.endpoints.with_routing(routing.clone()).envd(
            &sb.sandbox_id,
            &client_id,
            sb.domain.as_deref(),
        );
        let without = Envd::new(ctx.http.clone(), target, None);
        match ctx
            .phase("envd without token", without.run("true", |_| {}))
            .await
        {
            Err(ApiError::EnvdUnauthorized { .. }) => r.line(
                true,
                "access token",
                "secure sandbox: envd refuses requests without X-Access-Token and accepts ours",
            ),
            Ok(_) => r.line(
                true,
                "access token",
                "envd accepted a request without the token: this sandbox is not secured",
            ),
            Err(e) => r.line(false, "access token", &e.to_string()),
        }
    } else if sb.envd_access_token.is_none() {
        r.line(
            true,
            "access token",
            "the sandbox is not secure; no token needed",
        );
    }

    // 8. Kill.
    let t = Instant::now();
    match ctx.phase("kill", ctx.api.kill(&sb.sandbox_id)).await {
        Ok(_) => {
            ctx.ledger.remove(&sb.sandbox_id);
            r.line(
                true,
                "kill",
                &format!(
                    "DELETE answered in {:.0} ms",
                    t.elapsed().as_secs_f64() * 1e3
                ),
            );
        }
        Err(e) => r.line(false, "kill", &e.to_string()),
    }

    print_settings(&ctx.endpoints, working.first());
    if working.is_empty() {
        r.line(
            false,
            "envd routing",
            "no routing scheme reached envd; see the lines above",
        );
    }
    Ok(if r.failures == 0 {
        Status::Complete
    } else {
        Status::Partial
    })
}

/// The routing schemes to try: the configured one first, then the current
/// host form, the legacy host form and header routing.
fn schemes(endpoints: &Endpoints, run: &Run) -> Vec<(&'static str, Routing)> {
    let scheme = if endpoints.api_url.starts_with("http://") {
        "http"
    } else {
        "https"
    };
    let mut out = vec![("envd (configured)", endpoints.routing.clone())];
    if endpoints.domain.is_some() {
        out.push((
            "envd host form",
            Routing::Host {
                pattern: format!("{scheme}://{{port}}-{{sandbox_id}}.{{domain}}"),
            },
        ));
        out.push((
            "envd legacy form",
            Routing::Host {
                pattern: LEGACY_PATTERN.replacen("https", scheme, 1),
            },
        ));
    }
    let header_base = run
        .settings
        .env
        .get("E2B_SANDBOX_URL")
        .map(str::to_owned)
        .or_else(|| {
            endpoints
                .domain
                .as_ref()
                .map(|d| format!("{scheme}://sandbox.{d}"))
        });
    if let Some(base) = header_base.and_then(|b| url::Url::parse(&b).ok()) {
        out.push(("envd header routing", Routing::Header { base }));
    }
    let mut seen = Vec::new();
    out.retain(|(_, r)| {
        let new = !seen.contains(r);
        seen.push(r.clone());
        new
    });
    out
}

/// The settings that worked, ready to paste into `.e2b_env`.
fn print_settings(endpoints: &Endpoints, routing: Option<&Routing>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "# e2b-bench doctor: settings that worked (paste into .e2b_env)"
    );
    let _ = writeln!(out, "export E2B_API_URL={}", endpoints.api_url);
    if let Some(d) = &endpoints.domain {
        let _ = writeln!(out, "export E2B_DOMAIN={d}");
    }
    let mut flags = Vec::new();
    match routing {
        Some(Routing::Header { base }) => {
            let _ = writeln!(
                out,
                "export E2B_SANDBOX_URL={}",
                base.as_str().trim_end_matches('/')
            );
        }
        Some(Routing::Host { pattern }) => {
            if pattern != crate::endpoints::DEFAULT_PATTERN {
                flags.push(format!("--sandbox-url-pattern '{pattern}'"));
            }
        }
        None => {
            let _ = writeln!(out, "# no envd routing worked; see the FAIL lines");
        }
    }
    if let Some(a) = endpoints.connect_to {
        flags.push(format!("--connect-to {a}"));
    }
    if !flags.is_empty() {
        let _ = writeln!(out, "# and pass: {}", flags.join(" "));
    }
}
