//! Network: what code in the sandbox feels when it reaches a server — DNS
//! resolution, TCP connect and an HTTP(S) download — per target URL.
//!
//! Targets are the `--target` URLs or, without any, the registries pip and
//! npm here are configured for (see [`registries`]), fetched as those tools
//! fetch them: pip's simple page of `pip` and npm's packument of `npm`, with
//! their `Accept` headers. For each target, in order:
//!
//! 1. `network.dns_ms`: `--dns-lookups` resolutions of the host name, by
//!    the system resolver (getaddrinfo, exactly what code here gets) or, with
//!    `--dns-server`, by our own stub resolver asking that server over UDP.
//!    An IP-literal host has no DNS step.
//! 2. `network.tcp_connect_ms`: `--tcp-connects` connects to the first
//!    resolved address that accepts (the one code here would end up using).
//! 3. `network.http_ttfb_ms` (request sent → first response byte) and
//!    `network.http_bandwidth_bytes_per_second` (body bytes / request sent →
//!    last byte, the median of `--http-downloads` GETs, each capped at
//!    `--max-bytes`), over the addresses of step 1 (and the same resolver for
//!    the hosts of redirects).
//!
//! https goes through rustls here (`--https-client builtin`, the default
//! of a build with the `tls` feature) or through the sandbox's `curl`
//! (`--https-client curl`, the default without it: the pasteable static
//! build leaves TLS out to stay small); see [`curl`]. Both measure the same
//! way, from the addresses our resolver found.
//!
//! A target that fails is an error entry naming it; the others still run.

mod curl;
mod dns;
mod http;
pub mod registries;
#[cfg(feature = "tls")]
mod tls;
mod url;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bench_core::contract::metric::{
    NETWORK_DNS_MS, NETWORK_HTTP_BANDWIDTH, NETWORK_HTTP_TTFB_MS, NETWORK_TCP_CONNECT_MS,
};
use bench_core::exit::Failure;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::redact::redact_str;
use bench_core::schema::{ErrorKind, Sample};
use bench_core::settings::Settings;
use bench_core::units;
use serde_json::{Map, Value, json};

use curl::LazyCurl;
use http::{Https, NetError, Resolve};
use registries::Registry;
use url::Url;

/// DNS lookups per target.
pub const DEFAULT_DNS_LOOKUPS: usize = 10;
/// DNS lookups per target with `--quick`.
pub const QUICK_DNS_LOOKUPS: usize = 5;
/// TCP connects per target.
pub const DEFAULT_TCP_CONNECTS: usize = 10;
/// TCP connects per target with `--quick`.
pub const QUICK_TCP_CONNECTS: usize = 5;
/// Downloads per target.
pub const DEFAULT_HTTP_DOWNLOADS: usize = 3;
/// Downloads per target with `--quick`.
pub const QUICK_HTTP_DOWNLOADS: usize = 1;
/// Body bytes read per download at most.
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;
/// Time limit of a lookup or connect, and of silence while reading.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest count accepted by the count flags.
const MAX_COUNT: usize = 1000;
/// How often a waiting lookup looks at the Ctrl-C flag.
const POLL: Duration = Duration::from_millis(50);

/// What pip sends when it fetches a simple page.
const PIP_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
/// What npm sends when it fetches a packument (the abbreviated document).
const NPM_ACCEPT: &str = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/// Flags of the `network` probe (also flags of `run`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NetworkArgs {
    /// URL to measure (http:// or https://; repeat for several) [default: the pip index and npm registry this sandbox is configured for]
    #[arg(long = "target", value_name = "URL")]
    pub targets: Vec<String>,
    /// Resolve names by asking this DNS server directly over UDP (IP or IP:PORT), with a built-in stub resolver [default: the system resolver]
    #[arg(long, value_name = "IP[:PORT]")]
    pub dns_server: Option<String>,
    /// DNS lookups per target [default: 10; 5 with --quick]
    #[arg(long, value_name = "N")]
    pub dns_lookups: Option<String>,
    /// TCP connects per target [default: 10; 5 with --quick]
    #[arg(long, value_name = "N")]
    pub tcp_connects: Option<String>,
    /// HTTP downloads per target [default: 3; 1 with --quick]
    #[arg(long, value_name = "N")]
    pub http_downloads: Option<String>,
    /// Stop each download after this many body bytes (e.g. 64M, 512k) [default: 64M, also with --quick]
    #[arg(long, value_name = "SIZE")]
    pub max_bytes: Option<String>,
    /// PEM file of the CA certificates to trust for https targets [default: $SSL_CERT_FILE, else the system bundle (curl: its own default)]
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<String>,
    /// What fetches https: auto, builtin (rustls in this binary) or curl (the sandbox's curl) [default: auto = builtin when this build has TLS, else curl; also with --quick]
    #[arg(long, value_name = "CLIENT")]
    pub https_client: Option<String>,
    /// The curl used for https with --https-client curl (a path, or a name looked up on PATH) [default: curl]
    #[arg(long, value_name = "PATH")]
    pub curl: Option<String>,
    /// Time limit of each DNS lookup and TCP connect, and of silence while downloading (e.g. 10s, 500ms) [default: 10s, also with --quick]
    #[arg(long, value_name = "DURATION")]
    pub net_timeout: Option<String>,
}

