//! Disk: IOPS, bandwidth and completion latency of sequential and random
//! reads and writes, and the latency of a 4 KiB write + fdatasync, on a
//! scratch file of our own (or, with `--force`, a named file or device).
//!
//! The same code runs on the node (bench-host) and inside the sandbox
//! (bench-sandbox), so their ratio is the cost of the microVM's block path.
//! The I/O mirrors fio's `io_uring` engine (queue depth kept full, random
//! block-aligned offsets, completion latency from submission to reaping) so
//! the figures can be checked against fio (`scripts/parity/disk.sh`); where
//! io_uring is not allowed, threads doing pread/pwrite stand in and the
//! `engine` label says so.
//!
//! Safety rules ([`scratch`]): only our own uniquely named file is written,
//! it is unlinked right after opening (gone on every exit, Ctrl-C or
//! SIGKILL), free space is checked first, and an existing file or a block
//! device is used only with `--force` and never removed.
//!
//! [`scratch`]: crate::workloads::disk::scratch

pub mod config;
mod engine_threads;
mod engine_uring;
pub mod measure;
pub mod scratch;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::contract::metric;
use crate::exit::Failure;
use crate::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use crate::schema::{ErrorKind, Sample};
use crate::settings::Settings;
use crate::stats::Rng;
use crate::units::format_size;

pub use config::{DiskConfig, EngineChoice, Pattern, PatternSpec, Target};
use scratch::{TestFile, describe, fill_random, fs_type_name};

/// Probe name in documents and logs.
const NAME: &str = "disk";

/// Bytes of each fsync-latency write.
const FSYNC_BLOCK: u64 = 4096;

/// The disk probe's flags (the same in bench-host and bench-sandbox).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DiskArgs {
    /// Where the test file goes.
    #[command(flatten)]
    pub target: DiskTarget,
    /// Access patterns, in order (comma-separated) [default: read,write,randread,randwrite]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PATTERN")]
    pub pattern: Vec<Pattern>,
    /// Bytes per I/O for every pattern, e.g. 4k, 1M [default: 1M for read/write, 4k for randread/randwrite]
    #[arg(long, value_name = "SIZE")]
    pub block_size: Option<String>,
    /// I/Os in flight for every pattern, 1-1024 [default: 8 for read/write, 32 for randread/randwrite]
    #[arg(long, value_name = "N")]
    pub iodepth: Option<u32>,
    /// Bypass the page cache with O_DIRECT [default: true]
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    pub direct: Option<bool>,
    /// Measured time per pattern, e.g. 30s [default: 30s; 1.5s with --quick]
    #[arg(long, value_name = "DURATION")]
    pub runtime: Option<String>,
    /// Unmeasured warm-up before each pattern [default: 5s; 250ms with --quick]
    #[arg(long, value_name = "DURATION")]
    pub ramp: Option<String>,
    /// 4 KiB write + fdatasync operations for the fsync latency, 0 to skip [default: 200; 50 with --quick]
    #[arg(long, value_name = "N")]
    pub fsync_ops: Option<u32>,
    /// I/O engine: io_uring, threads (pread/pwrite), or auto (io_uring when the kernel allows it) [default: auto]
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub engine: Option<EngineChoice>,
}

/// Where the disk probe writes (shared by `disk` and `run`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DiskTarget {
    /// Directory for the scratch file [default: $E2B_STORAGE_DIR (/mnt/sdb/e2b-storage when unset) when it exists, else the current directory]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Size of the test file [default: 1G; 256M with --quick; a device's size]
    #[arg(long, value_name = "SIZE")]
    pub size: Option<String>,
    /// Test on this path instead of a scratch file: a new file (removed afterwards), or with --force an existing file or block device
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Use an existing file or a block device given with --file (its contents are overwritten)
    #[arg(long)]
    pub force: bool,
}

impl ProbeArgs for DiskArgs {
    fn build(&self, quick: bool, settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        let config = config::resolve(self, quick, settings.env.get("E2B_STORAGE_DIR"))?;
        Ok(Box::new(DiskProbe::new(config)))
    }
}

/// The I/O engine a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// io_uring.
    IoUring,
    /// Threads with pread/pwrite.
    Threads,
}

impl Engine {
    /// The `engine` label.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::IoUring => "io_uring",
            Engine::Threads => "threads",
        }
    }

    /// The engine for a request, and why io_uring was passed over (auto).
    pub fn choose(choice: EngineChoice) -> Result<(Engine, Option<String>), ProbeError> {
        match choice {
            EngineChoice::Threads => Ok((Engine::Threads, None)),
            EngineChoice::IoUring => crate::sys::uring::support()
                .map(|()| (Engine::IoUring, None))
                .map_err(|why| {
                    ProbeError::Unavailable(format!(
                        "--engine io_uring: {why}; use --engine threads or auto"
                    ))
                }),
            EngineChoice::Auto => Ok(match crate::sys::uring::support() {
                Ok(()) => (Engine::IoUring, None),
                Err(why) => (Engine::Threads, Some(why)),
            }),
        }
    }
}

