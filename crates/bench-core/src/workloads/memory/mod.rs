//! Memory: STREAM bandwidth (copy, scale, add, triad) at 1 thread and all
//! cores, and random-access latency, so a sandbox's memory can be compared
//! with its node's and either with any published STREAM figure.
//!
//! Bandwidth follows STREAM 5.10's rules ([`stream`]): arrays of at least 4×
//! the last-level cache each (read from sysfs), so the kernels stream from
//! DRAM and not from cache; the headline is STREAM's best-time rate and
//! `raw` the rate of every iteration after the first. Latency ([`latency`])
//! is the time of one dependent load in a random single-cycle pointer chase.
//!
//! [`stream`]: crate::workloads::memory::stream
//! [`latency`]: crate::workloads::memory::latency

pub mod kernel;
pub mod latency;
pub mod stream;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::contract::metric;
use crate::exit::Failure;
use crate::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use crate::schema::{ErrorKind, Sample};
use crate::settings::Settings;
use crate::units::{format_size, parse_count, parse_size};
use kernel::StreamKernel;
use stream::{Kernel, StreamError};

/// STREAM's default array: 10 million doubles.
pub const STREAM_MIN_ARRAY_BYTES: u64 = 80_000_000;
/// Arrays are at least this many times the last-level cache.
pub const LLC_MULTIPLE: u64 = 4;
/// Default iterations (STREAM's NTIMES).
pub const DEFAULT_NTIMES: usize = 10;
/// Iterations with `--quick`.
pub const QUICK_NTIMES: usize = 3;
/// Most iterations accepted (the expected values grow 15× per iteration).
pub const MAX_NTIMES: usize = 100;
/// Default latency buffer.
pub const DEFAULT_LATENCY_BYTES: u64 = 256 << 20;
/// Latency buffer with `--quick`.
pub const QUICK_LATENCY_BYTES: u64 = 64 << 20;
/// Timed latency rounds.
pub const DEFAULT_LATENCY_ROUNDS: usize = 5;
/// Smallest array or latency buffer accepted.
pub const MIN_BYTES: u64 = 4096;
/// Default sizes use at most this share of the available memory (all three
/// arrays together), so a small sandbox measures instead of being OOM-killed.
const DEFAULT_MEMORY_SHARE: f64 = 0.5;
/// Explicit sizes beyond this share of the available memory are refused.
const EXPLICIT_MEMORY_SHARE: f64 = 0.9;
/// Where Linux describes the caches of CPU 0.
pub const SYSFS_CACHE_DIR: &str = "/sys/devices/system/cpu/cpu0/cache";

/// Flags of the `memory` probe (the same in bench-host and bench-sandbox).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MemoryArgs {
    /// Thread counts for STREAM, comma-separated (e.g. 1,4) [default: 1 and all cores]
    #[arg(long, value_name = "N,...")]
    pub threads: Option<String>,
    /// Bytes per STREAM array (three are allocated) [default: the larger of 4× the last-level cache and 80 MB]
    #[arg(long, value_name = "SIZE")]
    pub array_size: Option<String>,
    /// STREAM iterations of the four kernels; the first is not counted [default: 10; 3 with --quick]
    #[arg(long, value_name = "N")]
    pub ntimes: Option<String>,
    /// Buffer of the random pointer chase [default: 256M; 64M with --quick]
    #[arg(long, value_name = "SIZE")]
    pub latency_size: Option<String>,
    /// Timed rounds of the pointer chase, each one full pass of the buffer [default: 5]
    #[arg(long, value_name = "N")]
    pub latency_rounds: Option<String>,
    /// STREAM kernel: auto (calibrate), or sse2, avx2, avx512, each also with -nt
    /// (non-temporal stores), as this CPU allows [default: auto]
    #[arg(long, value_name = "KERNEL")]
    pub kernel: Option<String>,
}

/// The one memory flag of `run` (bench-host and bench-sandbox alike), so both
/// tiers can be pinned to the same STREAM kernel.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunMemoryArgs {
    /// STREAM kernel of the memory probe: auto (calibrate), or sse2, avx2,
    /// avx512, each also with -nt [default: auto]
    #[arg(long, value_name = "KERNEL")]
    pub memory_kernel: Option<String>,
}