impl ProbeArgs for NetworkArgs {
    fn build(&self, quick: bool, _settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        // pip and npm read the process environment, not .e2b_env.
        let vars = |name: &str| std::env::var(name).ok();
        let config = NetworkConfig::from_args(self, quick, &vars)?;
        Ok(Box::new(NetworkProbe { config }))
    }
}

/// How host names are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// getaddrinfo, through `ToSocketAddrs`.
    System,
    /// The built-in stub resolver asking this server.
    Server(SocketAddr),
}

impl Resolver {
    fn describe(self) -> String {
        match self {
            Resolver::System => "system (getaddrinfo)".to_owned(),
            Resolver::Server(addr) => format!("dns server {addr} (built-in UDP stub, A + AAAA)"),
        }
    }
}

/// What fetches https.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpsClient {
    /// rustls in this binary (the `tls` feature).
    Builtin,
    /// The sandbox's curl.
    Curl,
}

impl HttpsClient {
    /// `builtin` or `curl`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpsClient::Builtin => "builtin",
            HttpsClient::Curl => "curl",
        }
    }
}

/// Parses `--https-client`; `auto` is the built-in client when this build
/// has TLS, else curl.
pub fn parse_https_client(text: Option<&str>) -> Result<HttpsClient, Failure> {
    let auto = if cfg!(feature = "tls") {
        HttpsClient::Builtin
    } else {
        HttpsClient::Curl
    };
    match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        None | Some("auto") => Ok(auto),
        Some("curl") => Ok(HttpsClient::Curl),
        Some("builtin") if cfg!(feature = "tls") => Ok(HttpsClient::Builtin),
        Some("builtin") => Err(Failure::usage(
            "--https-client 'builtin': this build of bench-sandbox has no TLS (built without the `tls` feature); use --https-client curl or auto",
        )),
        Some(_) => Err(Failure::usage(format!(
            "--https-client '{}': use auto, builtin or curl",
            text.unwrap_or_default()
        ))),
    }
}

/// Checks a `--ca-file` (rustls loads it; without TLS, a PEM certificate
/// must be in it).
fn check_ca_file(path: &std::path::Path) -> Result<(), String> {
    #[cfg(feature = "tls")]
    {
        tls::load_bundle(path).map(|_| ())
    }
    #[cfg(not(feature = "tls"))]
    {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        if String::from_utf8_lossy(&bytes).contains("-----BEGIN CERTIFICATE-----") {
            Ok(())
        } else {
            Err("no CA certificate in it (expected PEM 'BEGIN CERTIFICATE' blocks)".to_owned())
        }
    }
}

/// One URL to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// What is downloaded.
    pub url: Url,
    /// The `target` label: the URL without userinfo.
    pub label: String,
    /// `Accept` header sent.
    pub accept: String,
    /// The registry it stands for (targets found from pip/npm configuration).
    pub registry: Option<Registry>,
}

impl Target {
    fn new(url: Url, accept: &str, registry: Option<Registry>) -> Self {
        Target {
            label: url.to_string(),
            url,
            accept: accept.to_owned(),
            registry,
        }
    }
}

/// A validated `network` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfig {
    /// What to measure; a registry whose configured URL cannot be fetched
    /// is kept as its error message (an error entry when the probe runs).
    pub targets: Vec<Result<Target, String>>,
    /// How names are resolved.
    pub resolver: Resolver,
    /// DNS lookups per target.
    pub dns_lookups: usize,
    /// TCP connects per target.
    pub tcp_connects: usize,
    /// Downloads per target.
    pub http_downloads: usize,
    /// Body bytes per download at most.
    pub max_bytes: u64,
    /// Lookup/connect limit and the longest silence while reading.
    pub timeout: Duration,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// What fetches https.
    pub https_client: HttpsClient,
    /// `--curl`.
    pub curl: Option<String>,
}

