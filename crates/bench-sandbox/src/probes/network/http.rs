//! A tiny HTTP/1.1 client on `std::net::TcpStream` (https through rustls
//! with the `tls` feature, or through `curl`, see [`super::curl`]): one GET
//! per connection (`Connection: close`), bodies framed by
//! Content-Length, chunked encoding or the end of the connection, up to
//! [`MAX_REDIRECTS`] redirects followed. Every read polls Ctrl-C and gives
//! up after the timeout of silence, so a stalled server cannot hang a run.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
#[cfg(feature = "tls")]
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_core::interrupt::Interrupt;
use bench_core::schema::ErrorKind;
#[cfg(feature = "tls")]
use rustls::pki_types::ServerName;
#[cfg(feature = "tls")]
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::curl::LazyCurl;
#[cfg(feature = "tls")]
use super::tls::LazyTls;
use super::url::{Scheme, Url, base64, percent_decode};

/// Redirects followed before a download fails.
pub const MAX_REDIRECTS: usize = 5;
/// Largest response head (status line and headers) accepted.
const MAX_HEAD: u64 = 64 * 1024;
/// How often a blocked read or write looks at the Ctrl-C flag.
const POLL: Duration = Duration::from_millis(100);
/// Read buffer of the body loop.
const BUF: usize = 64 * 1024;

/// Why a network step failed: the error kind of its entry and one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetError {
    /// `failed`, `timeout`, `unavailable` or `interrupted`.
    pub kind: ErrorKind,
    /// What happened.
    pub message: String,
}

impl NetError {
    /// A failure.
    pub fn failed(message: impl Into<String>) -> Self {
        NetError {
            kind: ErrorKind::Failed,
            message: message.into(),
        }
    }

    /// Ctrl-C.
    pub fn interrupted() -> Self {
        NetError {
            kind: ErrorKind::Interrupted,
            message: "interrupted".to_owned(),
        }
    }

    /// An I/O error while doing `what`: `timeout` for a time limit,
    /// `interrupted` for Ctrl-C, else `failed`.
    pub fn io(what: &str, e: &io::Error) -> Self {
        if is_interrupt(e) {
            return NetError::interrupted();
        }
        let kind = match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::Timeout,
            _ => ErrorKind::Failed,
        };
        NetError {
            kind,
            message: format!("{what}: {e}"),
        }
    }
}

/// The payload of the I/O error a read returns on Ctrl-C.
#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Stop {}

fn is_interrupt(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Stop>())
}

/// How name resolution is done for the hosts a download reaches.
pub trait Resolve {
    /// The addresses to try for `host:port`, in order.
    fn resolve(&mut self, host: &str, port: u16) -> Result<Vec<SocketAddr>, NetError>;
}

/// What every request needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Connect time limit, and the longest silence while reading or writing.
    pub timeout: Duration,
    /// Body bytes read before the download stops (counted as truncated).
    pub max_bytes: u64,
    /// `Accept` header.
    pub accept: String,
    /// `User-Agent` header.
    pub user_agent: String,
    /// Polled in every blocking step.
    pub interrupt: Interrupt,
    /// How https hops are fetched.
    pub https: Https,
}

/// What fetches an https hop.
#[derive(Debug, Clone)]
pub enum Https {
    /// rustls here; the TLS configuration is loaded on the first https
    /// connection (when there is none, https fails with the reason).
    #[cfg(feature = "tls")]
    Builtin(LazyTls),
    /// The sandbox's `curl`, one process per hop.
    Curl(LazyCurl),
}

impl Https {
    /// `builtin` or `curl`.
    pub fn name(&self) -> &'static str {
        match self {
            #[cfg(feature = "tls")]
            Https::Builtin(_) => "builtin",
            Https::Curl(_) => "curl",
        }
    }
}

/// One finished download.
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    /// The URL whose body was read (after redirects), without userinfo.
    pub final_url: String,
    /// Each redirect's target, in order.
    pub redirects: Vec<String>,
    /// Final status code.
    pub status: u16,
    /// Body bytes read.
    pub bytes: u64,
    /// True when `max_bytes` stopped the download before the body ended.
    pub truncated: bool,
    /// Request sent → first response byte (final hop).
    pub ttfb: Duration,
    /// Request sent → last body byte (final hop).
    pub transfer: Duration,
    /// The address the final hop connected to.
    pub address: SocketAddr,
    /// TLS version and cipher suite of the final hop (https, built-in client).
    pub tls: Option<(String, String)>,
    /// The version of the curl that fetched the final hop (https, curl client).
    pub curl: Option<String>,
}

