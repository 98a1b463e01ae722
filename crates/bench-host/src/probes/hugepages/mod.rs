//! Hugepages probe: the hugetlb pools and THP mode of this node, and how fast
//! memory faults in with base (4 KiB) pages, 2 MiB hugetlb pages and
//! transparent hugepages.
//!
//! E2B backs Firecracker guest memory with 2 MiB hugepages and reserves most
//! of a node's RAM for them, so the pool (and whether it covers the node) is
//! the first thing to know about an orchestrator. A node without a pool is
//! reported as an `unavailable` entry for `2m`; the base-page and THP figures
//! are still measured.

mod kernel;

use std::path::PathBuf;
use std::time::Instant;

use bench_core::contract::metric;
use bench_core::exit::Failure;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::schema::{ErrorKind, Sample};
use bench_core::settings::Settings;
use bench_core::units::{format_size, parse_size};
use serde_json::{Value, json};

use crate::sys::mmap::{HUGE_2M, HugepageAdvice, Mapping, base_page_size};
use kernel::{COVERS_NODE_FRACTION, Meminfo, Pool};

const NAME: &str = "hugepages";
const DEFAULT_FAULT_SIZE: usize = 512 << 20;
const QUICK_FAULT_SIZE: usize = 128 << 20;
const DEFAULT_ITERATIONS: u32 = 5;
const QUICK_ITERATIONS: u32 = 3;
const MAX_ITERATIONS: u32 = 1000;

/// Flags of the hugepages probe.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HugepagesArgs {
    /// Memory to fault in per measurement, a multiple of 2M; the 2 MiB
    /// hugetlb measurement is clamped to the free pool [default: 512M,
    /// --quick: 128M]
    #[arg(long, value_name = "SIZE")]
    pub fault_size: Option<String>,
    /// Repetitions of each fault-in measurement [default: 5, --quick: 3]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub iterations: Option<String>,
}

impl ProbeArgs for HugepagesArgs {
    fn build(&self, quick: bool, settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        let memory = usize::try_from(settings.fingerprint.memory_bytes).unwrap_or(usize::MAX);
        let fault_size = match &self.fault_size {
            Some(text) => {
                let size =
                    parse_size(text).map_err(|e| Failure::usage(format!("--fault-size {e}")))?;
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                if size == 0 || !size.is_multiple_of(HUGE_2M) {
                    return Err(Failure::usage(format!(
                        "--fault-size '{text}': must be a positive multiple of 2M (whole 2 MiB pages), e.g. 128M"
                    )));
                }
                if memory > 0 && size > memory / 2 {
                    return Err(Failure::usage(format!(
                        "--fault-size '{text}': more than half of this node's memory ({}); use a smaller size",
                        format_size(memory as u64)
                    )));
                }
                size
            }
            // The default never asks for more than a quarter of a small machine.
            None => {
                let default = if quick {
                    QUICK_FAULT_SIZE
                } else {
                    DEFAULT_FAULT_SIZE
                };
                let cap = (memory / 4) / HUGE_2M * HUGE_2M;
                if memory > 0 {
                    default.min(cap.max(HUGE_2M))
                } else {
                    default
                }
            }
        };
        let iterations = match &self.iterations {
            Some(text) => text
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_ITERATIONS).contains(n))
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "--iterations '{text}': must be a whole number from 1 to {MAX_ITERATIONS}"
                    ))
                })?,
            None if quick => QUICK_ITERATIONS,
            None => DEFAULT_ITERATIONS,
        };
        Ok(Box::new(HugepagesProbe {
            fault_size,
            iterations,
            paths: KernelPaths::default(),
        }))
    }
}

/// Where the kernel's hugepage state is read from (fixtures in tests).
#[derive(Debug, Clone)]
struct KernelPaths {
    meminfo: PathBuf,
    pools: PathBuf,
    thp: PathBuf,
}

