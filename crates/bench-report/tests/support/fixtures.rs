//! Result documents of every tier for a set of clouds, seeded and built
//! with bench-core's own types (so they are what the tiers write): the
//! tests' fixtures and, at scale, the render benchmark's input
//! (`examples/gen_report_inputs.rs`, `scripts/bench-report.sh`).
//!
//! Latencies are lognormal (heavy right tail, as real latencies), in time
//! order with a slow drift, so batch means and box plots see realistic data.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use bench_core::schema::{
    ErrorEntry, ErrorKind, Fingerprint, ResultDocument, SCHEMA_VERSION, Sample, Tier, Tool,
};
use bench_core::stats::Rng;
use serde_json::{Value, json};

/// A hostile string: markup, quotes, a CSV formula, a Markdown table break.
pub const HOSTILE: &str = "=cmd|' <script>alert(\"x\")</script> | **b** \n&amp;";

/// One cloud's fixture.
#[derive(Debug, Clone)]
pub struct CloudSpec {
    /// Directory name and `cloud` of its documents.
    pub name: String,
    /// Throughputs × factor, latencies ÷ factor (1.0: the reference).
    pub speed: f64,
    /// Seed of its random draws.
    pub seed: u64,
    /// Raw observations per latency series of the disk probe.
    pub disk_raw: usize,
    /// Raw observations per sandbox start series.
    pub start_raw: usize,
    /// Kernel of its template build (drift when it differs).
    pub template_kernel: String,
    /// Put [`HOSTILE`] into labels, fingerprints, errors and template ids.
    pub hostile: bool,
    /// Run id of every document.
    pub run_id: String,
}

impl CloudSpec {
    /// A small, fast fixture.
    pub fn small(name: &str, speed: f64, seed: u64) -> Self {
        CloudSpec {
            name: name.to_owned(),
            speed,
            seed,
            disk_raw: 400,
            start_raw: 200,
            template_kernel: "6.1.102".to_owned(),
            hostile: false,
            run_id: format!("20261122T101500Z-{name}"),
        }
    }
}

fn fingerprint(spec: &CloudSpec, tier: Tier) -> Fingerprint {
    let mut dmi = BTreeMap::new();
    dmi.insert("sys_vendor".to_owned(), "Amazon EC2".to_owned());
    Fingerprint {
        hostname: if spec.hostile {
            HOSTILE.to_owned()
        } else {
            format!("{}-{}", spec.name, tier.as_str())
        },
        kernel: "6.1.102".to_owned(),
        cpu_model: "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz".to_owned(),
        cpu_count: if tier == Tier::Sandbox { 2 } else { 32 },
        memory_bytes: if tier == Tier::Sandbox {
            1 << 30
        } else {
            128 << 30
        },
        virtualization: if tier == Tier::Sandbox {
            "firecracker"
        } else {
            "kvm"
        }
        .to_owned(),
        nested_virtualization: tier == Tier::Host,
        cloud_vendor: "unknown".to_owned(),
        instance_type: Some(if spec.hostile {
            HOSTILE.to_owned()
        } else {
            "m6i.8xlarge".to_owned()
        }),
        region: None,
        arch: "x86_64".to_owned(),
        os: Some("Ubuntu 22.04.5 LTS".to_owned()),
        hypervisor_vendor: Some("KVMKVMKVM".to_owned()),
        kvm_device: tier == Tier::Host,
        dmi,
        node: None,
    }
}

fn document(spec: &CloudSpec, tier: Tier, tool: &str, suite: &str) -> ResultDocument {
    ResultDocument {
        schema_version: SCHEMA_VERSION,
        tool: Tool::new(tool, "0.1.0"),
        tier,
        suite: suite.to_owned(),
        cloud: spec.name.clone(),
        run_id: spec.run_id.clone(),
        started_at: "2026-11-22T10:15:00Z".to_owned(),
        finished_at: "2026-11-22T10:19:41Z".to_owned(),
        fingerprint: fingerprint(spec, tier),
        parameters: BTreeMap::new(),
        samples: Vec::new(),
        errors: Vec::new(),
    }
}

