//! `process.Process`: `Start` (server streaming), `List`, `SendInput`,
//! `SendSignal`. Commands run as local processes, each in its own process
//! group: in their own mount namespace that shows the sandbox's directory at
//! `/home/user`, `/root` and `/tmp` (see [`crate::namespace`]), or, where
//! that is unavailable, as host processes started in the sandbox's directory.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use nix::sys::signal::Signal;
use serde_json::{Map, Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::connect::{self, ConnectError, Framing};
use super::{base64, require_user, resolve_path, rpc_user};
use crate::namespace;
use crate::process_table::{self, ProcessEntry};
use crate::state::Sandbox;

/// Keepalive interval when the client asks for none (envd's default).
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(90);

fn keepalive_interval(headers: &HeaderMap) -> Duration {
    headers
        .get("keepalive-ping-interval")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(DEFAULT_KEEPALIVE, Duration::from_secs)
}

fn event(body: Value) -> Bytes {
    connect::data(&json!({ "event": body }))
}

/// Go's `ProcessState.String()` for a signal.
fn signal_name(signal: i32) -> String {
    match signal {
        1 => "hangup".into(),
        2 => "interrupt".into(),
        3 => "quit".into(),
        6 => "aborted".into(),
        9 => "killed".into(),
        11 => "segmentation fault".into(),
        13 => "broken pipe".into(),
        14 => "alarm clock".into(),
        15 => "terminated".into(),
        n => format!("signal {n}"),
    }
}

/// The `end` event as envd builds it from Go's `cmd.Wait()`: proto3 JSON
/// omits a zero `exitCode` and a false `exited`; `error` carries Wait's
/// error text (`exit status N`, `signal: killed`) unless the exit was clean.
fn end_event(status: std::io::Result<std::process::ExitStatus>) -> Value {
    use std::os::unix::process::ExitStatusExt;
    let mut end = Map::new();
    match status {
        Ok(s) => {
            if let Some(code) = s.code() {
                let text = format!("exit status {code}");
                if code != 0 {
                    end.insert("exitCode".into(), json!(code));
                }
                end.insert("exited".into(), json!(true));
                end.insert("status".into(), json!(text));
                if code != 0 {
                    end.insert("error".into(), json!(text));
                }
            } else {
                let text = format!("signal: {}", signal_name(s.signal().unwrap_or(0)));
                end.insert("exitCode".into(), json!(-1));
                end.insert("status".into(), json!(text));
                end.insert("error".into(), json!(text));
            }
        }
        Err(e) => {
            end.insert("exitCode".into(), json!(-1));
            end.insert("error".into(), json!(e.to_string()));
        }
    }
    Value::Object(end)
}

async fn pump(mut reader: impl AsyncRead + Unpin, kind: &'static str, tx: mpsc::Sender<Value>) {
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let _ = tx.send(json!({ kind: base64::encode(&buf[..n]) })).await;
            }
        }
    }
}

