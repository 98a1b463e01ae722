//! STUB: replaced by the real probe.

use bench_core::exit::Failure;
use bench_core::probe::{Probe, ProbeArgs};
use bench_core::settings::Settings;

/// Flags of the probe.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PythonArgs {}

impl ProbeArgs for PythonArgs {
    fn build(&self, _quick: bool, _settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        Err(Failure::usage("not yet"))
    }
}