impl Default for KernelPaths {
    fn default() -> Self {
        KernelPaths {
            meminfo: "/proc/meminfo".into(),
            pools: "/sys/kernel/mm/hugepages".into(),
            thp: "/sys/kernel/mm/transparent_hugepage".into(),
        }
    }
}

/// Reports the pools and THP mode and measures fault-in bandwidth.
#[derive(Debug)]
pub struct HugepagesProbe {
    fault_size: usize,
    iterations: u32,
    paths: KernelPaths,
}

/// The kernel's hugepage state when the probe started.
#[derive(Debug)]
struct State {
    meminfo: Meminfo,
    pools: Vec<Pool>,
    thp_enabled: Option<String>,
    thp_defrag: Option<String>,
}

/// The three ways of backing memory whose fault-in is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backing {
    /// Base pages; `MADV_NOHUGEPAGE` so THP `always` cannot promote them.
    Base,
    /// 2 MiB pages from the hugetlb pool (`MAP_HUGETLB`), what E2B uses.
    Hugetlb2m,
    /// Transparent hugepages (2 MiB-aligned, `MADV_HUGEPAGE`).
    Thp,
}

impl Backing {
    fn label(self) -> String {
        match self {
            Backing::Base => kernel::page_label(base_page_size() as u64),
            Backing::Hugetlb2m => "2m".into(),
            Backing::Thp => "thp".into(),
        }
    }
}

/// Why one backing produced no sample.
#[derive(Debug)]
enum Skip {
    Unavailable(String),
    Failed(String),
    Interrupted,
}

impl Probe for HugepagesProbe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parameters(&self) -> Value {
        json!({
            "fault_size_bytes": self.fault_size,
            "iterations": self.iterations,
        })
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        let mut out = ProbeOutput::default();
        let state = self.read_state()?;
        report_state(&state, &mut out);
        out.fact("base_page_bytes", base_page_size());
        out.fact(
            "fault_method",
            "mmap anonymous memory, write one byte per page (base-page stride for 4k and thp, \
             2 MiB for 2m) timed from the first write to the last, munmap untimed; value is the \
             median of the iterations, raw the per-iteration bandwidths",
        );

        let backings = [Backing::Base, Backing::Hugetlb2m, Backing::Thp];
        for (i, backing) in backings.into_iter().enumerate() {
            let label = backing.label();
            ctx.step(NAME, &format!("fault-in bandwidth, {label} pages"));
            match self.measure(backing, &state, ctx, &mut out) {
                Ok(sample) => out.samples.push(sample),
                Err(Skip::Unavailable(reason)) => out.error(NAME, ErrorKind::Unavailable, reason),
                Err(Skip::Failed(reason)) => out.error(NAME, ErrorKind::Failed, reason),
                Err(Skip::Interrupted) => {
                    let not_run: Vec<String> = backings[i..].iter().map(|b| b.label()).collect();
                    out.error(
                        NAME,
                        ErrorKind::Interrupted,
                        format!(
                            "interrupted; fault-in not measured for {}",
                            not_run.join(", ")
                        ),
                    );
                    break;
                }
            }
        }
        Ok(out)
    }
}

