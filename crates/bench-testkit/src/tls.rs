//! A loopback HTTPS server for tests: a self-signed certificate made by
//! rcgen for the names given (`localhost`, `127.0.0.1`, …), rustls with the
//! ring provider, one response per connection from fixed routes (the
//! [`crate::http::Response`] of the plain server), every request recorded.
//! [`TlsServer::ca_pem`] is the certificate to trust (`--ca-file`).

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::http::{Request, Response, Routes, lookup, read_request, write_response};

/// The running server; stops when dropped.
pub struct TlsServer {
    addr: SocketAddr,
    ca_pem: String,
    routes: Routes,
    log: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
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
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let routes: Routes = Arc::new(Mutex::new(routes.into_iter().collect()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (routes, log, stop) = (routes.clone(), log.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (routes, log, config) = (routes.clone(), log.clone(), config.clone());
                    std::thread::spawn(move || serve(stream, config, &routes, &log));
                }
            })
        };
        TlsServer {
            addr,
            ca_pem: certified.cert.pem(),
            routes,
            log,
            stop,
            thread: Some(thread),
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's certificate in PEM (the CA to trust).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Adds or replaces a route while running.
    pub fn route(&self, path: &str, response: Response) {
        self.routes
            .lock()
            .expect("routes lock")
            .insert(path.to_owned(), response);
    }

    /// Every request that completed a handshake and sent its head.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, config: Arc<ServerConfig>, routes: &Routes, log: &Mutex<Vec<Request>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let mut reader = BufReader::new(StreamOwned::new(conn, stream));
    // A client that rejects the certificate fails here: nothing is logged.
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let method = request.method.clone();
    let response = lookup(routes, &request.target);
    log.lock().expect("log lock").push(request);
    let stream = reader.get_mut();
    let _ = write_response(stream, &method, &response, true);
    stream.conn.send_close_notify();
    let _ = stream.flush();
}