/// `n` lognormal observations with median `median` and log-sd `sigma`, with
/// a 2% drift over the series (time order matters to batch means).
fn latencies(rng: &mut Rng, n: usize, median: f64, sigma: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let drift = 1.0 + 0.02 * (i as f64 / n.max(1) as f64);
            median * drift * (sigma * rng.normal()).exp()
        })
        .collect()
}

/// `n` throughput intervals around `mean` with a 2% spread.
fn rates(rng: &mut Rng, n: usize, mean: f64) -> Vec<f64> {
    (0..n).map(|_| mean * (1.0 + 0.02 * rng.normal())).collect()
}

fn labelled(mut s: Sample, labels: &[(&str, &str)]) -> Sample {
    for (k, v) in labels {
        s = s.label(k, v);
    }
    s
}

fn throughput(metric: &str, unit: &str, raw: Vec<f64>, labels: &[(&str, &str)]) -> Sample {
    let mean = raw.iter().sum::<f64>() / raw.len().max(1) as f64;
    labelled(
        Sample::from_series(metric, unit, raw).with_value(mean),
        labels,
    )
}

fn latency(metric: &str, unit: &str, raw: Vec<f64>, labels: &[(&str, &str)]) -> Sample {
    labelled(Sample::from_series(metric, unit, raw), labels)
}

/// cpu, memory and disk: the shared workloads, as both tiers write them.
fn shared_workloads(spec: &CloudSpec, rng: &mut Rng, tier_cost: f64) -> Vec<Sample> {
    let f = spec.speed * tier_cost;
    let mut out = Vec::new();
    for threads in ["1", "2"] {
        let t: f64 = threads.parse().unwrap();
        out.push(throughput(
            "cpu.events_per_second",
            "events/s",
            rates(rng, 10, 3500.0 * t * f),
            &[("threads", threads), ("max_prime", "10000")],
        ));
    }
    for (op, base) in [
        ("copy", 24e9),
        ("scale", 14e9),
        ("add", 15.5e9),
        ("triad", 15.6e9),
    ] {
        out.push(throughput(
            "memory.bandwidth_bytes_per_second",
            "bytes/s",
            rates(rng, 10, base * f),
            &[("op", op), ("threads", "1")],
        ));
    }
    for (pattern, bs, depth, iops) in [
        ("read", "1048576", "8", 2200.0),
        ("write", "1048576", "8", 3000.0),
        ("randread", "4096", "32", 128_000.0),
        ("randwrite", "4096", "32", 67_000.0),
    ] {
        let labels = [
            ("pattern", pattern),
            ("block_size", bs),
            ("iodepth", depth),
            ("direct", "true"),
        ];
        let b: f64 = bs.parse().unwrap();
        let series = rates(rng, 10, iops * f);
        out.push(throughput(
            "disk.bandwidth_bytes_per_second",
            "bytes/s",
            series.iter().map(|x| x * b).collect(),
            &labels,
        ));
        out.push(throughput("disk.iops", "ops/s", series, &labels));
        let depth_n: f64 = depth.parse().unwrap();
        out.push(latency(
            "disk.latency_us",
            "us",
            latencies(rng, spec.disk_raw, 1e6 * depth_n / (iops * f), 0.5),
            &labels,
        ));
    }
    out.push(latency(
        "disk.fsync_latency_us",
        "us",
        latencies(rng, 50, 130.0 / f, 0.3),
        &[],
    ));
    out
}

/// `04_host_performance.json`.
pub fn host(spec: &CloudSpec) -> ResultDocument {
    let mut rng = Rng::seed_from_u64(spec.seed);
    let mut doc = document(spec, Tier::Host, "bench-host", "host_performance");
    doc.samples = shared_workloads(spec, &mut rng, 1.0);
    doc.samples
        .push(Sample::new("hugepages.total", "pages", 0.0).label("page", "2m"));
    doc.samples.push(latency(
        "kvm.exit_roundtrip_ns",
        "ns",
        latencies(&mut rng, 2000, 8000.0 / spec.speed, 0.2),
        &[],
    ));
    doc.errors.push(ErrorEntry {
        probe: "hugepages".to_owned(),
        kind: ErrorKind::Unavailable,
        message: if spec.hostile {
            HOSTILE.to_owned()
        } else {
            "no 2 MiB hugepages reserved: HugePages_Total is 0".to_owned()
        },
    });
    doc
}