impl Download {
    /// Body bytes per second of the transfer (0 for an empty body).
    pub fn bytes_per_second(&self) -> f64 {
        let secs = self.transfer.as_secs_f64();
        if secs > 0.0 {
            self.bytes as f64 / secs
        } else {
            0.0
        }
    }
}

/// GETs `url`, following redirects, and reads its body.
pub fn get(url: &Url, resolver: &mut dyn Resolve, opts: &Options) -> Result<Download, NetError> {
    let mut url = url.clone();
    let mut redirects = Vec::new();
    loop {
        if opts.interrupt.is_set() {
            return Err(NetError::interrupted());
        }
        let hop = fetch(&url, resolver, opts)?;
        if let Some(location) = hop.location {
            if redirects.len() == MAX_REDIRECTS {
                return Err(NetError::failed(format!(
                    "{url}: more than {MAX_REDIRECTS} redirects (last: HTTP {} to {location})",
                    hop.status
                )));
            }
            let mut next = url.resolve(&location).map_err(|e| {
                NetError::failed(format!(
                    "{url}: HTTP {} redirect to '{location}', which {e}",
                    hop.status
                ))
            })?;
            // Credentials stay with the host they were given for.
            if next.host != url.host || next.port != url.port {
                next.userinfo = None;
            }
            redirects.push(next.to_string());
            url = next;
            continue;
        }
        if !(200..300).contains(&hop.status) {
            let status = format!("HTTP {} {}", hop.status, hop.reason);
            return Err(NetError::failed(format!("{url}: {}", status.trim_end())));
        }
        return Ok(Download {
            final_url: url.to_string(),
            redirects,
            status: hop.status,
            bytes: hop.bytes,
            truncated: hop.truncated,
            ttfb: hop.ttfb,
            transfer: hop.transfer,
            address: hop.address,
            tls: hop.tls,
            curl: hop.curl,
        });
    }
}

/// One request/response.
pub(super) struct Hop {
    pub status: u16,
    pub reason: String,
    /// Set for a redirect status with a Location header.
    pub location: Option<String>,
    pub bytes: u64,
    pub truncated: bool,
    pub ttfb: Duration,
    pub transfer: Duration,
    pub address: SocketAddr,
    pub tls: Option<(String, String)>,
    pub curl: Option<String>,
}

/// The statuses whose `Location` is followed.
pub(super) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Connects to the first address of `addrs` that accepts within `timeout`.
pub fn connect_any(
    addrs: &[SocketAddr],
    timeout: Duration,
    interrupt: &Interrupt,
) -> Result<(TcpStream, SocketAddr), NetError> {
    let mut last = None;
    for &addr in addrs {
        if interrupt.is_set() {
            return Err(NetError::interrupted());
        }
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(stream) => return Ok((stream, addr)),
            Err(e) => last = Some(NetError::io(&format!("connect to {addr}"), &e)),
        }
    }
    Err(last.unwrap_or_else(|| NetError::failed("no address to connect to")))
}