/// One pattern's I/O job, as the engines see it.
#[derive(Debug)]
pub(crate) struct Job<'a> {
    file: &'a File,
    spec: PatternSpec,
    size: u64,
    /// Buffer alignment (≥ the O_DIRECT memory alignment).
    align: usize,
    seed: u64,
    ramp: Duration,
    runtime: Duration,
}

/// Runs one pattern on an open test file with the given engine and returns
/// its samples (IOPS, bandwidth, latency). The building block of
/// [`DiskProbe`], public so other tools can run a single pattern.
pub fn run_pattern(
    file: &TestFile,
    spec: &PatternSpec,
    config: &DiskConfig,
    engine: Engine,
    ctx: &Context,
) -> Result<measure::PatternSamples, ProbeError> {
    let dio = file.dio_alignment().filter(|_| config.direct);
    if let Some(d) = dio
        && !spec.block_size.is_multiple_of(u64::from(d.offset))
    {
        return Err(ProbeError::Failed(format!(
            "block size {} is not a multiple of the O_DIRECT alignment {} of {}",
            spec.block_size,
            d.offset,
            file.path().display()
        )));
    }
    let align = dio.map_or(4096, |d| (d.memory as usize).max(4096));
    let job = Job {
        file: file.io_file(config.direct),
        spec: *spec,
        size: file.size(),
        align,
        seed: config.seed ^ (spec.pattern as u64 + 1).wrapping_mul(0x2545_F491_4F6C_DD1D),
        ramp: config.ramp,
        runtime: config.runtime,
    };
    let (recorder, ring_setup) = match engine {
        Engine::IoUring => {
            let (recorder, setup) = engine_uring::run(&job, ctx.interrupt())?;
            (recorder, Some(setup))
        }
        Engine::Threads => (engine_threads::run(&job, ctx.interrupt())?, None),
    };
    let mut result = recorder.into_samples(spec, config.direct, engine.as_str(), job.seed);
    result.ring_setup = ring_setup;
    Ok(result)
}

/// `disk.fsync_latency_us` observations: `ops` × (4 KiB pwrite at a random
/// aligned offset + fdatasync) on the buffered descriptor, in µs each.
pub fn fsync_latencies(
    file: &TestFile,
    ops: u32,
    seed: u64,
    ctx: &Context,
) -> Result<Vec<f64>, ProbeError> {
    use std::os::unix::fs::FileExt;
    let mut rng = Rng::seed_from_u64(seed ^ 0xF5_F5);
    let mut block = vec![0u8; FSYNC_BLOCK as usize];
    fill_random(&mut block, &mut rng);
    let blocks = (file.size() / FSYNC_BLOCK).max(1);
    let fd = file.buffered();
    let mut latencies = Vec::with_capacity(ops as usize);
    for _ in 0..ops {
        ctx.check()?;
        let offset = rng.below(blocks) * FSYNC_BLOCK;
        let started = Instant::now();
        fd.write_all_at(&block, offset)
            .and_then(|()| fd.sync_data())
            .map_err(|e| {
                ProbeError::io(&format!("4 KiB write + fdatasync at offset {offset}"), &e)
            })?;
        latencies.push(started.elapsed().as_nanos() as f64 / 1000.0);
    }
    Ok(latencies)
}

/// The disk probe: a validated [`DiskConfig`].
#[derive(Debug, Clone)]
pub struct DiskProbe {
    config: DiskConfig,
}

impl DiskProbe {
    /// A probe running `config`.
    pub fn new(config: DiskConfig) -> Self {
        DiskProbe { config }
    }

    /// Its plan.
    pub fn config(&self) -> &DiskConfig {
        &self.config
    }
}

/// `randread 4k qd32`.
fn spec_name(spec: &PatternSpec) -> String {
    format!(
        "{} {} qd{}",
        spec.pattern.as_str(),
        format_size(spec.block_size),
        spec.iodepth
    )
}

