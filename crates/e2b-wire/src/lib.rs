//! E2B's wire facts, in one place for both sides: bench-client speaks them,
//! the emulator (`e2b-sim`) answers them, and the official SDK proves the
//! emulator right (`crates/e2b-sim/tests/sdk.rs`). Sources of every fact are
//! in `../shared/docs/e2b-reference.md`.
//!
//! - [`api`]: the control plane's request and response bodies and headers.
//! - [`host`]: `<port>-<sandboxID>[-<clientID>].<domain>` and the routing
//!   headers, as client-proxy parses them.
//! - [`connect`]: the Connect protocol's JSON codec (unary and envelopes).
//! - [`process`]: `process.Process/Start` requests and stream events.
//! - [`base64`]: protobuf JSON's `bytes` encoding.
//!
//! ```
//! use e2b_wire::host;
//!
//! let h = host::sandbox_host(host::ENVD_PORT, "abc123", "e2b.local");
//! assert_eq!(h, "49983-abc123.e2b.local");
//! assert_eq!(host::parse_host(&h), Ok(("abc123".to_owned(), 49983)));
//! ```
#![deny(missing_docs)]

pub mod api;
pub mod base64;
pub mod connect;
pub mod host;
pub mod process;