fn fetch(url: &Url, resolver: &mut dyn Resolve, opts: &Options) -> Result<Hop, NetError> {
    let addrs = match url.ip() {
        Some(ip) => vec![SocketAddr::new(ip, url.port)],
        None => resolver.resolve(&url.host, url.port)?,
    };
    // curl makes its own connection (to the addresses found here).
    if let (Scheme::Https, Https::Curl(curl)) = (url.scheme, &opts.https) {
        return super::curl::fetch(url, &addrs, opts, curl);
    }
    let (stream, address) = connect_any(&addrs, opts.timeout, &opts.interrupt)?;
    let _ = stream.set_nodelay(true);
    let guarded = Guarded::new(stream, opts.timeout, opts.interrupt.clone())
        .map_err(|e| NetError::io(&format!("socket to {address}"), &e))?;
    let (conn, tls) = match url.scheme {
        Scheme::Http => (Conn::Plain(guarded), None),
        Scheme::Https => secure(url, opts, guarded)?,
    };
    let mut reader = BufReader::with_capacity(BUF, conn);
    let request = request_head(url, opts);
    let send = reader
        .get_mut()
        .write_all(request.as_bytes())
        .and_then(|()| reader.get_mut().flush());
    send.map_err(|e| NetError::io(&format!("{url}: sending the request"), &e))?;
    let sent = Instant::now();
    let first = reader
        .fill_buf()
        .map_err(|e| NetError::io(&format!("{url}: waiting for the response"), &e))?;
    if first.is_empty() {
        return Err(NetError::failed(format!(
            "{url}: the server closed the connection without a response"
        )));
    }
    let ttfb = sent.elapsed();
    let head = loop {
        let head = read_head(&mut reader).map_err(|e| NetError::io(&url.to_string(), &e))?;
        // 100 Continue, 103 Early Hints: another head follows.
        if !(100..200).contains(&head.status) || head.status == 101 {
            break head;
        }
    };
    let redirect = is_redirect(head.status);
    let location = head.header("location").filter(|_| redirect);
    if location.is_some() || !(200..300).contains(&head.status) {
        // The body of a redirect or an error page is not what we measure.
        return Ok(Hop {
            status: head.status,
            reason: head.reason.clone(),
            location: location.map(str::to_owned),
            bytes: 0,
            truncated: false,
            ttfb,
            transfer: sent.elapsed(),
            address,
            tls,
            curl: None,
        });
    }
    let framing = head
        .framing()
        .map_err(|e| NetError::failed(format!("{url}: {e}")))?;
    let (bytes, truncated) = read_body(&mut reader, framing, opts.max_bytes)
        .map_err(|e| NetError::io(&format!("{url}: reading the body"), &e))?;
    Ok(Hop {
        status: head.status,
        reason: head.reason,
        location: None,
        bytes,
        truncated,
        ttfb,
        transfer: sent.elapsed(),
        address,
        tls,
        curl: None,
    })
}

/// The TLS connection of an https hop over `sock`, with its version and
/// cipher suite (the built-in client; curl hops never get here).
#[cfg(feature = "tls")]
fn secure(
    url: &Url,
    opts: &Options,
    sock: Guarded,
) -> Result<(Conn, Option<(String, String)>), NetError> {
    let Https::Builtin(lazy) = &opts.https else {
        return Err(NetError::failed(format!(
            "{url}: https through curl reached the built-in client"
        )));
    };
    let loaded = lazy.get().map_err(|e| NetError {
        kind: ErrorKind::Unavailable,
        message: format!("{url}: {e}"),
    })?;
    let (stream, info) = handshake(url, &loaded.config, sock)?;
    Ok((Conn::Tls(Box::new(stream)), Some(info)))
}

/// Without the `tls` feature every https hop goes through curl.
#[cfg(not(feature = "tls"))]
fn secure(
    url: &Url,
    _opts: &Options,
    _sock: Guarded,
) -> Result<(Conn, Option<(String, String)>), NetError> {
    Err(NetError {
        kind: ErrorKind::Unavailable,
        message: format!("{url}: this build of bench-sandbox has no built-in TLS"),
    })
}

/// A TLS connection over a guarded socket.
#[cfg(feature = "tls")]
type TlsStream = StreamOwned<ClientConnection, Guarded>;

#[cfg(feature = "tls")]
fn handshake(
    url: &Url,
    config: &Arc<ClientConfig>,
    mut sock: Guarded,
) -> Result<(TlsStream, (String, String)), NetError> {
    let name = ServerName::try_from(url.host.clone())
        .map_err(|e| NetError::failed(format!("{url}: '{}' as a TLS name: {e}", url.host)))?;
    let mut conn = ClientConnection::new(config.clone(), name)
        .map_err(|e| NetError::failed(format!("{url}: TLS: {e}")))?;
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| {
            let mut err = NetError::io(&format!("{url}: TLS handshake with {}", url.host), &e);
            if e.kind() == io::ErrorKind::UnexpectedEof {
                err.message.push_str(" (the server closed the connection)");
            }
            err
        })?;
    }
    let version = conn
        .protocol_version()
        .map(|v| format!("{v:?}"))
        .unwrap_or_default();
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    Ok((StreamOwned::new(conn, sock), (version, cipher)))
}

/// The request: GET, identity encoding, one request per connection.
pub fn request_head(url: &Url, opts: &Options) -> String {
    let mut head = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nAccept: {}\r\nAccept-Encoding: identity\r\nConnection: close\r\n",
        url.path,
        url.authority(),
        opts.user_agent,
        opts.accept
    );
    if let Some(userinfo) = &url.userinfo {
        head.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(&percent_decode(userinfo))
        ));
    }
    head.push_str("\r\n");
    head
}

/// A response's status line and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Headers, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
}