impl Probe for DiskProbe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parameters(&self) -> Value {
        self.config.parameters()
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        let cfg = &self.config;
        let mut out = ProbeOutput::default();
        let (engine, fallback) = Engine::choose(cfg.engine)?;
        out.fact("engine", engine.as_str());
        if let Some(why) = fallback {
            tracing::warn!("{NAME}: io_uring unavailable ({why}); using threads with pread/pwrite");
            out.fact("engine_fallback_reason", why);
        }
        ctx.check()?;
        let file = TestFile::open(&cfg.target, cfg.size, cfg.direct, cfg.seed)?;
        record_file_facts(&mut out, cfg, &file);
        if file.created() || matches!(cfg.target, Target::ExistingFile { .. }) {
            ctx.step(
                NAME,
                &format!("laying out {}", describe(&file, &cfg.target)),
            );
        }
        let layout = file.lay_out(cfg.seed, ctx)?;
        out.fact("layout_s", layout.as_secs_f64());
        if !cfg.direct {
            out.fact(
                "page_cache",
                "buffered I/O; the file's cached pages are dropped with posix_fadvise(DONTNEED) after the layout and between patterns",
            );
        }
        out.fact(
            "rate_interval_s",
            measure::rate_interval(cfg.runtime).as_secs_f64(),
        );
        let mut finished: Vec<String> = Vec::new();
        let mut sampled = BTreeMap::new();
        for spec in &cfg.patterns {
            let name = spec_name(spec);
            if ctx.interrupted() {
                return interrupted(out, &finished, &name);
            }
            ctx.step(
                NAME,
                &format!(
                    "{name} direct={} ({}), {:.1}s + {:.1}s ramp",
                    cfg.direct,
                    engine.as_str(),
                    cfg.runtime.as_secs_f64(),
                    cfg.ramp.as_secs_f64()
                ),
            );
            match run_pattern(&file, spec, cfg, engine, ctx) {
                Ok(result) => {
                    if let Some(n) = result.latency_raw_sampled {
                        sampled.insert(name.clone(), json!(n));
                    }
                    tracing::debug!("{NAME}: {name}: {} I/Os", result.ios);
                    if let Some(setup) = result.ring_setup {
                        out.fact("io_uring_setup", setup);
                    }
                    out.samples.extend(result.samples);
                    finished.push(name.clone());
                }
                Err(ProbeError::Interrupted) => return interrupted(out, &finished, &name),
                Err(e) => out.error(NAME, e.kind(), format!("{name}: {e}")),
            }
            if let Err(e) = file.settle() {
                tracing::warn!("{NAME}: could not sync or drop the page cache after {name}: {e}");
            }
        }
        if !sampled.is_empty() {
            out.fact(
                "latency_raw_sampled",
                json!({
                    "kept": measure::RAW_LATENCY_CAP,
                    "observations": sampled,
                    "note": "stats use every completion; raw is a uniform reservoir sample",
                }),
            );
        }
        if cfg.fsync_ops > 0 {
            ctx.step(
                NAME,
                &format!("fsync latency: {} × (4k write + fdatasync)", cfg.fsync_ops),
            );
            match fsync_latencies(&file, cfg.fsync_ops, cfg.seed, ctx) {
                Ok(latencies) => out.samples.push(Sample::from_series(
                    metric::DISK_FSYNC_LATENCY_US,
                    "us",
                    latencies,
                )),
                Err(ProbeError::Interrupted) => {
                    return interrupted(out, &finished, "fsync latency");
                }
                Err(e) => out.error(NAME, e.kind(), format!("fsync latency: {e}")),
            }
        }
        Ok(out)
    }
}

/// What an interrupted run returns: the finished patterns with an
/// `interrupted` entry, or [`ProbeError::Interrupted`] when none finished.
fn interrupted(
    mut out: ProbeOutput,
    finished: &[String],
    during: &str,
) -> Result<ProbeOutput, ProbeError> {
    if out.samples.is_empty() {
        return Err(ProbeError::Interrupted);
    }
    out.error(
        NAME,
        ErrorKind::Interrupted,
        format!(
            "interrupted during {during}; finished: {}",
            finished.join(", ")
        ),
    );
    Ok(out)
}

fn record_file_facts(out: &mut ProbeOutput, cfg: &DiskConfig, file: &TestFile) {
    out.fact("file", file.path().display().to_string());
    out.fact("size_bytes", file.size());
    out.fact("created_by_us", file.created());
    out.fact("block_device", file.is_block_device());
    if file.unlink_deferred() {
        out.fact("unlink_deferred", true);
    }
    let fs_dir = match &cfg.target {
        Target::Scratch { dir } => Some(dir.clone()),
        Target::NewFile { path } | Target::ExistingFile { path } => Some(config::parent_dir(path)),
        Target::BlockDevice { .. } => None,
    };
    if let Some(dir) = fs_dir {
        let absolute = std::fs::canonicalize(&dir).unwrap_or(dir);
        out.fact("fs_type", fs_type_name(&absolute));
        out.fact("dir", absolute.display().to_string());
    }
    out.fact("dir_source", cfg.dir_source);
    if let Some(d) = file.dio_alignment() {
        out.fact(
            "dio_alignment",
            json!({"memory": d.memory, "offset": d.offset}),
        );
    }
}

#[cfg(test)]
mod tests;
