//! `bench-report import`: a bench-sandbox result copied out of a terminal
//! (with or without its BEGIN/END lines) becomes
//! `<input>/<cloud>/sandbox_performance_manual.json`, after every check that
//! can tell the person what went wrong with the copy: truncated, garbled,
//! not JSON, another schema version, not a sandbox result.

use std::io::Read;
use std::path::{Path, PathBuf};

use bench_core::contract::file;
use bench_core::exit::{Failure, Status};
use bench_core::sandbox_doc::{Provenance, parse, stamp};
use bench_core::sink::OutputTarget;

/// Reads `source` (a path, or `-` for stdin), checks it and stores it for
/// `cloud` under `input`.
pub fn run(input: &Path, cloud: &str, source: &str) -> Result<Status, Failure> {
    let cloud = bench_core::settings::check_cloud("--cloud", cloud)?;
    let (text, shown) = read_source(source)?;
    let doc = parse(&text, &shown)?;
    let from = Provenance {
        source: shown.clone(),
        by: format!("bench-report {}", env!("CARGO_PKG_VERSION")),
        run_id: None,
        template: None,
        sandbox_id: None,
    };
    let doc = stamp(doc, &cloud, &from);
    let dir = input.join(&cloud);
    let sink = bench_core::sink::open(&OutputTarget::Dir(dir.clone()))
        .map_err(|e| Failure::usage(format!("--input {}: {e}", input.display())))?;
    let wrote = sink
        .write(file::SANDBOX_PERFORMANCE_MANUAL, &doc)
        .map_err(|e| Failure::runtime(e.to_string()))?;
    tracing::info!(
        "imported {} samples and {} errors from {shown} as {wrote}",
        doc.samples.len(),
        doc.errors.len()
    );
    Ok(Status::Complete)
}

fn read_source(source: &str) -> Result<(String, String), Failure> {
    let mut bytes = Vec::new();
    let shown = if source == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::usage(format!("stdin: {e}")))?;
        "stdin".to_owned()
    } else {
        let path = PathBuf::from(source);
        bytes = std::fs::read(&path).map_err(|e| {
            Failure::usage(format!(
                "{source}: {e}; give the file you saved the paste in, or - to read stdin"
            ))
        })?;
        source.to_owned()
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::usage(format!(
            "{shown}: not UTF-8 text (invalid byte at offset {}); save the paste as plain text",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, shown))
}