/// `03_sandbox_performance.json`: the shared workloads 3% slower than the
/// host, plus network, python and pkg.
pub fn sandbox(spec: &CloudSpec) -> ResultDocument {
    let mut rng = Rng::seed_from_u64(spec.seed ^ 0x5a5a);
    let mut doc = document(spec, Tier::Sandbox, "bench-sandbox", "sandbox_performance");
    doc.samples = shared_workloads(spec, &mut rng, 0.97);
    let target = if spec.hostile {
        HOSTILE
    } else {
        "https://pypi.org/simple/pip/"
    };
    doc.samples.push(latency(
        "network.dns_ms",
        "ms",
        latencies(&mut rng, 10, 2.0 / spec.speed, 0.3),
        &[("target", target)],
    ));
    doc.samples.push(latency(
        "python.startup_ms",
        "ms",
        latencies(&mut rng, 20, 20.0 / spec.speed, 0.1),
        &[("workload", "pass")],
    ));
    doc.samples.push(latency(
        "pkg.install_ms",
        "ms",
        latencies(&mut rng, 3, 2500.0 / spec.speed, 0.2),
        &[("manager", "pip"), ("package", "requests")],
    ));
    doc
}

/// `01_cold_start.json` (`mode` cold) or `01_warm_start.json` (warm).
pub fn start(spec: &CloudSpec, mode: &str) -> ResultDocument {
    let mut rng = Rng::seed_from_u64(spec.seed ^ if mode == "cold" { 0xc01d } else { 0x3a53 });
    let suite = format!("{mode}_start");
    let mut doc = document(spec, Tier::Client, "bench-client", &suite);
    let scale = if mode == "cold" { 1.0 } else { 0.4 } / spec.speed;
    let n = spec.start_raw;
    let create = latencies(&mut rng, n, 180.0 * scale, 0.35);
    let ready = latencies(&mut rng, n, 60.0 * scale, 0.3);
    let first = latencies(&mut rng, n, 25.0 * scale, 0.3);
    let tti: Vec<f64> = (0..n).map(|i| create[i] + ready[i] + first[i]).collect();
    let template = if spec.hostile { HOSTILE } else { "base" };
    let labels = [("template", template), ("mode", mode), ("concurrency", "1")];
    for (metric, raw) in [
        ("sandbox.create_ms", create),
        ("sandbox.envd_ready_ms", ready),
        ("sandbox.first_command_ms", first),
        ("sandbox.time_to_interactive_ms", tti),
        ("sandbox.kill_ms", latencies(&mut rng, n, 30.0 * scale, 0.3)),
    ] {
        doc.samples.push(latency(metric, "ms", raw, &labels));
    }
    doc
}

