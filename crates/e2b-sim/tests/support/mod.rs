//! Helpers shared by the integration tests: a started emulator and its
//! control plane, envd's Connect protocol (JSON codec) and process groups.
// Each test binary uses only some of these.
#![allow(dead_code)]

use e2b_sim::envd::base64;
use e2b_sim::{SimConfig, SimServer};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

pub const KEY: &str = "e2b_test_key";

pub async fn start(config: SimConfig) -> SimServer {
    e2b_sim::start(config).await.expect("start")
}

pub fn client() -> Client {
    // reqwest is built with `rustls-no-provider`; a second install is a no-op error.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().no_proxy().build().expect("client")
}

/// `POST /sandboxes`: the status and the JSON body (`null` if none).
pub async fn create(c: &Client, s: &SimServer, body: Value) -> (StatusCode, Value) {
    post(c, s, "/sandboxes", body).await
}

/// A control-plane request with the API key.
fn api(c: &Client, s: &SimServer, method: Method, path: &str) -> RequestBuilder {
    c.request(method, format!("{}{path}", s.api_url))
        .header("X-API-Key", KEY)
}

/// A control-plane POST: the status and the JSON body (`null` if none).
pub async fn post(c: &Client, s: &SimServer, path: &str, body: Value) -> (StatusCode, Value) {
    let r = api(c, s, Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// A control-plane GET.
pub async fn get(c: &Client, s: &SimServer, path: &str) -> Response {
    api(c, s, Method::GET, path).send().await.unwrap()
}

/// A control-plane DELETE.
pub async fn delete(c: &Client, s: &SimServer, path: &str) -> Response {
    api(c, s, Method::DELETE, path).send().await.unwrap()
}

/// A `POST /files` body (one file part named `name`) and its content type.
pub fn multipart(name: &str, content: &[u8]) -> (String, Vec<u8>) {
    let boundary = "simboundary12345";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The `ProcessConfig` of `bash -l -c cmd`, as the SDK sends it.
pub fn bash(cmd: &str) -> Value {
    json!({"cmd": "/bin/bash", "args": ["-l", "-c", cmd]})
}

/// One Connect envelope (flag 0) holding `msg`.
pub fn connect_frame(msg: &Value) -> Vec<u8> {
    let msg = msg.to_string();
    let mut body = vec![0u8];
    body.extend_from_slice(&u32::try_from(msg.len()).unwrap().to_be_bytes());
    body.extend_from_slice(msg.as_bytes());
    body
}

/// envd's Basic authorization for `user` (no password).
fn basic_auth(user: &str) -> String {
    format!("Basic {}", base64::encode(format!("{user}:").as_bytes()))
}

/// `req` as a Connect server-streaming call with `msg`, as `user`.
pub fn connect_stream(req: RequestBuilder, user: &str, msg: &Value) -> RequestBuilder {
    req.header("content-type", "application/connect+json")
        .header("connect-protocol-version", "1")
        .header("authorization", basic_auth(user))
        .body(connect_frame(msg))
}

/// `req` as a Connect unary call with `body`, as `user`.
pub fn connect_unary(req: RequestBuilder, user: &str, body: &Value) -> RequestBuilder {
    req.header("content-type", "application/json")
        .header("connect-protocol-version", "1")
        .header("authorization", basic_auth(user))
        .body(body.to_string())
}

/// Sends `req`: the status and the JSON body.
pub async fn send_json(req: RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// A Connect server stream read message by message.
pub struct Stream {
    resp: Response,
    buf: Vec<u8>,
}

impl Stream {
    pub fn new(resp: Response) -> Self {
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "application/connect+json");
        Self {
            resp,
            buf: Vec::new(),
        }
    }

    /// The next message: `Ok` for a message, `Err` for the end-stream envelope.
    pub async fn next(&mut self) -> Result<Value, Value> {
        loop {
            if self.buf.len() >= 5 {
                let b = &self.buf;
                let len = u32::from_be_bytes([b[1], b[2], b[3], b[4]]) as usize;
                if b.len() >= 5 + len {
                    let flag = b[0];
                    let v: Value = serde_json::from_slice(&b[5..5 + len]).unwrap();
                    self.buf.drain(..5 + len);
                    if flag == 2 {
                        return Err(v);
                    }
                    assert_eq!(flag, 0);
                    return Ok(v);
                }
            }
            let chunk = self
                .resp
                .chunk()
                .await
                .unwrap()
                .expect("stream ended without end-stream envelope");
            self.buf.extend_from_slice(&chunk);
        }
    }
}

/// Reads a Connect stream to its end: the messages and the end-stream body.
pub async fn read_stream(resp: Response) -> (Vec<Value>, Value) {
    let mut stream = Stream::new(resp);
    let mut messages = Vec::new();
    loop {
        match stream.next().await {
            Ok(v) => messages.push(v),
            Err(end) => return (messages, end),
        }
    }
}

/// How long [`eventually`] waits: only a hang takes this long, so it is
/// generous for a loaded 2-core CI machine.
pub const HANG: std::time::Duration = std::time::Duration::from_secs(60);

/// Polls `check` every 20 ms until it gives `Some`, panicking with `what`
/// after [`HANG`]. Tests wait for events this way rather than for fixed times.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The `kind` output (`stdout`, `stderr` or `pty`) of a process's events, decoded.
pub fn output(events: &[Value], kind: &str) -> String {
    let bytes: Vec<u8> = events
        .iter()
        .filter_map(|e| e["event"]["data"][kind].as_str())
        .flat_map(|s| base64::decode(s).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

/// Live (non-zombie) processes in a process group, from /proc.
pub fn group_members(pgid: u64) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // Fields after the parenthesised command: state, ppid, pgrp.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let fields: Vec<&str> = rest.split_whitespace().collect();
            fields.len() > 2 && fields[0] != "Z" && fields[2] == pgid.to_string()
        })
        .count()
}
