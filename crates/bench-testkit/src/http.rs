//! A static HTTP/1.1 server on 127.0.0.1 for tests: fixed routes, one thread
//! per connection, keep-alive, every request recorded. Enough for pip, npm,
//! uv and the network probe; nothing leaves loopback.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// One canned response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Extra headers (Content-Length is added).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl Response {
    /// 200 with this content type and body.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Response {
            status,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
}

/// The routes and the request log of a running server, shared by its
/// connection threads (the plain and the TLS server alike).
#[derive(Clone, Default)]
pub(crate) struct Router {
    routes: Arc<Mutex<HashMap<String, Response>>>,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Router {
    /// Records `request` and writes its route's response (a 404 for an
    /// unknown path, no body for HEAD); `close` adds `Connection: close`.
    pub(crate) fn respond(
        &self,
        request: Request,
        writer: &mut impl Write,
        close: bool,
    ) -> std::io::Result<()> {
        let head_only = request.method == "HEAD";
        let response = self.lookup(&request.target);
        self.log.lock().expect("log lock").push(request);
        write_response(writer, head_only, &response, close)
    }

    /// The route for a request target (query ignored), or a 404.
    fn lookup(&self, target: &str) -> Response {
        let path = target.split('?').next().unwrap_or(target);
        self.routes
            .lock()
            .expect("routes lock")
            .get(path)
            .cloned()
            .unwrap_or(Response {
                status: 404,
                headers: vec![("Content-Type".into(), "text/plain".into())],
                body: b"not found\n".to_vec(),
            })
    }
}

/// What serves one accepted connection.
type Handler = Arc<dyn Fn(TcpStream, &Router) + Send + Sync>;

/// The running server; stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    router: Router,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Starts serving `routes` (path → response; unknown paths get 404).
    pub fn start(routes: impl IntoIterator<Item = (String, Response)>) -> Self {
        Self::serving(routes, serve)
    }

    /// Starts on 127.0.0.1, each accepted connection handed to `handle` on
    /// its own thread (the TLS server passes its handshake here).
    pub(crate) fn serving(
        routes: impl IntoIterator<Item = (String, Response)>,
        handle: impl Fn(TcpStream, &Router) + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        let router = Router::default();
        router.routes.lock().expect("routes lock").extend(routes);
        let stop = Arc::new(AtomicBool::new(false));
        let handle: Handler = Arc::new(handle);
        let thread = {
            let (router, stop) = (router.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (router, handle) = (router.clone(), handle.clone());
                    std::thread::spawn(move || handle(stream, &router));
                }
            })
        };
        StaticServer {
            addr,
            router,
            stop,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Adds or replaces a route while running (e.g. once the URL is known).
    pub fn route(&self, path: &str, response: Response) {
        self.router
            .routes
            .lock()
            .expect("routes lock")
            .insert(path.to_owned(), response);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.router.log.lock().expect("log lock").clone()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Plain HTTP/1.1 with keep-alive until the client closes or asks to.
fn serve(stream: TcpStream, router: &Router) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let close = request
            .headers
            .iter()
            .any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"));
        if router.respond(request, &mut writer, false).is_err() || close {
            return;
        }
    }
}

/// Reads one request head (and any Content-Length body, discarded); `None`
/// when the connection ends or the head is malformed.
pub(crate) fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let body_len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; body_len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
    })
}

/// Writes `response` (no body when `head_only`); `close` adds
/// `Connection: close`.
fn write_response(
    writer: &mut impl Write,
    head_only: bool,
    response: &Response,
    close: bool,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} X\r\n", response.status);
    if close {
        head.push_str("Connection: close\r\n");
    }
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", response.body.len()));
    writer.write_all(head.as_bytes())?;
    if !head_only {
        writer.write_all(&response.body)?;
    }
    writer.flush()
}
