//! The result document (schema_version 1) of `../shared/docs/contract.md`.
//!
//! One document per suite file. Field names are part of the contract: rename
//! nothing here without bumping [`SCHEMA_VERSION`] and regenerating
//! `docs/schema/result-v1.json` (`scripts/gen-schema.sh`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The version written into every document and the only one this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The `schema` field of bench-client's per-cloud summary
/// ([`crate::contract::file::SUMMARY_REPORT`], not a result document); bumped
/// when a field changes meaning.
pub const SUMMARY_SCHEMA: &str = "e2b-bench-summary/1";

/// One suite's results: what ran, where, with which parameters, and every
/// sample and error it produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "e2b-bench result document"))]
pub struct ResultDocument {
    /// Always [`SCHEMA_VERSION`] for documents this build writes.
    pub schema_version: u32,
    /// The binary that wrote the document.
    pub tool: Tool,
    /// Which tier measured.
    pub tier: Tier,
    /// Suite name, e.g. `host_performance`; decides the file name.
    pub suite: String,
    /// Cloud label of the run (`aws`, `gcp`, `azure`, `local`, or the user's).
    pub cloud: String,
    /// Run id shared by every document of one run, e.g. `20261122T101500Z-3f9a`.
    pub run_id: String,
    /// RFC 3339 UTC time the suite started.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub started_at: String,
    /// RFC 3339 UTC time the suite finished.
    #[cfg_attr(feature = "schema", schemars(extend("format" = "date-time")))]
    pub finished_at: String,
    /// The machine that measured.
    pub fingerprint: Fingerprint,
    /// What the run was asked to do (flags after defaults were applied).
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Every measured figure.
    #[serde(default)]
    pub samples: Vec<Sample>,
    /// Probes that failed or could not run, with their reason.
    #[serde(default)]
    pub errors: Vec<ErrorEntry>,
}

/// Name and version of the writing binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Tool {
    /// Binary name, e.g. `bench-host`.
    pub name: String,
    /// Its crate version.
    pub version: String,
    /// The Cargo profile that built it (`release`, `quickstart`, `sandbox`,
    /// `dev`, …): figures from differently optimised builds are not
    /// comparable. Absent in documents of builds before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_profile: Option<String>,
}

/// The Cargo profile of this build, derived by `build.rs` from `OUT_DIR`.
/// bench-core is built in the profile of the binary that links it.
pub const BUILD_PROFILE: &str = env!("BENCH_BUILD_PROFILE");

impl Tool {
    /// A tool record for a binary name and version (usually
    /// `env!("CARGO_PKG_VERSION")`), with this build's [`BUILD_PROFILE`].
    pub fn new(name: &str, version: &str) -> Self {
        Tool {
            name: name.to_owned(),
            version: version.to_owned(),
            build_profile: Some(BUILD_PROFILE.to_owned()),
        }
    }
}

/// The tier that measured; see the contract's "Who runs what".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// An orchestrator node (`bench-host`).
    Host,
    /// A jump box talking to the E2B API (`bench-client`).
    Client,
    /// Inside a sandbox (`bench-sandbox`).
    Sandbox,
}

impl Tier {
    /// The lower-case name used in documents and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Host => "host",
            Tier::Client => "client",
            Tier::Sandbox => "sandbox",
        }
    }
}