/// `06_templates.json`, with its `templates` array.
pub fn templates(spec: &CloudSpec) -> Value {
    let mut doc = document(spec, Tier::Host, "bench-host", "templates");
    doc.samples.push(
        Sample::new(
            "templates.rootfs_read_bandwidth_bytes_per_second",
            "bytes/s",
            1.2e9 * spec.speed,
        )
        .label("template_id", "base")
        // Each cluster generates its own build ids (as bench-host writes them).
        .label("build_id", format!("{}-b1", spec.name))
        .label("cache", "cold"),
    );
    let mut v = serde_json::to_value(&doc).unwrap();
    let id = if spec.hostile { HOSTILE } else { "base" };
    v["templates"] = json!([
        {"build_id": format!("{}-b1", spec.name), "template_id": id, "path": "/mnt/sdb/e2b-storage/x",
         "status": "ok", "reason": null, "alias_of": null,
         "kernel_version": spec.template_kernel, "firecracker_version": "1.10.1", "envd_version": "0.2.3",
         "metadata_format": "v2", "rootfs_bytes": 1_073_741_824u64, "rootfs_allocated_bytes": 536_870_912u64,
         "files": {"rootfs.ext4": 1_073_741_824u64}},
        {"build_id": format!("{}-b2", spec.name), "template_id": "python", "path": "/mnt/sdb/e2b-storage/y",
         "status": "ok", "reason": null, "alias_of": null,
         "kernel_version": "6.1.102", "firecracker_version": "1.10.1", "envd_version": null,
         "metadata_format": "flat", "rootfs_bytes": 2_147_483_648u64, "rootfs_allocated_bytes": 1_073_741_824u64,
         "files": {}},
        // Aliases and invalid builds are listed too; drift ignores them.
        {"build_id": "base-v1", "template_id": id, "path": "/mnt/sdb/e2b-storage/base-v1",
         "status": "alias", "reason": null, "alias_of": format!("{}-b1", spec.name),
         "kernel_version": format!("alias-{}", spec.name), "firecracker_version": "9.9.9", "envd_version": null,
         "metadata_format": "v2", "rootfs_bytes": 1u64, "rootfs_allocated_bytes": 0u64, "files": {}},
        {"build_id": "broken", "template_id": null, "path": "/mnt/sdb/e2b-storage/broken",
         "status": "invalid", "reason": "empty directory", "alias_of": null,
         "kernel_version": null, "firecracker_version": null, "envd_version": null,
         "metadata_format": null, "rootfs_bytes": null, "rootfs_allocated_bytes": null, "files": {}}
    ]);
    v["caches"] = json!([
        {"name": "e2b-chunk-cache", "path": "/mnt/sdb/e2b-storage/e2b-chunk-cache", "present": true,
         "bytes": 4096, "allocated_bytes": 4096, "files": 1, "unreadable": 0}
    ]);
    v
}

/// Writes every document of `spec` under `root/<name>/`.
pub fn write_cloud(root: &Path, spec: &CloudSpec) {
    let dir = root.join(&spec.name);
    std::fs::create_dir_all(&dir).unwrap();
    let put = |name: &str, v: Value| {
        std::fs::write(dir.join(name), serde_json::to_vec(&v).unwrap()).unwrap();
    };
    let as_value = |d: ResultDocument| serde_json::to_value(d).unwrap();
    put("04_host_performance.json", as_value(host(spec)));
    put("03_sandbox_performance.json", as_value(sandbox(spec)));
    put("01_cold_start.json", as_value(start(spec, "cold")));
    put("01_warm_start.json", as_value(start(spec, "warm")));
    put("06_templates.json", templates(spec));
}

/// How [`concurrency`] writes `parameters.knee` for its template.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KneeParameter {
    /// What bench-client writes: [`find_knee`] on the mean throughputs,
    /// `null` when they kept growing.
    Found,
    /// No `knee` parameter: the report computes it.
    Omitted,
}

/// The client side of one cloud, shaped as bench-client writes it: a cold
/// start measured once, `warm_raw` warm starts, a concurrency sweep and pause
/// and resume timings.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// Warm starts (and their success-rate attempts).
    pub warm_raw: usize,
    /// Concurrency levels of the sweep.
    pub levels: Vec<u32>,
    /// The level at which throughput saturates: creates/s grow with the
    /// level up to it and stay flat after (the knee, when below the last
    /// level).
    pub saturation: u32,
    /// Repetitions of each level (one throughput per repetition).
    pub repetitions: usize,
    /// Schedules swept (`burst`, `ramp`, `staggered`).
    pub schedules: Vec<String>,
    /// Failed creates per repetition at levels above the saturation.
    pub failures_past_saturation: usize,
    /// How `parameters.knee` is written.
    pub knee: KneeParameter,
}

impl ClientSpec {
    /// Levels 1–16, burst, 8 repetitions, no failures, knee written.
    pub fn saturating_at(saturation: u32) -> Self {
        ClientSpec {
            warm_raw: 30,
            levels: vec![1, 2, 4, 8, 16],
            saturation,
            repetitions: 8,
            schedules: vec!["burst".to_owned()],
            failures_past_saturation: 0,
            knee: KneeParameter::Found,
        }
    }
}

