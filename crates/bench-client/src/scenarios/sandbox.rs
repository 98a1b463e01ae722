//! `sandbox`: the in-sandbox suite, run for the user. Per template: create a
//! sandbox, stream the bench-sandbox binary into it through envd
//! `POST /files`, run `bench-sandbox run` there through
//! `process.Process/Start`, relay its progress lines, then check and stamp
//! the document it printed with the code `bench-report import` uses
//! (`bench_core::sandbox_doc`), so `03_sandbox_performance.json` and an
//! imported paste differ only in name and provenance.
//!
//! bench-sandbox writes into a directory in the sandbox after every probe
//! and the shell prints that file when it ends, however it ends: a probe
//! that crashes or a process that is killed still hands back what finished.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bench_core::contract::{file, suite};
use bench_core::exit::{Failure, Status};
use bench_core::sandbox_doc::{self, Provenance};
use bench_core::schema::{ErrorEntry, ErrorKind, ResultDocument, Tier};
use bench_core::shard::Shard;
use e2b_wire::process::Event;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::api::ApiError;
use crate::api::envd::wait_ready;
use crate::cli::SandboxTarget;
use crate::collector::kind_of;
use crate::ctx::{Ctx, PHASE_TIMEOUT_FLAG};
use crate::driver;
use crate::ledger::kill_with_retries;
use crate::runner::Run;

/// The document's file (contract).
pub const FILE_NAME: &str = file::SANDBOX_PERFORMANCE;
/// Where the binary goes: the default user's home, the command's cwd.
const REMOTE_HOME: &str = "/home/user";
const REMOTE_BINARY: &str = "/home/user/bench-sandbox";
/// bench-sandbox's output directory, relative to the home directory.
const REMOTE_OUT: &str = "e2b-bench-out";

/// The binary to upload: `--bench-sandbox`, else the one beside this
/// executable, else `target/static/bench-sandbox`. A missing file is a
/// usage error naming how to build one.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(path) = explicit {
        return match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() > 0 => Ok(path.to_owned()),
            Ok(_) => Err(Failure::usage(format!(
                "--bench-sandbox {}: not a non-empty file; give the bench-sandbox binary (scripts/build-static.sh bench-sandbox builds it)",
                path.display()
            ))),
            Err(e) => Err(Failure::usage(format!(
                "--bench-sandbox {}: {e}; build it with scripts/build-static.sh bench-sandbox (→ target/static/bench-sandbox)",
                path.display()
            ))),
        };
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("bench-sandbox")));
    let candidates = beside
        .into_iter()
        .chain([PathBuf::from("target/static/bench-sandbox")]);
    for candidate in candidates {
        if std::fs::metadata(&candidate).is_ok_and(|m| m.is_file() && m.len() > 0) {
            return Ok(candidate);
        }
    }
    Err(Failure::usage(
        "no bench-sandbox binary beside bench-client or in target/static/: build it with \
         scripts/build-static.sh bench-sandbox, or give --bench-sandbox PATH",
    ))
}

