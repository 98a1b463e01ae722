//! From documents to series: which sample stands for each cloud in each row.
//!
//! A row is one workload: tier × metric × labels. Each cloud contributes the
//! sample of its newest document for that row (its directory's current
//! files; `history/` is for `list` and `compare`). A sandbox result pasted
//! and imported (`sandbox_performance_manual.json`) gets the extra label
//! `source=manual`, so it sits beside an automated run instead of replacing it.

use std::collections::{BTreeMap, HashMap};

use bench_core::schema::{Sample, Tier};

use crate::load::{Loaded, MANUAL_SANDBOX_FILE};

/// The identity of a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowKey {
    /// Which tier measured.
    pub tier: Tier,
    /// Metric name.
    pub metric: String,
    /// Labels, with `source=manual` for imported pastes.
    pub labels: BTreeMap<String, String>,
}

/// One cloud's figure in a row.
#[derive(Debug)]
pub struct Series<'a> {
    /// The sample.
    pub sample: &'a Sample,
    /// The document it came from.
    pub from: &'a Loaded,
    /// Its finite observations, ascending (empty without raw).
    pub sorted: Vec<f64>,
}

/// A row: its key, unit and one optional series per cloud (report order).
#[derive(Debug)]
pub struct CollectedRow<'a> {
    /// Identity.
    pub key: RowKey,
    /// Unit of the first sample seen (a cloud reporting another unit is
    /// left out of the row, with a warning).
    pub unit: String,
    /// `cells[i]` belongs to `clouds[i]`.
    pub cells: Vec<Option<Series<'a>>>,
}

/// Every row, in the order the probes wrote them (baseline cloud first).
#[derive(Debug)]
pub struct Collected<'a> {
    /// Cloud names, baseline first, then alphabetical.
    pub clouds: Vec<String>,
    /// The rows.
    pub rows: Vec<CollectedRow<'a>>,
    /// Samples that were left out, and why.
    pub warnings: Vec<String>,
}

/// Orders clouds: the baseline first, then the others alphabetically.
pub fn cloud_order(mut clouds: Vec<String>, baseline: &str) -> Vec<String> {
    clouds.sort();
    clouds.dedup();
    if let Some(i) = clouds.iter().position(|c| c == baseline) {
        let b = clouds.remove(i);
        clouds.insert(0, b);
    }
    clouds
}

/// Builds the rows of the current documents in `docs` for `clouds`.
pub fn collect<'a>(docs: &'a [Loaded], clouds: &[String]) -> Collected<'a> {
    let index: HashMap<&str, usize> = clouds
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    // Oldest first per cloud, so a newer document's sample replaces an older
    // one of the same row. Documents of the baseline cloud come first so that
    // row order follows its probes.
    let mut ordered: Vec<&Loaded> = docs
        .iter()
        .filter(|d| d.file.history_run.is_none() && index.contains_key(d.file.cloud.as_str()))
        .collect();
    ordered.sort_by(|a, b| {
        (
            index[a.file.cloud.as_str()],
            &a.doc.finished_at,
            &a.file.file_name,
        )
            .cmp(&(
                index[b.file.cloud.as_str()],
                &b.doc.finished_at,
                &b.file.file_name,
            ))
    });

    let mut rows: Vec<CollectedRow<'a>> = Vec::new();
    let mut row_of: HashMap<RowKey, usize> = HashMap::new();
    let mut warnings = Vec::new();
    for loaded in ordered {
        let cloud = index[loaded.file.cloud.as_str()];
        let manual = loaded.file.file_name == MANUAL_SANDBOX_FILE;
        for sample in &loaded.doc.samples {
            let mut labels = sample.labels.clone();
            if manual {
                labels.insert("source".to_owned(), "manual".to_owned());
            }
            let key = RowKey {
                tier: loaded.doc.tier,
                metric: sample.metric.clone(),
                labels,
            };
            let at = *row_of.entry(key.clone()).or_insert_with(|| {
                rows.push(CollectedRow {
                    key,
                    unit: sample.unit.clone(),
                    cells: (0..clouds.len()).map(|_| None).collect(),
                });
                rows.len() - 1
            });
            let row = &mut rows[at];
            if row.unit != sample.unit {
                warnings.push(format!(
                    "{}: {} is in {:?} here but {:?} elsewhere; left out of its row",
                    loaded.location, sample.metric, sample.unit, row.unit
                ));
                continue;
            }
            row.cells[cloud] = Some(Series {
                sample,
                from: loaded,
                sorted: Vec::new(),
            });
        }
    }
    // Sorted once for the quantiles of the box plots and whiskers; the
    // significance tests use `raw` in the order it was measured.
    let mut series: Vec<&mut Series<'a>> = rows
        .iter_mut()
        .flat_map(|r| r.cells.iter_mut().flatten())
        .filter(|s| s.sample.raw.len() > 1)
        .collect();
    let sorted = crate::parallel::map(&series, |s| bench_core::stats::sorted_finite(&s.sample.raw));
    for (s, v) in series.iter_mut().zip(sorted) {
        s.sorted = v;
    }
    Collected {
        clouds: clouds.to_vec(),
        rows,
        warnings,
    }
}
