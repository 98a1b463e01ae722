//! Runs a list of probes as one suite document, written after every probe so
//! that a crash, a Ctrl-C or a failing probe never loses what finished.
//!
//! Every tier's `run` and single-probe subcommands go through here, so they
//! share the exit codes: 0 all measured, 3 some probe failed or was
//! unavailable (its reason in `errors`), 130 interrupted.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use serde_json::Value;

use crate::exit::{Failure, Status};
use crate::interrupt::Interrupt;
use crate::probe::{Context, Probe, ProbeOutput};
use crate::progress::Progress;
use crate::schema::{ErrorEntry, ErrorKind, ResultDocument};
use crate::settings::Settings;

/// Which document a suite writes.
#[derive(Debug, Clone)]
pub struct Suite {
    /// File name in the output directory, e.g. `04_host_performance.json`.
    pub file_name: String,
    /// `suite` field, e.g. `host_performance`.
    pub name: String,
    /// Run-wide parameters (`quick`, …); each probe adds its own under its name.
    pub parameters: BTreeMap<String, Value>,
}

/// A probe subcommand: validates its flags and runs it alone as `suite`.
pub fn run_one<A: clap::Args + crate::probe::ProbeArgs>(
    settings: &Settings,
    suite: Suite,
    one: &crate::cli::OneProbe<A>,
) -> Result<Status, Failure> {
    let probe = one.args.build(one.quick, settings)?;
    run(settings, suite, vec![probe])
}

/// A tier's `run` subcommand: every probe of `all` (name, flags) except
/// those named in `skip`, validated before the first one runs; the skipped
/// names go to `parameters.skipped`. Skipping everything is a usage error.
pub fn run_all(
    settings: &Settings,
    mut suite: Suite,
    quick: bool,
    all: &[(&str, &dyn crate::probe::ProbeArgs)],
    skip: &[&str],
) -> Result<Status, Failure> {
    let probes = all
        .iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|(_, args)| args.build(quick, settings))
        .collect::<Result<Vec<Box<dyn Probe>>, Failure>>()?;
    if probes.is_empty() {
        let names: Vec<&str> = all.iter().map(|(name, _)| *name).collect();
        return Err(Failure::usage(format!(
            "--skip leaves no probe to run; skip fewer of {}",
            names.join(", ")
        )));
    }
    suite
        .parameters
        .insert("skipped".into(), Value::from(skip.to_vec()));
    run(settings, suite, probes)
}

/// Opens the sink, installs the Ctrl-C handler and runs `probes` in order.
pub fn run(
    settings: &Settings,
    suite: Suite,
    probes: Vec<Box<dyn Probe>>,
) -> Result<Status, Failure> {
    let sink = settings.open_sink()?;
    let interrupt = Interrupt::from_signals()
        .map_err(|e| Failure::runtime(format!("cannot install the Ctrl-C handler: {e}")))?;
    let mut progress = Progress::new(probes.len() as u64, settings.verbosity);
    let write = |doc: &ResultDocument| sink.write(&suite.file_name, doc);
    let writes = if sink.replaces() {
        Writes::AfterEveryProbe
    } else {
        Writes::OnceAtTheEnd
    };
    let ctx = Context::new(interrupt);
    let outcome = run_probes(
        settings,
        &suite,
        &probes,
        &ctx,
        &mut progress,
        writes,
        write,
    );
    progress.finish();
    let (doc, status, write_error) = outcome;
    if let Some(e) = write_error {
        return Err(Failure::runtime(format!(
            "measured {} samples but could not write {}: {e}",
            doc.samples.len(),
            suite.file_name
        )));
    }
    tracing::info!(
        "{}: {} samples, {} errors, written to {}",
        suite.name,
        doc.samples.len(),
        doc.errors.len(),
        sink.location()
    );
    Ok(status)
}

