//! `bench-host hugepages` end to end: the pools of this machine as samples,
//! fault-in bandwidth of base pages and THP, and 2 MiB hugetlb pages with a
//! small pool reserved for the test (and an `unavailable` entry without).
//!
//! Only `hugetlb_pool_reserved_clamped_and_absent` changes the pool
//! (nextest runs tests in parallel processes); the others accept either
//! state of the pool.

mod support;

use std::process::Output;

use bench_core::schema::{ErrorEntry, ErrorKind, ResultDocument, Sample};
use bench_testkit::e2e::find_sample;
use support::{assert_usage_error, document, host};

const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";
const BANDWIDTH: &str = "hugepages.fault_bandwidth_bytes_per_second";
const NO_POOL: &str =
    "no 2 MiB hugepages reserved: HugePages_Total is 0; reserve with sysctl vm.nr_hugepages=N";

/// Runs `hugepages` with `args` (plus `--output -`) in a temp dir.
fn run(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    host(dir.path())
        .arg("hugepages")
        .args(args)
        .args(["--output", "-"])
        .output()
        .unwrap()
}

fn find<'a>(doc: &'a ResultDocument, metric: &str, page: &str) -> Option<&'a Sample> {
    find_sample(doc, metric, &[("page", page)])
}

/// The `unavailable` entry for 2 MiB pages.
fn unavailable_2m(doc: &ResultDocument) -> &ErrorEntry {
    let entry = doc
        .errors
        .iter()
        .find(|e| e.message.contains("2 MiB"))
        .expect("2m entry");
    assert_eq!(entry.kind, ErrorKind::Unavailable);
    entry
}

/// The THP mode of this machine (`always`, `madvise`, `never`).
fn thp_mode() -> Option<String> {
    let text = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    text.split_whitespace()
        .find_map(|w| w.strip_prefix('[')?.strip_suffix(']'))
        .map(str::to_owned)
}

/// Bandwidths a fault-in can have: above 10 MB/s, below 1 TB/s.
fn assert_plausible(sample: &Sample, iterations: usize) {
    assert_eq!(sample.unit, "bytes/s");
    assert_eq!(sample.raw.len(), iterations, "{sample:?}");
    assert!(
        sample.raw.iter().all(|r| (1e7..1e12).contains(r)),
        "{:?}",
        sample.raw
    );
    let median = sample.stats.as_ref().map_or(sample.raw[0], |s| s.p50);
    assert_eq!(sample.value, median);
}

fn assert_base_and_thp(doc: &ResultDocument, iterations: usize) {
    assert_plausible(
        find(doc, BANDWIDTH, "4k").expect("4k bandwidth"),
        iterations,
    );
    match thp_mode().as_deref() {
        Some("always" | "madvise") => {
            assert_plausible(
                find(doc, BANDWIDTH, "thp").expect("thp bandwidth"),
                iterations,
            );
            let backed = doc.parameters["hugepages"]["thp_backed_bytes"]
                .as_array()
                .unwrap();
            assert_eq!(backed.len(), iterations);
        }
        _ => assert!(find(doc, BANDWIDTH, "thp").is_none()),
    }
}

#[test]
fn quick_run_reports_every_pool_and_the_fault_bandwidths() {
    let out = run(&["--quick", "--fault-size", "16M"]);
    let doc = document(&out);
    let expected_code = if doc.errors.is_empty() { 0 } else { 3 };
    assert_eq!(out.status.code(), Some(expected_code), "{:?}", doc.errors);
    assert_eq!(doc.suite, "host_performance");
    let params = &doc.parameters["hugepages"];
    assert_eq!(params["fault_size_bytes"], 16 << 20);
    assert_eq!(params["iterations"], 3);

    // One total and one free sample per pool directory in sysfs.
    let mut labels: Vec<String> = std::fs::read_dir("/sys/kernel/mm/hugepages")
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let kb: u64 = name
                .strip_prefix("hugepages-")?
                .strip_suffix("kB")?
                .parse()
                .ok()?;
            Some(if kb >= 1 << 20 {
                format!("{}g", kb >> 20)
            } else {
                format!("{}m", kb >> 10)
            })
        })
        .collect();
    labels.sort();
    for metric in ["hugepages.total", "hugepages.free"] {
        let mut found: Vec<String> = doc
            .samples
            .iter()
            .filter(|s| s.metric == metric)
            .map(|s| {
                assert_eq!(s.unit, "pages");
                s.labels["page"].clone()
            })
            .collect();
        found.sort();
        assert_eq!(found, labels, "{metric}");
    }
    let fraction = doc
        .samples
        .iter()
        .find(|s| s.metric == "hugepages.pool_fraction_of_memory")
        .unwrap();
    assert_eq!(fraction.unit, "ratio");
    assert!((0.0..=1.0).contains(&fraction.value));
    assert_eq!(params["covers_node"], fraction.value >= 0.5);
    assert!(params["thp_enabled"].is_string() || thp_mode().is_none());

    assert_base_and_thp(&doc, 3);
    // 2 MiB pages: measured, or unavailable with the reason.
    if find(&doc, BANDWIDTH, "2m").is_none() {
        unavailable_2m(&doc);
    }
}

