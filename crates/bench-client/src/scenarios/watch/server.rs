//! The `/metrics` responder: a small HTTP/1.1 answer per connection on a
//! tokio listener (GET/HEAD `/metrics`; 404, 405 and 431 otherwise), so
//! bench-client needs no web framework.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use bench_core::exit::Failure;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::State;

/// `HOST:PORT` (an IP, `[v6]`, or a name such as `localhost`), first address.
pub fn parse_listen(value: &str) -> Result<SocketAddr, Failure> {
    let bad = |why: String| Failure::usage(format!("--metrics-listen {value:?}: {why}"));
    if let Ok(a) = value.parse::<SocketAddr>() {
        return Ok(a);
    }
    if !value.contains(':') {
        return Err(bad("expected HOST:PORT, e.g. 127.0.0.1:9464".into()));
    }
    value
        .to_socket_addrs()
        .map_err(|e| bad(format!("expected HOST:PORT, e.g. 127.0.0.1:9464 ({e})")))?
        .next()
        .ok_or_else(|| bad("the name resolves to no address".into()))
}

/// Binds the metrics listener (before any sandbox is created).
pub(super) fn bind(value: &str) -> Result<TcpListener, Failure> {
    let addr = parse_listen(value)?;
    let std = std::net::TcpListener::bind(addr).map_err(|e| {
        Failure::usage(format!(
            "--metrics-listen {value}: cannot listen on {addr}: {e}; choose another port (or 127.0.0.1:0 for any free one)"
        ))
    })?;
    std.set_nonblocking(true)
        .map_err(|e| Failure::runtime(format!("--metrics-listen {value}: {e}")))?;
    TcpListener::from_std(std)
        .map_err(|e| Failure::runtime(format!("--metrics-listen {value}: {e}")))
}

/// Accepts scrapers until aborted.
pub(super) async fn serve(listener: TcpListener, state: Arc<State>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, state.clone()));
            }
            Err(e) => {
                tracing::debug!("metrics listener: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Largest request head read.
pub(super) const MAX_HEAD: usize = 16 * 1024;

/// One HTTP/1.x exchange: `GET`/`HEAD /metrics`, then the connection closes.
async fn answer(mut stream: TcpStream, state: Arc<State>) {
    let mut head = Vec::with_capacity(1024);
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 2048];
        loop {
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > MAX_HEAD {
                return true;
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    if !matches!(read, Ok(true)) {
        return;
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n");
    let request = lines.next().unwrap_or_default();
    let mut parts = request.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let path = target.split('?').next().unwrap_or_default();
    let openmetrics = lines.take_while(|l| !l.is_empty()).any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("accept")
                && v.to_ascii_lowercase()
                    .contains("application/openmetrics-text")
        })
    });
    let (status, content_type, body, extra) = if head.len() > MAX_HEAD {
        (
            "431 Request Header Fields Too Large",
            "text/plain; charset=utf-8",
            String::new(),
            "",
        )
    } else if method != "GET" && method != "HEAD" {
        (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET\n".into(),
            "Allow: GET, HEAD\r\n",
        )
    } else if path == "/metrics" {
        let (body, done) = {
            let f = state.figures();
            (f.render(openmetrics), state.expected == Some(f.finished()))
        };
        let ct = if openmetrics {
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        } else {
            "text/plain; version=0.0.4; charset=utf-8"
        };
        let sent = respond(&mut stream, "200 OK", ct, &body, "", method == "HEAD").await;
        if sent && done && method == "GET" {
            let _ = state.final_scraped.send(true);
        }
        return;
    } else if path == "/" {
        (
            "200 OK",
            "text/plain; charset=utf-8",
            "bench-client watch: see /metrics\n".into(),
            "",
        )
    } else {
        (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found; see /metrics\n".into(),
            "",
        )
    };
    respond(
        &mut stream,
        status,
        content_type,
        &body,
        extra,
        method == "HEAD",
    )
    .await;
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &str,
    extra: &str,
    head_only: bool,
) -> bool {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n{extra}\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(body);
    }
    let ok = stream.write_all(out.as_bytes()).await.is_ok() && stream.flush().await.is_ok();
    let _ = stream.shutdown().await;
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses() {
        assert!(parse_listen("127.0.0.1:0").is_ok());
        assert!(parse_listen("[::1]:9464").is_ok());
        assert_eq!(parse_listen("9464").unwrap_err().code, 2);
        assert_eq!(parse_listen("not an address").unwrap_err().code, 2);
    }
}
