//! CPU: sysbench's `cpu` test, event for event, so `cpu.events_per_second`
//! can be read next to a sysbench figure and the host/sandbox ratio is the
//! cost of the VM on integer division.
//!
//! One event is sysbench's loop (src/tests/cpu/sb_cpu.c): for every
//! `c` in `3..max_prime`, trial-divide by `l = 2, 3, …` while `l <= √c`
//! (compared in `f64`) and count `c` as prime when no divisor was found.
//! Each thread runs events back to back until `--time` has elapsed, counting
//! them per one-second interval. The headline is total events / elapsed
//! time, as sysbench's "events per second"; `raw` keeps the per-second rates
//! of the whole run (summed over threads). With 1 thread among the counts,
//! `cpu.scaling_efficiency` = eps(N) / (N · eps(1)) says how far N threads
//! are from N times one.
//!
//! The machine code matters as much as the algorithm: gcc compiles sysbench's
//! `c % l` to a 64-bit `div` and its `l = 2` step to a parity test, while
//! LLVM would take a faster 32-bit `div` whenever the operands fit. The event
//! therefore issues the 64-bit instruction itself (`sys::divide`) and tests
//! parity for `l = 2`, which puts events/s within a few percent of sysbench
//! built by gcc on the same machine.

use std::hint::black_box;
use std::num::NonZeroU64;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::contract::metric;
use crate::exit::Failure;
use crate::interrupt::Interrupt;
use crate::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use crate::schema::{ErrorKind, Sample};
use crate::settings::Settings;

/// sysbench's default `--cpu-max-prime`.
pub const DEFAULT_MAX_PRIME: u64 = 10_000;
/// Largest `--max-prime` accepted: one event then takes seconds, and an
/// event is never cut short (neither by `--time` nor by Ctrl-C).
pub const MAX_MAX_PRIME: u64 = 10_000_000;
/// Run time per thread count (sysbench's default `--time`).
pub const DEFAULT_TIME: Duration = Duration::from_secs(10);
/// Run time per thread count with `--quick`.
pub const QUICK_TIME: Duration = Duration::from_secs(2);
/// Largest thread count accepted by `--threads`.
pub const MAX_THREADS: usize = 4096;

/// Flags of the `cpu` probe (the same in bench-host and bench-sandbox).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CpuArgs {
    /// Thread counts to run, one after the other, comma-separated (e.g. 1,2,8) [default: 1 and all cores]
    #[arg(long, value_name = "N,...")]
    pub threads: Option<String>,
    /// Each event counts the primes below this, by trial division (sysbench's --cpu-max-prime) [default: 10000]
    #[arg(long, value_name = "N")]
    pub max_prime: Option<String>,
    /// How long each thread count runs (e.g. 10s, 500ms) [default: 10s; 2s with --quick]
    #[arg(long, value_name = "DURATION")]
    pub time: Option<String>,
}

impl ProbeArgs for CpuArgs {
    fn build(&self, quick: bool, settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        let cpu_count = settings.fingerprint.cpu_count.max(1) as usize;
        let config = CpuConfig::from_args(self, quick, cpu_count)?;
        Ok(Box::new(CpuProbe { config }))
    }
}

/// A validated `cpu` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuConfig {
    /// Thread counts, run in this order.
    pub threads: Vec<usize>,
    /// sysbench's `--cpu-max-prime`.
    pub max_prime: u64,
    /// Run time of each thread count.
    pub duration: Duration,
}

impl CpuConfig {
    /// Applies the defaults (which depend on `quick` and the number of
    /// cores) and validates the flags; the error names the flag.
    pub fn from_args(args: &CpuArgs, quick: bool, cpu_count: usize) -> Result<Self, Failure> {
        let threads = match &args.threads {
            Some(text) => parse_thread_counts("--threads", text)?,
            None => default_thread_counts(cpu_count),
        };
        let max_prime = match &args.max_prime {
            None => DEFAULT_MAX_PRIME,
            Some(text) => crate::units::parse_count(text, 3..=MAX_MAX_PRIME).map_err(|e| {
                Failure::usage(format!("--max-prime {e}; sysbench's default is 10000"))
            })?,
        };
        let duration = match &args.time {
            None if quick => QUICK_TIME,
            None => DEFAULT_TIME,
            Some(text) => crate::units::parse_duration_in(text, crate::units::POSITIVE_DURATION)
                .map_err(|e| Failure::usage(format!("--time {e}")))?,
        };
        Ok(CpuConfig {
            threads,
            max_prime,
            duration,
        })
    }