/// `process.Process/Start` (server streaming).
pub async fn start(
    Extension(sandbox): Extension<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (framing, req) = match connect::decode_request(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let fail = |e: ConnectError| match framing {
        Framing::Stream => connect::stream_response_error(&e),
        Framing::Unary => e.unary_response(),
    };
    if framing == Framing::Unary {
        return fail(ConnectError::new(
            "unimplemented",
            "Start is a server-streaming method",
        ));
    }
    let user = match require_user(&headers) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let config = req.get("process").cloned().unwrap_or_else(|| json!({}));
    let Some(cmd) = config
        .get("cmd")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    else {
        return fail(ConnectError::invalid_argument("process.cmd is required"));
    };
    let args: Vec<String> = config
        .get("args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let cwd = config
        .get("cwd")
        .and_then(Value::as_str)
        .unwrap_or(user.home());
    let cwd = match resolve_path(&sandbox.workdir, cwd, user) {
        Ok(p) => p,
        Err(e) => return fail(ConnectError::invalid_argument(e)),
    };
    let home = match resolve_path(&sandbox.workdir, user.home(), user) {
        Ok(p) => p,
        Err(e) => return fail(ConnectError::internal(e)),
    };
    let namespaced = sandbox.commands.namespaced();
    if namespaced {
        if let Err(e) = namespace::make_dirs(&sandbox.workdir).await {
            return fail(ConnectError::internal(format!(
                "error creating the sandbox's directories: {e}"
            )));
        }
    } else {
        let _ = tokio::fs::create_dir_all(&home.host).await;
    }
    // Where the command will find its cwd: in the sandbox's directory, or
    // (in a namespace, outside the trees mounted from it) the host's.
    let cwd_seen = if namespaced && !namespace::is_shared(&cwd.virtual_path) {
        Path::new(&cwd.virtual_path)
    } else {
        cwd.host.as_path()
    };
    if config.get("cwd").is_none() {
        let _ = tokio::fs::create_dir_all(&cwd.host).await;
    } else if !tokio::fs::metadata(cwd_seen)
        .await
        .is_ok_and(|m| m.is_dir())
    {
        return fail(ConnectError::invalid_argument(format!(
            "cwd '{}' does not exist",
            cwd.virtual_path
        )));
    }
    let pty = req.get("pty").is_some_and(|p| !p.is_null());
    let with_stdin = req.get("stdin").and_then(Value::as_bool).unwrap_or(true);
    let tag = req.get("tag").and_then(Value::as_str).map(str::to_string);

    let mut command = tokio::process::Command::new(cmd);
    command.args(&args);
    match namespace::Plan::new(sandbox.commands, &sandbox.workdir, &cwd.virtual_path) {
        Ok(Some(plan)) => {
            // The plan changes to the cwd inside the namespace.
            command
                .env("HOME", user.home())
                .env("PWD", &cwd.virtual_path);
            plan.apply(&mut command);
        }
        Ok(None) => {
            command.current_dir(&cwd.host).env("HOME", &home.host);
        }
        Err(e) => {
            return fail(ConnectError::internal(format!(
                "error starting process: {e}"
            )));
        }
    }
    command
        .env("USER", user.name())
        .env("LOGNAME", user.name())
        .envs(&sandbox.env_vars);
    if let Some(envs) = config.get("envs").and_then(Value::as_object) {
        for (k, v) in envs {
            if let Some(v) = v.as_str() {
                command.env(k, v);
            }
        }
    }
    command
        .stdin(if with_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return fail(ConnectError::internal(format!(
                "error starting process: {e}"
            )));
        }
    };
    let Some(pid) = child.id() else {
        return fail(ConnectError::internal("process exited before it started"));
    };
    sandbox.processes.insert(ProcessEntry {
        pid,
        tag,
        config: config.clone(),
        stdin: child
            .stdin
            .take()
            .map(|s| Arc::new(tokio::sync::Mutex::new(s))),
    });

    let (out_tx, out_rx) = mpsc::channel::<Bytes>(64);
    let period = keepalive_interval(&headers);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    tokio::spawn(async move {
        let _ = out_tx.send(event(json!({ "start": { "pid": pid } }))).await;
        let (data_tx, mut data_rx) = mpsc::channel::<Value>(64);
        if let Some(out) = stdout {
            tokio::spawn(pump(
                out,
                if pty { "pty" } else { "stdout" },
                data_tx.clone(),
            ));
        }
        if let Some(err) = stderr {
            tokio::spawn(pump(
                err,
                if pty { "pty" } else { "stderr" },
                data_tx.clone(),
            ));
        }
        drop(data_tx);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                data = data_rx.recv() => match data {
                    Some(d) => { let _ = out_tx.send(event(json!({ "data": d }))).await; }
                    None => break,
                },
                _ = ticker.tick() => { let _ = out_tx.send(event(json!({ "keepalive": {} }))).await; }
            }
        }
        let status = loop {
            tokio::select! {
                status = child.wait() => break status,
                _ = ticker.tick() => { let _ = out_tx.send(event(json!({ "keepalive": {} }))).await; }
            }
        };
        sandbox.processes.remove(pid);
        let _ = out_tx
            .send(event(json!({ "end": end_event(status) })))
            .await;
        let _ = out_tx.send(connect::end_stream(None)).await;
    });
    connect::stream_response(out_rx)
}

