//! A loopback HTTPS server for tests: a self-signed certificate made by
//! rcgen for the names given (`localhost`, `127.0.0.1`, …), rustls with the
//! ring provider, one response per connection from fixed routes. Routes,
//! the request log and shutdown are the plain [`StaticServer`]'s; only the
//! handshake in front of each connection is added here.
//! [`TlsServer::ca_pem`] is the certificate to trust (`--ca-file`).

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::http::{Request, Response, Router, StaticServer, read_request};

/// The running server; stops when dropped.
pub struct TlsServer {
    plain: StaticServer,
    ca_pem: String,
}

impl TlsServer {
    /// Starts on 127.0.0.1 with a certificate for `names` (DNS names or IP
    /// addresses), serving `routes` (unknown paths get 404).
    pub fn start(names: &[&str], routes: impl IntoIterator<Item = (String, Response)>) -> Self {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let certified = rcgen::generate_simple_self_signed(names).expect("rcgen certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("server certificate");
        let config = Arc::new(config);
        let plain = StaticServer::serving(routes, move |stream, router| {
            serve(stream, config.clone(), router)
        });
        TlsServer {
            plain,
            ca_pem: certified.cert.pem(),
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr())
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.plain.addr()
    }

    /// The server's certificate in PEM (the CA to trust).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Adds or replaces a route while running.
    pub fn route(&self, path: &str, response: Response) {
        self.plain.route(path, response);
    }

    /// Every request that completed a handshake and sent its head.
    pub fn requests(&self) -> Vec<Request> {
        self.plain.requests()
    }
}

/// One request per connection, after the handshake.
fn serve(stream: TcpStream, config: Arc<ServerConfig>, router: &Router) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let mut reader = BufReader::new(StreamOwned::new(conn, stream));
    // A client that rejects the certificate fails here: nothing is logged.
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let stream = reader.get_mut();
    let _ = router.respond(request, stream, true);
    stream.conn.send_close_notify();
    let _ = stream.flush();
}