/// What machine produced a document. Collected without network calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Fingerprint {
    /// Host name of the machine.
    pub hostname: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// CPU model name.
    pub cpu_model: String,
    /// Logical CPUs online.
    pub cpu_count: u32,
    /// Physical memory in bytes.
    pub memory_bytes: u64,
    /// `none` on bare metal, else the hypervisor (`kvm`, `hyperv`, `xen`, `vmware`, `firecracker`, ...).
    pub virtualization: String,
    /// True when this machine is itself a VM and can run VMs (KVM in a VM):
    /// every VM exit of a sandbox here costs two.
    pub nested_virtualization: bool,
    /// `aws`, `gcp`, `azure` or `unknown`, from DMI only.
    pub cloud_vendor: String,
    /// Instance type when DMI tells it (AWS does), else null.
    pub instance_type: Option<String>,
    /// Region; never looked up without an explicit opt-in, so usually null.
    pub region: Option<String>,
    /// CPU architecture (`x86_64`, `aarch64`).
    #[serde(default)]
    pub arch: String,
    /// Operating system (`PRETTY_NAME` of /etc/os-release).
    #[serde(default)]
    pub os: Option<String>,
    /// Hypervisor vendor signature from cpuid leaf 0x40000000, when present.
    #[serde(default)]
    pub hypervisor_vendor: Option<String>,
    /// True when /dev/kvm exists on this machine.
    #[serde(default)]
    pub kvm_device: bool,
    /// Raw DMI identification strings used for detection.
    #[serde(default)]
    pub dmi: BTreeMap<String, String>,
    /// The machine's name in the results (`--node`, default the hostname,
    /// sanitized); absent in documents written before nodes existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// One measured figure, with the observations it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Sample {
    /// Dot-separated lower-case metric name, e.g. `disk.iops`.
    pub metric: String,
    /// Unit of `value`, `stats` and `raw`, e.g. `ops/s`, `ms`, `bytes/s`.
    pub unit: String,
    /// Headline figure: a throughput, or the median of a latency series.
    pub value: f64,
    /// String labels that distinguish samples of one metric.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Summary statistics, present whenever there is more than one observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
    /// Every observation, so any statistic can be recomputed; for a long
    /// series (more than the probe keeps, `stats.n > raw.len()`) a seeded
    /// uniform subset of them in measured order, with `histogram` beside it.
    #[serde(default)]
    pub raw: Vec<f64>,
    /// Every observation of a series whose `raw` is a subset, binned, so
    /// percentiles of the whole series can still be recomputed. Absent when
    /// `raw` is complete and in documents written before histograms existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<Histogram>,
}

/// Counts of observations in HdrHistogram bins (`docs/output.md`,
/// "Histograms"): to recompute a percentile, repeat each bin's value by its
/// count and take the type-7 quantile (`numpy.percentile(numpy.repeat(v, c),
/// 99.9)`); `bench_core::stats::histogram` does the same without expanding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Histogram {
    /// Decimal digits the bins resolve (3: an observation x is within
    /// 2^-11 ≈ 0.05% of x plus 0.5 / `unit_scale` of its bin's value, under
    /// 10^-3 of x from x ≥ 1000 / `unit_scale` on).
    #[cfg_attr(feature = "schema", schemars(range(max = 5)))]
    pub significant_digits: u8,
    /// Integers per unit of the sample's `unit` that were binned: an
    /// observation x was recorded as round(x × unit_scale) (1000 for `us`:
    /// nanoseconds).
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub unit_scale: u64,
    /// `[value, count]` per non-empty bin, ascending by value, counts > 0,
    /// adding up to `stats.n`. `value` is in the sample's `unit`: the bin's
    /// middle integer (HdrHistogram's median-equivalent value) ÷ `unit_scale`.
    #[cfg_attr(feature = "schema", schemars(extend("minItems" = 1)))]
    pub bins: Vec<(f64, u64)>,
}

/// Summary statistics of a series (see `crate::stats`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Stats {
    /// Number of observations.
    pub n: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator); 0 for one observation.
    pub stddev: f64,
    /// Smallest observation.
    pub min: f64,
    /// Largest observation.
    pub max: f64,
    /// Median (type-7 quantile 0.5).
    pub p50: f64,
    /// Type-7 quantile 0.90.
    pub p90: f64,
    /// Type-7 quantile 0.95.
    pub p95: f64,
    /// Type-7 quantile 0.99.
    pub p99: f64,
    /// 95% confidence interval of the mean (Student t).
    pub ci95: [f64; 2],
    /// Count of Tukey outliers (outside 1.5 × IQR of the quartiles).
    pub outliers: u64,
    /// 95% confidence interval of the median (seeded percentile bootstrap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_ci95: Option<[f64; 2]>,
}

/// A probe that did not produce its figures, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorEntry {
    /// Probe name, e.g. `kvm`.
    pub probe: String,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// One line saying what happened and, where possible, what to do.
    pub message: String,
}

/// Kinds of probe failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The thing to measure is absent here (no /dev/kvm, no hugepage pool, no pip).
    Unavailable,
    /// The probe ran and failed.
    Failed,
    /// The probe exceeded its time limit.
    Timeout,
    /// The run was interrupted (Ctrl-C) before the probe finished.
    Interrupted,
}

impl ErrorKind {
    /// The name used in documents (`unavailable`, `failed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Failed => "failed",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Interrupted => "interrupted",
        }
    }
}