impl RunMemoryArgs {
    /// The memory probe's flags: its defaults with this kernel.
    pub fn memory_args(&self) -> MemoryArgs {
        MemoryArgs {
            kernel: self.memory_kernel.clone(),
            ..MemoryArgs::default()
        }
    }
}

impl ProbeArgs for MemoryArgs {
    fn build(&self, quick: bool, settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        let machine = Machine {
            cpu_count: settings.fingerprint.cpu_count.max(1) as usize,
            llc: last_level_cache(Path::new(SYSFS_CACHE_DIR)),
            memory_available: std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|text| mem_available(&text)),
        };
        let config = MemoryConfig::from_args(self, quick, &machine)?;
        Ok(Box::new(MemoryProbe { config }))
    }
}

/// A CPU cache as sysfs describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheInfo {
    /// 1, 2, 3, …
    pub level: u32,
    /// `Unified` or `Data`.
    pub kind: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// The largest data or unified cache under `cache_dir` (sysfs'
/// `cpu0/cache`, with `index*/{level,type,size}`), or `None` when it
/// describes none (some VMs).
pub fn last_level_cache(cache_dir: &Path) -> Option<CacheInfo> {
    let read = |dir: &Path, name: &str| std::fs::read_to_string(dir.join(name)).ok();
    std::fs::read_dir(cache_dir)
        .ok()?
        .flatten()
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("index"))
        .filter_map(|entry| {
            let dir = entry.path();
            let kind = read(&dir, "type")?.trim().to_owned();
            if kind != "Unified" && kind != "Data" {
                return None;
            }
            Some(CacheInfo {
                level: read(&dir, "level")?.trim().parse().ok()?,
                bytes: parse_cache_size(&read(&dir, "size")?)?,
                kind,
            })
        })
        .max_by_key(|cache| (cache.bytes, cache.level))
}

/// sysfs cache sizes: `48K`, `2048K`, `105M` (binary units) or plain bytes.
pub fn parse_cache_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.as_bytes().last()? {
        b'K' | b'k' => (&text[..text.len() - 1], 10),
        b'M' | b'm' => (&text[..text.len() - 1], 20),
        b'G' | b'g' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(1 << shift)
        .filter(|&b| b > 0)
}

/// `MemAvailable` of /proc/meminfo, in bytes (the fingerprint's parser).
pub fn mem_available(meminfo: &str) -> Option<u64> {
    crate::fingerprint::meminfo(meminfo)?.mem_available
}

/// What sizing depends on, found on the machine (or given by a test).
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// Logical CPUs.
    pub cpu_count: usize,
    /// The last-level cache, when sysfs tells.
    pub llc: Option<CacheInfo>,
    /// Memory available for new allocations, when /proc/meminfo tells.
    pub memory_available: Option<u64>,
}

/// A validated `memory` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryConfig {
    /// STREAM thread counts, run in this order.
    pub threads: Vec<usize>,
    /// Bytes per STREAM array (a multiple of 8).
    pub array_bytes: u64,
    /// Why that size: `flag`, `4x_llc`, `stream_minimum` or `memory_limit`.
    pub array_size_source: &'static str,
    /// STREAM iterations.
    pub ntimes: usize,
    /// Pointer-chase buffer in bytes.
    pub latency_bytes: u64,
    /// Timed pointer-chase rounds.
    pub latency_rounds: usize,
    /// The last-level cache the default size was derived from.
    pub llc: Option<CacheInfo>,
    /// The STREAM kernel asked for; `None` calibrates (`auto`).
    pub kernel: Option<StreamKernel>,
}