/// True when the ELF file asks for a dynamic loader (PT_INTERP): such a
/// binary runs only in templates with a compatible libc.
fn is_dynamically_linked(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    // ELF64 little-endian: e_phoff at 32, e_phentsize at 54, e_phnum at 56.
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([bytes[o], bytes[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(bytes[32..40].try_into().unwrap_or_default()) as usize;
    let (size, count) = (u16_at(54), u16_at(56));
    (0..count).any(|i| {
        let at = phoff + i * size;
        bytes
            .get(at..at + 4)
            .is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap_or_default()) == 3)
    })
}

/// True when a run of shard `shard` runs the in-sandbox suite: it measures
/// one sandbox per template, not the cluster under load, so one shard (the
/// first) runs it and the others would only repeat it.
pub fn runs_on(shard: Option<Shard>) -> bool {
    shard.is_none_or(|s| s.index() == 1)
}

/// Runs the scenario.
pub async fn run(
    ctx: Arc<Ctx>,
    run: Arc<Run>,
    quick: bool,
    target: SandboxTarget,
) -> Result<Status, Failure> {
    if let Some(shard) = run.settings.shard
        && !runs_on(Some(shard))
    {
        tracing::info!("sandbox: not run on shard {shard}; shard 1 runs the in-sandbox suite");
        return Ok(Status::Complete);
    }
    let binary = locate(target.bench_sandbox.as_deref())?;
    if is_dynamically_linked(&binary) {
        tracing::warn!(
            "{} is dynamically linked: a template without a compatible libc cannot run it; \
             scripts/build-static.sh bench-sandbox builds the static one",
            binary.display()
        );
    }
    let mut out = Merged::default();
    for template in &run.templates {
        if ctx.cancel.is_cancelled() {
            break;
        }
        let taken = one(&ctx, &run, template, &binary, quick, &target).await;
        out.add(template, taken);
        out.write(&run)?;
    }
    let interrupted = ctx.cancel.is_cancelled();
    if interrupted {
        out.errors.push(ErrorEntry {
            probe: "sandbox".into(),
            kind: ErrorKind::Interrupted,
            message: "interrupted; what finished is kept".into(),
        });
    }
    let doc = out.write(&run)?;
    tracing::info!(
        "sandbox_performance: {} samples, {} errors, written to {}",
        doc.samples.len(),
        doc.errors.len(),
        run.sink.location()
    );
    Ok(if interrupted {
        Status::Interrupted
    } else if doc.errors.is_empty() {
        Status::Complete
    } else {
        Status::Partial
    })
}

/// What one template gave: its stamped document (if any), its record for
/// `parameters.client`, and errors of our own.
struct Taken {
    doc: Option<ResultDocument>,
    record: Value,
    errors: Vec<ErrorEntry>,
}

/// The templates' documents as one: the first document is the base
/// (fingerprint, tool), later ones add their samples (each labelled with
/// its template) and errors.
#[derive(Default)]
struct Merged {
    base: Option<ResultDocument>,
    errors: Vec<ErrorEntry>,
    records: BTreeMap<String, Value>,
}

impl Merged {
    fn add(&mut self, template: &str, taken: Taken) {
        self.records.insert(template.to_owned(), taken.record);
        self.errors.extend(taken.errors);
        if let Some(doc) = taken.doc {
            match &mut self.base {
                None => self.base = Some(doc),
                Some(base) => {
                    base.samples.extend(doc.samples);
                    base.errors.extend(doc.errors);
                    base.finished_at = doc.finished_at;
                }
            }
        }
    }

    /// The document as it stands, written through the run's sink.
    fn write(&self, run: &Run) -> Result<ResultDocument, Failure> {
        let mut doc = match &self.base {
            Some(d) => d.clone(),
            None => {
                // No template produced a document: ours carries the errors,
                // as the jump box (client tier) saw them.
                let mut d = run
                    .settings
                    .document(suite::SANDBOX_PERFORMANCE, bench_core::time::now_rfc3339());
                d.tier = Tier::Client;
                d.parameters = run.parameters.clone();
                d
            }
        };
        doc.errors.extend(self.errors.iter().cloned());
        let mut client = serde_json::Map::new();
        for (k, v) in &run.parameters {
            client.insert(k.clone(), v.clone());
        }
        client.insert("sandboxes".into(), json!(self.records));
        doc.parameters
            .insert("client".into(), Value::Object(client));
        run.sink.write(FILE_NAME, &doc).map_err(|e| {
            Failure::runtime(format!(
                "measured {} samples but could not write {FILE_NAME}: {e}",
                doc.samples.len()
            ))
        })?;
        Ok(doc)
    }
}

/// One template: create, upload, run, take the document in, kill.
async fn one(
    ctx: &Ctx,
    run: &Run,
    template: &str,
    binary: &Path,
    quick: bool,
    target: &SandboxTarget,
) -> Taken {
    let probe = format!("sandbox {template}");
    let mut record = json!({ "binary": binary.display().to_string() });
    let failed = |record: Value, phase: &str, e: &ApiError| Taken {
        doc: None,
        record,
        errors: vec![ErrorEntry {
            probe: probe.clone(),
            kind: kind_of(e),
            message: format!("{phase}: {e}"),
        }],
    };
    let mut limited = 0;
    let sb = match driver::create(ctx, template, Instant::now(), &mut limited).await {
        Ok(sb) => sb,
        Err(e) => return failed(record, "create", &e),
    };
    record["sandbox_id"] = json!(sb.sandbox_id);
    let envd = driver::envd_of(ctx, &sb);
    let taken = async {
        if let Err(e) = ctx
            .phase(
                "envd ready",
                wait_ready(&envd, ctx.phase_timeout, PHASE_TIMEOUT_FLAG),
            )
            .await
        {
            return failed(record.clone(), "envd_ready", &e);
        }
        let t = Instant::now();
        match ctx
            .phase("upload", envd.upload(binary, REMOTE_BINARY))
            .await
        {
            Ok(bytes) => {
                let ms = t.elapsed().as_secs_f64() * 1e3;
                tracing::info!(
                    "{template}: uploaded {} ({bytes} bytes) to sandbox {} in {ms:.0} ms",
                    binary.display(),
                    sb.sandbox_id
                );
                record["upload_bytes"] = json!(bytes);
                record["upload_ms"] = json!(ms);
            }
            Err(e) => return failed(record.clone(), "upload", &e),
        }
        let command = suite_command(ctx, run, quick, &target.sandbox_flags);
        record["command"] = json!(command);
        let mut suite = SuiteOutput::new(template);
        let t = Instant::now();
        let ended = ctx
            .within(
                "the in-sandbox suite",
                target.suite_timeout,
                "--suite-timeout",
                envd.start(
                    e2b_wire::process::start_request(
                        "/bin/bash",
                        &["-l", "-c", &command],
                        &BTreeMap::new(),
                        Some(REMOTE_HOME),
                        None,
                    ),
                    |event| suite.event(event),
                ),
            )
            .await;
        record["suite_ms"] = json!(t.elapsed().as_secs_f64() * 1e3);
        take_in(
            ctx,
            run,
            template,
            &sb.sandbox_id,
            record.clone(),
            suite,
            ended,
        )
    }
    .await;
    if kill_with_retries(&ctx.api, &sb.sandbox_id).await {
        ctx.ledger.remove(&sb.sandbox_id);
    }
    taken
}

/// The shell line run in the sandbox: make the binary executable, run the
/// suite into a directory (written after every probe), then print that
/// document whatever happened, keeping bench-sandbox's exit code. The
/// shell's own stderr is closed off around the run so its job notice
/// ("… Killed  ./bench-sandbox …") does not hide bench-sandbox's last line.
fn suite_command(ctx: &Ctx, run: &Run, quick: bool, flags: &[String]) -> String {
    let mut args = vec![
        "run".to_owned(),
        "--output-dir".to_owned(),
        REMOTE_OUT.to_owned(),
        "--cloud".to_owned(),
        run.settings.cloud.clone(),
        "--run-id".to_owned(),
        ctx.run_id.clone(),
    ];
    if quick {
        args.push("--quick".into());
    }
    args.extend(flags.iter().cloned());
    let quoted: Vec<String> = args.iter().map(|a| shell_quote(a)).collect();
    format!(
        "chmod +x ./bench-sandbox || exit 126; exec 3>&2 2>/dev/null; ./bench-sandbox {} 2>&3; rc=$?; cat {REMOTE_OUT}/{FILE_NAME} 2>&3; exit $rc",
        quoted.join(" ")
    )
}

/// `arg` as one single-quoted shell word.
fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,".contains(&b))
    {
        return arg.to_owned();
    }
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// What the suite's process sent: stdout kept whole (the document),
/// stderr relayed line by line as progress.
struct SuiteOutput<'a> {
    template: &'a str,
    stdout: Vec<u8>,
    partial_line: Vec<u8>,
    last_line: String,
}

