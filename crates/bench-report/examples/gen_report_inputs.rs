//! Writes a synthetic results directory for `bench-report render`: the
//! fixtures of the tests (`tests/support/fixtures.rs`) at any scale. Used by
//! `scripts/bench-report.sh` (the render benchmark) and
//! `scripts/report-screenshot.sh` (the screenshot in docs/). The first
//! three clouds (aws, gcp, azure) also get a concurrency sweep and
//! pause/resume, each with another knee; the others do not, so the render
//! benchmark's cost stays in the long series.
//!
//! ```sh
//! cargo run --release -p bench-report --example gen_report_inputs -- OUT_DIR [CLOUDS] [RAW_PER_CLOUD]
//! ```

#[path = "../tests/support/fixtures.rs"]
mod fixtures;

use std::path::PathBuf;
use std::process::ExitCode;

use fixtures::{ClientSpec, CloudSpec, KneeParameter};

/// Raw observations outside the disk and start series (kvm exits, fsync, ...).
const OTHER_RAW: usize = 2_500;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_report_inputs OUT_DIR [CLOUDS (3)] [RAW_PER_CLOUD (20000)]";
    let Some(out) = args.first().map(PathBuf::from) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let number = |i: usize, default: usize| -> Option<usize> {
        args.get(i).map_or(Some(default), |v| v.parse().ok())
    };
    let (Some(clouds), Some(raw)) = (number(1, 3), number(2, 20_000)) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    // 80% of the budget in the 8 disk latency series, 20% in the 10 start
    // series (2 modes × 5 phases).
    let budget = raw.saturating_sub(OTHER_RAW);
    let disk_raw = (budget * 8 / 10 / 8).max(10);
    let start_raw = (budget * 2 / 10 / 10).max(10);
    const NAMES: [&str; 3] = ["aws", "gcp", "azure"];
    for i in 0..clouds {
        let name = NAMES
            .get(i)
            .map_or_else(|| format!("cloud-{:02}", i + 1), |n| (*n).to_owned());
        // Speeds spread over ±20%, so the report has winners and losers.
        let speed = 1.0 + 0.2 * ((i as f64 * 0.7).sin());
        let spec = CloudSpec {
            disk_raw,
            start_raw,
            template_kernel: if i == 1 { "6.1.90" } else { "6.1.102" }.to_owned(),
            ..CloudSpec::small(&name, speed, i as u64 + 1)
        };
        fixtures::write_cloud(&out, &spec);
        // aws saturates at 4 (bench-client wrote the knee), gcp at 2 (the
        // report computes it), azure keeps growing.
        let sweep = match i {
            0 => Some(ClientSpec::saturating_at(4)),
            1 => Some(ClientSpec {
                knee: KneeParameter::Omitted,
                ..ClientSpec::saturating_at(2)
            }),
            2 => Some(ClientSpec::saturating_at(32)),
            _ => None,
        };
        if let Some(client) = sweep {
            fixtures::write_sweep(&out, &spec, &client);
        }
    }
    eprintln!(
        "wrote {clouds} clouds to {} ({disk_raw} raw per disk latency series, {start_raw} per start series; ~{} raw per cloud)",
        out.display(),
        8 * disk_raw + 10 * start_raw + OTHER_RAW
    );
    ExitCode::SUCCESS
}
