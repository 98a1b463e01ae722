//! The names of the user-facing contract (`../shared/docs/contract.md`) as
//! constants: result file names, suite names and metric names. Writers and
//! readers (the tiers, the report's charts) use these instead of string
//! literals, so a rename changes both sides at once and cannot silently
//! empty a chart. Renaming one is a contract change (`schema_version`).
//!
//! Each group lists its names in an `IN_CONTRACT` array (the contract's own
//! tables and "Files") and, for names the contract does not list, a
//! `DOCUMENTED` array (named in docs/*.md: client.md, host-probes.md,
//! sandbox-probes.md, output.md). `tests/contract.rs` checks every name
//! against its source.

use serde::{Deserialize, Serialize};

/// Declares `pub const NAME: &str = value;` for each entry and an array
/// `$list` of all of them, so no constant can be left out of the check.
macro_rules! names {
    ($(#[$list_doc:meta])* $list:ident { $( $(#[$doc:meta])* $name:ident = $value:expr, )* }) => {
        $( $(#[$doc])* pub const $name: &str = $value; )*
        $(#[$list_doc])*
        pub const $list: &[&str] = &[$($name),*];
    };
}

/// Result file names under `outputs/<cloud>/` (before `--node`/`--shard`
/// qualification, see `sink::qualified`).
pub mod file {
    names! {
        /// The file names of the contract's "Files".
        IN_CONTRACT {
            /// bench-client `lifecycle`, cold starts.
            COLD_START = "01_cold_start.json",
            /// bench-client `lifecycle`, warm starts.
            WARM_START = "01_warm_start.json",
            /// bench-client `concurrency`.
            CONCURRENCY = "02_concurrency.json",
            /// bench-sandbox's document (bench-client `sandbox` stamps it).
            SANDBOX_PERFORMANCE = "03_sandbox_performance.json",
            /// A pasted bench-sandbox document, imported by bench-report.
            SANDBOX_PERFORMANCE_MANUAL = "sandbox_performance_manual.json",
            /// bench-host's node probes.
            HOST_PERFORMANCE = "04_host_performance.json",
            /// bench-host `storage`.
            CLOUD_STORAGE = "05_cloud_storage.json",
            /// bench-host `templates`: the template inventory.
            TEMPLATES = "06_templates.json",
            /// bench-client's per-cloud summary (not a result document).
            SUMMARY_REPORT = "summary_report.json",
        }
    }
    names! {
        /// File names beyond the contract, named in docs/output.md.
        DOCUMENTED {
            /// bench-client `info`.
            CLIENT_INFO = "00_client_info.json",
            /// bench-host `info`.
            HOST_INFO = "00_host_info.json",
            /// bench-sandbox `info`.
            SANDBOX_INFO = "00_sandbox_info.json",
            /// bench-client `pause`.
            PAUSE_RESUME = "02_pause_resume.json",
        }
    }
}

/// The `suite` field of each result document.
pub mod suite {
    names! {
        /// Suite names the contract itself names.
        IN_CONTRACT {
            /// [`super::file::TEMPLATES`].
            TEMPLATES = "templates",
        }
    }
    names! {
        /// Suite names of docs/output.md, client.md and host-probes.md.
        DOCUMENTED {
            /// [`super::file::CLIENT_INFO`].
            CLIENT_INFO = "client_info",
            /// [`super::file::HOST_INFO`].
            HOST_INFO = "host_info",
            /// [`super::file::SANDBOX_INFO`].
            SANDBOX_INFO = "sandbox_info",
            /// [`super::file::COLD_START`].
            COLD_START = "cold_start",
            /// [`super::file::WARM_START`].
            WARM_START = "warm_start",
            /// [`super::file::CONCURRENCY`].
            CONCURRENCY = "concurrency",
            /// [`super::file::PAUSE_RESUME`].
            PAUSE_RESUME = "pause_resume",
            /// [`super::file::SANDBOX_PERFORMANCE`] (and the manual import).
            SANDBOX_PERFORMANCE = "sandbox_performance",
            /// [`super::file::HOST_PERFORMANCE`] (the contract's example
            /// document, not backticked there).
            HOST_PERFORMANCE = "host_performance",
            /// [`super::file::CLOUD_STORAGE`].
            CLOUD_STORAGE = "cloud_storage",
        }
    }
}

/// Sample metric names (`samples[].metric`).
pub mod metric {
    names! {
        /// The contract's "Metric names the report and its users rely on".
        IN_CONTRACT {
            /// Prime-loop events per second (host, sandbox).
            CPU_EVENTS_PER_SECOND = "cpu.events_per_second",
            /// STREAM bandwidth per `op` (host, sandbox).
            MEMORY_BANDWIDTH = "memory.bandwidth_bytes_per_second",
            /// I/O operations per second per `pattern`.
            DISK_IOPS = "disk.iops",
            /// Disk bandwidth per `pattern`.
            DISK_BANDWIDTH = "disk.bandwidth_bytes_per_second",
            /// Per-I/O completion latency.
            DISK_LATENCY_US = "disk.latency_us",
            /// Latency of fsync.
            DISK_FSYNC_LATENCY_US = "disk.fsync_latency_us",
            /// Hugepage pool size per `page`.
            HUGEPAGES_TOTAL = "hugepages.total",
            /// Free hugepages per `page`.
            HUGEPAGES_FREE = "hugepages.free",
            /// Page-fault bandwidth per `page`.
            HUGEPAGES_FAULT_BANDWIDTH = "hugepages.fault_bandwidth_bytes_per_second",
            /// KVM_CREATE_VM time.
            KVM_VM_CREATE_US = "kvm.vm_create_us",
            /// KVM_CREATE_VCPU time.
            KVM_VCPU_CREATE_US = "kvm.vcpu_create_us",
            /// One guest exit and re-entry.
            KVM_EXIT_ROUNDTRIP_NS = "kvm.exit_roundtrip_ns",
            /// Object PUT latency.
            STORAGE_PUT_LATENCY_MS = "storage.put_latency_ms",
            /// Object GET time to first byte.
            STORAGE_GET_TTFB_MS = "storage.get_ttfb_ms",
            /// Object GET bandwidth.
            STORAGE_GET_BANDWIDTH = "storage.get_bandwidth_bytes_per_second",
            /// Ranged GET latency.
            STORAGE_RANGE_GET_LATENCY_MS = "storage.range_get_latency_ms",
            /// Rootfs read bandwidth per `cache`.
            TEMPLATES_ROOTFS_READ_BANDWIDTH = "templates.rootfs_read_bandwidth_bytes_per_second",
            /// Create call until the sandbox exists.
            SANDBOX_CREATE_MS = "sandbox.create_ms",
            /// Until envd answers.
            SANDBOX_ENVD_READY_MS = "sandbox.envd_ready_ms",
            /// Until the first command returned.
            SANDBOX_FIRST_COMMAND_MS = "sandbox.first_command_ms",
            /// Create call until the first command returned.
            SANDBOX_TIME_TO_INTERACTIVE_MS = "sandbox.time_to_interactive_ms",
            /// Kill call.
            SANDBOX_KILL_MS = "sandbox.kill_ms",
            /// Fraction of creates that succeeded.
            SANDBOX_SUCCESS_RATE = "sandbox.success_rate",
            /// Creates per second of a concurrency level.
            SANDBOX_CREATES_PER_SECOND = "sandbox.creates_per_second",
            /// Pause call.
            SANDBOX_PAUSE_MS = "sandbox.pause_ms",
            /// Resume call.
            SANDBOX_RESUME_MS = "sandbox.resume_ms",
            /// DNS resolution per `target`.
            NETWORK_DNS_MS = "network.dns_ms",
            /// TCP connect per `target`.
            NETWORK_TCP_CONNECT_MS = "network.tcp_connect_ms",
            /// HTTP download bandwidth per `target`.
            NETWORK_HTTP_BANDWIDTH = "network.http_bandwidth_bytes_per_second",
            /// Interpreter start per `workload`.
            PYTHON_STARTUP_MS = "python.startup_ms",
            /// Operations per second per `workload`.
            PYTHON_OPS_PER_SECOND = "python.ops_per_second",
            /// Package install per `manager`.
            PKG_INSTALL_MS = "pkg.install_ms",
        }
    }
    names! {
        /// Metrics beyond the contract, named in docs/client.md,
        /// host-probes.md and sandbox-probes.md.
        DOCUMENTED {
            /// Resume until envd answers and `true` ran.
            SANDBOX_RESUME_COMMAND_MS = "sandbox.resume_command_ms",
            /// A concurrency level's wall-clock time.
            SANDBOX_WALL_CLOCK_MS = "sandbox.wall_clock_ms",
            /// 429 answers waited out at a concurrency level.
            SANDBOX_RATE_LIMITED = "sandbox.rate_limited",
            /// Until the first sandbox of a level was ready.
            SANDBOX_TIME_TO_FIRST_READY_MS = "sandbox.time_to_first_ready_ms",
            /// Multi-thread over single-thread CPU rate.
            CPU_SCALING_EFFICIENCY = "cpu.scaling_efficiency",
            /// Pointer-chase memory latency per buffer `size`.
            MEMORY_LATENCY_NS = "memory.latency_ns",
            /// Hugepage pool as a fraction of memory.
            HUGEPAGES_POOL_FRACTION = "hugepages.pool_fraction_of_memory",
            /// Template builds found, per `status`.
            TEMPLATES_COUNT = "templates.count",
            /// Object LIST latency.
            STORAGE_LIST_LATENCY_MS = "storage.list_latency_ms",
            /// Object PUT bandwidth.
            STORAGE_PUT_BANDWIDTH = "storage.put_bandwidth_bytes_per_second",
            /// HTTP time to first byte per `target`.
            NETWORK_HTTP_TTFB_MS = "network.http_ttfb_ms",
            /// Import time per module.
            PYTHON_IMPORT_MS = "python.import_ms",
        }
    }
}

// Which way is better for a metric, decided from its unit and name, next to
// the names it classifies: every comparison (bench-report's verdicts and
// charts, `compare`) asks this.

/// Which way is good for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Bigger is better: throughputs (`ops/s`, `bytes/s`, `iops`), success
    /// ratios, scores.
    HigherIsBetter,
    /// Smaller is better: latencies and durations, overheads, sizes, error
    /// counts, and anything unrecognised.
    #[default]
    LowerIsBetter,
}

/// Time units, lower case (`us` and `µs`/`μs` both mean microseconds).
const TIME_UNITS: [&str; 17] = [
    "ns", "us", "µs", "μs", "ms", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute",
    "minutes", "h", "hr", "hours",
];

/// Rate units without a slash.
const RATE_UNITS: [&str; 12] = [
    "iops", "ops", "bps", "kbps", "mbps", "gbps", "pps", "rps", "qps", "tps", "fps", "hz",
];

/// Dimensionless "more is better" units (success rates, scores).
const RATIO_UNITS: [&str; 6] = ["ratio", "%", "percent", "pct", "fraction", "score"];

/// Metric-name words that mean "a cost" even when the unit is a ratio
/// (`error_rate` in `%`, `cpu.steal` in `%`).
const COST_WORDS: [&str; 11] = [
    "error", "fail", "loss", "drop", "miss", "steal", "overhead", "latency", "wait", "retr",
    "timeout",
];

/// Metric-name words that mean "more is better" when the unit says nothing.
const BENEFIT_WORDS: [&str; 8] = [
    "throughput",
    "bandwidth",
    "iops",
    "per_sec",
    "ops_per",
    "success",
    "score",
    "speed",
];

impl Direction {
    /// The direction of a unit, unknown units being
    /// [`LowerIsBetter`](Direction::LowerIsBetter). Case-insensitive:
    ///
    /// - `x/t` with `t` a time unit (`ops/s`, `bytes/s`, `events/s`,
    ///   `MiB/s`, `req/min`), anything containing `per_sec` (so
    ///   `per_second`), `per_min` or `per_hour` or ending in `per_s`, the rate
    ///   units `iops`, `ops`,
    ///   `bps`, `kbps`, `mbps`, `gbps`, `pps`, `rps`, `qps`, `tps`, `fps`,
    ///   `hz`, and the ratio units `ratio`, `%`, `percent`, `pct`, `fraction`,
    ///   `score` → higher is better;
    /// - time units (`ns`, `us`, `µs`, `ms`, `s`, `min`, `h`, …) and time per
    ///   something (`ms/op`) → lower is better;
    /// - anything else (`bytes`, `count`, `cycles`, empty) → lower is better:
    ///   in a benchmark a figure that is not a rate is usually a cost.
    pub fn from_unit(unit: &str) -> Direction {
        classify_unit(unit).unwrap_or(Direction::LowerIsBetter)
    }

    /// The direction of a metric given its name and unit. A rate or time unit
    /// decides; otherwise cost words in the name (`error`, `fail`, `loss`,
    /// `drop`, `miss`, `steal`, `overhead`, `latency`, `wait`, `retr…`,
    /// `timeout`) mean lower is better even for a `%` unit; then a ratio unit
    /// or benefit words (`throughput`, `bandwidth`, `iops`, `per_sec`,
    /// `ops_per`, `success`, `score`, `speed`) mean higher is better; else
    /// lower is better.
    ///
    /// ```
    /// use bench_core::stats::Direction;
    /// assert_eq!(Direction::from_metric("disk.read", "MiB/s"), Direction::HigherIsBetter);
    /// assert_eq!(Direction::from_metric("sandbox.create_ms", "ms"), Direction::LowerIsBetter);
    /// assert_eq!(Direction::from_metric("api.error_rate", "%"), Direction::LowerIsBetter);
    /// assert_eq!(Direction::from_metric("api.success_rate", "%"), Direction::HigherIsBetter);
    /// ```
    pub fn from_metric(metric: &str, unit: &str) -> Direction {
        let u = unit.trim().to_lowercase();
        if is_rate(&u) {
            return Direction::HigherIsBetter;
        }
        if is_time_or_time_per(&u) {
            return Direction::LowerIsBetter;
        }
        let m = metric.to_lowercase();
        if COST_WORDS.iter().any(|w| m.contains(w)) {
            return Direction::LowerIsBetter;
        }
        if RATIO_UNITS.contains(&u.as_str()) || BENEFIT_WORDS.iter().any(|w| m.contains(w)) {
            return Direction::HigherIsBetter;
        }
        Direction::LowerIsBetter
    }

    /// `higher_is_better` or `lower_is_better`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherIsBetter => "higher_is_better",
            Direction::LowerIsBetter => "lower_is_better",
        }
    }
}

/// True for a rate unit: `x/<time>`, `…per_sec…` (so `per_second`),
/// `…per_s`, `…per_min…`, `…per_hour…`, or a known slash-less rate unit.
fn is_rate(u: &str) -> bool {
    if let Some((_, den)) = u.rsplit_once('/') {
        return TIME_UNITS.contains(&den.trim());
    }
    u.contains("per_sec")
        || u.ends_with("per_s")
        || u.contains("per_min")
        || u.contains("per_hour")
        || RATE_UNITS.contains(&u)
}

/// True for a time unit or time per something (`ms/op`).
fn is_time_or_time_per(u: &str) -> bool {
    let num = u.split_once('/').map_or(u, |(n, _)| n).trim();
    TIME_UNITS.contains(&num)
}

/// The direction a unit alone decides, if any.
fn classify_unit(unit: &str) -> Option<Direction> {
    let u = unit.trim().to_lowercase();
    if is_rate(&u) || RATIO_UNITS.contains(&u.as_str()) {
        Some(Direction::HigherIsBetter)
    } else if is_time_or_time_per(&u) {
        Some(Direction::LowerIsBetter)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_rules() {
        use Direction::{HigherIsBetter as Up, LowerIsBetter as Down};
        for u in [
            "ops/s",
            "bytes/s",
            "events/s",
            "MiB/s",
            "req/min",
            "ops_per_second",
            "per_second",
            "IOPS",
            "Mbps",
            "ratio",
            "%",
            "percent",
            "ops/ms",
        ] {
            assert_eq!(Direction::from_unit(u), Up, "{u}");
        }
        for u in [
            "ns", "us", "µs", "ms", "s", "min", "ms/op", "bytes", "count", "", "cycles",
        ] {
            assert_eq!(Direction::from_unit(u), Down, "{u}");
        }
        assert_eq!(Direction::from_metric("net.tx", "bytes/s"), Up);
        assert_eq!(Direction::from_metric("sandbox.create", "ms"), Down);
        assert_eq!(Direction::from_metric("api.error_rate", "%"), Down);
        assert_eq!(Direction::from_metric("cpu.steal", "%"), Down);
        assert_eq!(Direction::from_metric("api.success_rate", "%"), Up);
        assert_eq!(Direction::from_metric("disk.throughput", "MB"), Up);
        assert_eq!(Direction::from_metric("memory.rss", "bytes"), Down);
        assert_eq!(Direction::default(), Down);
    }
}