/// How the body's end is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Content-Length.
    Length(u64),
    /// Transfer-Encoding: chunked.
    Chunked,
    /// Neither: the body ends when the server closes.
    Close,
    /// No body (204, 304).
    Empty,
}

impl Head {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body framing (RFC 9112 §6.3).
    pub fn framing(&self) -> Result<Framing, String> {
        if matches!(self.status, 204 | 304) {
            return Ok(Framing::Empty);
        }
        let encodings: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| n == "transfer-encoding")
            .flat_map(|(_, v)| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(last) = encodings.last() {
            if last == "chunked" {
                if encodings.len() > 1 {
                    return Err(format!(
                        "Transfer-Encoding '{}' is not supported (we asked for identity)",
                        encodings.join(", ")
                    ));
                }
                return Ok(Framing::Chunked);
            }
            return Ok(Framing::Close);
        }
        let mut length = None;
        for (_, v) in self.headers.iter().filter(|(n, _)| n == "content-length") {
            for item in v.split(',') {
                let n: u64 = item
                    .trim()
                    .parse()
                    .map_err(|_| format!("bad Content-Length '{v}'"))?;
                if length.is_some_and(|l| l != n) {
                    return Err(format!("conflicting Content-Length headers ({v})"));
                }
                length = Some(n);
            }
        }
        Ok(length.map_or(Framing::Close, Framing::Length))
    }
}

fn bad_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads one line of at most `limit` bytes (CRLF or LF removed).
fn read_line(reader: &mut impl BufRead, limit: u64) -> io::Result<String> {
    let mut raw = Vec::new();
    reader.take(limit).read_until(b'\n', &mut raw)?;
    if raw.last() != Some(&b'\n') {
        return Err(if raw.len() as u64 >= limit {
            bad_data(format!("a response line is longer than {limit} bytes"))
        } else {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed in the middle of the response head",
            )
        });
    }
    raw.pop();
    if raw.last() == Some(&b'\r') {
        raw.pop();
    }
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// Reads a status line and headers.
pub fn read_head(reader: &mut impl BufRead) -> io::Result<Head> {
    let mut budget = MAX_HEAD;
    let status_line = read_line(reader, budget)?;
    budget = budget.saturating_sub(status_line.len() as u64 + 2);
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    let code = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(bad_data(format!(
            "not an HTTP/1.x status line: '{}'",
            status_line.chars().take(80).collect::<String>()
        )));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| bad_data(format!("bad status code '{code}'")))?;
    let reason = parts.next().unwrap_or("").trim().to_owned();
    let mut headers = Vec::new();
    loop {
        if budget == 0 {
            return Err(bad_data(format!(
                "response headers are longer than {MAX_HEAD} bytes"
            )));
        }
        let line = read_line(reader, budget)?;
        budget = budget.saturating_sub(line.len() as u64 + 2);
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    Ok(Head {
        status,
        reason,
        headers,
    })
}

/// Reads (and discards) a body of `framing`, at most `max` bytes; returns
/// the bytes read and whether `max` cut it short.
pub fn read_body(reader: &mut impl BufRead, framing: Framing, max: u64) -> io::Result<(u64, bool)> {
    match framing {
        Framing::Empty => Ok((0, false)),
        Framing::Length(len) => {
            let (n, truncated) = drain(&mut reader.take(len), max, false)?;
            if !truncated && n < len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the connection closed after {n} of {len} bytes"),
                ));
            }
            Ok((n, truncated))
        }
        Framing::Chunked => drain(&mut Chunked::new(reader), max, false),
        // A TLS server that closes without close_notify ends such a body
        // the same way (as browsers and curl accept).
        Framing::Close => drain(reader, max, true),
    }
}