impl<'a> SuiteOutput<'a> {
    fn new(template: &'a str) -> Self {
        SuiteOutput {
            template,
            stdout: Vec::new(),
            partial_line: Vec::new(),
            last_line: String::new(),
        }
    }

    fn event(&mut self, event: &Event) {
        match event {
            Event::Stdout(bytes) => self.stdout.extend_from_slice(bytes),
            Event::Stderr(bytes) | Event::Pty(bytes) => {
                self.partial_line.extend_from_slice(bytes);
                while let Some(at) = self.partial_line.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = self.partial_line.drain(..=at).collect();
                    self.line(&line);
                }
            }
            _ => {}
        }
    }

    fn line(&mut self, raw: &[u8]) {
        let text = String::from_utf8_lossy(raw);
        // A progress bar redraws with \r; the last redraw is the line.
        let text = text.trim_end().rsplit('\r').next().unwrap_or("").trim();
        if !text.is_empty() {
            tracing::info!("{}: {text}", self.template);
            self.last_line = text.to_owned();
        }
    }

    fn last_stderr_line(&mut self) -> String {
        let rest = std::mem::take(&mut self.partial_line);
        self.line(&rest);
        if self.last_line.is_empty() {
            "none".into()
        } else {
            format!("'{}'", self.last_line)
        }
    }
}