impl MemoryConfig {
    /// Applies the defaults (which depend on `quick`, the cores, the
    /// last-level cache and the available memory) and validates the flags;
    /// the error names the flag.
    pub fn from_args(args: &MemoryArgs, quick: bool, machine: &Machine) -> Result<Self, Failure> {
        let threads = match &args.threads {
            Some(text) => crate::workloads::cpu::parse_thread_counts("--threads", text)?,
            None => crate::workloads::cpu::default_thread_counts(machine.cpu_count),
        };
        let max_threads = threads.iter().copied().max().unwrap_or(1) as u64;
        let available = machine.memory_available;
        let (array_bytes, array_size_source) = match &args.array_size {
            Some(text) => {
                let bytes = size_flag("--array-size", text, MIN_BYTES.max(8 * max_threads))?;
                fits_in_memory("--array-size", text, 3 * bytes, available)?;
                (bytes, "flag")
            }
            None => {
                let llc_multiple = machine.llc.as_ref().map_or(0, |c| LLC_MULTIPLE * c.bytes);
                let (wanted, source) = if llc_multiple > STREAM_MIN_ARRAY_BYTES {
                    (llc_multiple, "4x_llc")
                } else {
                    (STREAM_MIN_ARRAY_BYTES, "stream_minimum")
                };
                match available.map(|a| (a as f64 * DEFAULT_MEMORY_SHARE / 3.0) as u64) {
                    Some(limit) if wanted > limit => {
                        ((limit >> 20 << 20).max(MIN_BYTES), "memory_limit")
                    }
                    _ => (wanted, source),
                }
            }
        };
        let ntimes = match &args.ntimes {
            None if quick => QUICK_NTIMES,
            None => DEFAULT_NTIMES,
            Some(text) => count_flag(
                "--ntimes",
                text,
                2,
                MAX_NTIMES,
                "STREAM needs one iteration beyond the first",
            )?,
        };
        let latency_bytes = match &args.latency_size {
            Some(text) => {
                let bytes = size_flag("--latency-size", text, MIN_BYTES)?;
                fits_in_memory("--latency-size", text, bytes, available)?;
                bytes
            }
            None => {
                let wanted = if quick {
                    QUICK_LATENCY_BYTES
                } else {
                    DEFAULT_LATENCY_BYTES
                };
                match available.map(|a| (a as f64 * DEFAULT_MEMORY_SHARE) as u64) {
                    Some(limit) if wanted > limit => (limit >> 20 << 20).max(MIN_BYTES),
                    _ => wanted,
                }
            }
        };
        let latency_rounds = match &args.latency_rounds {
            None => DEFAULT_LATENCY_ROUNDS,
            Some(text) => count_flag(
                "--latency-rounds",
                text,
                1,
                1000,
                "each round is one pass of the buffer",
            )?,
        };
        let kernel = match args.kernel.as_deref() {
            None | Some("auto") => None,
            Some(name) => Some(kernel_flag(name)?),
        };
        Ok(MemoryConfig {
            kernel,
            threads,
            array_bytes: array_bytes / 8 * 8,
            array_size_source,
            ntimes,
            latency_bytes,
            latency_rounds,
            llc: machine.llc.clone(),
        })
    }

    /// Elements per STREAM array.
    pub fn elements(&self) -> usize {
        (self.array_bytes / 8) as usize
    }

    /// True when the arrays are smaller than 4× the last-level cache (the
    /// kernels then partly run from cache); `None` when the cache is unknown.
    pub fn below_4x_llc(&self) -> Option<bool> {
        self.llc
            .as_ref()
            .map(|c| self.array_bytes < LLC_MULTIPLE * c.bytes)
    }

    /// What the document's `parameters.memory` records.
    pub fn to_json(&self) -> Value {
        json!({
            "threads": self.threads,
            "array_bytes": self.array_bytes,
            "array_size_source": self.array_size_source,
            "ntimes": self.ntimes,
            "latency_bytes": self.latency_bytes,
            "latency_rounds": self.latency_rounds,
            "kernel_requested": self.kernel.map_or("auto".to_owned(), StreamKernel::name),
        })
    }
}

/// `--kernel NAME`: a kernel this build knows and this CPU runs.
fn kernel_flag(name: &str) -> Result<StreamKernel, Failure> {
    let here: Vec<String> = StreamKernel::preference()
        .into_iter()
        .map(StreamKernel::name)
        .collect();
    match StreamKernel::from_name(name) {
        Some(kernel) if kernel.runs_here() => Ok(kernel),
        Some(_) => Err(Failure::usage(format!(
            "--kernel '{name}' (--memory-kernel in run): this CPU does not report the instructions it needs; use auto or one of: {}",
            here.join(", ")
        ))),
        None => Err(Failure::usage(format!(
            "--kernel '{name}' (--memory-kernel in run): unknown kernel; use auto or one of: {}",
            here.join(", ")
        ))),
    }
}

fn size_flag(flag: &str, text: &str, min: u64) -> Result<u64, Failure> {
    let bytes = parse_size(text).map_err(|e| Failure::usage(format!("{flag} {e}")))?;
    if bytes < min {
        return Err(Failure::usage(format!(
            "{flag} '{text}': must be at least {} here",
            format_size(min)
        )));
    }
    if usize::try_from(bytes).is_err() {
        return Err(Failure::usage(format!(
            "{flag} '{text}': too large for this machine"
        )));
    }
    Ok(bytes)
}