/// Why a document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// Not JSON, truncated, or a field has the wrong type.
    #[error("not a valid result document: {0}")]
    Invalid(#[from] serde_json::Error),
    /// A `schema_version` this build does not know.
    #[error(
        "schema_version {found} is not supported (this build reads {SCHEMA_VERSION}); upgrade e2b-bench"
    )]
    UnsupportedVersion {
        /// The version found in the document.
        found: u64,
    },
}

impl ResultDocument {
    /// Parses a document, checking `schema_version` before the rest so a
    /// future document is reported as such rather than as a field error.
    pub fn from_json(text: &str) -> Result<Self, DocumentError> {
        let value: Value = serde_json::from_str(text)?;
        match value.get("schema_version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => Ok(serde_json::from_value(value)?),
            Some(found) => Err(DocumentError::UnsupportedVersion { found }),
            None => Err(DocumentError::Invalid(serde::de::Error::missing_field(
                "schema_version",
            ))),
        }
    }
}

impl Sample {
    /// A sample with a single figure and no observations behind it.
    pub fn new(metric: &str, unit: &str, value: f64) -> Self {
        Sample {
            metric: metric.to_owned(),
            unit: unit.to_owned(),
            value,
            labels: BTreeMap::new(),
            stats: None,
            raw: Vec::new(),
            histogram: None,
        }
    }

    /// A sample summarising a series: `value` is the median, `stats` are
    /// computed when there is more than one observation, `raw` keeps them all.
    /// Non-finite observations are dropped (JSON cannot carry them).
    pub fn from_series(metric: &str, unit: &str, raw: Vec<f64>) -> Self {
        let raw: Vec<f64> = raw.into_iter().filter(|x| x.is_finite()).collect();
        let stats = crate::stats::summarize(&raw);
        let value = stats
            .as_ref()
            .map(|s| s.p50)
            .or_else(|| raw.first().copied())
            .unwrap_or(0.0);
        Sample {
            stats,
            raw,
            ..Sample::new(metric, unit, value)
        }
    }

    /// A sample summarising a long series: like [`Sample::from_series`]
    /// (`stats` over every observation), but `raw` keeps at most `cap` of
    /// them, a uniform subset drawn with `seed` and kept in measured order,
    /// and then `histogram` bins them all, so that every percentile can
    /// still be recomputed from the document.
    ///
    /// ```
    /// use bench_core::schema::Sample;
    /// let s = Sample::from_long_series("disk.latency_us", "us", (1..=50).map(f64::from).collect(), 20, 7);
    /// assert_eq!((s.raw.len(), s.stats.as_ref().unwrap().n, s.value), (20, 50, 25.5));
    /// assert_eq!(s.histogram.unwrap().bins.len(), 50);
    /// ```
    pub fn from_long_series(
        metric: &str,
        unit: &str,
        values: Vec<f64>,
        cap: usize,
        seed: u64,
    ) -> Self {
        let values: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if values.len() <= cap {
            return Sample::from_series(metric, unit, values);
        }
        let stats = crate::stats::summarize(&values);
        let histogram = crate::stats::HistogramRecorder::from_values(
            crate::stats::histogram::unit_scale(unit),
            values.iter().copied(),
        )
        .map(|h| h.to_schema());
        let histogram = match histogram {
            Ok(h) => Some(h),
            Err(e) => {
                // Only negative or huge values get here, which no latency
                // is; the sample stays usable, its percentiles in `stats`.
                tracing::warn!("{metric}: no histogram: {e}");
                None
            }
        };
        let keep = crate::stats::reservoir_indices(
            values.len(),
            cap,
            &mut crate::stats::Rng::seed_from_u64(seed),
        );
        Sample {
            value: stats.as_ref().map_or(0.0, |s| s.p50),
            stats,
            raw: keep.iter().map(|&i| values[i]).collect(),
            histogram,
            ..Sample::new(metric, unit, 0.0)
        }
    }

    /// True when `raw` holds fewer observations than `stats` summarises
    /// (a long series, see [`Sample::from_long_series`]).
    pub fn raw_is_subset(&self) -> bool {
        self.stats
            .as_ref()
            .is_some_and(|s| s.n > self.raw.len() as u64)
    }

    /// Replaces the headline value (for a throughput whose headline is not the median).
    pub fn with_value(mut self, value: f64) -> Self {
        self.value = value;
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: &str, value: impl ToString) -> Self {
        self.labels.insert(key.to_owned(), value.to_string());
        self
    }
}