    /// What the document's `parameters.cpu` records.
    pub fn to_json(&self) -> Value {
        json!({
            "threads": self.threads,
            "max_prime": self.max_prime,
            "time_s": self.duration.as_secs_f64(),
        })
    }
}

/// Parses a comma-separated list of thread counts (`1,2,8`), each between 1
/// and [`MAX_THREADS`]; duplicates are dropped, the order is kept. `flag`
/// names the flag in the error.
pub fn parse_thread_counts(flag: &str, text: &str) -> Result<Vec<usize>, Failure> {
    let mut counts = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        let n: usize = item.parse().map_err(|_| {
            Failure::usage(format!(
                "{flag} '{text}': '{item}' is not a thread count; use whole numbers separated by commas, e.g. 1,2,8"
            ))
        })?;
        if !(1..=MAX_THREADS).contains(&n) {
            return Err(Failure::usage(format!(
                "{flag} '{text}': each thread count must be between 1 and {MAX_THREADS}"
            )));
        }
        if !counts.contains(&n) {
            counts.push(n);
        }
    }
    Ok(counts)
}

/// 1 thread and one per core (just 1 on a single core).
pub fn default_thread_counts(cpu_count: usize) -> Vec<usize> {
    if cpu_count > 1 {
        vec![1, cpu_count]
    } else {
        vec![1]
    }
}

/// One sysbench `cpu` event: the number of primes in `3..max_prime`, found
/// by trial division up to `√c` exactly as sysbench does it (u64 operands,
/// the bound compared in f64). The count itself is not something sysbench
/// reports; returning it keeps the optimizer from deleting the loop.
pub fn prime_event(max_prime: u64) -> u64 {
    let mut primes = 0u64;
    for c in 3..max_prime {
        let t = (c as f64).sqrt();
        // `l` never exceeds √max_prime + 1 < 2^33, so the signed conversion
        // is exact: it is the one-instruction form gcc emits for sysbench.
        let as_f64 = |l: u64| l as i64 as f64;
        // l = 2 is a parity test, the way gcc -O2 compiles sysbench's first
        // iteration (c % 2 == c & 1); the rest are real 64-bit divisions.
        let mut l: u64 = 2;
        if as_f64(l) <= t && c & 1 != 0 {
            l = 3;
            while as_f64(l) <= t {
                let divisor = NonZeroU64::new(l).unwrap_or(NonZeroU64::MIN);
                if crate::sys::divide::remainder_u64(c, divisor) == 0 {
                    break;
                }
                l += 1;
            }
        }
        if as_f64(l) > t {
            primes += 1;
        }
    }
    primes
}

/// What one thread count measured.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuRun {
    /// Threads that ran events.
    pub threads: usize,
    /// Events finished by all threads.
    pub events: u64,
    /// From the first thread starting to the last one finishing its last event.
    pub elapsed: Duration,
    /// Events/s of each one-second interval, summed over threads (the last
    /// interval also holds the events that finished after `--time`).
    pub interval_rates: Vec<f64>,
    /// Events finished by each thread.
    pub events_per_thread: Vec<u64>,
}

impl CpuRun {
    /// sysbench's "events per second": total events / elapsed time.
    pub fn events_per_second(&self) -> f64 {
        events_per_second(self.events, self.elapsed)
    }
}

/// Events per second of `events` in `elapsed` (0 for an empty interval).
pub fn events_per_second(events: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        events as f64 / secs
    } else {
        0.0
    }
}

/// Number of one-second intervals of a run of `duration` (the last may be partial).
fn interval_count(duration: Duration) -> usize {
    (duration.as_secs_f64().ceil() as usize).max(1)
}

/// Per-interval rates from per-interval event counts: every interval is one
/// second long except the last, which runs to `elapsed`.
pub fn interval_rates(counts: &[u64], elapsed: Duration) -> Vec<f64> {
    let last = counts.len().saturating_sub(1);
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let length = if i == last {
                (elapsed.as_secs_f64() - last as f64).max(f64::MIN_POSITIVE)
            } else {
                1.0
            };
            n as f64 / length
        })
        .collect()
}