#[test]
fn bad_flags_are_one_line_usage_errors() {
    for (args, needle) in [
        (
            &["--fault-size", "3M"][..],
            "--fault-size '3M': must be a positive multiple of 2M",
        ),
        (&["--fault-size", "0"][..], "--fault-size '0'"),
        (&["--fault-size", "16x"][..], "--fault-size '16x'"),
        (&["--fault-size", "1000T"][..], "--fault-size '1000T'"),
        (&["--iterations", "0"][..], "--iterations '0'"),
        (&["--iterations", "-1"][..], "--iterations '-1'"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = host(dir.path());
        cmd.arg("hugepages").args(args).args(["--output", "-"]);
        assert_usage_error(&mut cmd, needle);
    }
}

/// Restores `vm.nr_hugepages` when dropped, even when the test panics.
struct RestorePool {
    previous: u64,
}

impl Drop for RestorePool {
    fn drop(&mut self) {
        if let Err(e) = std::fs::write(NR_HUGEPAGES, self.previous.to_string()) {
            eprintln!("could not restore {NR_HUGEPAGES} to {}: {e}", self.previous);
        }
    }
}

fn nr_hugepages() -> u64 {
    std::fs::read_to_string(NR_HUGEPAGES)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Every test that changes the pool, in one function: measure with a small
/// pool reserved, clamp a size larger than the pool, then (when the machine
/// had no pool) measure without one.
#[test]
fn hugetlb_pool_reserved_clamped_and_absent() {
    let previous = nr_hugepages();
    if let Err(e) = std::fs::write(NR_HUGEPAGES, (previous + 32).to_string()) {
        eprintln!("skipped: cannot reserve hugepages ({NR_HUGEPAGES}: {e}); needs root");
        return;
    }
    let _restore = RestorePool { previous };
    if nr_hugepages() < previous + 8 {
        eprintln!("skipped: the kernel could not allocate 8 more 2 MiB pages (memory fragmented)");
        return;
    }

    // Reserved: 16 MiB = 8 pages of the 32 added.
    let out = run(&["--quick", "--fault-size", "16M"]);
    let doc = document(&out);
    let two_m =
        find(&doc, BANDWIDTH, "2m").unwrap_or_else(|| panic!("no 2m sample: {:?}", doc.errors));
    assert_plausible(two_m, 3);
    assert!(
        doc.errors.iter().all(|e| !e.message.contains("2 MiB")),
        "{:?}",
        doc.errors
    );
    assert!(find(&doc, "hugepages.total", "2m").unwrap().value >= 8.0);
    let params = &doc.parameters["hugepages"];
    assert_eq!(params["fault_size_2m_bytes"], 16 << 20);
    assert!(params["pool_bytes"].as_u64().unwrap() >= 16 << 20);
    assert_base_and_thp(&doc, 3);

    // Larger than the pool: clamped to its usable pages, and said so.
    let out = run(&["--iterations", "1", "--fault-size", "1G"]);
    let doc = document(&out);
    assert_plausible(find(&doc, BANDWIDTH, "2m").expect("clamped 2m sample"), 1);
    let params = &doc.parameters["hugepages"];
    let clamped = params["fault_size_2m_bytes"].as_u64().unwrap();
    assert!(
        clamped < 1 << 30 && clamped.is_multiple_of(2 << 20),
        "{clamped}"
    );
    assert!(
        params["fault_size_2m_note"]
            .as_str()
            .unwrap()
            .contains("clamped from 1G")
    );
    assert_eq!(params["fault_size_bytes"], 1u64 << 30);

    if previous != 0 {
        eprintln!("skipped the no-pool case: this machine had a pool of {previous} pages");
        return;
    }
    std::fs::write(NR_HUGEPAGES, "0").unwrap();
    let out = run(&["--quick", "--fault-size", "16M"]);
    let doc = document(&out);
    assert_eq!(out.status.code(), Some(3));
    assert!(find(&doc, BANDWIDTH, "2m").is_none());
    let entry = unavailable_2m(&doc);
    // Another test's mapping may still hold pages as surplus; with none the
    // reason is the exact one users see.
    if find(&doc, "hugepages.total", "2m").unwrap().value == 0.0 {
        assert_eq!(entry.message, NO_POOL);
    }
    assert_base_and_thp(&doc, 3);
}
