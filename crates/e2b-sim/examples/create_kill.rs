//! Emulator throughput: create+kill cycles per second at zero injected
//! latency, over real HTTP on loopback, with the clients in this process (so
//! they share the CPU with the server and the figure understates the
//! emulator alone). Prints the rate and the create and kill latency
//! percentiles. Run by `scripts/bench-sim.sh` (release build).
//!
//!   cargo run --release -p e2b-sim --example create_kill -- [--clients N] [--seconds S]

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use bench_core::stats::{quantile_sorted, sorted_finite};
use clap::Parser;
use e2b_sim::SimConfig;
use serde_json::{Value, json};

const KEY: &str = "e2b_bench_sim_key";

#[derive(Debug, Parser)]
#[command(about = "create+kill cycles per second against the zero-latency emulator")]
struct Args {
    /// Concurrent clients, each running create then kill in a loop.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    clients: u32,
    /// Measured time, seconds (after a one-second warm-up).
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
}

/// Latencies of one client's cycles, milliseconds.
#[derive(Debug, Default)]
struct Samples {
    create_ms: Vec<f64>,
    kill_ms: Vec<f64>,
}

async fn cycle(c: &reqwest::Client, api: &str) -> anyhow::Result<(Duration, Duration)> {
    let t = Instant::now();
    let r = c
        .post(format!("{api}/sandboxes"))
        .header("X-API-Key", KEY)
        .json(&json!({"templateID": "base"}))
        .send()
        .await
        .context("POST /sandboxes")?;
    ensure!(r.status() == 201, "POST /sandboxes answered {}", r.status());
    let body: Value = r.json().await.context("POST /sandboxes body")?;
    let create = t.elapsed();
    let Some(id) = body["sandboxID"].as_str() else {
        bail!("POST /sandboxes answered without a sandboxID: {body}");
    };
    let t = Instant::now();
    let r = c
        .delete(format!("{api}/sandboxes/{id}"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .context("DELETE /sandboxes/{id}")?;
    ensure!(
        r.status() == 204,
        "DELETE /sandboxes/{id} answered {}",
        r.status()
    );
    Ok((create, t.elapsed()))
}

/// Runs cycles until `until`, recording them only after `record_from`.
async fn client(
    c: reqwest::Client,
    api: String,
    record_from: Instant,
    until: Instant,
) -> anyhow::Result<Samples> {
    let mut s = Samples::default();
    while Instant::now() < until {
        let (create, kill) = cycle(&c, &api).await?;
        if Instant::now() >= record_from {
            s.create_ms.push(create.as_secs_f64() * 1e3);
            s.kill_ms.push(kill.as_secs_f64() * 1e3);
        }
    }
    Ok(s)
}

fn percentiles(out: &mut impl std::io::Write, name: &str, xs: &[f64]) -> std::io::Result<()> {
    let sorted = sorted_finite(xs);
    let q = |p| quantile_sorted(&sorted, p);
    writeln!(
        out,
        "{name:<6} ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  max {:.3}",
        q(0.5),
        q(0.9),
        q(0.99),
        q(1.0)
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(
        args.seconds.is_finite() && args.seconds > 0.0,
        "--seconds must be a positive number, got {}",
        args.seconds
    );
    // reqwest is built with `rustls-no-provider`; a second install is a no-op error.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = e2b_sim::start(SimConfig::for_tests(KEY)).await?;
    let c = reqwest::Client::builder().no_proxy().build()?;
    let warm_up = Duration::from_secs(1);
    let record_from = Instant::now() + warm_up;
    let until = record_from + Duration::from_secs_f64(args.seconds);
    let tasks: Vec<_> = (0..args.clients)
        .map(|_| tokio::spawn(client(c.clone(), sim.api_url.clone(), record_from, until)))
        .collect();
    let mut all = Samples::default();
    for t in tasks {
        let s = t.await.context("a client task panicked")??;
        all.create_ms.extend(s.create_ms);
        all.kill_ms.extend(s.kill_ms);
    }
    // Cycles that began in the warm-up but ended after it are counted, so the
    // window is measured from its start to the last cycle's end.
    let window = record_from.elapsed().as_secs_f64();
    let cycles = all.create_ms.len();
    let live = sim.stats().live;
    sim.shutdown().await;
    ensure!(cycles > 0, "no cycle completed in the measured window");
    ensure!(live == 0, "{live} sandboxes left alive after every kill");
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "create+kill cycles/s: {:.0} ({cycles} cycles in {window:.2} s, {} clients, after a {} s warm-up)",
        cycles as f64 / window,
        args.clients,
        warm_up.as_secs()
    )?;
    percentiles(&mut out, "create", &all.create_ms)?;
    percentiles(&mut out, "kill", &all.kill_ms)?;
    Ok(())
}
