//! `--output -`: the document on stdout, and a closed pipe is an error, not a
//! panic.
//!
//! The test points file descriptor 1 at a pipe for a moment, so this binary
//! holds a single test (nothing else may print meanwhile).
mod support;

use std::io::{Read, Write};

use bench_core::sink::{self, OutputTarget, SinkError};
use support::{check_written, doc};

/// Runs `f` with stdout redirected to a new pipe and returns what `f`
/// returned and everything read from the pipe. When `close_reader` is set,
/// the reading end is closed first, so every write gets EPIPE.
fn with_stdout_pipe<T>(close_reader: bool, f: impl FnOnce() -> T) -> (T, Vec<u8>) {
    // Hold the (reentrant) stdout lock so no other thread writes meanwhile.
    let mut stdout = std::io::stdout().lock();
    stdout.flush().unwrap();
    let (reader, writer) = nix::unistd::pipe().unwrap();
    let saved = nix::unistd::dup(std::io::stdout()).unwrap();
    nix::unistd::dup2_stdout(&writer).unwrap();
    drop(writer);
    let reading = if close_reader {
        drop(reader);
        None
    } else {
        Some(std::thread::spawn(move || {
            let mut out = Vec::new();
            std::fs::File::from(reader).read_to_end(&mut out).unwrap();
            out
        }))
    };
    let result = f();
    stdout.flush().ok();
    // Restoring fd 1 drops the last writing end of the pipe, so the reader
    // sees EOF; dropping `saved` closes the copy.
    nix::unistd::dup2_stdout(&saved).unwrap();
    drop(saved);
    drop(stdout);
    let bytes = reading.map(|t| t.join().unwrap()).unwrap_or_default();
    (result, bytes)
}

#[test]
fn stdout_sink_writes_documents_and_survives_a_closed_pipe() {
    let target = OutputTarget::from_output("-");
    let sink = sink::open(&target).unwrap();
    assert_eq!(sink.location(), "stdout");

    let (result, bytes) = with_stdout_pipe(false, || {
        sink.write("04_host_performance.json", &doc("run-a"))
    });
    assert_eq!(result.unwrap(), "stdout");
    assert_eq!(check_written(&bytes), "run-a");

    // Two documents form a stream jq can read: one pretty document after
    // the other, each ending in a newline.
    let (_, bytes) = with_stdout_pipe(false, || {
        sink.write("a.json", &doc("run-a")).unwrap();
        sink.write("b.json", &doc("run-b")).unwrap();
    });
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&bytes)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[1]["run_id"], "run-b");

    // Nobody reading (`bench-host --output - | head -c0`): an error, no panic.
    let (result, _) = with_stdout_pipe(true, || sink.write("x.json", &doc("run-a")));
    let e = result.expect_err("EPIPE");
    assert!(matches!(e, SinkError::Stdout(_)), "{e}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("--output -: ") && msg.contains("broken pipe"),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
}
