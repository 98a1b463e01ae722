//! Log setup: `tracing` to stderr, every line through the redactor.

use std::io::{self, IsTerminal, Write};

use tracing::level_filters::LevelFilter;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;

use crate::cli::Verbosity;

/// Installs the global logger for a binary. Safe to call more than once
/// (later calls are ignored, as in tests).
pub fn init(verbosity: Verbosity) {
    let level = match verbosity {
        Verbosity::Quiet => LevelFilter::ERROR,
        Verbosity::Normal => LevelFilter::INFO,
        Verbosity::Verbose => LevelFilter::DEBUG,
        Verbosity::Trace => LevelFilter::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(RedactingStderr)
        .with_ansi(io::stderr().is_terminal())
        .event_format(PlainFormat {
            with_target: verbosity >= Verbosity::Trace,
        })
        .try_init();
}

/// `message` for info, `warning: message` / `error: message` /
/// `debug: message` otherwise: what a person reads in a terminal or CI log,
/// in the style of compilers and package managers rather than of a server.
struct PlainFormat {
    with_target: bool,
}

impl<S, N> FormatEvent<S, N> for PlainFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let level = *event.metadata().level();
        let prefix = match level {
            Level::ERROR => "error: ",
            Level::WARN => "warning: ",
            Level::INFO => "",
            Level::DEBUG => "debug: ",
            Level::TRACE => "trace: ",
        };
        write!(writer, "{prefix}")?;
        if self.with_target {
            write!(writer, "{}: ", event.metadata().target())?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Hands out one buffer per log event; the buffer is redacted and written
/// to stderr in one call when the event is done, so secrets are masked in
/// whole lines and lines of concurrent threads do not interleave.
#[derive(Clone, Copy)]
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = EventBuffer;

    fn make_writer(&'a self) -> Self::Writer {
        EventBuffer(Vec::new())
    }
}

struct EventBuffer(Vec<u8>);

impl Write for EventBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.0.is_empty() {
            let text = String::from_utf8_lossy(&self.0);
            let redacted = crate::redact::redact_str(&text);
            // Logging must never fail the run: a closed stderr is ignored.
            let _ = io::stderr().lock().write_all(redacted.as_bytes());
            self.0.clear();
        }
        Ok(())
    }
}

impl Drop for EventBuffer {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}