/// A count flag from 1 to [`MAX_COUNT`], or `default` when absent.
fn parse_count(flag: &str, text: Option<&String>, default: usize) -> Result<usize, Failure> {
    text.map_or(Ok(default), |text| {
        units::parse_count(text, 1..=MAX_COUNT).map_err(|e| Failure::usage(format!("{flag} {e}")))
    })
}

/// Parses `--dns-server`: an IP address, with an optional port (53).
pub fn parse_dns_server(text: &str) -> Result<SocketAddr, Failure> {
    let t = text.trim();
    t.parse::<SocketAddr>()
        .ok()
        .or_else(|| t.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
        .filter(|a| a.port() != 0)
        .ok_or_else(|| {
            Failure::usage(format!(
                "--dns-server '{text}': not an IP address with an optional port; use e.g. 10.0.0.2, 10.0.0.2:53 or [fd00::2]:53"
            ))
        })
}

impl NetworkConfig {
    /// Applies the defaults (which depend on `quick`) and validates every
    /// flag; without `--target`, finds the pip and npm registries through
    /// `vars` (the environment) and their configuration files.
    pub fn from_args(
        args: &NetworkArgs,
        quick: bool,
        vars: registries::Vars<'_>,
    ) -> Result<Self, Failure> {
        let pick = |full, short| if quick { short } else { full };
        let mut targets: Vec<Result<Target, String>> = Vec::new();
        for text in &args.targets {
            let url = Url::parse(text)
                .map_err(|e| Failure::usage(format!("--target '{}': {e}", redact_str(text))))?;
            let target = Target::new(url, "*/*", None);
            if !targets
                .iter()
                .any(|t| t.as_ref().is_ok_and(|t| t.label == target.label))
            {
                targets.push(Ok(target));
            }
        }
        if targets.is_empty() {
            let pip = registries::pip_index(vars, &registries::pip_config_files(vars));
            let npm = registries::npm_registry(vars, &registries::npmrc_files(vars));
            for (registry, path, accept) in [(pip, "pip/", PIP_ACCEPT), (npm, "npm", NPM_ACCEPT)] {
                targets.push(match Url::parse(&registry.url) {
                    Ok(base) => Ok(Target::new(base.join_path(path), accept, Some(registry))),
                    Err(e) => Err(format!(
                        "{} registry '{}' (from {}) {e}",
                        registry.manager,
                        redact_str(&registry.url),
                        registry.source
                    )),
                });
            }
        }
        let resolver = match &args.dns_server {
            None => Resolver::System,
            Some(text) => Resolver::Server(parse_dns_server(text)?),
        };
        let max_bytes = match &args.max_bytes {
            None => DEFAULT_MAX_BYTES,
            Some(text) => match bench_core::units::parse_size(text) {
                Ok(0) => {
                    return Err(Failure::usage(format!(
                        "--max-bytes '{text}': must be at least 1 byte; use e.g. 64M"
                    )));
                }
                Ok(n) => n,
                Err(e) => return Err(Failure::usage(format!("--max-bytes {e}"))),
            },
        };
        let timeout = match &args.net_timeout {
            None => DEFAULT_TIMEOUT,
            Some(text) => bench_core::units::parse_duration_in(text, Duration::from_millis(1)..)
                .map_err(|e| Failure::usage(format!("--net-timeout {e}")))?,
        };
        let ca_file = match &args.ca_file {
            None => None,
            Some(text) => {
                let path = PathBuf::from(text);
                check_ca_file(&path).map_err(|e| {
                    Failure::usage(format!(
                        "--ca-file '{text}': {e}; pass a PEM file of CA certificates"
                    ))
                })?;
                Some(path)
            }
        };
        let https_client = parse_https_client(args.https_client.as_deref())?;
        if let Some(program) = &args.curl
            && crate::probes::child::which(program).is_none()
        {
            return Err(Failure::usage(format!(
                "--curl '{program}': no executable file there or on PATH; pass the path of curl"
            )));
        }
        Ok(NetworkConfig {
            targets,
            resolver,
            dns_lookups: parse_count(
                "--dns-lookups",
                args.dns_lookups.as_ref(),
                pick(DEFAULT_DNS_LOOKUPS, QUICK_DNS_LOOKUPS),
            )?,
            tcp_connects: parse_count(
                "--tcp-connects",
                args.tcp_connects.as_ref(),
                pick(DEFAULT_TCP_CONNECTS, QUICK_TCP_CONNECTS),
            )?,
            http_downloads: parse_count(
                "--http-downloads",
                args.http_downloads.as_ref(),
                pick(DEFAULT_HTTP_DOWNLOADS, QUICK_HTTP_DOWNLOADS),
            )?,
            max_bytes,
            timeout,
            ca_file,
            https_client,
            curl: args.curl.clone(),
        })
    }

    /// What the document's `parameters.network` records.
    pub fn to_json(&self) -> Value {
        json!({
            "targets": self.targets.iter().filter_map(|t| Some(t.as_ref().ok()?.label.clone())).collect::<Vec<_>>(),
            "resolver": self.resolver.describe(),
            "dns_lookups": self.dns_lookups,
            "tcp_connects": self.tcp_connects,
            "http_downloads": self.http_downloads,
            "max_bytes": self.max_bytes,
            "net_timeout_s": self.timeout.as_secs_f64(),
            "ca_file": self.ca_file.as_ref().map(|p| p.display().to_string()),
            "https_client": self.https_client.as_str(),
        })
    }
}

/// The `network` probe.
#[derive(Debug, Clone)]
pub struct NetworkProbe {
    /// What it measures.
    pub config: NetworkConfig,
}

impl Probe for NetworkProbe {
    fn name(&self) -> &'static str {
        "network"
    }

    fn parameters(&self) -> Value {
        self.config.to_json()
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        run_network(&self.config, ctx)
    }
}

