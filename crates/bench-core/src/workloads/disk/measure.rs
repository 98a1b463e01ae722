//! What both engines share: where the next I/O goes ([`Offsets`]), when the
//! measured window opens and closes ([`Window`]), and what is recorded per
//! completion ([`Recorder`]), turned into the contract's samples at the end.
//!
//! Only completions inside the window count (like fio after `ramp_time`):
//! IOPS and bandwidth are the totals of the window divided by its length;
//! the per-interval rates are the `raw` of those samples; every completion
//! latency goes into the latency statistics.

use std::time::{Duration, Instant};

use crate::contract::metric;
use crate::schema::Sample;
use crate::stats::Rng;

use super::config::PatternSpec;

/// Most observations kept in a latency sample's `raw` (statistics use all).
pub const RAW_LATENCY_CAP: usize = 100_000;

/// Offsets of successive I/Os: uniformly random block-aligned, or
/// sequential wrapping at the end of the file. Every offset `o` satisfies
/// `o % block_size == 0` and `o + block_size <= size`.
#[derive(Debug, Clone)]
pub struct Offsets {
    random: bool,
    block_size: u64,
    blocks: u64,
    next_block: u64,
    rng: Rng,
}

impl Offsets {
    /// Offsets over a file of `size` bytes (at least one block).
    pub fn new(random: bool, block_size: u64, size: u64, seed: u64) -> Self {
        Offsets {
            random,
            block_size,
            blocks: (size / block_size).max(1),
            next_block: 0,
            rng: Rng::seed_from_u64(seed),
        }
    }

    /// The next offset.
    #[inline]
    pub fn next_offset(&mut self) -> u64 {
        let block = if self.random {
            self.rng.below(self.blocks)
        } else {
            let b = self.next_block;
            self.next_block = if b + 1 >= self.blocks { 0 } else { b + 1 };
            b
        };
        block * self.block_size
    }
}

/// The time line of one pattern: ramp from `start`, measure from
/// `measure_from` until `end`, rates per `interval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When I/O starts.
    pub start: Instant,
    /// When the measured window opens (after the ramp).
    pub measure_from: Instant,
    /// When it closes: nothing is submitted after this.
    pub end: Instant,
    /// Width of the rate intervals.
    pub interval: Duration,
}

impl Window {
    /// A window starting now.
    pub fn starting_now(ramp: Duration, runtime: Duration) -> Self {
        let start = Instant::now();
        Window {
            start,
            measure_from: start + ramp,
            end: start + ramp + runtime,
            interval: rate_interval(runtime),
        }
    }

    /// Measured length.
    pub fn runtime(&self) -> Duration {
        self.end - self.measure_from
    }
}

/// Per-second rates, except for runs under 2 s which get four intervals
/// (so a short test run still has a series).
pub fn rate_interval(runtime: Duration) -> Duration {
    if runtime >= Duration::from_secs(2) {
        Duration::from_secs(1)
    } else {
        (runtime / 4).max(Duration::from_millis(1))
    }
}

/// Completions of one engine (or one thread) in a window.
#[derive(Debug, Clone)]
pub struct Recorder {
    window: Window,
    interval_ns: u64,
    counts: Vec<u64>,
    /// Completion latencies in µs (f32 halves the memory of long fast runs;
    /// 24 bits of mantissa is far finer than the clock's noise).
    latencies_us: Vec<f32>,
}

impl Recorder {
    /// An empty recorder for `window`.
    pub fn new(window: Window) -> Self {
        let interval_ns = (window.interval.as_nanos() as u64).max(1);
        let buckets = (window.runtime().as_nanos() as u64)
            .div_ceil(interval_ns)
            .max(1) as usize;
        Recorder {
            window,
            interval_ns,
            counts: vec![0; buckets],
            latencies_us: Vec::with_capacity(1 << 14),
        }
    }

    /// Records one completed I/O: it counts when `completed_at` falls in the
    /// measured window.
    #[inline]
    pub fn record(&mut self, completed_at: Instant, latency: Duration) {
        if completed_at < self.window.measure_from || completed_at >= self.window.end {
            return;
        }
        // u64 nanoseconds (584 years) divide far faster than u128.
        let since = (completed_at - self.window.measure_from).as_nanos() as u64;
        let bucket = ((since / self.interval_ns) as usize).min(self.counts.len() - 1);
        self.counts[bucket] += 1;
        self.latencies_us.push(latency.as_nanos() as f32 / 1000.0);
    }

