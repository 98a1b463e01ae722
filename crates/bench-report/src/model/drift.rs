//! Template drift: the same template built with another kernel, Firecracker
//! or envd version, or with a rootfs of another size, on two clouds. Their
//! start times are not comparable, and the report says so next to them.
//!
//! Read from the `templates` array of each cloud's `06_templates.json`
//! (contract); builds are matched across clouds by `template_id` (build ids
//! differ per cloud by construction). Aliases and invalid builds are left out.

use std::collections::{BTreeMap, BTreeSet};

use bench_core::contract::suite;
use serde::Serialize;

use crate::format;
use crate::load::Loaded;

/// The drift table.
#[derive(Debug, Default, Serialize)]
pub struct Drift {
    /// One row per template and field.
    pub rows: Vec<DriftRow>,
    /// Templates with at least one differing field.
    pub differing_templates: Vec<String>,
    /// Clouds that have a template inventory.
    pub clouds_with_inventory: Vec<String>,
}

/// One field of one template across clouds.
#[derive(Debug, Serialize)]
pub struct DriftRow {
    /// Template id.
    pub template_id: String,
    /// `kernel`, `firecracker`, `envd` or `rootfs`.
    pub field: String,
    /// One value per cloud in report order (empty when the cloud lacks the
    /// template or the field; several builds' values are joined by `, `).
    pub values: Vec<String>,
    /// True when the clouds that have a value disagree.
    pub differs: bool,
}

/// The fields compared, with how each build shows it.
type Field = (
    &'static str,
    fn(&crate::load::TemplateBuild) -> Option<String>,
);

const FIELDS: [Field; 4] = [
    ("kernel", |b| b.kernel_version.clone()),
    ("firecracker", |b| b.firecracker_version.clone()),
    ("envd", |b| b.envd_version.clone()),
    ("rootfs", |b| {
        b.rootfs_bytes
            .map(|n| format!("{} ({n} bytes)", format::value(n as f64, "bytes")))
    }),
];

/// Builds the table from the current inventories of `clouds`.
pub fn build(docs: &[Loaded], clouds: &[String]) -> Drift {
    // template → cloud index → field → distinct values
    let mut seen: BTreeMap<String, BTreeMap<usize, [BTreeSet<String>; 4]>> = BTreeMap::new();
    let mut with_inventory = BTreeSet::new();
    for d in docs
        .iter()
        .filter(|d| d.file.history_run.is_none() && d.doc.suite == suite::TEMPLATES)
    {
        let Some(c) = clouds.iter().position(|c| *c == d.file.cloud) else {
            continue;
        };
        with_inventory.insert(c);
        for b in &d.templates {
            if b.status.as_deref().is_some_and(|s| s != "ok") {
                continue;
            }
            let Some(id) = b.template_id.clone() else {
                continue;
            };
            let per_cloud = seen.entry(id).or_default().entry(c).or_default();
            for (i, (_, get)) in FIELDS.iter().enumerate() {
                if let Some(v) = get(b) {
                    per_cloud[i].insert(v);
                }
            }
        }
    }
    let mut drift = Drift {
        clouds_with_inventory: with_inventory.iter().map(|&c| clouds[c].clone()).collect(),
        ..Drift::default()
    };
    for (template, per_cloud) in &seen {
        let mut any = false;
        for (i, (name, _)) in FIELDS.iter().enumerate() {
            let values: Vec<String> = (0..clouds.len())
                .map(|c| {
                    per_cloud
                        .get(&c)
                        .map(|f| f[i].iter().cloned().collect::<Vec<_>>().join(", "))
                        .unwrap_or_default()
                })
                .collect();
            let distinct: BTreeSet<&String> = values.iter().filter(|v| !v.is_empty()).collect();
            if distinct.is_empty() {
                continue;
            }
            let differs = distinct.len() > 1;
            any |= differs;
            drift.rows.push(DriftRow {
                template_id: template.clone(),
                field: (*name).to_owned(),
                values,
                differs,
            });
        }
        if any {
            drift.differing_templates.push(template.clone());
        }
    }
    drift
}