/// Measures every target of `config`.
pub fn run_network(config: &NetworkConfig, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
    let mut out = ProbeOutput::default();
    out.fact("resolver", config.resolver.describe());
    let registries: Map<String, Value> = config
        .targets
        .iter()
        .filter_map(|t| t.as_ref().ok()?.registry.as_ref())
        .map(|r| {
            let base = Url::parse(&r.url).map_or_else(|_| String::new(), |u| u.to_string());
            (
                r.manager.to_owned(),
                json!({ "url": base, "source": r.source }),
            )
        })
        .collect();
    if !registries.is_empty() {
        out.fact("registries", registries);
    }
    let https = match config.https_client {
        #[cfg(feature = "tls")]
        HttpsClient::Builtin => Https::Builtin(tls::LazyTls::new(config.ca_file.clone())),
        // parse_https_client gives Builtin only with the `tls` feature.
        #[cfg(not(feature = "tls"))]
        HttpsClient::Builtin => {
            Https::Curl(LazyCurl::new(config.curl.clone(), config.ca_file.clone()))
        }
        HttpsClient::Curl => {
            Https::Curl(LazyCurl::new(config.curl.clone(), config.ca_file.clone()))
        }
    };
    out.fact("https_client", https.name());
    let mut per_target = Map::new();
    for target in &config.targets {
        let target = match target {
            Ok(t) => t,
            Err(message) => {
                out.error("network", ErrorKind::Failed, message.clone());
                continue;
            }
        };
        if ctx.interrupted() {
            break;
        }
        ctx.step("network", &target.label);
        let measured = measure_target(config, target, https.clone(), ctx);
        out.samples.extend(measured.samples);
        for (kind, message) in measured.errors {
            out.error("network", kind, format!("{}: {message}", target.label));
        }
        per_target.insert(target.label.clone(), Value::Object(measured.facts));
    }
    out.fact("by_target", per_target);
    match &https {
        #[cfg(feature = "tls")]
        Https::Builtin(tls) => match tls.loaded() {
            Some(Ok(loaded)) => out.fact(
                "ca_bundle",
                json!({ "path": loaded.path.display().to_string(), "certificates": loaded.count }),
            ),
            Some(Err(e)) => out.fact("ca_bundle", json!({ "error": e })),
            None => {}
        },
        Https::Curl(curl) => match curl.loaded() {
            Some(Ok(info)) => out.fact(
                "curl",
                json!({ "path": info.path.display().to_string(), "version": info.version }),
            ),
            Some(Err(e)) => out.fact("curl", json!({ "error": e.message })),
            None => {}
        },
    }
    if ctx.interrupted() {
        if out.samples.is_empty() {
            return Err(ProbeError::Interrupted);
        }
        out.errors.retain(|e| e.kind != ErrorKind::Interrupted);
        out.error(
            "network",
            ErrorKind::Interrupted,
            "interrupted; the targets measured before are kept",
        );
    }
    Ok(out)
}

/// What one target gave.
#[derive(Debug, Default)]
struct Measured {
    samples: Vec<Sample>,
    errors: Vec<(ErrorKind, String)>,
    facts: Map<String, Value>,
}