/// Reads `reader` to its end or `max` bytes.
/// With `eof_is_end`, an unexpected EOF (TLS without close_notify) ends it too.
fn drain(reader: &mut impl Read, max: u64, eof_is_end: bool) -> io::Result<(u64, bool)> {
    let mut buf = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        if total >= max {
            // Cut short unless the body ends exactly here.
            return match reader.read(&mut [0u8; 1]) {
                Ok(more) => Ok((total, more > 0)),
                Err(e) if eof_is_end && e.kind() == io::ErrorKind::UnexpectedEof => {
                    Ok((total, false))
                }
                Err(e) => Err(e),
            };
        }
        let want = (max - total).min(BUF as u64) as usize;
        match reader.read(&mut buf[..want]) {
            Ok(0) => return Ok((total, false)),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted && !is_interrupt(&e) => {}
            Err(e) if eof_is_end && e.kind() == io::ErrorKind::UnexpectedEof => {
                return Ok((total, false));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A reader of a chunked body (RFC 9112 §7.1): the data of the chunks,
/// then the trailers are skipped.
pub struct Chunked<R> {
    inner: R,
    state: ChunkState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    Size,
    Data(u64),
    Crlf,
    Done,
}

impl<R: BufRead> Chunked<R> {
    /// Decodes the chunked body read from `inner`.
    pub fn new(inner: R) -> Self {
        Chunked {
            inner,
            state: ChunkState::Size,
        }
    }
}

impl<R: BufRead> Read for Chunked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.state {
                ChunkState::Done => return Ok(0),
                ChunkState::Size => {
                    let line = read_line(&mut self.inner, 4096)?;
                    let size = line.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(size, 16)
                        .map_err(|_| bad_data(format!("bad chunk size line '{line}'")))?;
                    if size == 0 {
                        // Trailers, up to the empty line.
                        while !read_line(&mut self.inner, 4096)?.is_empty() {}
                        self.state = ChunkState::Done;
                    } else {
                        self.state = ChunkState::Data(size);
                    }
                }
                ChunkState::Data(left) => {
                    if buf.is_empty() {
                        return Ok(0);
                    }
                    let want = left.min(buf.len() as u64) as usize;
                    let n = self.inner.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "the connection closed in the middle of a chunk",
                        ));
                    }
                    self.state = if left == n as u64 {
                        ChunkState::Crlf
                    } else {
                        ChunkState::Data(left - n as u64)
                    };
                    return Ok(n);
                }
                ChunkState::Crlf => {
                    let line = read_line(&mut self.inner, 2)?;
                    if !line.is_empty() {
                        return Err(bad_data("chunk data longer than its size".to_owned()));
                    }
                    self.state = ChunkState::Size;
                }
            }
        }
    }
}

/// A socket whose reads and writes wake every [`POLL`] to look at the
/// Ctrl-C flag, and fail after `idle` without progress.
pub struct Guarded {
    sock: TcpStream,
    idle: Duration,
    interrupt: Interrupt,
}

impl Guarded {
    /// Wraps `sock`.
    pub fn new(sock: TcpStream, idle: Duration, interrupt: Interrupt) -> io::Result<Self> {
        let slice = Some(POLL.min(idle).max(Duration::from_millis(1)));
        sock.set_read_timeout(slice)?;
        sock.set_write_timeout(slice)?;
        Ok(Guarded {
            sock,
            idle,
            interrupt,
        })
    }

    fn retry<T>(&mut self, mut op: impl FnMut(&mut TcpStream) -> io::Result<T>) -> io::Result<T> {
        let started = Instant::now();
        loop {
            match op(&mut self.sock) {
                // EINTR too: the Ctrl-C handler does not restart calls.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    if self.interrupt.is_set() {
                        return Err(io::Error::other(Stop));
                    }
                    if started.elapsed() >= self.idle {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "no progress for {:.1} s (--net-timeout)",
                                self.idle.as_secs_f64()
                            ),
                        ));
                    }
                }
                other => return other,
            }
        }
    }
}

impl Read for Guarded {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.retry(|s| s.read(buf))
    }
}

impl Write for Guarded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.retry(|s| s.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sock.flush()
    }
}

/// A plain or TLS connection.
enum Conn {
    Plain(Guarded),
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            #[cfg(feature = "tls")]
            Conn::Tls(s) => s.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Head {
        read_head(&mut text.as_bytes()).unwrap()
    }

