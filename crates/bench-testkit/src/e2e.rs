//! Helpers of the binaries' end-to-end tests: a child's output read up to
//! an expected line, events and exits awaited under a hang guard (never a
//! speed bound), and a document's samples found by metric and labels.

use std::io::BufRead;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use bench_core::schema::{ResultDocument, Sample};

/// How long [`wait_or_kill`] waits before calling a child hung: only a hang
/// takes this long, so it is generous for a loaded 2-core CI machine.
pub const HANG: Duration = Duration::from_secs(120);

/// Reads `reader` line by line until a line contains `needle`, and returns
/// everything read (that line included). Panics if the output ends first.
pub fn read_until(reader: &mut impl BufRead, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("reading the child's output: {e}\n{seen}"));
        assert!(
            n > 0,
            "the output ended before a line with {needle:?}:\n{seen}"
        );
        seen.push_str(&line);
        if line.contains(needle) {
            return seen;
        }
    }
}

/// Polls `cond` every 20 ms until it holds; panics naming `what` after
/// [`HANG`]. Tests wait for events this way, never for fixed times.
pub fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let give_up = Instant::now() + HANG;
    while !cond() {
        assert!(
            Instant::now() < give_up,
            "gave up waiting for {what} after {HANG:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` to exit; after [`HANG`] kills it and panics naming `what`.
pub fn wait_or_kill(child: &mut Child, what: &str) -> ExitStatus {
    let give_up = Instant::now() + HANG;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait on the child") {
            return status;
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first sample of `metric` carrying every label of `labels`.
pub fn find_sample<'a>(
    doc: &'a ResultDocument,
    metric: &str,
    labels: &[(&str, &str)],
) -> Option<&'a Sample> {
    doc.samples.iter().find(|s| {
        s.metric == metric
            && labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
    })
}

/// Like [`find_sample`], but panics (listing the samples) when there is none.
pub fn sample<'a>(doc: &'a ResultDocument, metric: &str, labels: &[(&str, &str)]) -> &'a Sample {
    find_sample(doc, metric, labels)
        .unwrap_or_else(|| panic!("no {metric} {labels:?} in {:#?}", doc.samples))
}
