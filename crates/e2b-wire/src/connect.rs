//! The Connect protocol with its JSON codec (py@1.1.0 `e2b_connect/client.py`):
//! unary calls carry plain JSON (errors as non-200 `{"code","message"}`);
//! server-streaming calls carry envelopes — a flag byte, a big-endian u32
//! length, the JSON — ending with a `0x02` envelope holding `{}` or
//! `{"error":{…}}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Envelope flag of a data message.
pub const FLAG_DATA: u8 = 0x00;
/// Envelope flag of a compressed message.
pub const FLAG_COMPRESSED: u8 = 0x01;
/// Envelope flag of the end-of-stream message.
pub const FLAG_END_STREAM: u8 = 0x02;

/// `Content-Type` of a unary call.
pub const CONTENT_TYPE_UNARY: &str = "application/json";
/// `Content-Type` of a streaming call.
pub const CONTENT_TYPE_STREAM: &str = "application/connect+json";
/// The protocol version header and its value.
pub const PROTOCOL_VERSION: (&str, &str) = ("connect-protocol-version", "1");
/// Seconds between server keepalives a client asks for (the SDK sends 50).
pub const KEEPALIVE_HEADER: &str = "keepalive-ping-interval";
/// Deadline of a call in milliseconds.
pub const TIMEOUT_HEADER: &str = "connect-timeout-ms";

/// A Connect error: a code name (`not_found`, …) and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Connect code name, e.g. `not_found`.
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
}

/// HTTP status of a unary error with this Connect code.
pub fn http_status(code: &str) -> u16 {
    match code {
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
    }
}

/// Wraps one message in an envelope.
pub fn envelope(flag: u8, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(flag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out
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

/// The end-of-stream payload: `{}` or `{"error":…}`.
pub fn end_stream_payload(error: Option<&ErrorBody>) -> Vec<u8> {
    match error {
        None => b"{}".to_vec(),
        Some(e) => serde_json::json!({ "error": e }).to_string().into_bytes(),
    }
}

/// One decoded message of a server stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A data message.
    Data(Value),
    /// The end of the stream, with the error it carried, if any.
    End(Option<ErrorBody>),
}

/// Why a stream could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// A compressed envelope (we never ask for compression).
    Compressed,
    /// An envelope whose payload is not JSON.
    BadJson(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Compressed => f.write_str("compressed Connect envelope (not requested)"),
            Self::BadJson(e) => write!(f, "Connect envelope is not JSON: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Incremental decoder of a server stream: feed it body chunks as they
/// arrive, take whole messages out.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buf: Vec<u8>,
}

impl StreamDecoder {
    /// Adds received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, DecodeError> {
        let Some((flag, payload, rest)) = split_envelope(&self.buf) else {
            return Ok(None);
        };
        if flag & FLAG_COMPRESSED != 0 {
            return Err(DecodeError::Compressed);
        }
        let value: Value = if payload.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(payload).map_err(|e| DecodeError::BadJson(e.to_string()))?
        };
        let consumed = self.buf.len() - rest.len();
        self.buf.drain(..consumed);
        if flag & FLAG_END_STREAM != 0 {
            let error = value
                .get("error")
                .and_then(|e| serde_json::from_value::<ErrorBody>(e.clone()).ok());
            return Ok(Some(Message::End(error)));
        }
        Ok(Some(Message::Data(value)))
    }

    /// Bytes received but not yet a whole envelope (a truncated stream).
    pub fn pending(&self) -> usize {
        self.buf.len()
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

    #[test]
    fn decoder_takes_messages_across_chunk_boundaries() {
        let mut wire = envelope(FLAG_DATA, br#"{"event":{"start":{"pid":7}}}"#);
        let err = ErrorBody {
            code: "not_found".into(),
            message: "gone".into(),
        };
        wire.extend(envelope(FLAG_END_STREAM, &end_stream_payload(Some(&err))));
        let mut d = StreamDecoder::default();
        let mut got = Vec::new();
        for chunk in wire.chunks(3) {
            d.push(chunk);
            while let Some(m) = d.next_message().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            Message::Data(serde_json::json!({"event":{"start":{"pid":7}}}))
        );
        assert_eq!(got[1], Message::End(Some(err)));
        assert_eq!(d.pending(), 0);
        d.push(&[1, 0, 0, 0, 0]);
        assert_eq!(d.next_message(), Err(DecodeError::Compressed));
    }
}
