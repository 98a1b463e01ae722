//! Connect protocol framing with the JSON codec: unary calls (plain JSON
//! bodies, errors as non-200 `{"code","message"}`) and server streaming
//! (envelopes: flag byte, big-endian u32 length, JSON; `0x02` ends a stream).

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Envelope flag of a data message.
pub const FLAG_DATA: u8 = 0x00;
/// Envelope flag of a compressed message.
pub const FLAG_COMPRESSED: u8 = 0x01;
/// Envelope flag of the end-of-stream message.
pub const FLAG_END_STREAM: u8 = 0x02;

/// A Connect error: a code name (`not_found`, …) and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// Connect code name, e.g. `not_found`.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl ConnectError {
    /// An error with this code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// `invalid_argument`.
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new("invalid_argument", message)
    }

    /// `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("not_found", message)
    }

    /// `internal`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }

    /// `unauthenticated`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new("unauthenticated", message)
    }

    /// The JSON error object.
    pub fn to_json(&self) -> Value {
        json!({ "code": self.code, "message": self.message })
    }

    /// HTTP status of a unary error (Connect protocol mapping).
    pub fn http_status(&self) -> StatusCode {
        let code = match self.code {
            "canceled" => 499,
            "invalid_argument" | "failed_precondition" | "out_of_range" => 400,
            "unauthenticated" => 401,
            "permission_denied" => 403,
            "not_found" => 404,
            "already_exists" | "aborted" => 409,
            "resource_exhausted" => 429,
            "unimplemented" => 501,
            "unavailable" => 503,
            "deadline_exceeded" => 504,
            _ => 500,
        };
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The error as a unary response.
    pub fn unary_response(&self) -> Response {
        (
            self.http_status(),
            [(header::CONTENT_TYPE, "application/json")],
            self.to_json().to_string(),
        )
            .into_response()
    }
}

/// How a request was framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `application/json`: plain JSON body.
    Unary,
    /// `application/connect+json`: one envelope.
    Stream,
}

/// Wraps one message in an envelope.
pub fn envelope(flag: u8, payload: &[u8]) -> Bytes {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(flag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    Bytes::from(out)
}

/// Splits one envelope off the front of `buf`: (flag, payload, rest).
pub fn split_envelope(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    if buf.len() < 5 {
        return None;
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    let end = 5usize.checked_add(len)?;
    if buf.len() < end {
        return None;
    }
    Some((buf[0], &buf[5..end], &buf[end..]))
}

/// Reads the request message according to its content type.
pub fn decode_request(headers: &HeaderMap, body: &[u8]) -> Result<(Framing, Value), Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match content_type.as_str() {
        "application/json" => {
            let value = if body.iter().all(u8::is_ascii_whitespace) {
                json!({})
            } else {
                serde_json::from_slice(body).map_err(|e| {
                    ConnectError::invalid_argument(format!("unmarshal message: {e}"))
                        .unary_response()
                })?
            };
            Ok((Framing::Unary, value))
        }
        "application/connect+json" => {
            let bad =
                |m: &str| stream_response_error(&ConnectError::invalid_argument(m.to_string()));
            let Some((flag, payload, _rest)) = split_envelope(body) else {
                return Err(bad("protocol error: incomplete envelope"));
            };
            if flag & FLAG_COMPRESSED != 0 {
                return Err(stream_response_error(&ConnectError::new(
                    "unimplemented",
                    "compressed messages are not supported",
                )));
            }
            let value = if payload.is_empty() {
                json!({})
            } else {
                serde_json::from_slice(payload)
                    .map_err(|e| bad(&format!("unmarshal message: {e}")))?
            };
            Ok((Framing::Stream, value))
        }
        _ => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            [("accept-post", "application/json, application/connect+json")],
        )
            .into_response()),
    }
}

/// A unary success response.
pub fn unary_ok(value: &Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// A unary result as a response.
pub fn unary(result: Result<Value, ConnectError>) -> Response {
    match result {
        Ok(v) => unary_ok(&v),
        Err(e) => e.unary_response(),
    }
}

/// The end-of-stream envelope: `{}` or `{"error":…}`.
pub fn end_stream(error: Option<&ConnectError>) -> Bytes {
    let body = match error {
        None => json!({}),
        Some(e) => json!({ "error": e.to_json() }),
    };
    envelope(FLAG_END_STREAM, body.to_string().as_bytes())
}

/// A data envelope carrying `value`.
pub fn data(value: &Value) -> Bytes {
    envelope(FLAG_DATA, value.to_string().as_bytes())
}

/// A streaming response whose body is whatever is sent on the channel.
pub fn stream_response(rx: mpsc::Receiver<Bytes>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/connect+json")],
        Body::from_stream(ChannelStream(rx)),
    )
        .into_response()
}

/// A streaming response that fails at once (200 with an error end-stream).
pub fn stream_response_error(error: &ConnectError) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/connect+json")],
        end_stream(Some(error)),
    )
        .into_response()
}

struct ChannelStream(mpsc::Receiver<Bytes>);

impl futures_core::Stream for ChannelStream {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|o| o.map(Ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trip() {
        let e = envelope(FLAG_END_STREAM, b"{}");
        assert_eq!(&e[..], &[2, 0, 0, 0, 2, b'{', b'}']);
        let (flag, payload, rest) = split_envelope(&e).unwrap();
        assert_eq!((flag, payload, rest.len()), (2, &b"{}"[..], 0));
        assert!(split_envelope(&e[..6]).is_none());
    }
}