impl HugepagesProbe {
    fn read_state(&self) -> Result<State, ProbeError> {
        let meminfo = std::fs::read_to_string(&self.paths.meminfo).map_err(|e| {
            ProbeError::Unavailable(format!("{}: {e}", self.paths.meminfo.display()))
        })?;
        let pools = match kernel::read_pools(&self.paths.pools) {
            Ok(pools) => pools,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ProbeError::io(&self.paths.pools.display().to_string(), &e)),
        };
        let mode = |file: &str| {
            std::fs::read_to_string(self.paths.thp.join(file))
                .ok()
                .and_then(|text| kernel::selected_mode(&text).map(str::to_owned))
        };
        Ok(State {
            meminfo: kernel::parse_meminfo(&meminfo),
            pools,
            thp_enabled: mode("enabled"),
            thp_defrag: mode("defrag"),
        })
    }

    fn measure(
        &self,
        backing: Backing,
        state: &State,
        ctx: &Context,
        out: &mut ProbeOutput,
    ) -> Result<Sample, Skip> {
        let (size, stride) = match backing {
            Backing::Base => (self.fault_size, base_page_size()),
            Backing::Hugetlb2m => {
                let size = self.hugetlb_size(state, out)?;
                (size, HUGE_2M)
            }
            Backing::Thp => {
                match state.thp_enabled.as_deref() {
                    None => {
                        return Err(Skip::Unavailable(format!(
                            "thp: transparent hugepages are not supported by this kernel (no {})",
                            self.paths.thp.join("enabled").display()
                        )));
                    }
                    Some("never") => {
                        return Err(Skip::Unavailable(
                            "thp: transparent hugepages are disabled (enabled = never); \
                             enable with: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"
                                .into(),
                        ));
                    }
                    Some(_) => {}
                }
                (self.fault_size, base_page_size())
            }
        };
        let label = backing.label();
        let mut rates = Vec::with_capacity(self.iterations as usize);
        let mut thp_backed = Vec::new();
        for _ in 0..self.iterations {
            if ctx.interrupted() {
                return Err(Skip::Interrupted);
            }
            let mut mapping = map(backing, size, state)?;
            let started = Instant::now();
            mapping.touch(stride);
            let seconds = started.elapsed().as_secs_f64();
            rates.push(size as f64 / seconds.max(1e-9));
            if backing == Backing::Thp {
                let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
                let end = mapping.addr() + mapping.len();
                thp_backed.push(kernel::anon_huge_bytes_in(&smaps, mapping.addr(), end));
            }
        }
        if backing == Backing::Thp {
            let fractions: Vec<f64> = thp_backed.iter().map(|&b| b as f64 / size as f64).collect();
            out.fact("thp_backed_bytes", json!(thp_backed));
            out.fact(
                "thp_backed_fraction",
                bench_core::stats::median(&fractions).unwrap_or(0.0),
            );
        }
        tracing::debug!("{NAME}: {label}: {rates:?} bytes/s");
        Ok(
            Sample::from_series(metric::HUGEPAGES_FAULT_BANDWIDTH, "bytes/s", rates)
                .label("page", label),
        )
    }

    /// Bytes to map with 2 MiB hugetlb pages: `--fault-size`, clamped to the
    /// pages a new mapping can get; unavailable when there are none.
    fn hugetlb_size(&self, state: &State, out: &mut ProbeOutput) -> Result<usize, Skip> {
        let Some(pool) = state.pools.iter().find(|p| p.page_bytes == HUGE_2M as u64) else {
            return Err(Skip::Unavailable(format!(
                "2m: 2 MiB hugepages are not supported by this kernel (no {}/hugepages-2048kB)",
                self.paths.pools.display()
            )));
        };
        let usable = pool.usable_pages();
        if usable == 0 {
            return Err(Skip::Unavailable(if pool.nr == 0 {
                no_pool_message(&state.meminfo)
            } else {
                format!(
                    "no free 2 MiB hugepages: all {} are in use or reserved ({} free, {} reserved for \
                     existing mappings); raise vm.nr_hugepages to measure 2m",
                    pool.nr, pool.free, pool.resv
                )
            }));
        }
        let available = usize::try_from(usable)
            .unwrap_or(usize::MAX)
            .saturating_mul(HUGE_2M);
        let size = self.fault_size.min(available);
        out.fact("fault_size_2m_bytes", size);
        if size < self.fault_size {
            out.fact(
                "fault_size_2m_note",
                format!(
                    "clamped from {} to the {usable} usable 2 MiB pages of the pool",
                    format_size(self.fault_size as u64)
                ),
            );
        }
        Ok(size)
    }
}