fn client_labels<'a>(template: &'a str, mode: &'a str, level: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("template", template),
        ("mode", mode),
        ("concurrency", level),
    ]
}

/// A success rate of 0/1 attempts: value = mean, raw = one 0/1 per attempt.
fn success_rate(ok: usize, failed: usize, labels: &[(&str, &str)]) -> Sample {
    let raw: Vec<f64> = std::iter::repeat_n(1.0, ok)
        .chain(std::iter::repeat_n(0.0, failed))
        .collect();
    throughput("sandbox.success_rate", "ratio", raw, labels)
}

/// The five start phases of `n` starts at latency scale `scale`.
fn start_phases(rng: &mut Rng, n: usize, scale: f64, labels: &[(&str, &str)]) -> Vec<Sample> {
    let create = latencies(rng, n, 180.0 * scale, 0.35);
    let ready = latencies(rng, n, 60.0 * scale, 0.3);
    let first = latencies(rng, n, 25.0 * scale, 0.3);
    let tti: Vec<f64> = (0..n).map(|i| create[i] + ready[i] + first[i]).collect();
    let kill = latencies(rng, n, 30.0 * scale, 0.3);
    [
        ("sandbox.create_ms", create),
        ("sandbox.envd_ready_ms", ready),
        ("sandbox.first_command_ms", first),
        ("sandbox.time_to_interactive_ms", tti),
        ("sandbox.kill_ms", kill),
    ]
    .into_iter()
    .map(|(metric, raw)| latency(metric, "ms", raw, labels))
    .collect()
}

/// `01_cold_start.json` as bench-client writes it: one cold start
/// (`raw` of one observation, no `stats`), one attempt of success rate.
pub fn client_cold(spec: &CloudSpec) -> ResultDocument {
    let mut rng = Rng::seed_from_u64(spec.seed ^ 0xc01d);
    let mut doc = document(spec, Tier::Client, "bench-client", "cold_start");
    let labels = client_labels("base", "cold", "1");
    doc.samples = start_phases(&mut rng, 1, 1.0 / spec.speed, &labels);
    doc.samples.push(success_rate(1, 0, &labels));
    doc
}

/// `01_warm_start.json`: `client.warm_raw` warm starts, all successful.
pub fn client_warm(spec: &CloudSpec, client: &ClientSpec) -> ResultDocument {
    let mut rng = Rng::seed_from_u64(spec.seed ^ 0x3a53);
    let mut doc = document(spec, Tier::Client, "bench-client", "warm_start");
    let labels = client_labels("base", "warm", "1");
    doc.samples = start_phases(&mut rng, client.warm_raw, 0.4 / spec.speed, &labels);
    doc.samples.push(success_rate(client.warm_raw, 0, &labels));
    doc
}