    /// Adds another recorder of the same window (another thread).
    pub fn merge(&mut self, other: Recorder) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.latencies_us.extend_from_slice(&other.latencies_us);
    }

    /// I/Os counted so far.
    pub fn ios(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// I/O rates per interval, in ops/s. A trailing partial interval counts
    /// when it is at least half an interval long (its rate uses its length).
    pub fn rates(&self) -> Vec<f64> {
        let runtime = self.window.runtime().as_nanos() as u64;
        let mut rates = Vec::with_capacity(self.counts.len());
        for (i, &count) in self.counts.iter().enumerate() {
            let from = i as u64 * self.interval_ns;
            let len = (runtime - from).min(self.interval_ns);
            if len * 2 < self.interval_ns {
                continue;
            }
            rates.push(count as f64 / (len as f64 / 1e9));
        }
        rates
    }

    /// The samples of one pattern: `disk.iops`, `disk.bandwidth_bytes_per_second`,
    /// `disk.latency_us`, each labelled. `subset_seed` drives the reservoir.
    pub fn into_samples(
        self,
        spec: &PatternSpec,
        direct: bool,
        engine: &str,
        subset_seed: u64,
    ) -> PatternSamples {
        let seconds = self.window.runtime().as_secs_f64();
        let ios = self.ios();
        let bs = spec.block_size as f64;
        let rates = self.rates();
        let label = |s: Sample| {
            s.label("pattern", spec.pattern.as_str())
                .label("block_size", spec.block_size)
                .label("iodepth", spec.iodepth)
                .label("direct", direct)
                .label("engine", engine)
        };
        let iops = ios as f64 / seconds;
        let iops_sample =
            label(Sample::from_series(metric::DISK_IOPS, "ops/s", rates.clone()).with_value(iops));
        let bandwidth = label(
            Sample::from_series(
                metric::DISK_BANDWIDTH,
                "bytes/s",
                rates.iter().map(|r| r * bs).collect(),
            )
            .with_value(iops * bs),
        );
        let (latency, sampled) = latency_sample(self.latencies_us, subset_seed);
        PatternSamples {
            samples: vec![iops_sample, bandwidth, label(latency)],
            ios,
            latency_raw_sampled: sampled,
            ring_setup: None,
        }
    }
}

/// One pattern's samples and what the caller reports about them.
#[derive(Debug, Clone)]
pub struct PatternSamples {
    /// IOPS, bandwidth, latency.
    pub samples: Vec<Sample>,
    /// I/Os in the window.
    pub ios: u64,
    /// `Some(n)` when the latency `raw` is a uniform subset of `n` observations.
    pub latency_raw_sampled: Option<usize>,
    /// The io_uring setup flags used (io_uring engine only).
    pub ring_setup: Option<&'static str>,
}