/// Maps `size` bytes with `backing`'s flags and advice.
fn map(backing: Backing, size: usize, state: &State) -> Result<Mapping, Skip> {
    match backing {
        Backing::Base => {
            let mapping = Mapping::anonymous(size).map_err(|e| {
                Skip::Failed(format!("4k: mmap of {}: {e}", format_size(size as u64)))
            })?;
            // EINVAL here only means a kernel without THP: base pages anyway.
            let _ = mapping.advise(HugepageAdvice::Avoid);
            Ok(mapping)
        }
        Backing::Hugetlb2m => Mapping::hugetlb_2m(size).map_err(|e| {
            let pool = state.pools.iter().find(|p| p.page_bytes == HUGE_2M as u64);
            let reason = format!(
                "2m: mmap of {} with MAP_HUGETLB failed: {e} ({} of {} 2 MiB pages were free); \
                 the pool is too small or in use, raise vm.nr_hugepages",
                format_size(size as u64),
                pool.map_or(0, |p| p.free),
                pool.map_or(0, |p| p.nr),
            );
            if e.raw_os_error() == Some(libc::ENOMEM) {
                Skip::Unavailable(reason)
            } else {
                Skip::Failed(reason)
            }
        }),
        Backing::Thp => {
            let mapping = Mapping::anonymous_aligned(size, HUGE_2M).map_err(|e| {
                Skip::Failed(format!("thp: mmap of {}: {e}", format_size(size as u64)))
            })?;
            mapping.advise(HugepageAdvice::Use).map_err(|e| {
                Skip::Unavailable(format!("thp: madvise(MADV_HUGEPAGE) refused: {e}"))
            })?;
            Ok(mapping)
        }
    }
}

/// The reason given when no 2 MiB page is reserved.
fn no_pool_message(meminfo: &Meminfo) -> String {
    if meminfo.hugepage_size_bytes == Some(HUGE_2M as u64) {
        "no 2 MiB hugepages reserved: HugePages_Total is 0; reserve with sysctl vm.nr_hugepages=N"
            .into()
    } else {
        "no 2 MiB hugepages reserved: the 2 MiB pool is empty; reserve with \
         echo N > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
            .into()
    }
}