/// Checks and stamps what the suite printed; a process that failed or a
/// document that is not whole becomes an error entry naming the template
/// and the last stderr line, and a document that is whole is kept.
fn take_in(
    ctx: &Ctx,
    run: &Run,
    template: &str,
    sandbox_id: &str,
    mut record: Value,
    mut suite: SuiteOutput<'_>,
    ended: Result<e2b_wire::process::End, ApiError>,
) -> Taken {
    let probe = format!("sandbox {template}");
    let last = suite.last_stderr_line();
    let shown = format!("bench-sandbox's output in sandbox {sandbox_id} ({template})");
    let parsed = sandbox_doc::parse(&String::from_utf8_lossy(&suite.stdout), &shown);
    let mut errors = Vec::new();
    let (exit_ok, ended_how) = match &ended {
        // bench-sandbox's 3: finished, with probe errors in its document.
        Ok(end)
            if end.exited && end.error.is_none() && (end.exit_code == 0 || end.exit_code == 3) =>
        {
            (true, end.status.clone())
        }
        Ok(end) => (
            false,
            format!(
                "ended with {}{}",
                end.status,
                match (&end.error, end.exit_code) {
                    // The shell passes on a signal's death as 128 + signal.
                    (None, code @ 129..=192) if end.exited =>
                        format!(" (killed by signal {})", code - 128),
                    (Some(e), _) if *e != end.status => format!(" ({e})"),
                    _ => String::new(),
                }
            ),
        ),
        Err(e) => (false, e.to_string()),
    };
    record["exit"] = json!(ended_how);
    if !exit_ok {
        let kind = match &ended {
            Err(e) => kind_of(e),
            Ok(_) => ErrorKind::Failed,
        };
        errors.push(ErrorEntry {
            probe: probe.clone(),
            kind,
            message: format!(
                "bench-sandbox in template {template}: {ended_how}; {}; last stderr line: {last}",
                match &parsed {
                    Ok(doc) => format!("kept the {} samples it had written", doc.samples.len()),
                    Err(_) => "no document to keep".to_owned(),
                }
            ),
        });
    }
    let doc = match parsed {
        Ok(doc) => Some(sandbox_doc::stamp(
            doc,
            &run.settings.cloud,
            &Provenance {
                source: "bench-client sandbox".into(),
                by: format!("bench-client {}", env!("CARGO_PKG_VERSION")),
                run_id: Some(ctx.run_id.clone()),
                template: Some(template.to_owned()),
                sandbox_id: Some(sandbox_id.to_owned()),
            },
        )),
        Err(e) => {
            // Only worth its own entry when the process itself looked fine.
            if exit_ok {
                errors.push(ErrorEntry {
                    probe,
                    kind: ErrorKind::Failed,
                    message: format!("{e}; last stderr line: {last}"),
                });
            } else if let Some(entry) = errors.last_mut() {
                entry.message.push_str(&format!(" ({e})"));
            }
            None
        }
    };
    Taken {
        doc,
        record,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_quoting() {
        assert_eq!(shell_quote("--skip"), "--skip");
        assert_eq!(shell_quote("network,pkg"), "network,pkg");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn a_static_binary_has_no_interpreter() {
        // The test binary itself is dynamically linked on glibc hosts.
        let me = std::env::current_exe().unwrap();
        let expected = std::fs::read(&me)
            .unwrap()
            .windows(b"ld-linux".len())
            .any(|w| w == b"ld-linux");
        assert_eq!(is_dynamically_linked(&me), expected);
        assert!(!is_dynamically_linked(Path::new("/nonexistent")));
    }

    #[test]
    fn stderr_is_relayed_line_by_line() {
        let mut s = SuiteOutput::new("base");
        s.event(&Event::Stderr(b"cpu: start\nmem".to_vec()));
        assert_eq!(s.last_line, "cpu: start");
        s.event(&Event::Stderr(b"ory 50%\r memory done\n".to_vec()));
        assert_eq!(s.last_line, "memory done");
        s.event(&Event::Stderr(b"disk: failed".to_vec()));
        assert_eq!(s.last_stderr_line(), "'disk: failed'");
    }
}
