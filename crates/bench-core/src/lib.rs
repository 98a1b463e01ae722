//! Core of e2b-bench: the result document, statistics, output sinks,
//! configuration (`.e2b_env`), secret redaction, the machine fingerprint and
//! the command-line plumbing every tier binary shares.
//!
//! A probe produces [`schema::Sample`]s; a tier binary gathers them into a
//! [`schema::ResultDocument`] and hands it to a [`sink::Sink`], which redacts
//! it and writes it atomically as soon as the suite is complete.
//!
//! ```
//! use bench_core::schema::Sample;
//!
//! // A latency series: the headline value is its median, stats are computed.
//! let s = Sample::from_series("sandbox.create_ms", "ms", vec![12.0, 10.0, 11.0, 30.0])
//!     .label("template", "base");
//! assert_eq!(s.value, 11.5);
//! assert_eq!(s.stats.as_ref().unwrap().n, 4);
//! ```
#![deny(missing_docs)]

pub mod cli;
pub mod contract;
pub mod env_file;
pub mod exit;
pub mod fingerprint;
pub mod info;
pub mod interrupt;
pub mod logging;
pub mod paste;
pub mod probe;
pub mod progress;
pub mod redact;
#[cfg(feature = "schema-check")]
pub mod sandbox_doc;
pub mod schema;
#[cfg(feature = "schema-check")]
pub mod schema_check;
pub mod settings;
pub mod shard;
pub mod sink;
pub mod stats;
pub mod suite;
mod sys;
pub mod time;
#[cfg(feature = "object-store")]
pub mod tls;
pub mod units;
pub mod workloads;