impl Measured {
    /// Records a failed step, unless Ctrl-C caused it (the probe then
    /// reports the interruption once).
    fn failed(&mut self, ctx: &Context, e: &NetError, step: &str, label: &str) {
        if e.kind != ErrorKind::Interrupted && !ctx.interrupted() {
            self.errors.push((
                e.kind,
                format!("{step}: {}", without_prefix(&e.message, label)),
            ));
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The host's addresses by the configured method, and how long it took.
fn lookup(
    config: &NetworkConfig,
    host: &str,
    port: u16,
    ctx: &Context,
) -> Result<(Vec<SocketAddr>, Duration), NetError> {
    match config.resolver {
        Resolver::Server(server) => {
            let started = Instant::now();
            let addrs = dns::lookup(server, host, config.timeout, ctx.interrupt()).map_err(
                |e| match e {
                    dns::DnsError::Timeout(m) => NetError {
                        kind: ErrorKind::Timeout,
                        message: m,
                    },
                    dns::DnsError::Interrupted => NetError::interrupted(),
                    dns::DnsError::NxDomain(m) | dns::DnsError::Failed(m) => NetError::failed(m),
                },
            )?;
            let took = started.elapsed();
            Ok((
                addrs
                    .into_iter()
                    .map(|ip| SocketAddr::new(ip, port))
                    .collect(),
                took,
            ))
        }
        Resolver::System => system_lookup(host, port, config.timeout, ctx),
    }
}

/// getaddrinfo on a helper thread (it has no timeout of its own), timed
/// on that thread; the wait polls Ctrl-C. A lookup that outlives the
/// timeout is abandoned (its thread ends when the C library gives up).
fn system_lookup(
    host: &str,
    port: u16,
    timeout: Duration,
    ctx: &Context,
) -> Result<(Vec<SocketAddr>, Duration), NetError> {
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("getaddrinfo".into())
        .spawn(move || {
            let started = Instant::now();
            let result = (name.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.collect::<Vec<_>>());
            let _ = tx.send((result, started.elapsed()));
        })
        .map_err(|e| NetError::failed(format!("cannot start a resolver thread: {e}")))?;
    let deadline = Instant::now() + timeout;
    loop {
        if ctx.interrupted() {
            return Err(NetError::interrupted());
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(NetError {
                kind: ErrorKind::Timeout,
                message: format!(
                    "{host}: the system resolver gave no answer within {:.1} s",
                    timeout.as_secs_f64()
                ),
            });
        }
        match rx.recv_timeout(left.min(POLL)) {
            Ok((Ok(addrs), took)) if !addrs.is_empty() => return Ok((addrs, took)),
            Ok((Ok(_), _)) => {
                return Err(NetError::failed(format!(
                    "{host}: the system resolver returned no address"
                )));
            }
            Ok((Err(e), _)) => {
                return Err(NetError::failed(format!(
                    "{host}: system resolver (getaddrinfo): {e}"
                )));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(NetError::failed(format!(
                    "{host}: the resolver thread ended without an answer"
                )));
            }
        }
    }
}

/// Resolves the hosts a download reaches (redirects may lead elsewhere),
/// starting from what the DNS step found for the target.
struct Hosts<'a> {
    config: &'a NetworkConfig,
    ctx: &'a Context,
    known: HashMap<(String, u16), Vec<SocketAddr>>,
}

impl Resolve for Hosts<'_> {
    fn resolve(&mut self, host: &str, port: u16) -> Result<Vec<SocketAddr>, NetError> {
        let key = (host.to_owned(), port);
        if let Some(addrs) = self.known.get(&key) {
            return Ok(addrs.clone());
        }
        let (addrs, _) = lookup(self.config, host, port, self.ctx)?;
        self.known.insert(key, addrs.clone());
        Ok(addrs)
    }
}

/// The message of a step's error without a repeated `label: ` prefix.
fn without_prefix(message: &str, label: &str) -> String {
    message
        .strip_prefix(label)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message)
        .to_owned()
}

/// DNS, TCP connect and HTTP downloads of one target; a phase that finds
/// nothing to go on ends it.
fn measure_target(
    config: &NetworkConfig,
    target: &Target,
    https: Https,
    ctx: &Context,
) -> Measured {
    let mut m = Measured::default();
    if let Some(registry) = &target.registry {
        m.facts.insert("registry".into(), json!(registry.manager));
        m.facts
            .insert("registry_source".into(), json!(registry.source));
    }
    if target.url.scheme == url::Scheme::Https {
        m.facts.insert("https_client".into(), json!(https.name()));
    }
    let addrs = measure_dns(config, target, ctx, &mut m);
    if addrs.is_empty() || ctx.interrupted() {
        return m;
    }
    let Some(address) = measure_tcp(config, target, &addrs, ctx, &mut m) else {
        return m;
    };
    if ctx.interrupted() {
        return m;
    }
    measure_http(config, target, https, (address, &addrs), ctx, &mut m);
    m
}