fn fits_in_memory(
    flag: &str,
    text: &str,
    needed: u64,
    available: Option<u64>,
) -> Result<(), Failure> {
    match available {
        Some(available) if needed as f64 > available as f64 * EXPLICIT_MEMORY_SHARE => {
            Err(Failure::usage(format!(
                "{flag} '{text}': needs {} of memory but only {} is available; use a smaller size",
                format_size(needed),
                format_size(available)
            )))
        }
        _ => Ok(()),
    }
}

fn count_flag(flag: &str, text: &str, min: usize, max: usize, why: &str) -> Result<usize, Failure> {
    parse_count(text, min..=max).map_err(|e| Failure::usage(format!("{flag} {e} ({why})")))
}

/// Runs STREAM at every thread count, then the latency chase. Wrong STREAM
/// results fail the probe; an interruption keeps what finished (with an
/// `interrupted` entry) or is [`ProbeError::Interrupted`] when nothing did.
pub fn run_memory(config: &MemoryConfig, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
    let mut out = ProbeOutput::default();
    if let Some(llc) = &config.llc {
        out.fact(
            "llc",
            json!({"level": llc.level, "type": llc.kind, "bytes": llc.bytes}),
        );
    } else {
        out.fact("llc", Value::Null);
    }
    if let Some(below) = config.below_4x_llc() {
        out.fact("below_4x_llc", below);
        if below {
            tracing::warn!(
                "memory: arrays of {} are below 4x the last-level cache ({}): STREAM partly measures the cache",
                format_size(config.array_bytes),
                format_size(config.llc.as_ref().map_or(0, |c| c.bytes))
            );
        }
    }
    if config.array_size_source == "memory_limit" {
        tracing::warn!(
            "memory: arrays reduced to {} each to fit in the available memory",
            format_size(config.array_bytes)
        );
    }
    if let Some(mode) = transparent_hugepages() {
        out.fact("transparent_hugepages", mode);
    }

    let kernel = match config.kernel {
        Some(kernel) => {
            out.fact("kernel_source", "flag");
            kernel
        }
        None => {
            ctx.step(
                "memory",
                "choosing the STREAM kernel (single-thread Triad passes of each)",
            );
            let Some(calibration) = kernel::calibrate(config.elements(), ctx.interrupt()) else {
                return Err(ProbeError::Interrupted);
            };
            let rates: serde_json::Map<String, Value> = calibration
                .rates
                .iter()
                .map(|&(k, rate)| (k.name(), json!(rate)))
                .collect();
            out.fact("kernel_source", "auto");
            out.fact("kernel_calibration_bytes_per_second", Value::Object(rates));
            calibration.chosen
        }
    };
    tracing::debug!("memory: STREAM kernel {}", kernel.name());
    out.fact("kernel", kernel.name());

    let mut kernel_times = BTreeMap::new();
    for &threads in &config.threads {
        if ctx.interrupted() {
            return interrupted(out, &format!("STREAM at {threads} thread(s)"));
        }
        ctx.step(
            "memory",
            &format!(
                "STREAM, {threads} thread(s), 3 x {} arrays, {} iterations, kernel {}",
                format_size(config.array_bytes),
                config.ntimes,
                kernel.name()
            ),
        );
        let run = match stream::run_stream(
            config.elements(),
            threads,
            config.ntimes,
            kernel,
            ctx.interrupt(),
        ) {
            Ok(run) => run,
            Err(StreamError::Interrupted) => {
                out.fact("kernel_times_s", json!(kernel_times));
                return interrupted(out, &format!("STREAM at {threads} thread(s)"));
            }
            Err(StreamError::Validation(message)) => {
                return Err(ProbeError::Failed(format!(
                    "{threads} thread(s): {message}"
                )));
            }
        };
        let mut times = serde_json::Map::new();
        for kernel in Kernel::ALL {
            let best = run.best_rate(kernel).unwrap_or(0.0);
            tracing::debug!(
                "memory: {} {threads} thread(s): {:.1} MB/s",
                kernel.name(),
                best / 1e6
            );
            out.samples.push(
                Sample::from_series(
                    metric::MEMORY_BANDWIDTH,
                    "bytes/s",
                    run.iteration_rates(kernel),
                )
                .with_value(best)
                .label("op", kernel.name())
                .label("threads", threads),
            );
            times.insert(kernel.name().to_owned(), json!(run.kernel_times(kernel)));
        }
        kernel_times.insert(threads.to_string(), Value::Object(times));
    }
    out.fact("kernel_times_s", json!(kernel_times));

    if ctx.interrupted() {
        return interrupted(out, "the latency chase");
    }
    ctx.step(
        "memory",
        &format!(
            "random pointer chase over {}",
            format_size(config.latency_bytes)
        ),
    );
    match latency::run_latency(
        config.latency_bytes as usize,
        config.latency_rounds,
        ctx.interrupt(),
    ) {
        Some(run) => {
            out.fact("latency_loads_per_round", run.loads_per_round);
            out.samples.push(
                Sample::from_series(metric::MEMORY_LATENCY_NS, "ns", run.ns_per_load)
                    .label("size", run.bytes),
            );
        }
        None => return interrupted(out, "the latency chase"),
    }
    Ok(out)
}