/// When the document is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writes {
    /// After each probe (a file or object that each write replaces).
    AfterEveryProbe,
    /// Once, complete (stdout, where writes would append).
    OnceAtTheEnd,
}

/// The loop behind [`run`], with the writer passed in so tests can watch
/// every intermediate document. Returns the last document, the status and
/// the error of the last write if it failed.
pub fn run_probes<E: std::fmt::Display>(
    settings: &Settings,
    suite: &Suite,
    probes: &[Box<dyn Probe>],
    ctx: &Context,
    progress: &mut Progress,
    writes: Writes,
    mut write: impl FnMut(&ResultDocument) -> Result<String, E>,
) -> (ResultDocument, Status, Option<String>) {
    let mut doc = settings.document(&suite.name, crate::time::now_rfc3339());
    doc.parameters = suite.parameters.clone();
    for probe in probes {
        doc.parameters
            .insert(probe.name().to_owned(), probe.parameters());
    }
    let mut last_write_error = None;
    for (i, probe) in probes.iter().enumerate() {
        let name = probe.name();
        if ctx.interrupted() {
            let skipped: Vec<&str> = probes[i..].iter().map(|p| p.name()).collect();
            doc.errors.push(ErrorEntry {
                probe: name.to_owned(),
                kind: ErrorKind::Interrupted,
                message: format!(
                    "interrupted before it started (not run: {})",
                    skipped.join(", ")
                ),
            });
            break;
        }
        progress.start(name);
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| probe.run(ctx)));
        let output = match result {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                let mut output = ProbeOutput::default();
                output.error(name, e.kind(), e.to_string());
                output
            }
            Err(panic) => {
                let mut output = ProbeOutput::default();
                output.error(
                    name,
                    ErrorKind::Failed,
                    format!("probe panicked: {}", panic_message(&panic)),
                );
                output
            }
        };
        let elapsed = started.elapsed();
        for e in &output.errors {
            tracing::warn!("{} {}: {}", e.probe, e.kind.as_str(), e.message);
        }
        tracing::debug!(
            "{name}: {} samples in {:.1} s",
            output.samples.len(),
            elapsed.as_secs_f64()
        );
        merge(&mut doc, name, output);
        progress.advance();
        if writes == Writes::OnceAtTheEnd {
            continue;
        }
        doc.finished_at = crate::time::now_rfc3339();
        last_write_error = match write(&doc) {
            Ok(location) => {
                tracing::debug!("wrote {location}");
                None
            }
            Err(e) => {
                tracing::warn!("could not write results after {name} (will retry): {e}");
                Some(e.to_string())
            }
        };
    }
    if ctx.interrupted() && !doc.errors.iter().any(|e| e.kind == ErrorKind::Interrupted) {
        doc.errors.push(ErrorEntry {
            probe: probes.last().map_or("suite", |p| p.name()).to_owned(),
            kind: ErrorKind::Interrupted,
            message: "interrupted".to_owned(),
        });
    }
    // The loop already wrote the final state unless writes wait for the
    // end, an interruption added an entry, or the last write failed.
    if writes == Writes::OnceAtTheEnd || ctx.interrupted() || last_write_error.is_some() {
        doc.finished_at = crate::time::now_rfc3339();
        last_write_error = write(&doc).err().map(|e| e.to_string());
    }
    let status = if ctx.interrupted() {
        Status::Interrupted
    } else if doc.errors.is_empty() {
        Status::Complete
    } else {
        Status::Partial
    };
    (doc, status, last_write_error)
}

