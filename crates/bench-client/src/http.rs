//! The one HTTP client of a run (reqwest on tokio, rustls with ring).
//!
//! Connection reuse, and why: a user's SDK keeps one HTTP client for the
//! API, so by default API calls reuse their keep-alive connection and
//! `sandbox.create_ms` is what an application sees after its first call.
//! envd connections are per sandbox under host routing (each sandbox is
//! its own host name) and shared under header routing. With
//! `--fresh-connections` nothing is pooled: every request pays DNS, TCP and
//! TLS, the figure of a cold client; results carry `connections: fresh`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bench_core::exit::Failure;

/// How long a TCP connect may take before the attempt fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Options of the client.
#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// `--connect-to`: every connection goes to this address.
    pub connect_to: Option<SocketAddr>,
    /// `--ca-cert`, else `SSL_CERT_FILE`: extra trusted roots.
    pub ca_cert: Option<PathBuf>,
    /// `--fresh-connections`: no connection pool.
    pub fresh_connections: bool,
}

/// Sends every name to one address (curl's `--connect-to`): the URL, Host
/// header and TLS SNI stay the cluster's names.
struct ConnectTo(SocketAddr);

impl reqwest::dns::Resolve for ConnectTo {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = self.0;
        Box::pin(async move {
            let addrs: reqwest::dns::Addrs = Box::new(std::iter::once(addr));
            Ok(addrs)
        })
    }
}

/// Builds the client; a CA file that cannot be read or parsed is a usage
/// error naming it.
pub fn client(options: &HttpOptions) -> Result<reqwest::Client, Failure> {
    bench_core::tls::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("e2b-bench/", env!("CARGO_PKG_VERSION")))
        // No redirects: an API that redirects is misconfigured, and a
        // redirect would hide the host that answered.
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy();
    if let Some(addr) = options.connect_to {
        builder = builder.dns_resolver(Arc::new(ConnectTo(addr)));
    }
    if let Some(path) = &options.ca_cert {
        builder = builder.tls_certs_merge(read_certificates(path)?);
    }
    if options.fresh_connections {
        builder = builder.pool_max_idle_per_host(0);
    } else {
        builder = builder.pool_idle_timeout(Duration::from_secs(90));
    }
    builder
        .build()
        .map_err(|e| Failure::usage(format!("cannot set up the HTTP client: {e}")))
}

fn read_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, Failure> {
    let pem = std::fs::read(path).map_err(|e| {
        Failure::usage(format!(
            "--ca-cert {}: {e}; give a PEM file with the cluster's CA",
            path.display()
        ))
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        Failure::usage(format!(
            "--ca-cert {}: not a PEM certificate bundle ({e})",
            path.display()
        ))
    })?;
    if certs.is_empty() {
        return Err(Failure::usage(format!(
            "--ca-cert {}: no certificate in the file (expected -----BEGIN CERTIFICATE-----)",
            path.display()
        )));
    }
    Ok(certs)
}
