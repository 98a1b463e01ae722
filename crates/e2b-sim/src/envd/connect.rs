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

pub use e2b_wire::connect::{FLAG_COMPRESSED, FLAG_DATA, FLAG_END_STREAM, split_envelope};

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
        StatusCode::from_u16(e2b_wire::connect::http_status(self.code))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
    Bytes::from(e2b_wire::connect::envelope(flag, payload))
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
    let body = error.map(|e| e2b_wire::connect::ErrorBody {
        code: e.code.to_owned(),
        message: e.message.clone(),
    });
    envelope(
        FLAG_END_STREAM,
        &e2b_wire::connect::end_stream_payload(body.as_ref()),
    )
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
