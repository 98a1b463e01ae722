//! The `info` subcommand every tier binary has: the machine fingerprint as a
//! result document (`00_<tier>_info.json`, suite `<tier>_info`), plus the
//! tier's resolved configuration as parameters. Run it first on a new node:
//! it proves the binary starts, reads `.e2b_env` and can write results.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::contract::{file, suite};
use crate::exit::{Failure, Status};
use crate::schema::Tier;
use crate::settings::Settings;

/// File name of the info document for a tier.
pub fn file_name(settings: &Settings) -> &'static str {
    match settings.tier {
        Tier::Client => file::CLIENT_INFO,
        Tier::Host => file::HOST_INFO,
        Tier::Sandbox => file::SANDBOX_INFO,
    }
}

/// Suite of the info document for a tier.
fn suite_name(tier: Tier) -> &'static str {
    match tier {
        Tier::Client => suite::CLIENT_INFO,
        Tier::Host => suite::HOST_INFO,
        Tier::Sandbox => suite::SANDBOX_INFO,
    }
}

/// Writes the info document with `parameters` and logs a one-line summary.
pub fn run(settings: &Settings, parameters: BTreeMap<String, Value>) -> Result<Status, Failure> {
    let sink = settings.open_sink()?;
    let started = crate::time::now_rfc3339();
    let mut doc = settings.document(suite_name(settings.tier), started);
    doc.parameters = parameters;
    if let Some(path) = settings.env.file_path() {
        doc.parameters
            .insert("env_file".into(), Value::String(path.display().to_string()));
    }
    doc.finished_at = crate::time::now_rfc3339();
    let fp = &doc.fingerprint;
    tracing::info!(
        "{} {} ({}), {} CPUs {}, {:.1} GiB, virtualization {}{}, cloud {} (DMI: {})",
        fp.hostname,
        fp.kernel,
        fp.arch,
        fp.cpu_count,
        fp.cpu_model,
        fp.memory_bytes as f64 / (1u64 << 30) as f64,
        fp.virtualization,
        if fp.nested_virtualization {
            " (nested)"
        } else {
            ""
        },
        settings.cloud,
        fp.cloud_vendor,
    );
    let location = sink
        .write(file_name(settings), &doc)
        .map_err(|e| Failure::runtime(e.to_string()))?;
    tracing::info!("wrote {location}");
    Ok(Status::Complete)
}