/// Runs events on `threads` threads for `duration`. `None` when `interrupt`
/// was set before the run completed (its figures would cover a shorter run).
pub fn run_threads(
    threads: usize,
    max_prime: u64,
    duration: Duration,
    interrupt: &Interrupt,
) -> Option<CpuRun> {
    let intervals = interval_count(duration);
    let start_line = Barrier::new(threads);
    let per_thread: Vec<ThreadEvents> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let start_line = &start_line;
                scope.spawn(move || {
                    start_line.wait();
                    event_loop(max_prime, duration, intervals, interrupt)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    // From the first thread starting to the last one finishing: a thread
    // that was descheduled at the start line still counts in full.
    let first_start = per_thread.iter().map(|t| t.started).min()?;
    let last_end = per_thread.iter().map(|t| t.ended).max()?;
    let elapsed = last_end.duration_since(first_start);
    if interrupt.is_set() {
        return None;
    }
    let mut counts = vec![0u64; intervals];
    for thread in &per_thread {
        for (total, n) in counts.iter_mut().zip(&thread.counts) {
            *total += n;
        }
    }
    let events_per_thread: Vec<u64> = per_thread.iter().map(|t| t.counts.iter().sum()).collect();
    Some(CpuRun {
        threads,
        events: events_per_thread.iter().sum(),
        elapsed,
        interval_rates: interval_rates(&counts, elapsed),
        events_per_thread,
    })
}

/// What one thread did: events per one-second interval, and when it
/// started and finished.
struct ThreadEvents {
    counts: Vec<u64>,
    started: Instant,
    ended: Instant,
}

/// One thread: events back to back until `duration`, counted by the second
/// they finished in (later ones in the last interval). Checks the clock and
/// the interrupt flag once per event, as sysbench checks its time limit.
fn event_loop(
    max_prime: u64,
    duration: Duration,
    intervals: usize,
    interrupt: &Interrupt,
) -> ThreadEvents {
    let mut counts = vec![0u64; intervals];
    let started = Instant::now();
    let mut now = Duration::ZERO;
    while now < duration && !interrupt.is_set() {
        black_box(prime_event(black_box(max_prime)));
        now = started.elapsed();
        let interval = (now.as_secs() as usize).min(intervals - 1);
        counts[interval] += 1;
    }
    ThreadEvents {
        counts,
        started,
        ended: started + now,
    }
}

/// Runs every thread count of `config` and turns them into samples:
/// `cpu.events_per_second` per thread count and `cpu.scaling_efficiency`
/// for N > 1 when 1 thread ran. Interrupted: the finished thread counts
/// plus an `interrupted` error entry, or [`ProbeError::Interrupted`] when
/// none finished.
pub fn run_cpu(config: &CpuConfig, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
    let mut out = ProbeOutput::default();
    // What one event finds (1228 for 10000): proof the loop is sysbench's.
    // Skipped for huge --max-prime, where one event takes seconds.
    if config.max_prime <= 1_000_000 {
        out.fact("primes_per_event", prime_event(config.max_prime));
    }
    let mut runs: Vec<CpuRun> = Vec::new();
    for &threads in &config.threads {
        if ctx.interrupted() {
            interrupted_after(&runs, &mut out, threads).ok_or(ProbeError::Interrupted)?;
            break;
        }
        ctx.step(
            "cpu",
            &format!(
                "{threads} thread(s), max prime {}, {:.1} s",
                config.max_prime,
                config.duration.as_secs_f64()
            ),
        );
        match run_threads(threads, config.max_prime, config.duration, ctx.interrupt()) {
            Some(run) => {
                tracing::debug!(
                    "cpu: {threads} thread(s): {} events in {:.3} s = {:.2} events/s",
                    run.events,
                    run.elapsed.as_secs_f64(),
                    run.events_per_second()
                );
                runs.push(run);
            }
            None => {
                interrupted_after(&runs, &mut out, threads).ok_or(ProbeError::Interrupted)?;
                break;
            }
        }
    }
    out.samples = samples(&runs, config.max_prime);
    out.fact(
        "runs",
        runs.iter()
            .map(|r| {
                json!({
                    "threads": r.threads,
                    "events": r.events,
                    "elapsed_s": r.elapsed.as_secs_f64(),
                    "events_per_thread": r.events_per_thread,
                })
            })
            .collect::<Vec<_>>(),
    );
    Ok(out)
}

/// Records an interruption before or during `threads`; `None` when nothing
/// finished (the probe then reports [`ProbeError::Interrupted`]).
fn interrupted_after(runs: &[CpuRun], out: &mut ProbeOutput, threads: usize) -> Option<()> {
    if runs.is_empty() {
        return None;
    }
    if !out.errors.iter().any(|e| e.kind == ErrorKind::Interrupted) {
        out.error(
            "cpu",
            ErrorKind::Interrupted,
            format!("interrupted before the {threads}-thread run finished; earlier thread counts are kept"),
        );
    }
    Some(())
}

/// The samples of finished runs.
pub fn samples(runs: &[CpuRun], max_prime: u64) -> Vec<Sample> {
    let mut samples: Vec<Sample> = runs
        .iter()
        .map(|run| {
            Sample::from_series(
                metric::CPU_EVENTS_PER_SECOND,
                "events/s",
                run.interval_rates.clone(),
            )
            .with_value(run.events_per_second())
            .label("threads", run.threads)
            .label("max_prime", max_prime)
        })
        .collect();
    if let Some(single) = runs.iter().find(|r| r.threads == 1) {
        for run in runs.iter().filter(|r| r.threads > 1) {
            if let Some(efficiency) = scaling_efficiency(
                single.events_per_second(),
                run.events_per_second(),
                run.threads,
            ) {
                samples.push(
                    Sample::new(metric::CPU_SCALING_EFFICIENCY, "ratio", efficiency)
                        .label("threads", run.threads)
                        .label("max_prime", max_prime),
                );
            }
        }
    }
    samples
}

/// eps(N) / (N · eps(1)): 1 when N threads do N times the work of one.
pub fn scaling_efficiency(eps_one: f64, eps_n: f64, threads: usize) -> Option<f64> {
    let ideal = eps_one * threads as f64;
    (ideal > 0.0 && eps_n.is_finite()).then(|| eps_n / ideal)
}

/// The `cpu` probe.
#[derive(Debug, Clone)]
pub struct CpuProbe {
    /// What it runs.
    pub config: CpuConfig,
}

impl Probe for CpuProbe {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn parameters(&self) -> Value {
        self.config.to_json()
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        run_cpu(&self.config, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop as written in sb_cpu.c, with the plain `%` operator.
    fn reference_event(max_prime: u64) -> u64 {
        let mut n = 0;
        for c in 3..max_prime {
            let t = (c as f64).sqrt();
            let mut l = 2u64;
            while l as f64 <= t {
                if c % l == 0 {
                    break;
                }
                l += 1;
            }
            if l as f64 > t {
                n += 1;
            }
        }
        n
    }

    #[test]
    fn the_event_counts_odd_primes_below_max_prime() {
        // 25 primes below 100; the loop starts at c = 3, so 2 is not counted.
        assert_eq!(prime_event(100), 24);
        assert_eq!(prime_event(10_000), 1228); // π(10^4) = 1229
        assert_eq!(prime_event(3), 0);
        assert_eq!(prime_event(4), 1);
        for max_prime in [3, 4, 5, 10, 17, 50, 101, 1000, 4097] {
            assert_eq!(
                prime_event(max_prime),
                reference_event(max_prime),
                "max_prime {max_prime}"
            );
        }
    }

    #[test]
    fn events_per_second_is_events_over_elapsed() {
        assert_eq!(events_per_second(3000, Duration::from_millis(1500)), 2000.0);
        assert_eq!(events_per_second(5, Duration::ZERO), 0.0);
        let run = CpuRun {
            threads: 2,
            events: 4100,
            elapsed: Duration::from_secs_f64(2.05),
            interval_rates: vec![],
            events_per_thread: vec![2050, 2050],
        };
        assert!((run.events_per_second() - 2000.0).abs() < 1e-9);
    }

    #[test]
    fn the_last_interval_runs_to_the_end() {
        let rates = interval_rates(&[1000, 1000, 520], Duration::from_secs_f64(2.5));
        assert_eq!(rates[..2], [1000.0, 1000.0]);
        assert!((rates[2] - 1040.0).abs() < 1e-9);
        // Rates × lengths add back up to the events.
        let rates = interval_rates(&[7], Duration::from_secs_f64(0.5));
        assert_eq!(rates, [14.0]);
        assert_eq!(interval_count(Duration::from_millis(500)), 1);
        assert_eq!(interval_count(Duration::from_secs(10)), 10);
        assert_eq!(interval_count(Duration::from_millis(10_001)), 11);
    }

    #[test]
    fn scaling_efficiency_compares_with_n_times_one_thread() {
        assert_eq!(scaling_efficiency(1000.0, 1800.0, 2), Some(0.9));
        assert_eq!(scaling_efficiency(0.0, 1800.0, 2), None);
        let run = |threads, events| CpuRun {
            threads,
            events,
            elapsed: Duration::from_secs(1),
            interval_rates: vec![events as f64],
            events_per_thread: vec![],
        };
        let samples = samples(&[run(1, 1000), run(4, 3000)], 10_000);
        assert_eq!(samples.len(), 3);
        let eff = samples
            .iter()
            .find(|s| s.metric == "cpu.scaling_efficiency")
            .unwrap();
        assert_eq!(eff.value, 0.75);
        assert_eq!(eff.unit, "ratio");
        assert_eq!(eff.labels["threads"], "4");
        assert_eq!(eff.labels["max_prime"], "10000");
        let eps = &samples[1];
        assert_eq!(
            (eps.metric.as_str(), eps.unit.as_str(), eps.value),
            ("cpu.events_per_second", "events/s", 3000.0)
        );
        // Without a 1-thread run there is nothing to compare with.
        assert!(
            super::samples(&[run(4, 3000)], 100)
                .iter()
                .all(|s| s.metric != "cpu.scaling_efficiency")
        );
    }

    #[test]
    fn a_short_run_counts_every_event_once() {
        let run = run_threads(2, 1000, Duration::from_millis(200), &Interrupt::new()).unwrap();
        assert_eq!(run.threads, 2);
        assert_eq!(run.interval_rates.len(), 1);
        assert_eq!(run.events_per_thread.len(), 2);
        assert!(run.events_per_thread.iter().all(|&n| n > 0));
        assert!(run.elapsed >= Duration::from_millis(200));
        let recounted = run.interval_rates[0] * run.elapsed.as_secs_f64();
        assert!((recounted - run.events as f64).abs() < 1e-6);
    }

    #[test]
    fn interruption_keeps_finished_thread_counts() {
        let config = CpuConfig {
            threads: vec![1],
            max_prime: 100,
            duration: Duration::from_millis(50),
        };
        let interrupt = Interrupt::new();
        interrupt.trigger();
        let ctx = Context::new(interrupt.clone());
        assert_eq!(run_cpu(&config, &ctx), Err(ProbeError::Interrupted));
        assert!(run_threads(1, 100, Duration::from_secs(60), &interrupt).is_none());

        // One thread count finished, then Ctrl-C: its sample stays.
        let runs = [CpuRun {
            threads: 1,
            events: 10,
            elapsed: Duration::from_secs(1),
            interval_rates: vec![10.0],
            events_per_thread: vec![10],
        }];
        let mut out = ProbeOutput::default();
        assert!(interrupted_after(&runs, &mut out, 2).is_some());
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].kind, ErrorKind::Interrupted);
    }

    fn args(threads: Option<&str>, max_prime: Option<&str>, time: Option<&str>) -> CpuArgs {
        CpuArgs {
            threads: threads.map(str::to_owned),
            max_prime: max_prime.map(str::to_owned),
            time: time.map(str::to_owned),
        }
    }

    #[test]
    fn defaults_depend_on_cores_and_quick() {
        let c = CpuConfig::from_args(&CpuArgs::default(), false, 8).unwrap();
        assert_eq!(c.threads, [1, 8]);
        assert_eq!(c.max_prime, 10_000);
        assert_eq!(c.duration, Duration::from_secs(10));
        let c = CpuConfig::from_args(&CpuArgs::default(), true, 1).unwrap();
        assert_eq!(c.threads, [1]);
        assert_eq!(c.duration, Duration::from_secs(2));
        let c = CpuConfig::from_args(&args(Some("2, 1,2"), Some("20000"), Some("500ms")), true, 4)
            .unwrap();
        assert_eq!(c.threads, [2, 1]);
        assert_eq!(c.max_prime, 20_000);
        assert_eq!(c.duration, Duration::from_millis(500));
        assert_eq!(c.to_json()["time_s"], 0.5);
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let err = |a: CpuArgs| CpuConfig::from_args(&a, false, 4).unwrap_err();
        for (a, flag, needle) in [
            (
                args(Some("0"), None, None),
                "--threads",
                "between 1 and 4096",
            ),
            (
                args(Some("4097"), None, None),
                "--threads",
                "between 1 and 4096",
            ),
            (
                args(Some("1,,2"), None, None),
                "--threads",
                "not a thread count",
            ),
            (
                args(Some("two"), None, None),
                "--threads",
                "not a thread count",
            ),
            (args(None, Some("2"), None), "--max-prime", "from 3 to"),
            (
                args(None, Some("1e4"), None),
                "--max-prime",
                "must be a whole number",
            ),
            (args(None, None, Some("0")), "--time", "longer than 0"),
            (args(None, None, Some("soon")), "--time", "not a duration"),
        ] {
            let e = err(a);
            assert_eq!(e.code, crate::exit::USAGE);
            assert!(e.message.starts_with(flag), "{}", e.message);
            assert!(e.message.contains(needle), "{}", e.message);
            assert!(!e.message.contains('\n'));
        }
    }
}
