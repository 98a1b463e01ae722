//! The TLS client configuration: rustls with the ring provider (chosen
//! explicitly, so no process-wide default is needed) and the CA bundle code
//! in the sandbox would trust: `--ca-file`, else `$SSL_CERT_FILE`, else the
//! distribution's bundle.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// Where distributions keep their PEM bundle, in the order tried.
pub const SYSTEM_BUNDLES: [&str; 5] = [
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Alpine, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",   // RHEL, Fedora, Amazon Linux
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // RHEL 7+
    "/etc/ssl/ca-bundle.pem",             // openSUSE
    "/etc/ssl/cert.pem",                  // Alpine, macOS
];

/// A loaded bundle.
#[derive(Debug)]
pub struct Roots {
    /// The trust anchors.
    pub store: RootCertStore,
    /// The file they came from.
    pub path: PathBuf,
    /// Certificates accepted.
    pub count: usize,
}

/// Reads the CA certificates of one PEM file (other PEM sections are
/// skipped); an error says why (without the path).
pub fn load_bundle(path: &Path) -> Result<Roots, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_error(&e))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_error(&e))?;
    let mut store = RootCertStore::empty();
    let (count, _ignored) = store.add_parsable_certificates(certs);
    if count == 0 {
        return Err(
            "no usable CA certificate in it (expected PEM 'BEGIN CERTIFICATE' blocks)".to_owned(),
        );
    }
    Ok(Roots {
        store,
        path: path.to_owned(),
        count,
    })
}

fn pem_error(e: &rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("not a PEM file ({other:?})"),
    }
}

/// The bundles to try, in order: `ca_file` alone when given, else
/// `$SSL_CERT_FILE` and the distribution paths.
pub fn candidates(ca_file: Option<&Path>, ssl_cert_file: Option<&str>) -> Vec<PathBuf> {
    if let Some(path) = ca_file {
        return vec![path.to_owned()];
    }
    ssl_cert_file
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
        .collect()
}

/// The first bundle of `paths` that loads; the error lists every path
/// tried and what to do.
pub fn find_roots(paths: &[PathBuf]) -> Result<Roots, String> {
    let mut tried = Vec::new();
    for path in paths {
        match load_bundle(path) {
            Ok(roots) => return Ok(roots),
            Err(e) => tried.push(format!("{}: {e}", path.display())),
        }
    }
    Err(format!(
        "no CA bundle for TLS (tried {}); pass --ca-file PATH or set SSL_CERT_FILE",
        tried.join("; ")
    ))
}

/// A client configuration trusting `roots`, offering HTTP/1.1 by ALPN.
pub fn client_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A client configuration with its bundle.
#[derive(Debug)]
pub struct Loaded {
    /// What connections use.
    pub config: Arc<ClientConfig>,
    /// The bundle file.
    pub path: PathBuf,
    /// Certificates in it.
    pub count: usize,
}

/// The TLS configuration, built on first use (an http target may redirect
/// to https) and shared by every connection of the run.
#[derive(Debug, Clone)]
pub struct LazyTls {
    ca_file: Option<PathBuf>,
    cell: Arc<OnceLock<Result<Loaded, String>>>,
}

impl LazyTls {
    /// Trusting `ca_file`, else `$SSL_CERT_FILE`, else the system bundle.
    pub fn new(ca_file: Option<PathBuf>) -> Self {
        LazyTls {
            ca_file,
            cell: Arc::new(OnceLock::new()),
        }
    }

    /// The configuration, loading the bundle the first time.
    pub fn get(&self) -> Result<&Loaded, &str> {
        self.cell
            .get_or_init(|| {
                let ssl_cert_file = std::env::var("SSL_CERT_FILE").ok();
                let roots = find_roots(&candidates(
                    self.ca_file.as_deref(),
                    ssl_cert_file.as_deref(),
                ))?;
                Ok(Loaded {
                    config: client_config(roots.store)?,
                    path: roots.path,
                    count: roots.count,
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// What loading gave, if anything asked for it.
    pub fn loaded(&self) -> Option<Result<&Loaded, &str>> {
        self.cell.get().map(|r| r.as_ref().map_err(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_file_wins_then_ssl_cert_file_then_the_system() {
        let only = candidates(Some(Path::new("/x.pem")), Some("/env.pem"));
        assert_eq!(only, [PathBuf::from("/x.pem")]);
        let all = candidates(None, Some("/env.pem"));
        assert_eq!(all[0], PathBuf::from("/env.pem"));
        assert_eq!(all.len(), 1 + SYSTEM_BUNDLES.len());
        assert_eq!(candidates(None, Some("")).len(), SYSTEM_BUNDLES.len());
    }

    #[test]
    fn a_missing_or_empty_bundle_says_what_was_tried() {
        let dir = std::env::temp_dir().join(format!("bench-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let missing = dir.join("missing.pem");
        let e = find_roots(&[missing.clone(), empty.clone()]).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(e.contains(&missing.display().to_string()), "{e}");
        assert!(e.contains("no usable CA certificate"), "{e}");
        assert!(e.contains("--ca-file"), "{e}");
    }

    #[test]
    fn lazy_tls_loads_once_on_first_use() {
        let lazy = LazyTls::new(Some(PathBuf::from("/nonexistent/ca.pem")));
        assert!(lazy.loaded().is_none());
        let e = lazy.get().unwrap_err();
        assert!(e.contains("/nonexistent/ca.pem"), "{e}");
        assert!(lazy.clone().loaded().is_some_and(|r| r.is_err()));
    }

    #[test]
    fn the_ring_provider_builds_a_config() {
        let config = client_config(RootCertStore::empty()).unwrap();
        assert_eq!(config.alpn_protocols, [b"http/1.1".to_vec()]);
    }
}
