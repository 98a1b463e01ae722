//! Shared helpers of the `sink_*` integration tests: result documents, local
//! test servers (moto, Azurite) on free loopback ports, a tiny HTTP/1.1
//! client, and Azure SharedKey signing.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bench_core::schema::{Fingerprint, ResultDocument, SCHEMA_VERSION, Sample, Tier, Tool};

/// A URL password the redactor must mask in every written document.
pub const SECRET: &str = "hunter2";

/// A small but complete result document of run `run_id`.
pub fn doc(run_id: &str) -> ResultDocument {
    let mut parameters = BTreeMap::new();
    parameters.insert(
        "storage_url".to_owned(),
        serde_json::Value::String(format!("https://user:{SECRET}@example.com/x")),
    );
    parameters.insert("iterations".to_owned(), serde_json::json!(3));
    ResultDocument {
        schema_version: SCHEMA_VERSION,
        tool: Tool::new("bench-host", "0.1.0"),
        tier: Tier::Host,
        suite: "host_performance".to_owned(),
        cloud: "local".to_owned(),
        run_id: run_id.to_owned(),
        started_at: "2026-11-22T10:15:00Z".to_owned(),
        finished_at: "2026-11-22T10:19:41Z".to_owned(),
        fingerprint: Fingerprint {
            hostname: "test-host".to_owned(),
            ..Fingerprint::default()
        },
        parameters,
        samples: vec![
            Sample::from_series("disk.latency_us", "us", vec![10.0, 12.0, 11.0])
                .label("pattern", "randread"),
        ],
        errors: Vec::new(),
    }
}

/// Parses written bytes as JSON and returns its `run_id`, checking the
/// pretty-printed form ends with a newline and carries no secret.
pub fn check_written(bytes: &[u8]) -> String {
    let text = std::str::from_utf8(bytes).expect("UTF-8");
    assert!(text.ends_with("}\n"), "no trailing newline: {text:?}");
    assert!(
        text.contains("\n  \"run_id\""),
        "not pretty-printed: {text}"
    );
    assert!(!text.contains(SECRET), "secret not redacted: {text}");
    let doc = ResultDocument::from_json(text).expect("a valid result document");
    doc.run_id
}

/// Finds a service executable: the path in `env_var`, else `exe` on PATH.
/// When absent, fails the test if `E2B_BENCH_REQUIRE_SERVICES=1`, else
/// prints `skipped: ...` to stderr and returns `None`.
pub fn service(exe: &str, env_var: &str) -> Option<PathBuf> {
    let found = match std::env::var_os(env_var) {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "{env_var}={} does not exist; run `source scripts/test-tools.sh`",
                p.display()
            );
            Some(p)
        }
        _ => on_path(exe),
    };
    if found.is_none() {
        let why = format!(
            "{exe} not found ({env_var} unset and not on PATH); run `source scripts/test-tools.sh` to install it"
        );
        if std::env::var("E2B_BENCH_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("E2B_BENCH_REQUIRE_SERVICES=1 but {why}");
        }
        eprintln!("skipped: {why}");
    }
    found
}

fn on_path(exe: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(exe))
        .find(|p| p.is_file())
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// A server process, killed (and reaped) on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `exe args...` (with its output in a log file) and waits until
    /// an HTTP request to `port` gets any response.
    pub fn start(exe: &Path, args: &[&str], port: u16) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(exe)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = Server {
            child,
            port,
            log,
            _dir: dir,
        };
        server.wait_ready(Duration::from_secs(30));
        server
    }

    fn wait_ready(&mut self, limit: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("server exited early ({status}): {}", self.log_text());
            }
            if http(self.port, "GET", "/", &[], b"").is_ok() {
                return;
            }
            if started.elapsed() > limit {
                panic!("server not ready after {limit:?}: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's output so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// One HTTP/1.1 request to 127.0.0.1:`port` (`Connection: close`).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<Response> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"))
    {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no header end"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad("header not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"))
    {
        body = dechunk(&body).ok_or_else(|| bad("bad chunked body"))?;
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

pub fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..eol]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[eol + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}

// ---------------------------------------------------------------- Azure --

/// Azurite's well-known development account.
pub const AZURITE_ACCOUNT: &str = "devstoreaccount1";
/// Its published key (not a secret).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// A SharedKey-signed request to Azurite (path-style:
/// `/devstoreaccount1/<container>[/<blob>]`), `query` as `(name, value)`.
pub fn azurite_request(
    port: u16,
    method: &str,
    resource: &str,
    query: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let date = http_date(SystemTime::now());
    let version = "2021-08-06";
    let length = if body.is_empty() {
        String::new()
    } else {
        body.len().to_string()
    };
    let mut canonical_query: Vec<(String, &str)> = query
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), *v))
        .collect();
    canonical_query.sort();
    let mut canonical_resource = format!("/{AZURITE_ACCOUNT}/{AZURITE_ACCOUNT}/{resource}");
    for (k, v) in &canonical_query {
        canonical_resource.push_str(&format!("\n{k}:{v}"));
    }
    // VERB, Content-Encoding, -Language, -Length, -MD5, -Type, Date,
    // If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range,
    // then the x-ms- headers (sorted) and the resource.
    let string_to_sign = format!(
        "{method}\n\n\n{length}\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{canonical_resource}"
    );
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        &base64_decode(AZURITE_KEY).expect("valid base64 key"),
    );
    let signature = base64_encode(ring::hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    let mut path = format!("/{AZURITE_ACCOUNT}/{resource}");
    if !query.is_empty() {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        path.push('?');
        path.push_str(&q.join("&"));
    }
    http(
        port,
        method,
        &path,
        &[
            ("x-ms-date", date),
            ("x-ms-version", version.to_owned()),
            (
                "Authorization",
                format!("SharedKey {AZURITE_ACCOUNT}:{signature}"),
            ),
        ],
        body,
    )
}

/// Creates a blob container in Azurite (201, or 409 if it exists).
pub fn azurite_create_container(port: u16, container: &str) {
    let r = azurite_request(port, "PUT", container, &[("restype", "container")], b"")
        .expect("container request");
    assert!(
        r.status == 201 || r.status == 409,
        "create container: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
}

/// RFC 1123 date, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let month_name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{weekday}, {day:02} {month_name} {year} {h:02}:{m:02}:{s:02} GMT")
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