/// What finished plus an `interrupted` entry, or Interrupted when nothing did.
fn interrupted(mut out: ProbeOutput, during: &str) -> Result<ProbeOutput, ProbeError> {
    if out.samples.is_empty() {
        return Err(ProbeError::Interrupted);
    }
    out.error(
        "memory",
        ErrorKind::Interrupted,
        format!("interrupted during {during}; what finished before is kept"),
    );
    Ok(out)
}

/// The selected mode of /sys/kernel/mm/transparent_hugepage/enabled
/// (`always`, `madvise`, `never`): it changes how many page walks the chase pays.
fn transparent_hugepages() -> Option<String> {
    let text = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    crate::fingerprint::selected_mode(&text).map(str::to_owned)
}

/// The `memory` probe.
#[derive(Debug, Clone)]
pub struct MemoryProbe {
    /// What it runs.
    pub config: MemoryConfig,
}

impl Probe for MemoryProbe {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn parameters(&self) -> Value {
        self.config.to_json()
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        run_memory(&self.config, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interrupt::Interrupt;

    fn fake_cache(root: &Path, index: u32, level: &str, kind: &str, size: &str) {
        let dir = root.join(format!("index{index}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("level"), format!("{level}\n")).unwrap();
        std::fs::write(dir.join("type"), format!("{kind}\n")).unwrap();
        std::fs::write(dir.join("size"), format!("{size}\n")).unwrap();
    }

    #[test]
    fn the_last_level_cache_comes_from_sysfs() {
        let root = tempfile::tempdir().unwrap();
        fake_cache(root.path(), 0, "1", "Data", "48K");
        fake_cache(root.path(), 1, "1", "Instruction", "32K");
        fake_cache(root.path(), 2, "2", "Unified", "2048K");
        fake_cache(root.path(), 3, "3", "Unified", "107520K");
        std::fs::create_dir_all(root.path().join("uevent_dir")).unwrap();
        let llc = last_level_cache(root.path()).unwrap();
        assert_eq!(
            (llc.level, llc.kind.as_str(), llc.bytes),
            (3, "Unified", 105 << 20)
        );

        // An instruction cache is never the LLC; unreadable entries are skipped.
        let root = tempfile::tempdir().unwrap();
        fake_cache(root.path(), 0, "1", "Data", "32K");
        fake_cache(root.path(), 1, "2", "Instruction", "64M");
        fake_cache(root.path(), 2, "3", "Unified", "garbage");
        assert_eq!(last_level_cache(root.path()).unwrap().bytes, 32 << 10);
        assert_eq!(last_level_cache(&root.path().join("missing")), None);
        assert_eq!(parse_cache_size("105M"), Some(105 << 20));
        assert_eq!(parse_cache_size("512"), Some(512));
        assert_eq!(parse_cache_size("K"), None);
        assert_eq!(parse_cache_size("0K"), None);
    }

    #[test]
    fn mem_available_is_read_in_bytes() {
        let text = crate::fingerprint::tests::MEMINFO_SNAPSHOT
            .replace("MemAvailable:   23728952 kB", "MemAvailable:   20000000 kB");
        assert_eq!(mem_available(&text), Some(20_000_000 * 1024));
        assert_eq!(mem_available("MemTotal: 5 kB\n"), None);
    }

    fn machine(llc_bytes: Option<u64>, available: Option<u64>) -> Machine {
        Machine {
            cpu_count: 2,
            llc: llc_bytes.map(|bytes| CacheInfo {
                level: 3,
                kind: "Unified".into(),
                bytes,
            }),
            memory_available: available,
        }
    }

    #[test]
    fn default_arrays_are_four_times_the_llc_or_streams_minimum() {
        let none = MemoryArgs::default();
        let c = MemoryConfig::from_args(&none, false, &machine(Some(105 << 20), None)).unwrap();
        assert_eq!(c.array_bytes, 420 << 20);
        assert_eq!(c.array_size_source, "4x_llc");
        assert_eq!(c.below_4x_llc(), Some(false));
        assert_eq!(
            (c.threads.as_slice(), c.ntimes, c.latency_bytes),
            ([1, 2].as_slice(), 10, 256 << 20)
        );
        let c = MemoryConfig::from_args(&none, true, &machine(Some(8 << 20), None)).unwrap();
        assert_eq!(c.array_bytes, 80_000_000);
        assert_eq!(c.array_size_source, "stream_minimum");
        assert_eq!((c.ntimes, c.latency_bytes), (3, 64 << 20));
        let c = MemoryConfig::from_args(&none, false, &machine(None, None)).unwrap();
        assert_eq!(c.array_bytes, 80_000_000);
        assert_eq!(c.below_4x_llc(), None);
        // A 512 MiB sandbox: three arrays get half of it.
        let c = MemoryConfig::from_args(&none, false, &machine(Some(32 << 20), Some(512 << 20)))
            .unwrap();
        assert_eq!(c.array_size_source, "memory_limit");
        assert!(3 * c.array_bytes <= 256 << 20);
        assert_eq!(c.below_4x_llc(), Some(true));
        assert!(c.latency_bytes <= 256 << 20);
    }

    #[test]
    fn smaller_arrays_are_allowed_but_flagged() {
        let args = MemoryArgs {
            array_size: Some("4M".into()),
            threads: Some("1,2".into()),
            ntimes: Some("3".into()),
            latency_size: Some("1M".into()),
            latency_rounds: Some("2".into()),
            kernel: Some("auto".into()),
        };
        let c = MemoryConfig::from_args(&args, false, &machine(Some(105 << 20), Some(1 << 34)))
            .unwrap();
        assert_eq!(c.array_bytes, 4 << 20);
        assert_eq!(c.elements(), 512 << 10);
        assert_eq!(c.below_4x_llc(), Some(true));
        assert_eq!(c.to_json()["array_size_source"], "flag");
        assert_eq!(c.to_json()["latency_bytes"], 1 << 20);
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let big = machine(Some(1 << 20), Some(1 << 30));
        let cases: [(MemoryArgs, &str, &str); 9] = [
            (
                MemoryArgs {
                    kernel: Some("avx3".into()),
                    ..Default::default()
                },
                "--kernel",
                "unknown kernel; use auto or one of:",
            ),
            (
                MemoryArgs {
                    threads: Some("0".into()),
                    ..Default::default()
                },
                "--threads",
                "between 1 and",
            ),
            (
                MemoryArgs {
                    array_size: Some("1k".into()),
                    ..Default::default()
                },
                "--array-size",
                "at least 4k",
            ),
            (
                MemoryArgs {
                    array_size: Some("lots".into()),
                    ..Default::default()
                },
                "--array-size",
                "not a size",
            ),
            (
                MemoryArgs {
                    array_size: Some("1G".into()),
                    ..Default::default()
                },
                "--array-size",
                "only 1G is available",
            ),
            (
                MemoryArgs {
                    ntimes: Some("1".into()),
                    ..Default::default()
                },
                "--ntimes",
                "from 2 to 100",
            ),
            (
                MemoryArgs {
                    ntimes: Some("x".into()),
                    ..Default::default()
                },
                "--ntimes",
                "must be a whole number",
            ),
            (
                MemoryArgs {
                    latency_size: Some("2G".into()),
                    ..Default::default()
                },
                "--latency-size",
                "available",
            ),
            (
                MemoryArgs {
                    latency_rounds: Some("0".into()),
                    ..Default::default()
                },
                "--latency-rounds",
                "from 1 to 1000",
            ),
        ];
        for (args, flag, needle) in cases {
            let e = MemoryConfig::from_args(&args, false, &big).unwrap_err();
            assert_eq!(e.code, crate::exit::USAGE);
            assert!(e.message.starts_with(flag), "{}", e.message);
            assert!(e.message.contains(needle), "{}", e.message);
        }
    }

    fn small_config() -> MemoryConfig {
        MemoryConfig {
            threads: vec![1, 2],
            array_bytes: 256 << 10,
            array_size_source: "flag",
            ntimes: 3,
            latency_bytes: 64 << 10,
            latency_rounds: 2,
            llc: Some(CacheInfo {
                level: 3,
                kind: "Unified".into(),
                bytes: 1 << 20,
            }),
            kernel: None,
        }
    }

    #[test]
    fn the_kernel_is_calibrated_or_taken_from_the_flag() {
        let auto = run_memory(&small_config(), &Context::uninterruptible()).unwrap();
        assert_eq!(auto.facts["kernel_source"], "auto");
        let chosen = auto.facts["kernel"].as_str().unwrap();
        assert!(
            StreamKernel::from_name(chosen).is_some_and(|k| k.runs_here()),
            "{chosen}"
        );
        let calibrated = auto.facts["kernel_calibration_bytes_per_second"]
            .as_object()
            .unwrap();
        if StreamKernel::preference().len() > 1 {
            assert!(calibrated.contains_key(chosen), "{calibrated:?}");
        }

        let name = StreamKernel::preference().last().copied().unwrap().name();
        let args = MemoryArgs {
            kernel: Some(name.clone()),
            ..Default::default()
        };
        let config =
            MemoryConfig::from_args(&args, true, &machine(Some(1 << 20), Some(1 << 34))).unwrap();
        assert_eq!(config.to_json()["kernel_requested"], name.as_str());
        let fixed = run_memory(
            &MemoryConfig {
                kernel: config.kernel,
                ..small_config()
            },
            &Context::uninterruptible(),
        )
        .unwrap();
        assert_eq!(fixed.facts["kernel_source"], "flag");
        assert_eq!(fixed.facts["kernel"], name.as_str());
        assert!(
            !fixed
                .facts
                .contains_key("kernel_calibration_bytes_per_second")
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_kernel_this_cpu_cannot_run_is_refused_by_name() {
        let missing = ["avx2", "avx512"]
            .into_iter()
            .find(|n| StreamKernel::from_name(n).is_some_and(|k| !k.runs_here()));
        let Some(name) = missing else {
            eprintln!("skipped: this CPU runs every kernel");
            return;
        };
        let args = MemoryArgs {
            kernel: Some(name.into()),
            ..Default::default()
        };
        let e = MemoryConfig::from_args(&args, false, &machine(None, None)).unwrap_err();
        assert!(e.message.starts_with("--kernel"), "{}", e.message);
        assert!(e.message.contains("does not report"), "{}", e.message);
    }

    #[test]
    fn a_small_run_has_every_sample_and_fact() {
        let out = run_memory(&small_config(), &Context::uninterruptible()).unwrap();
        assert!(out.errors.is_empty());
        let bandwidth: Vec<&Sample> = out
            .samples
            .iter()
            .filter(|s| s.metric == "memory.bandwidth_bytes_per_second")
            .collect();
        assert_eq!(bandwidth.len(), 8);
        for s in &bandwidth {
            assert_eq!(s.unit, "bytes/s");
            assert!(s.value > 0.0);
            assert_eq!(s.raw.len(), 2, "ntimes - 1 rates");
            // The headline is the best iteration.
            assert_eq!(s.value, s.raw.iter().copied().fold(0.0, f64::max));
        }
        let latency = out
            .samples
            .iter()
            .find(|s| s.metric == "memory.latency_ns")
            .unwrap();
        assert_eq!(latency.labels["size"], "65536");
        assert_eq!(latency.raw.len(), 2);
        assert_eq!(out.facts["below_4x_llc"], true);
        assert_eq!(
            out.facts["kernel_times_s"]["2"]["triad"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn interruption_before_anything_finished_is_an_error() {
        let interrupt = Interrupt::new();
        interrupt.trigger();
        let result = run_memory(&small_config(), &Context::new(interrupt));
        assert_eq!(result, Err(ProbeError::Interrupted));
    }
}