fn unary_request(headers: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
    let (_, req) = connect::decode_request(headers, body)?;
    if let Err(e) = rpc_user(headers) {
        return Err(e.unary_response());
    }
    Ok(req)
}

fn select(sandbox: &Sandbox, req: &Value) -> Result<ProcessEntry, ConnectError> {
    let selector = req.get("process").cloned().unwrap_or_default();
    if let Some(pid) = selector.get("pid").and_then(Value::as_u64) {
        let pid = u32::try_from(pid).unwrap_or(u32::MAX);
        return sandbox
            .processes
            .by_pid(pid)
            .ok_or_else(|| ConnectError::not_found(format!("process with pid {pid} not found")));
    }
    if let Some(tag) = selector.get("tag").and_then(Value::as_str) {
        return sandbox
            .processes
            .by_tag(tag)
            .ok_or_else(|| ConnectError::not_found(format!("process with tag {tag} not found")));
    }
    Err(ConnectError::new(
        "unimplemented",
        "invalid input type <nil>",
    ))
}

/// `process.Process/List`.
pub async fn list(
    Extension(sandbox): Extension<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = unary_request(&headers, &body) {
        return r;
    }
    let processes: Vec<Value> = sandbox
        .processes
        .list()
        .into_iter()
        .map(|p| {
            let mut info = json!({ "config": p.config, "pid": p.pid });
            if let Some(tag) = p.tag {
                info["tag"] = json!(tag);
            }
            info
        })
        .collect();
    connect::unary_ok(&json!({ "processes": processes }))
}

/// `process.Process/SendInput`: `{"process":{…},"input":{"stdin"|"pty":"<base64>"}}`.
pub async fn send_input(
    Extension(sandbox): Extension<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match unary_request(&headers, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let result = async {
        let entry = select(&sandbox, &req)?;
        let input = req.get("input").cloned().unwrap_or_default();
        let encoded = input
            .get("stdin")
            .or_else(|| input.get("pty"))
            .and_then(Value::as_str)
            .ok_or_else(|| ConnectError::new("unimplemented", "invalid input type <nil>"))?;
        let bytes = base64::decode(encoded)
            .ok_or_else(|| ConnectError::invalid_argument("invalid base64 input"))?;
        let stdin = entry
            .stdin
            .ok_or_else(|| ConnectError::internal("error writing to stdin: stdin is closed"))?;
        let mut stdin = stdin.lock().await;
        stdin
            .write_all(&bytes)
            .await
            .map_err(|e| ConnectError::internal(format!("error writing to stdin: {e}")))?;
        let _ = stdin.flush().await;
        Ok(json!({}))
    }
    .await;
    connect::unary(result)
}

/// Signal number of `SIGNAL_SIGTERM` / `SIGNAL_SIGKILL` (name or number).
fn signal_of(value: Option<&Value>) -> Option<Signal> {
    match value? {
        Value::String(s) => match s.as_str() {
            "SIGNAL_SIGKILL" => Some(Signal::SIGKILL),
            "SIGNAL_SIGTERM" => Some(Signal::SIGTERM),
            _ => None,
        },
        Value::Number(n) => match n.as_i64()? {
            9 => Some(Signal::SIGKILL),
            15 => Some(Signal::SIGTERM),
            _ => None,
        },
        _ => None,
    }
}

/// `process.Process/SendSignal`.
pub async fn send_signal(
    Extension(sandbox): Extension<Arc<Sandbox>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match unary_request(&headers, &body) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let result = (|| {
        let entry = select(&sandbox, &req)?;
        let signal = signal_of(req.get("signal")).ok_or_else(|| {
            ConnectError::new(
                "unimplemented",
                format!(
                    "invalid signal: {}",
                    req.get("signal").cloned().unwrap_or(Value::Null)
                ),
            )
        })?;
        process_table::kill(entry.pid, signal)
            .map_err(|e| ConnectError::internal(format!("error sending signal: {e}")))?;
        Ok(json!({}))
    })();
    connect::unary(result)
}
