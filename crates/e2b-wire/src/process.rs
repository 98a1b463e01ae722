//! `process.Process/Start` (envd `spec/process/process.proto`): the request
//! the SDK sends and the events of its stream.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::base64;

/// The RPC path of `Start`.
pub const START_PATH: &str = "/process.Process/Start";

/// A `Start` request body: `cmd` with `args`, as the SDK sends it (it wraps
/// shell commands in `/bin/bash -l -c`). `stdin: false` is only sent when
/// asked: envd 0.2.0 predates the field.
pub fn start_request(
    cmd: &str,
    args: &[&str],
    envs: &BTreeMap<String, String>,
    cwd: Option<&str>,
    stdin: Option<bool>,
) -> Value {
    let mut process = json!({ "cmd": cmd, "args": args, "envs": envs });
    if let Some(cwd) = cwd {
        process["cwd"] = json!(cwd);
    }
    let mut req = json!({ "process": process });
    if let Some(s) = stdin {
        req["stdin"] = json!(s);
    }
    req
}

/// The `Start` request of a shell command, as the SDK builds it.
pub fn shell_request(command: &str) -> Value {
    start_request(
        "/bin/bash",
        &["-l", "-c", command],
        &BTreeMap::new(),
        None,
        None,
    )
}

/// How a process ended (`end` event). proto3 JSON omits zero values: a
/// missing `exitCode` means 0 and a missing `exited` means false.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// Exit code (-1 for a signal).
    pub exit_code: i64,
    /// True when it exited (rather than being killed).
    pub exited: bool,
    /// Go's `ProcessState.String()`, e.g. `exit status 1`.
    pub status: String,
    /// Wait's error text, when not clean.
    pub error: Option<String>,
}

/// One event of a `Start` (or `Connect`) stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The process started.
    Start {
        /// Its pid.
        pid: u64,
    },
    /// Output bytes.
    Stdout(Vec<u8>),
    /// Error output bytes.
    Stderr(Vec<u8>),
    /// PTY output bytes.
    Pty(Vec<u8>),
    /// Keeps proxies from closing an idle stream.
    Keepalive,
    /// The process ended.
    End(End),
}

/// Reads one stream message `{"event":{…}}`; `None` for a shape this
/// version does not know (newer envds may add events).
pub fn parse_event(message: &Value) -> Option<Event> {
    let event = message.get("event")?;
    if let Some(start) = event.get("start") {
        return Some(Event::Start {
            pid: start.get("pid").and_then(Value::as_u64).unwrap_or(0),
        });
    }
    if let Some(data) = event.get("data") {
        let bytes = |k: &str| data.get(k).and_then(Value::as_str).and_then(base64::decode);
        if let Some(b) = bytes("stdout") {
            return Some(Event::Stdout(b));
        }
        if let Some(b) = bytes("stderr") {
            return Some(Event::Stderr(b));
        }
        if let Some(b) = bytes("pty") {
            return Some(Event::Pty(b));
        }
        return None;
    }
    if event.get("keepalive").is_some() {
        return Some(Event::Keepalive);
    }
    let end = event.get("end")?;
    Some(Event::End(End {
        exit_code: end.get("exitCode").and_then(Value::as_i64).unwrap_or(0),
        exited: end.get("exited").and_then(Value::as_bool).unwrap_or(false),
        status: end
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        error: end.get("error").and_then(Value::as_str).map(str::to_owned),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_event_and_proto3_defaults() {
        let ev = |v: Value| parse_event(&json!({ "event": v }));
        assert_eq!(
            ev(json!({"start": {"pid": 42}})),
            Some(Event::Start { pid: 42 })
        );
        assert_eq!(
            ev(json!({"data": {"stdout": base64::encode(b"hi\n")}})),
            Some(Event::Stdout(b"hi\n".to_vec()))
        );
        assert_eq!(ev(json!({"keepalive": {}})), Some(Event::Keepalive));
        assert_eq!(
            ev(json!({"end": {"exited": true, "status": "exit status 0"}})),
            Some(Event::End(End {
                exit_code: 0,
                exited: true,
                status: "exit status 0".into(),
                error: None
            }))
        );
        assert_eq!(ev(json!({"somethingNew": {}})), None);
        let req = shell_request("true");
        assert_eq!(req["process"]["args"], json!(["-l", "-c", "true"]));
        assert!(req.get("stdin").is_none(), "envd 0.2.0 has no stdin field");
    }
}