/// `02_concurrency.json`: per schedule and level, creates per second (one
/// per repetition; `0.9 × speed × min(level, saturation)`), success rate,
/// the warm create and time-to-interactive series (latency grows past the
/// saturation as creates queue), time to first ready, wall clock and 429s;
/// `parameters.knee` as `client.knee` says.
pub fn concurrency(spec: &CloudSpec, client: &ClientSpec) -> ResultDocument {
    let mut rng = Rng::seed_from_u64(spec.seed ^ 0xc0c0);
    let mut doc = document(spec, Tier::Client, "bench-client", "concurrency");
    let template = "base";
    let mut means = Vec::new();
    for schedule in &client.schedules {
        for &level in &client.levels {
            let text = level.to_string();
            let n = f64::from(level);
            let sat = f64::from(client.saturation);
            let labels = [
                ("template", template),
                ("concurrency", text.as_str()),
                ("schedule", schedule.as_str()),
            ];
            let rate = 0.9 * spec.speed * n.min(sat);
            let per_rep = rates(&mut rng, client.repetitions, rate);
            if schedule == &client.schedules[0] {
                means.push((n, per_rep.iter().sum::<f64>() / per_rep.len() as f64));
            }
            doc.samples.push(throughput(
                "sandbox.creates_per_second",
                "sandboxes/s",
                per_rep,
                &labels,
            ));
            let attempts = level as usize * client.repetitions;
            let failed = if level > client.saturation {
                client.failures_past_saturation * client.repetitions
            } else {
                0
            };
            doc.samples.push(success_rate(
                attempts - failed.min(attempts),
                failed.min(attempts),
                &labels,
            ));
            let queueing = (n / sat).max(1.0);
            let warm = [
                ("template", template),
                ("mode", "warm"),
                ("concurrency", text.as_str()),
                ("schedule", schedule.as_str()),
            ];
            let n_obs = attempts.min(64);
            let create = latencies(&mut rng, n_obs, 180.0 * 0.4 * queueing / spec.speed, 0.3);
            let tti: Vec<f64> = create.iter().map(|c| c + 34.0 / spec.speed).collect();
            doc.samples
                .push(latency("sandbox.create_ms", "ms", create, &warm));
            doc.samples
                .push(latency("sandbox.time_to_interactive_ms", "ms", tti, &warm));
            doc.samples.push(latency(
                "sandbox.time_to_first_ready_ms",
                "ms",
                latencies(&mut rng, client.repetitions, 110.0 / spec.speed, 0.2),
                &labels,
            ));
            doc.samples.push(latency(
                "sandbox.wall_clock_ms",
                "ms",
                latencies(&mut rng, client.repetitions, 1000.0 * n / rate, 0.1),
                &labels,
            ));
            doc.samples.push(labelled(
                Sample::new(
                    "sandbox.rate_limited",
                    "count",
                    if level > client.saturation { 2.0 } else { 0.0 },
                ),
                &labels,
            ));
        }
    }
    if client.knee == KneeParameter::Found {
        let knee =
            bench_core::stats::knee::find_knee(&means, bench_core::stats::knee::DEFAULT_MIN_GAIN)
                .map_or(
                    Value::Null,
                    |i| json!({"concurrency": means[i].0, "creates_per_second": means[i].1}),
                );
        doc.parameters
            .insert("knee".to_owned(), json!({ template: knee }));
    }
    doc.parameters
        .insert("levels".to_owned(), json!(client.levels));
    doc
}

/// `02_pause_resume.json`: pause, resume and first command after resume.
pub fn pause_resume(spec: &CloudSpec, client: &ClientSpec) -> ResultDocument {
    let mut rng = Rng::seed_from_u64(spec.seed ^ 0x9a05);
    let mut doc = document(spec, Tier::Client, "bench-client", "pause_resume");
    let n = client.warm_raw;
    for (metric, median) in [
        ("sandbox.pause_ms", 420.0),
        ("sandbox.resume_ms", 260.0),
        ("sandbox.resume_command_ms", 30.0),
    ] {
        doc.samples.push(latency(
            metric,
            "ms",
            latencies(&mut rng, n, median / spec.speed, 0.25),
            &[("template", "base")],
        ));
    }
    doc
}

fn put_document(root: &Path, spec: &CloudSpec, name: &str, doc: &ResultDocument) {
    let dir = root.join(&spec.name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), serde_json::to_vec(doc).unwrap()).unwrap();
}

/// Writes the concurrency sweep and pause/resume documents of `spec` under
/// `root/<name>/` (`02_concurrency.json`, `02_pause_resume.json`).
pub fn write_sweep(root: &Path, spec: &CloudSpec, client: &ClientSpec) {
    put_document(
        root,
        spec,
        "02_concurrency.json",
        &concurrency(spec, client),
    );
    put_document(
        root,
        spec,
        "02_pause_resume.json",
        &pause_resume(spec, client),
    );
}

/// Writes every client document of `spec` under `root/<name>/`: the sweep
/// and the start documents with one cold start (replacing
/// [`write_cloud`]'s start documents when both are written).
pub fn write_client(root: &Path, spec: &CloudSpec, client: &ClientSpec) {
    put_document(root, spec, "01_cold_start.json", &client_cold(spec));
    put_document(root, spec, "01_warm_start.json", &client_warm(spec, client));
    write_sweep(root, spec, client);
}
