//! `--output -`: each document, pretty-printed, on stdout; `--paste`: the
//! same between BEGIN/END marker lines ([`crate::paste::frame`]).

use std::io::{self, Write};

use serde_json::Value;

use super::{Sink, SinkError, render_json};

/// Writes each document to stdout (pretty JSON and a newline, flushed). With
/// several suites the output is a stream of JSON documents (`jq` reads it).
/// A closed pipe (`| head`) is an error, not a panic.
#[derive(Debug, Default)]
pub struct StdoutSink {
    framed: bool,
}

impl StdoutSink {
    /// A stdout sink; there is nothing to probe.
    pub fn new() -> Self {
        StdoutSink { framed: false }
    }

    /// A stdout sink that frames each document for pasting.
    pub fn framed() -> Self {
        StdoutSink { framed: true }
    }
}

impl Sink for StdoutSink {
    fn write_json(&self, _file_name: &str, value: &Value) -> Result<String, SinkError> {
        let (mut bytes, _) = render_json(value)?;
        if self.framed {
            // Rendered JSON is UTF-8 by construction.
            let json = String::from_utf8_lossy(&bytes).into_owned();
            bytes = crate::paste::frame(&json).into_bytes();
        }
        // stdout carries only results; this is the one place that writes them.
        let mut out = io::stdout().lock();
        out.write_all(&bytes)
            .and_then(|()| out.flush())
            .map_err(|e| {
                SinkError::Stdout(if e.kind() == io::ErrorKind::BrokenPipe {
                    "stdout was closed by the reader (broken pipe); keep the reader open or use --output-dir".to_owned()
                } else {
                    e.to_string()
                })
            })?;
        Ok("stdout".to_owned())
    }

    fn location(&self) -> String {
        "stdout".to_owned()
    }

    fn replaces(&self) -> bool {
        false
    }
}
