//! Exit codes of the contract and the one place errors are printed.
//!
//! 0 everything ran; 2 usage or configuration error; 3 finished but some
//! probes failed or were unavailable; 130 interrupted. 1 is an unexpected
//! failure while running (a destination that broke mid-run), or a check
//! that failed (`bench-report compare` found a regression).

use std::process::ExitCode;

use crate::env_file::EnvFileError;
use crate::sink::SinkError;

/// Everything ran.
pub const SUCCESS: u8 = 0;
/// Something failed at run time that is not a probe's fault.
pub const FAILURE: u8 = 1;
/// Usage or configuration error; the message says what to fix.
pub const USAGE: u8 = 2;
/// Finished, but some probes failed or were unavailable (see `errors`).
pub const PARTIAL: u8 = 3;
/// Interrupted (Ctrl-C); what finished was written.
pub const INTERRUPTED: u8 = 130;

/// How a run that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every probe produced its figures.
    Complete,
    /// Some probes wrote `errors` entries instead.
    Partial,
    /// Stopped by a signal after writing what finished.
    Interrupted,
    /// A check ran to the end and failed: `bench-report compare` found a
    /// regression, `bench-report validate` an invalid file (exit 1, as a
    /// failing test in CI).
    CheckFailed,
}

impl Status {
    /// The process exit code for this status.
    pub fn code(self) -> u8 {
        match self {
            Status::Complete => SUCCESS,
            Status::Partial => PARTIAL,
            Status::Interrupted => INTERRUPTED,
            Status::CheckFailed => FAILURE,
        }
    }
}

/// A run that could not go on: an exit code and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Process exit code.
    pub code: u8,
    /// One line saying what is wrong and what to do.
    pub message: String,
}

impl Failure {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: USAGE,
            message: message.into(),
        }
    }

    /// A failure while running (exit 1).
    pub fn runtime(message: impl Into<String>) -> Self {
        Failure {
            code: FAILURE,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

impl From<EnvFileError> for Failure {
    fn from(e: EnvFileError) -> Self {
        Failure::usage(e.to_string())
    }
}

impl From<SinkError> for Failure {
    /// Sink errors reach here when a destination is opened, before anything
    /// runs: a configuration problem.
    fn from(e: SinkError) -> Self {
        Failure::usage(e.to_string())
    }
}

/// Prints a failure as `program: error: message` on one redacted stderr
/// line and turns the outcome into the process exit code.
pub fn finish(program: &str, outcome: Result<Status, Failure>) -> ExitCode {
    match outcome {
        Ok(status) => ExitCode::from(status.code()),
        Err(failure) => {
            let one_line = failure.message.replace(['\n', '\r'], " ");
            eprintln!(
                "{program}: error: {}",
                crate::redact::redact_str(one_line.trim())
            );
            ExitCode::from(failure.code)
        }
    }
}

/// The worse of two statuses of one run (several suites): interrupted
/// over a failed check over partial over complete.
pub fn worst(a: Status, b: Status) -> Status {
    fn rank(s: Status) -> u8 {
        match s {
            Status::Complete => 0,
            Status::Partial => 1,
            Status::CheckFailed => 2,
            Status::Interrupted => 3,
        }
    }
    if rank(b) > rank(a) { b } else { a }
}

/// The worst status of several suites of one run (`bench-client run`), or
/// `Complete` when there are none; see [`worst`] for the order.
pub fn worst_of(statuses: impl IntoIterator<Item = Status>) -> Status {
    statuses.into_iter().fold(Status::Complete, worst)
}
