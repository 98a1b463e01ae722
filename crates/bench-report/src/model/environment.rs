//! Per cloud: what was read and how it fared; per tier: the machine that
//! measured (instance type, CPU, memory, kernel, virtualization).

use std::collections::{BTreeMap, BTreeSet};

use bench_core::schema::{Fingerprint, ResultDocument, Tier};
use serde::Serialize;

use super::{ProbeErrorRow, Section};
use crate::format;
use crate::load::Loaded;

/// One cloud of the report.
#[derive(Debug, Serialize)]
pub struct CloudSummary {
    /// Name (its directory under `--input`).
    pub name: String,
    /// True for the baseline.
    pub baseline: bool,
    /// Colour of its series in the charts (`#4e79a7`).
    pub color: String,
    /// Documents read.
    pub documents: usize,
    /// Suites read, sorted.
    pub suites: Vec<String>,
    /// Run ids of those documents, sorted.
    pub run_ids: Vec<String>,
    /// The newest `finished_at`.
    pub latest: String,
    /// Rows where this cloud is best.
    pub best: usize,
    /// Cells significantly better than the baseline.
    pub better: usize,
    /// Cells significantly worse than the baseline.
    pub worse: usize,
    /// Probe errors in its documents.
    pub errors: usize,
    /// Link to its `summary_report.json`, relative to the report's directory
    /// (`../aws/summary_report.json`); null when it has none.
    pub summary: Option<String>,
    /// The emulator its figures came from (`e2b-sim 0.1.0`), when any of its
    /// current documents carries `parameters.emulator` (bench-client writes
    /// it when the API named itself an emulator); null for a real cluster.
    pub emulated: Option<String>,
}

/// One fingerprint field across clouds, for one tier.
#[derive(Debug, Serialize)]
pub struct EnvironmentRow {
    /// `host`, `client` or `sandbox`.
    pub tier: String,
    /// What the row shows (`CPU model`).
    pub field: String,
    /// One value per cloud, report order (empty when unknown).
    pub values: Vec<String>,
}

/// The summaries, in report order.
pub fn summaries(
    docs: &[Loaded],
    clouds: &[String],
    sections: &[Section],
    errors: &[ProbeErrorRow],
    links: &BTreeMap<String, String>,
) -> Vec<CloudSummary> {
    clouds
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mine: Vec<&Loaded> = docs
                .iter()
                .filter(|d| d.file.history_run.is_none() && d.file.cloud == *name)
                .collect();
            let cells = sections.iter().flat_map(|s| &s.rows).map(|r| &r.cells[i]);
            let (mut best, mut better, mut worse) = (0, 0, 0);
            for c in cells {
                best += usize::from(c.best);
                better += usize::from(c.verdict == "better");
                worse += usize::from(c.verdict == "worse");
            }
            CloudSummary {
                name: name.clone(),
                baseline: i == 0,
                color: crate::charts::color(i),
                documents: mine.len(),
                suites: sorted(mine.iter().map(|d| d.doc.suite.clone())),
                run_ids: sorted(mine.iter().map(|d| d.doc.run_id.clone())),
                latest: mine
                    .iter()
                    .map(|d| d.doc.finished_at.clone())
                    .max()
                    .unwrap_or_default(),
                best,
                better,
                worse,
                errors: errors.iter().filter(|e| e.cloud == *name).count(),
                summary: links.get(name).cloned(),
                emulated: emulator(&mine),
            }
        })
        .collect()
}

/// The emulators named by `docs`' `parameters.emulator`, joined; `None` when none is.
fn emulator(docs: &[&Loaded]) -> Option<String> {
    let names = sorted(docs.iter().filter_map(|d| {
        d.doc
            .parameters
            .get("emulator")
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    }));
    (!names.is_empty()).then(|| names.join(", "))
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    items.collect::<BTreeSet<_>>().into_iter().collect()
}

/// Fingerprint fields shown, with how each is read.
type Field = (&'static str, fn(&Fingerprint) -> String);

const FIELDS: [Field; 9] = [
    ("Instance type", |f| {
        f.instance_type.clone().unwrap_or_default()
    }),
    ("CPU model", |f| f.cpu_model.clone()),
    ("CPUs", |f| f.cpu_count.to_string()),
    ("Memory", |f| format::value(f.memory_bytes as f64, "bytes")),
    ("Kernel", |f| f.kernel.clone()),
    ("OS", |f| f.os.clone().unwrap_or_default()),
    ("Virtualization", |f| f.virtualization.clone()),
    ("Nested virtualization", |f| {
        if f.nested_virtualization { "yes" } else { "no" }.to_owned()
    }),
    ("Cloud (from DMI)", |f| f.cloud_vendor.clone()),
];

/// The machines of each tier: the fingerprint of the newest document of
/// that tier on each cloud, and the build profile of the binary that wrote it.
pub fn rows(docs: &[Loaded], clouds: &[String]) -> Vec<EnvironmentRow> {
    let mut rows = Vec::new();
    for tier in [Tier::Host, Tier::Client, Tier::Sandbox] {
        let newest: Vec<Option<&ResultDocument>> = clouds
            .iter()
            .map(|c| {
                docs.iter()
                    .filter(|d| {
                        d.file.history_run.is_none() && d.file.cloud == *c && d.doc.tier == tier
                    })
                    .max_by(|a, b| a.doc.finished_at.cmp(&b.doc.finished_at))
                    .map(|d| &d.doc)
            })
            .collect();
        if newest.iter().all(Option::is_none) {
            continue;
        }
        for (field, get) in FIELDS {
            rows.push(EnvironmentRow {
                tier: tier.as_str().to_owned(),
                field: field.to_owned(),
                values: newest
                    .iter()
                    .map(|d| d.map(|d| get(&d.fingerprint)).unwrap_or_default())
                    .collect(),
            });
        }
        // Figures of differently optimised builds are not comparable
        // (e.g. the quick start's `quickstart` against `release`).
        rows.push(EnvironmentRow {
            tier: tier.as_str().to_owned(),
            field: "Build profile".to_owned(),
            values: newest
                .iter()
                .map(|d| {
                    d.and_then(|d| d.tool.build_profile.clone())
                        .unwrap_or_default()
                })
                .collect(),
        });
    }
    rows
}