    #[test]
    fn reads_a_response_head() {
        let h = head("HTTP/1.1 301 Moved Permanently\r\nLocation: /x\r\nX-A:  b \r\n\r\nbody");
        assert_eq!((h.status, h.reason.as_str()), (301, "Moved Permanently"));
        assert_eq!(h.header("location"), Some("/x"));
        assert_eq!(h.header("x-a"), Some("b"));
        let h = head("HTTP/1.0 200\n\n");
        assert_eq!((h.status, h.reason.as_str()), (200, ""));
        for bad in ["SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", ""] {
            assert!(read_head(&mut bad.as_bytes()).is_err(), "{bad:?}");
        }
        let e = read_head(&mut "HTTP/1.1 200 OK\r\nA: b\r\n".as_bytes()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let huge = format!("HTTP/1.1 200 OK\r\nA: {}\r\n\r\n", "x".repeat(70_000));
        assert!(read_head(&mut huge.as_bytes()).is_err());
    }

    #[test]
    fn picks_the_body_framing() {
        let f = |text: &str| head(text).framing();
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(f("HTTP/1.1 200 OK\r\n\r\n"), Ok(Framing::Close));
        assert_eq!(
            f("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Empty)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert!(f("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").is_err());
        assert!(f("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(f("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").is_err());
    }

    #[test]
    fn decodes_chunked_bodies() {
        let body =
            "5;ext=1\r\nhello\r\n7\r\n, world\r\nA \r\n0123456789\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        let mut reader = body.as_bytes();
        let mut out = String::new();
        Chunked::new(&mut reader).read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello, world0123456789");
        // The trailers are consumed, nothing after them.
        assert_eq!(reader, b"NEXT");
        // Small reads cross chunk boundaries correctly.
        let mut chunked = Chunked::new(body.as_bytes());
        let mut bytes = Vec::new();
        let mut one = [0u8; 3];
        loop {
            let n = chunked.read(&mut one).unwrap();
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&one[..n]);
        }
        assert_eq!(bytes, b"hello, world0123456789");
        assert_eq!(
            read_body(&mut body.as_bytes(), Framing::Chunked, 100).unwrap(),
            (22, false)
        );
        assert_eq!(
            read_body(&mut body.as_bytes(), Framing::Chunked, 7).unwrap(),
            (7, true)
        );
        for bad in [
            "zz\r\nhello\r\n0\r\n\r\n",
            "5\r\nhelloXX0\r\n\r\n",
            "5\r\nhel",
        ] {
            let mut s = String::new();
            assert!(
                Chunked::new(bad.as_bytes()).read_to_string(&mut s).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn reads_length_and_close_delimited_bodies() {
        let body = vec![7u8; 200_000];
        assert_eq!(
            read_body(&mut &body[..], Framing::Length(200_000), u64::MAX).unwrap(),
            (200_000, false)
        );
        assert_eq!(
            read_body(&mut &body[..], Framing::Length(150_000), u64::MAX).unwrap(),
            (150_000, false)
        );
        // Capped: exactly max bytes, marked truncated; a body of exactly max is not.
        assert_eq!(
            read_body(&mut &body[..], Framing::Length(200_000), 1000).unwrap(),
            (1000, true)
        );
        assert_eq!(
            read_body(&mut &body[..], Framing::Close, 200_000).unwrap(),
            (200_000, false)
        );
        let e = read_body(&mut &body[..10], Framing::Length(20), u64::MAX).unwrap_err();
        assert!(e.to_string().contains("after 10 of 20"), "{e}");
        assert_eq!(
            read_body(&mut &body[..], Framing::Empty, 5).unwrap(),
            (0, false)
        );
    }

    #[test]
    fn the_request_asks_for_identity_and_close() {
        let opts = Options {
            timeout: Duration::from_secs(1),
            max_bytes: 1,
            accept: "*/*".into(),
            user_agent: "bench-sandbox/0".into(),
            interrupt: Interrupt::new(),
            https: Https::Curl(LazyCurl::new(None, None)),
        };
        let url = Url::parse("http://us%40er:pw@h:8080/a?b").unwrap();
        assert_eq!(
            request_head(&url, &opts),
            "GET /a?b HTTP/1.1\r\nHost: h:8080\r\nUser-Agent: bench-sandbox/0\r\nAccept: */*\r\n\
             Accept-Encoding: identity\r\nConnection: close\r\n\
             Authorization: Basic dXNAZXI6cHc=\r\n\r\n"
        );
    }

    #[test]
    fn a_silent_server_times_out_and_ctrl_c_stops_a_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).unwrap();
        let _server_side = listener.accept().unwrap();
        let mut g = Guarded::new(
            client.try_clone().unwrap(),
            Duration::from_millis(250),
            Interrupt::new(),
        )
        .unwrap();
        let started = Instant::now();
        let e = g.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_millis(250));
        assert_eq!(NetError::io("x", &e).kind, ErrorKind::Timeout);
        let interrupt = Interrupt::new();
        interrupt.trigger();
        let mut g = Guarded::new(client, Duration::from_secs(60), interrupt).unwrap();
        let started = Instant::now();
        let e = g.read(&mut [0u8; 8]).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(NetError::io("x", &e).kind, ErrorKind::Interrupted);
    }
}
