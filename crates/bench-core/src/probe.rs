//! The one shape every probe has: configuration in, samples out.
//!
//! A probe is built from its validated configuration, then [`Probe::run`]
//! measures and returns [`ProbeOutput`]. Something that is absent on this
//! machine (no /dev/kvm, no hugepage pool) is [`ProbeError::Unavailable`];
//! a probe that can measure part of what it was asked (4 KiB pages but not a
//! hugepage pool) returns its samples with `errors` entries beside them.
//! [`crate::suite::run`] turns both into the document's `errors` and exit 3.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::interrupt::Interrupt;
use crate::schema::{ErrorEntry, ErrorKind, Sample};

/// A measurement that can run on its own and be part of a suite.
pub trait Probe {
    /// Short name used in `errors[].probe`, progress and parameters (`cpu`, `disk`).
    fn name(&self) -> &'static str;

    /// What the probe was asked to do, written to the document's
    /// `parameters.<name>` before it runs (so an interrupted run says too).
    fn parameters(&self) -> Value;

    /// Measures. Long loops poll [`Context::interrupted`] and return what
    /// finished (with an `interrupted` error entry) or
    /// [`ProbeError::Interrupted`].
    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError>;
}

/// What a probe measured.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProbeOutput {
    /// The figures.
    pub samples: Vec<Sample>,
    /// Parts that could not be measured (the rest is in `samples`).
    pub errors: Vec<ErrorEntry>,
    /// Facts found while measuring (cache sizes, the I/O engine used, pool
    /// sizes), merged into `parameters.<name>`.
    pub facts: BTreeMap<String, Value>,
}

impl ProbeOutput {
    /// Adds a fact.
    pub fn fact(&mut self, key: &str, value: impl Into<Value>) {
        self.facts.insert(key.to_owned(), value.into());
    }

    /// Records a part of the probe that could not run.
    pub fn error(&mut self, probe: &str, kind: ErrorKind, message: impl Into<String>) {
        self.errors.push(ErrorEntry {
            probe: probe.to_owned(),
            kind,
            message: message.into(),
        });
    }
}

/// Why a probe produced nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// What it measures is absent or not accessible here; the message says
    /// why and, where possible, what to do.
    #[error("{0}")]
    Unavailable(String),
    /// It ran and failed.
    #[error("{0}")]
    Failed(String),
    /// Ctrl-C (or SIGTERM) before anything finished.
    #[error("interrupted before anything finished")]
    Interrupted,
}

impl ProbeError {
    /// The `errors[].kind` this becomes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ProbeError::Unavailable(_) => ErrorKind::Unavailable,
            ProbeError::Failed(_) => ErrorKind::Failed,
            ProbeError::Interrupted => ErrorKind::Interrupted,
        }
    }

    /// A failure with the I/O error and what was being done.
    pub fn io(action: &str, err: &std::io::Error) -> Self {
        ProbeError::Failed(format!("{action}: {err}"))
    }
}

/// What a running probe may consult: the interruption flag and whether the
/// run is `--quick`.
#[derive(Debug, Clone)]
pub struct Context {
    interrupt: Interrupt,
}

impl Context {
    /// A context observing `interrupt`.
    pub fn new(interrupt: Interrupt) -> Self {
        Context { interrupt }
    }

    /// A context that is never interrupted (tests, library use).
    pub fn uninterruptible() -> Self {
        Context::new(Interrupt::new())
    }

    /// True once Ctrl-C or SIGTERM arrived: stop soon and return what finished.
    pub fn interrupted(&self) -> bool {
        self.interrupt.is_set()
    }

    /// `Err(Interrupted)` once interrupted, for `?` in loops.
    pub fn check(&self) -> Result<(), ProbeError> {
        if self.interrupted() {
            Err(ProbeError::Interrupted)
        } else {
            Ok(())
        }
    }

    /// The interruption flag itself (to hand to worker threads).
    pub fn interrupt(&self) -> &Interrupt {
        &self.interrupt
    }

    /// Logs a sub-step of a long probe on stderr (`disk: randread 4k qd32`).
    pub fn step(&self, probe: &str, what: &str) {
        tracing::info!("{probe}: {what}");
    }
}

/// A probe's command-line flags (a clap `Args` struct, the same in every
/// binary that runs the probe), turned into a validated probe before
/// anything runs. A bad value is a [`Failure::usage`] naming the flag.
///
/// [`Failure::usage`]: crate::exit::Failure::usage
pub trait ProbeArgs {
    /// Validates the flags (defaults depend on `quick`) against this machine
    /// and configuration and builds the probe.
    fn build(
        &self,
        quick: bool,
        settings: &crate::settings::Settings,
    ) -> Result<Box<dyn Probe>, crate::exit::Failure>;
}

/// A probe that cannot run here for a reason known before it starts (`run`
/// on a machine with nothing to measure, say): its suite's document then
/// says why with one `unavailable` entry, as a probe that found out itself.
pub struct Unavailable {
    /// The probe's name.
    pub name: &'static str,
    /// Why, and what to do.
    pub reason: String,
}

impl Probe for Unavailable {
    fn name(&self) -> &'static str {
        self.name
    }

    fn parameters(&self) -> Value {
        Value::Null
    }

    fn run(&self, _ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        Err(ProbeError::Unavailable(self.reason.clone()))
    }
}

impl ProbeArgs for Unavailable {
    fn build(
        &self,
        _quick: bool,
        _settings: &crate::settings::Settings,
    ) -> Result<Box<dyn Probe>, crate::exit::Failure> {
        Ok(Box::new(Unavailable {
            name: self.name,
            reason: self.reason.clone(),
        }))
    }
}