/// Pool samples and facts, and an `unavailable` entry when no 2 MiB page is
/// reserved but overcommit still lets the 2m measurement run.
fn report_state(state: &State, out: &mut ProbeOutput) {
    let m = &state.meminfo;
    out.fact(
        "meminfo",
        json!({
            "mem_total_bytes": m.mem_total_bytes,
            "hugepages_total": m.hugepages_total,
            "hugepages_free": m.hugepages_free,
            "hugepages_rsvd": m.hugepages_rsvd,
            "hugepages_surp": m.hugepages_surp,
            "hugepage_size_bytes": m.hugepage_size_bytes,
            "hugetlb_bytes": m.hugetlb_bytes,
            "anon_huge_bytes": m.anon_huge_bytes,
        }),
    );
    let mut pools = serde_json::Map::new();
    for pool in &state.pools {
        let label = pool.label();
        pools.insert(
            label.clone(),
            json!({
                "page_bytes": pool.page_bytes,
                "nr": pool.nr,
                "free": pool.free,
                "resv": pool.resv,
                "surplus": pool.surplus,
                "overcommit": pool.overcommit,
                "bytes": pool.bytes(),
            }),
        );
        out.samples.push(
            Sample::new(metric::HUGEPAGES_TOTAL, "pages", pool.nr as f64).label("page", &label),
        );
        out.samples.push(
            Sample::new(metric::HUGEPAGES_FREE, "pages", pool.free as f64).label("page", &label),
        );
    }
    // A kernel without the sysfs pools still has the default-size counters.
    if state.pools.is_empty()
        && let (Some(total), Some(free), Some(size)) =
            (m.hugepages_total, m.hugepages_free, m.hugepage_size_bytes)
    {
        let label = kernel::page_label(size);
        out.samples.push(
            Sample::new(metric::HUGEPAGES_TOTAL, "pages", total as f64).label("page", &label),
        );
        out.samples
            .push(Sample::new(metric::HUGEPAGES_FREE, "pages", free as f64).label("page", &label));
    }
    out.fact("pools", Value::Object(pools));

    let coverage = kernel::coverage(&state.pools, m.mem_total_bytes);
    out.fact("pool_bytes", coverage.pool_bytes);
    if let Some(fraction) = coverage.fraction {
        out.fact("pool_fraction_of_memory", fraction);
        out.samples.push(Sample::new(
            metric::HUGEPAGES_POOL_FRACTION,
            "ratio",
            fraction,
        ));
    }
    out.fact("covers_node", coverage.covers_node);
    out.fact(
        "covers_node_rule",
        format!(
            "the hugetlb pools (every page size) hold at least {:.0}% of MemTotal",
            COVERS_NODE_FRACTION * 100.0
        ),
    );
    out.fact("thp_enabled", json!(state.thp_enabled));
    out.fact("thp_defrag", json!(state.thp_defrag));

    if let Some(pool) = state.pools.iter().find(|p| p.page_bytes == HUGE_2M as u64)
        && pool.nr == 0
        && pool.usable_pages() > 0
    {
        out.error(
            NAME,
            ErrorKind::Unavailable,
            format!(
                "{} (2m was measured with surplus pages from vm.nr_overcommit_hugepages)",
                no_pool_message(m)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn probe(fault_size: usize, iterations: u32) -> HugepagesProbe {
        HugepagesProbe {
            fault_size,
            iterations,
            paths: KernelPaths::default(),
        }
    }

    fn bandwidth<'a>(out: &'a ProbeOutput, page: &str) -> Option<&'a Sample> {
        out.samples
            .iter()
            .find(|s| s.metric == metric::HUGEPAGES_FAULT_BANDWIDTH && s.labels["page"] == page)
    }

    /// A fake /proc and /sys: meminfo, one 2 MiB pool, THP mode.
    fn fixture(dir: &Path, nr: u64, free: u64, thp: &str) -> KernelPaths {
        let meminfo = format!(
            "MemTotal:       16777216 kB\nHugePages_Total: {nr}\nHugePages_Free: {free}\n\
             HugePages_Rsvd: 0\nHugePages_Surp: 0\nHugepagesize: 2048 kB\nHugetlb: {} kB\n{}",
            nr * 2048,
            kernel::tests::MEMINFO_REST
        );
        std::fs::write(dir.join("meminfo"), meminfo).unwrap();
        let pool = dir.join("pools/hugepages-2048kB");
        std::fs::create_dir_all(&pool).unwrap();
        std::fs::write(pool.join("nr_hugepages"), format!("{nr}\n")).unwrap();
        std::fs::write(pool.join("free_hugepages"), format!("{free}\n")).unwrap();
        std::fs::create_dir_all(dir.join("thp")).unwrap();
        std::fs::write(dir.join("thp/enabled"), thp).unwrap();
        std::fs::write(dir.join("thp/defrag"), "always defer [madvise] never\n").unwrap();
        KernelPaths {
            meminfo: dir.join("meminfo"),
            pools: dir.join("pools"),
            thp: dir.join("thp"),
        }
    }

    #[test]
    fn base_pages_and_thp_fault_in_on_16_mib() {
        let out = probe(16 << 20, 2).run(&Context::uninterruptible()).unwrap();
        let base = bandwidth(&out, "4k").expect("4k sample");
        assert_eq!(base.raw.len(), 2);
        // Faulting in zeroed pages runs between ~100 MB/s (nested, debug) and
        // a few hundred GB/s; anything outside is a timing bug.
        for rate in &base.raw {
            assert!((1e7..1e12).contains(rate), "4k rate {rate}");
        }
        assert_eq!(base.unit, "bytes/s");
        assert!(out.facts["base_page_bytes"].as_u64().unwrap() >= 4096);
        let thp_mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .ok()
            .and_then(|t| kernel::selected_mode(&t).map(str::to_owned));
        match thp_mode.as_deref() {
            Some("always" | "madvise") => {
                let thp = bandwidth(&out, "thp").expect("thp sample");
                assert_eq!(thp.raw.len(), 2);
                let fraction = out.facts["thp_backed_fraction"].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&fraction));
                let backed = out.facts["thp_backed_bytes"].as_array().unwrap();
                assert_eq!(backed.len(), 2);
            }
            _ => assert!(bandwidth(&out, "thp").is_none()),
        }
        // Pools are reported whatever their size.
        assert!(out.facts.contains_key("covers_node"));
        assert!(out.samples.iter().any(|s| s.metric == "hugepages.total"));
    }

    #[test]
    fn no_pool_is_an_unavailable_2m_entry_beside_the_other_samples() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = probe(4 << 20, 1);
        p.paths = fixture(dir.path(), 0, 0, "[always] madvise never\n");
        let out = p.run(&Context::uninterruptible()).unwrap();
        assert!(bandwidth(&out, "4k").is_some());
        assert!(bandwidth(&out, "thp").is_some());
        assert!(bandwidth(&out, "2m").is_none());
        assert_eq!(out.errors.len(), 1, "{:?}", out.errors);
        assert_eq!(out.errors[0].kind, ErrorKind::Unavailable);
        assert_eq!(
            out.errors[0].message,
            "no 2 MiB hugepages reserved: HugePages_Total is 0; reserve with sysctl vm.nr_hugepages=N"
        );
        let total = out
            .samples
            .iter()
            .find(|s| s.metric == "hugepages.total")
            .unwrap();
        assert_eq!((total.value, total.labels["page"].as_str()), (0.0, "2m"));
        assert_eq!(out.facts["covers_node"], false);
        assert_eq!(out.facts["thp_enabled"], "always");
        assert_eq!(out.facts["thp_defrag"], "madvise");
    }

    #[test]
    fn thp_never_is_unavailable_for_thp_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = probe(2 << 20, 1);
        p.paths = fixture(dir.path(), 0, 0, "always madvise [never]\n");
        let out = p.run(&Context::uninterruptible()).unwrap();
        assert!(bandwidth(&out, "4k").is_some());
        assert!(bandwidth(&out, "thp").is_none());
        let thp_error = out
            .errors
            .iter()
            .find(|e| e.message.starts_with("thp:"))
            .unwrap();
        assert_eq!(thp_error.kind, ErrorKind::Unavailable);
        assert!(thp_error.message.contains("enabled = never"));
    }

    #[test]
    fn a_pool_that_is_in_use_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = probe(2 << 20, 1);
        p.paths = fixture(dir.path(), 8, 0, "always [madvise] never\n");
        let out = p.run(&Context::uninterruptible()).unwrap();
        let e = out
            .errors
            .iter()
            .find(|e| e.message.contains("2 MiB"))
            .unwrap();
        assert_eq!(e.kind, ErrorKind::Unavailable);
        assert!(
            e.message.starts_with("no free 2 MiB hugepages: all 8"),
            "{}",
            e.message
        );
        assert_eq!(out.facts["pool_bytes"], 16u64 << 20);
    }

    #[test]
    fn interrupted_before_measuring_keeps_the_pool_report() {
        let interrupt = bench_core::interrupt::Interrupt::new();
        interrupt.trigger();
        let out = probe(2 << 20, 1).run(&Context::new(interrupt)).unwrap();
        assert!(
            out.samples
                .iter()
                .all(|s| s.metric != metric::HUGEPAGES_FAULT_BANDWIDTH)
        );
        assert!(out.samples.iter().any(|s| s.metric == "hugepages.total"));
        assert_eq!(out.errors.last().unwrap().kind, ErrorKind::Interrupted);
    }

    #[test]
    fn missing_meminfo_is_unavailable() {
        let mut p = probe(2 << 20, 1);
        p.paths.meminfo = "/nonexistent/meminfo".into();
        let err = p.run(&Context::uninterruptible()).unwrap_err();
        assert!(
            matches!(err, ProbeError::Unavailable(ref m) if m.contains("/nonexistent/meminfo"))
        );
    }
}