/// `disk.latency_us` over every observation, with `raw` reservoir-sampled
/// to [`RAW_LATENCY_CAP`] (in completion order) and a histogram of all of
/// them when there are more ([`Sample::from_long_series`]).
fn latency_sample(latencies_us: Vec<f32>, seed: u64) -> (Sample, Option<usize>) {
    let all: Vec<f64> = latencies_us.iter().map(|&x| f64::from(x)).collect();
    drop(latencies_us);
    let n = all.len();
    let sample =
        Sample::from_long_series(metric::DISK_LATENCY_US, "us", all, RAW_LATENCY_CAP, seed);
    (sample, (n > RAW_LATENCY_CAP).then_some(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::disk::config::Pattern;

    #[test]
    fn offsets_are_aligned_and_in_range() {
        for (bs, size) in [
            (4096u64, 16u64 << 20),
            (1 << 20, 16 << 20),
            (4096, 4096),
            (65536, 1 << 20),
        ] {
            let mut random = Offsets::new(true, bs, size, 7);
            let mut seen_high = false;
            for _ in 0..10_000 {
                let o = random.next_offset();
                assert_eq!(o % bs, 0);
                assert!(o + bs <= size);
                seen_high |= o + bs == size;
            }
            assert!(seen_high || size / bs > 1000, "the last block is reachable");
            let mut seq = Offsets::new(false, bs, size, 7);
            let blocks = size / bs;
            for i in 0..3 * blocks {
                assert_eq!(seq.next_offset(), (i % blocks) * bs, "sequential wraps");
            }
        }
        // The same seed gives the same offsets.
        let a: Vec<u64> = (0..5)
            .scan(Offsets::new(true, 4096, 1 << 30, 1), |o, _| {
                Some(o.next_offset())
            })
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(Offsets::new(true, 4096, 1 << 30, 1), |o, _| {
                Some(o.next_offset())
            })
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn random_offsets_cover_blocks_uniformly() {
        // 16 blocks, 160 000 draws: each count ~ Binomial(160 000, 1/16),
        // mean 10 000, sd ≈ 96.8; allow 5 sd.
        let mut o = Offsets::new(true, 4096, 16 * 4096, 3);
        let mut counts = [0u32; 16];
        for _ in 0..160_000 {
            counts[(o.next_offset() / 4096) as usize] += 1;
        }
        assert!(
            counts
                .iter()
                .all(|&c| (f64::from(c) - 10_000.0).abs() < 5.0 * 96.8),
            "{counts:?}"
        );
    }

    fn window(ramp_ms: u64, runtime_ms: u64) -> Window {
        let start = Instant::now();
        Window {
            start,
            measure_from: start + Duration::from_millis(ramp_ms),
            end: start + Duration::from_millis(ramp_ms + runtime_ms),
            interval: rate_interval(Duration::from_millis(runtime_ms)),
        }
    }

    #[test]
    fn completions_are_bucketed_per_interval() {
        let w = window(1000, 3500);
        assert_eq!(w.interval, Duration::from_secs(1));
        let mut r = Recorder::new(w);
        let at = |ms: u64| w.start + Duration::from_millis(ms);
        let lat = Duration::from_micros(250);
        r.record(at(500), lat); // ramp: ignored
        for _ in 0..10 {
            r.record(at(1000), lat); // first instant of the window
        }
        for _ in 0..20 {
            r.record(at(2999), lat);
        }
        for _ in 0..5 {
            r.record(at(4400), lat); // trailing half interval
        }
        r.record(at(4500), lat); // window closed
        assert_eq!(r.ios(), 35);
        assert_eq!(r.counts, vec![10, 20, 0, 5]);
        let mut r2 = Recorder::new(w);
        r2.record(at(1500), lat);
        r2.record(at(3100), lat);
        r.merge(r2);
        assert_eq!(r.counts, vec![11, 20, 1, 5]);
        // Four intervals: three of 1 s and one of 0.5 s (≥ half, kept).
        assert_eq!(r.rates(), vec![11.0, 20.0, 1.0, 10.0]);
        let spec = PatternSpec {
            pattern: Pattern::Randread,
            block_size: 4096,
            iodepth: 32,
        };
        let out = r.into_samples(&spec, true, "io_uring", 1);
        let [iops, bw, latency] = &out.samples[..] else {
            panic!("three samples")
        };
        assert_eq!(iops.metric, "disk.iops");
        assert!((iops.value - 37.0 / 3.5).abs() < 1e-9);
        assert!((bw.value - iops.value * 4096.0).abs() < 1e-6);
        assert_eq!(
            bw.raw,
            vec![11.0 * 4096.0, 20.0 * 4096.0, 4096.0, 10.0 * 4096.0]
        );
        assert_eq!(latency.raw.len(), 37);
        assert!((latency.value - 250.0).abs() < 1e-3);
        assert_eq!(latency.labels["engine"], "io_uring");
        assert_eq!(latency.labels["block_size"], "4096");
        assert_eq!(latency.labels["direct"], "true");
        assert_eq!(latency.labels["pattern"], "randread");
        assert_eq!(latency.labels["iodepth"], "32");
        assert_eq!(out.latency_raw_sampled, None);
    }

    #[test]
    fn short_runs_get_four_intervals_and_drop_a_short_tail() {
        let w = window(0, 300);
        assert_eq!(w.interval, Duration::from_millis(75));
        let r = Recorder::new(w);
        assert_eq!(r.rates().len(), 4);
        let w = Window {
            interval: Duration::from_millis(100),
            ..window(0, 320)
        };
        // 100, 100, 100 and a 20 ms tail (dropped).
        assert_eq!(Recorder::new(w).rates().len(), 3);
    }

    #[test]
    fn big_latency_series_keep_full_stats_and_a_capped_raw() {
        let n = RAW_LATENCY_CAP * 3;
        let values: Vec<f32> = (0..n).map(|i| (i % 1000) as f32).collect();
        let exact = crate::stats::quantile(
            &values.iter().map(|&x| f64::from(x)).collect::<Vec<_>>(),
            0.999,
        )
        .unwrap();
        let (s, sampled) = latency_sample(values, 5);
        assert_eq!(sampled, Some(n));
        assert_eq!(s.raw.len(), RAW_LATENCY_CAP);
        assert!(s.raw_is_subset());
        let stats = s.stats.as_ref().unwrap();
        assert_eq!(stats.n, n as u64);
        assert_eq!(stats.max, 999.0);
        assert!((s.value - 499.5).abs() < 1e-9);
        // The histogram holds every completion: integer µs are whole bins
        // at nanosecond scale below 2.048 µs and within half a bin above.
        let h = s
            .histogram
            .as_ref()
            .expect("a subset raw comes with a histogram");
        assert_eq!(h.unit_scale, 1000);
        assert_eq!(h.count(), n as u64);
        assert_eq!(h.check(Some(stats.n)), Ok(()));
        assert_eq!(h.bins.len(), 1000);
        assert_eq!(h.bins[0], (0.0, 300));
        let p999 = h.quantile(0.999).unwrap();
        assert!((p999 - exact).abs() <= exact / 2048.0, "{p999} vs {exact}");
        // A short series keeps everything and needs no histogram.
        let (short, sampled) = latency_sample(vec![1.0; 10], 5);
        assert_eq!((short.raw.len(), sampled), (10, None));
        assert!(short.histogram.is_none() && !short.raw_is_subset());
    }
}