/// Phase 1, DNS: the target's addresses (none after a failure), timed per
/// lookup; an IP literal is its own address, with no sample.
fn measure_dns(
    config: &NetworkConfig,
    target: &Target,
    ctx: &Context,
    m: &mut Measured,
) -> Vec<SocketAddr> {
    let url = &target.url;
    if let Some(ip) = url.ip() {
        m.facts.insert(
            "dns".into(),
            json!("none: the host is an IP literal (no lookup, no network.dns_ms sample)"),
        );
        return vec![SocketAddr::new(ip, url.port)];
    }
    let mut addrs = Vec::new();
    let mut times = Vec::new();
    for _ in 0..config.dns_lookups {
        if ctx.interrupted() {
            break;
        }
        match lookup(config, &url.host, url.port, ctx) {
            Ok((found, took)) => {
                times.push(ms(took));
                addrs = found;
            }
            Err(e) => {
                m.failed(ctx, &e, "DNS", &target.label);
                break;
            }
        }
    }
    m.facts
        .insert("resolver".into(), json!(config.resolver.describe()));
    m.facts.insert(
        "addresses".into(),
        json!(addrs.iter().map(|a| a.ip().to_string()).collect::<Vec<_>>()),
    );
    if !times.is_empty() {
        m.samples
            .push(Sample::from_series(NETWORK_DNS_MS, "ms", times).label("target", &target.label));
    }
    addrs
}

/// Phase 2, TCP connect: the first address that accepts, then that one,
/// timed; `None` when none accepts.
fn measure_tcp(
    config: &NetworkConfig,
    target: &Target,
    addrs: &[SocketAddr],
    ctx: &Context,
    m: &mut Measured,
) -> Option<SocketAddr> {
    let label = &target.label;
    let (first, address) = match http::connect_any(addrs, config.timeout, ctx.interrupt()) {
        Ok(found) => found,
        Err(e) => {
            m.failed(ctx, &e, "TCP", label);
            return None;
        }
    };
    drop(first);
    m.facts.insert("address".into(), json!(address.to_string()));
    let mut times = Vec::new();
    for _ in 0..config.tcp_connects {
        if ctx.interrupted() {
            break;
        }
        let started = Instant::now();
        match TcpStream::connect_timeout(&address, config.timeout) {
            Ok(stream) => {
                times.push(ms(started.elapsed()));
                drop(stream);
            }
            Err(e) => {
                m.failed(
                    ctx,
                    &NetError::io(&format!("connect to {address}"), &e),
                    "TCP",
                    label,
                );
                break;
            }
        }
    }
    if !times.is_empty() {
        m.samples
            .push(Sample::from_series(NETWORK_TCP_CONNECT_MS, "ms", times).label("target", label));
    }
    Some(address)
}

/// Phase 3, HTTP downloads: starting at `address` (the one that accepted),
/// the other `addrs` after it.
fn measure_http(
    config: &NetworkConfig,
    target: &Target,
    https: Https,
    (address, addrs): (SocketAddr, &[SocketAddr]),
    ctx: &Context,
    m: &mut Measured,
) {
    let (url, label) = (&target.url, &target.label);
    let opts = http::Options {
        timeout: config.timeout,
        max_bytes: config.max_bytes,
        accept: target.accept.clone(),
        user_agent: format!("bench-sandbox/{}", env!("CARGO_PKG_VERSION")),
        interrupt: ctx.interrupt().clone(),
        https,
    };
    let mut ordered = vec![address];
    ordered.extend(addrs.iter().filter(|a| **a != address));
    let mut hosts = Hosts {
        config,
        ctx,
        known: HashMap::from([((url.host.clone(), url.port), ordered)]),
    };
    let mut ttfb = Vec::new();
    let mut rates = Vec::new();
    let mut downloads = Vec::new();
    for _ in 0..config.http_downloads {
        if ctx.interrupted() {
            break;
        }
        match http::get(url, &mut hosts, &opts) {
            Ok(d) => {
                ttfb.push(ms(d.ttfb));
                rates.push(d.bytes_per_second());
                downloads.push(json!({
                    "bytes": d.bytes,
                    "truncated": d.truncated,
                    "ttfb_ms": ms(d.ttfb),
                    "seconds": d.transfer.as_secs_f64(),
                }));
                download_facts(&d, &opts.https, m);
            }
            Err(e) => {
                let step = match (e.kind, &opts.https) {
                    (ErrorKind::Unavailable, Https::Curl(_)) => "HTTPS",
                    #[cfg(feature = "tls")]
                    (ErrorKind::Unavailable, Https::Builtin(_)) => "TLS",
                    _ => "HTTP",
                };
                m.failed(ctx, &e, step, label);
                break;
            }
        }
    }
    m.facts.insert("downloads".into(), Value::from(downloads));
    if !rates.is_empty() {
        m.samples
            .push(Sample::from_series(NETWORK_HTTP_TTFB_MS, "ms", ttfb).label("target", label));
        m.samples.push(
            Sample::from_series(NETWORK_HTTP_BANDWIDTH, "bytes/s", rates).label("target", label),
        );
    }
}