/// Adds a probe's output to the document: samples and errors appended,
/// facts merged into `parameters.<probe>`.
fn merge(doc: &mut ResultDocument, name: &str, output: ProbeOutput) {
    doc.samples.extend(output.samples);
    doc.errors.extend(output.errors);
    if output.facts.is_empty() {
        return;
    }
    let entry = doc
        .parameters
        .entry(name.to_owned())
        .or_insert_with(|| Value::Object(Default::default()));
    if !entry.is_object() {
        *entry = serde_json::json!({ "requested": entry.take() });
    }
    if let Value::Object(map) = entry {
        map.extend(output.facts);
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use serde_json::json;

    use super::*;
    use crate::cli::CommonArgs;
    use crate::interrupt::Interrupt;
    use crate::probe::ProbeError;
    use crate::progress::Style;
    use crate::schema::{Sample, Tier, Tool};

    /// A probe that does what it is told.
    struct Scripted {
        name: &'static str,
        behaviour: Behaviour,
    }

    enum Behaviour {
        Measure(f64),
        Fail(ProbeError),
        Panic,
        /// Measures, then "receives Ctrl-C".
        MeasureThenInterrupt(Interrupt),
    }

    impl Probe for Scripted {
        fn name(&self) -> &'static str {
            self.name
        }
        fn parameters(&self) -> Value {
            json!({"asked": self.name})
        }
        fn run(&self, _ctx: &Context) -> Result<ProbeOutput, ProbeError> {
            let mut out = ProbeOutput::default();
            match &self.behaviour {
                Behaviour::Measure(v) => {
                    out.samples
                        .push(Sample::new(&format!("{}.x", self.name), "ops/s", *v));
                    out.fact("found", 42);
                    Ok(out)
                }
                Behaviour::Fail(e) => Err(e.clone()),
                Behaviour::Panic => panic!("boom in {}", self.name),
                Behaviour::MeasureThenInterrupt(interrupt) => {
                    out.samples.push(Sample::new("slow.x", "ops/s", 1.0));
                    interrupt.trigger();
                    Ok(out)
                }
            }
        }
    }

    fn probe(name: &'static str, behaviour: Behaviour) -> Box<dyn Probe> {
        Box::new(Scripted { name, behaviour })
    }

    fn settings() -> Settings {
        let args = CommonArgs {
            output: Some("-".into()),
            cloud: Some("test".into()),
            ..CommonArgs::default()
        };
        Settings::resolve(&args, Tool::new("bench-test", "0"), Tier::Host).unwrap()
    }

    fn suite() -> Suite {
        Suite {
            file_name: "04_host_performance.json".into(),
            name: "host_performance".into(),
            parameters: BTreeMap::from([("quick".into(), json!(true))]),
        }
    }

    /// Runs `probes`, returning every document written on the way.
    fn run_recorded(
        probes: Vec<Box<dyn Probe>>,
        ctx: &Context,
    ) -> (ResultDocument, Status, Vec<ResultDocument>) {
        let written = RefCell::new(Vec::new());
        let mut progress = Progress::with_style(probes.len() as u64, Style::Hidden);
        let (doc, status, err) = run_probes(
            &settings(),
            &suite(),
            &probes,
            ctx,
            &mut progress,
            Writes::AfterEveryProbe,
            |d| {
                written.borrow_mut().push(d.clone());
                Ok::<_, String>("memory".to_owned())
            },
        );
        assert_eq!(err, None);
        (doc, status, written.into_inner())
    }

    #[test]
    fn writes_after_every_probe_and_merges_facts() {
        let probes = vec![
            probe("cpu", Behaviour::Measure(1.0)),
            probe("memory", Behaviour::Measure(2.0)),
        ];
        let (doc, status, written) = run_recorded(probes, &Context::uninterruptible());
        assert_eq!(status, Status::Complete);
        assert_eq!(written.len(), 2, "one write per probe");
        assert_eq!(
            written[0].samples.len(),
            1,
            "the first write holds the first probe only"
        );
        assert_eq!(written[1].samples.len(), 2);
        assert_eq!(doc.suite, "host_performance");
        assert_eq!(doc.parameters["quick"], json!(true));
        assert_eq!(doc.parameters["cpu"], json!({"asked": "cpu", "found": 42}));
        assert!(doc.errors.is_empty());
    }

    #[test]
    fn a_failing_or_panicking_probe_does_not_stop_the_others() {
        let probes = vec![
            probe(
                "kvm",
                Behaviour::Fail(ProbeError::Unavailable("/dev/kvm: not found".into())),
            ),
            probe("disk", Behaviour::Panic),
            probe("cpu", Behaviour::Measure(3.0)),
        ];
        let (doc, status, written) = run_recorded(probes, &Context::uninterruptible());
        assert_eq!(status, Status::Partial);
        assert_eq!(written.len(), 3);
        assert_eq!(doc.samples.len(), 1);
        assert_eq!(doc.errors.len(), 2);
        assert_eq!(
            (
                doc.errors[0].probe.as_str(),
                doc.errors[0].kind,
                doc.errors[0].message.as_str()
            ),
            ("kvm", ErrorKind::Unavailable, "/dev/kvm: not found")
        );
        assert_eq!(doc.errors[1].kind, ErrorKind::Failed);
        assert_eq!(doc.errors[1].message, "probe panicked: boom in disk");
    }

    #[test]
    fn interruption_keeps_what_finished_and_skips_the_rest() {
        let interrupt = Interrupt::new();
        let ctx = Context::new(interrupt.clone());
        let probes = vec![
            probe("slow", Behaviour::MeasureThenInterrupt(interrupt)),
            probe("never", Behaviour::Measure(9.0)),
        ];
        let (doc, status, written) = run_recorded(probes, &ctx);
        assert_eq!(status, Status::Interrupted);
        assert_eq!(doc.samples.len(), 1, "the finished probe is kept");
        assert_eq!(doc.errors.len(), 1);
        assert_eq!(doc.errors[0].kind, ErrorKind::Interrupted);
        assert_eq!(doc.errors[0].probe, "never");
        assert!(
            doc.errors[0].message.contains("not run: never"),
            "{}",
            doc.errors[0].message
        );
        assert_eq!(written.last().unwrap(), &doc, "the final state was written");
    }

    #[test]
    fn a_failed_write_is_reported_and_retried_on_the_next_probe() {
        let probes = vec![
            probe("a", Behaviour::Measure(1.0)),
            probe("b", Behaviour::Measure(2.0)),
        ];
        let mut progress = Progress::with_style(2, Style::Hidden);
        let mut calls = 0;
        let (_, _, err) = run_probes(
            &settings(),
            &suite(),
            &probes,
            &Context::uninterruptible(),
            &mut progress,
            Writes::AfterEveryProbe,
            |_| {
                calls += 1;
                if calls == 1 {
                    Err("disk full")
                } else {
                    Ok("ok".to_owned())
                }
            },
        );
        assert_eq!(calls, 2);
        assert_eq!(err, None, "the second write succeeded, nothing is lost");
        let mut progress = Progress::with_style(1, Style::Hidden);
        let (_, _, err) = run_probes(
            &settings(),
            &suite(),
            &probes[..1],
            &Context::uninterruptible(),
            &mut progress,
            Writes::AfterEveryProbe,
            |_| Err::<String, _>("disk full"),
        );
        assert_eq!(err.as_deref(), Some("disk full"));
    }

    #[test]
    fn stdout_gets_one_complete_document() {
        let probes = vec![
            probe("a", Behaviour::Measure(1.0)),
            probe("b", Behaviour::Measure(2.0)),
        ];
        for interrupted in [false, true] {
            let interrupt = Interrupt::new();
            if interrupted {
                interrupt.trigger();
            }
            let mut progress = Progress::with_style(2, Style::Hidden);
            let mut written = Vec::new();
            let (doc, _, _) = run_probes(
                &settings(),
                &suite(),
                &probes,
                &Context::new(interrupt),
                &mut progress,
                Writes::OnceAtTheEnd,
                |d| {
                    written.push(d.clone());
                    Ok::<_, String>("stdout".to_owned())
                },
            );
            assert_eq!(written, vec![doc], "interrupted: {interrupted}");
        }
    }
}