/// What a download says about the target (the last one's facts win).
fn download_facts(d: &http::Download, https: &Https, m: &mut Measured) {
    m.facts.insert("status".into(), json!(d.status));
    m.facts.insert("redirects".into(), json!(d.redirects));
    if !d.redirects.is_empty() {
        m.facts.insert("final_url".into(), json!(d.final_url));
        m.facts
            .insert("final_address".into(), json!(d.address.to_string()));
    }
    if let Some((version, cipher)) = &d.tls {
        m.facts.insert(
            "tls".into(),
            json!({ "version": version, "cipher": cipher }),
        );
    }
    if d.final_url.starts_with("https://") {
        m.facts.insert("https_client".into(), json!(https.name()));
    }
    if let Some(version) = &d.curl {
        m.facts.insert("curl".into(), json!(version));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(targets: &[&str]) -> NetworkArgs {
        NetworkArgs {
            targets: targets.iter().map(|t| t.to_string()).collect(),
            ..NetworkArgs::default()
        }
    }

    fn no_vars(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_depend_on_quick() {
        let full = NetworkConfig::from_args(&args(&["http://h/"]), false, &no_vars).unwrap();
        assert_eq!(
            (full.dns_lookups, full.tcp_connects, full.http_downloads),
            (10, 10, 3)
        );
        assert_eq!(full.max_bytes, 64 << 20);
        assert_eq!(full.timeout, Duration::from_secs(10));
        assert_eq!(full.resolver, Resolver::System);
        let quick = NetworkConfig::from_args(&args(&["http://h/"]), true, &no_vars).unwrap();
        assert_eq!(
            (quick.dns_lookups, quick.tcp_connects, quick.http_downloads),
            (5, 5, 1)
        );
        let json = quick.to_json();
        assert_eq!(json["targets"], json!(["http://h/"]));
        assert_eq!(json["max_bytes"], json!(64 << 20));
    }

    #[test]
    fn targets_are_validated_deduplicated_and_lose_their_userinfo() {
        let c = NetworkConfig::from_args(
            &args(&["https://u:secret@h/x", "https://h/x", "http://h:8080"]),
            false,
            &no_vars,
        )
        .unwrap();
        let labels: Vec<String> = c
            .targets
            .iter()
            .map(|t| t.as_ref().unwrap().label.clone())
            .collect();
        assert_eq!(labels, ["https://h/x", "http://h:8080/"]);
        assert_eq!(
            c.targets[0].as_ref().unwrap().url.userinfo.as_deref(),
            Some("u:secret")
        );
    }

    #[test]
    fn without_targets_the_registries_are_measured() {
        let vars = |name: &str| match name {
            "PIP_INDEX_URL" => Some("http://127.0.0.1:9/simple".to_owned()),
            "NPM_CONFIG_REGISTRY" => Some("ftp://nope/".to_owned()),
            _ => None,
        };
        let c = NetworkConfig::from_args(&args(&[]), true, &vars).unwrap();
        let pip = c.targets[0].as_ref().unwrap();
        assert_eq!(pip.label, "http://127.0.0.1:9/simple/pip/");
        assert_eq!(pip.accept, PIP_ACCEPT);
        assert_eq!(pip.registry.as_ref().unwrap().source, "env PIP_INDEX_URL");
        let npm = c.targets[1].as_ref().unwrap_err();
        assert!(npm.contains("npm registry 'ftp://nope/'"), "{npm}");
        assert!(npm.contains("env NPM_CONFIG_REGISTRY"), "{npm}");
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let err = |a: NetworkArgs| NetworkConfig::from_args(&a, false, &no_vars).unwrap_err();
        let with = |f: fn(&mut NetworkArgs)| {
            let mut a = args(&["http://h/"]);
            f(&mut a);
            a
        };
        for (a, flag, needle) in [
            (args(&["ftp://x"]), "--target", "only http://"),
            (args(&["http://u:hunter22@h:0/"]), "--target", "port"),
            (
                with(|a| a.dns_server = Some("nonsense".into())),
                "--dns-server",
                "not an IP",
            ),
            (
                with(|a| a.dns_server = Some("1.2.3.4:0".into())),
                "--dns-server",
                "not an IP",
            ),
            (
                with(|a| a.max_bytes = Some("0".into())),
                "--max-bytes",
                "at least 1",
            ),
            (
                with(|a| a.max_bytes = Some("lots".into())),
                "--max-bytes",
                "not a size",
            ),
            (
                with(|a| a.dns_lookups = Some("0".into())),
                "--dns-lookups",
                "1 to",
            ),
            (
                with(|a| a.tcp_connects = Some("x".into())),
                "--tcp-connects",
                "1 to",
            ),
            (
                with(|a| a.http_downloads = Some("1001".into())),
                "--http-downloads",
                "1 to",
            ),
            (
                with(|a| a.net_timeout = Some("soon".into())),
                "--net-timeout",
                "duration",
            ),
            (
                with(|a| a.net_timeout = Some("0".into())),
                "--net-timeout",
                "at least",
            ),
            (
                with(|a| a.ca_file = Some("/nonexistent/ca.pem".into())),
                "--ca-file",
                "/nonexistent/ca.pem",
            ),
        ] {
            let e = err(a);
            assert_eq!(e.code, bench_core::exit::USAGE);
            assert!(e.message.starts_with(flag), "{}", e.message);
            assert!(e.message.contains(needle), "{}", e.message);
            assert!(!e.message.contains('\n'));
        }
    }

    #[test]
    fn https_client_auto_follows_the_build() {
        let auto = parse_https_client(None).unwrap();
        assert_eq!(parse_https_client(Some("auto")).unwrap(), auto);
        assert_eq!(
            parse_https_client(Some(" Curl ")).unwrap(),
            HttpsClient::Curl
        );
        let builtin = parse_https_client(Some("builtin"));
        if cfg!(feature = "tls") {
            assert_eq!(auto, HttpsClient::Builtin);
            assert_eq!(builtin.unwrap(), HttpsClient::Builtin);
        } else {
            assert_eq!(auto, HttpsClient::Curl);
            let e = builtin.unwrap_err();
            assert_eq!(e.code, bench_core::exit::USAGE);
            assert!(e.message.contains("no TLS"), "{}", e.message);
        }
        let e = parse_https_client(Some("nope")).unwrap_err();
        assert!(
            e.message
                .starts_with("--https-client 'nope': use auto, builtin or curl"),
            "{}",
            e.message
        );
        let c = NetworkConfig::from_args(&args(&["https://h/"]), true, &no_vars).unwrap();
        assert_eq!(c.to_json()["https_client"], json!(auto.as_str()));
    }

    #[test]
    fn dns_server_takes_an_ip_and_optional_port() {
        assert_eq!(
            parse_dns_server("10.0.0.2").unwrap(),
            "10.0.0.2:53".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("127.0.0.1:5353").unwrap(),
            "127.0.0.1:5353".parse().unwrap()
        );
        assert_eq!(
            parse_dns_server("[::1]:54").unwrap(),
            "[::1]:54".parse().unwrap()
        );
        assert_eq!(parse_dns_server("::1").unwrap().port(), 53);
        assert!(parse_dns_server("dns.google").is_err());
    }

    #[test]
    fn interrupted_before_anything_is_an_interruption() {
        let config =
            NetworkConfig::from_args(&args(&["http://127.0.0.1:9/"]), true, &no_vars).unwrap();
        let interrupt = bench_core::interrupt::Interrupt::new();
        interrupt.trigger();
        let ctx = Context::new(interrupt);
        assert_eq!(run_network(&config, &ctx), Err(ProbeError::Interrupted));
    }

    #[test]
    fn step_messages_drop_a_repeated_label() {
        assert_eq!(
            without_prefix("http://h/: HTTP 404 Not Found", "http://h/"),
            "HTTP 404 Not Found"
        );
        assert_eq!(without_prefix("other: x", "http://h/"), "other: x");
    }
}
