//! `--shard i/N` and `--node NAME` against the emulator: two shards of one
//! run writing into one directory each write their own qualified files with
//! their share of the work, nothing is overwritten, and a shard without an
//! explicit run id is refused before anything is created.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use bench_core::schema::ResultDocument;
use bench_core::shard::{Shard, parse_file_name};
use support::*;

const RUN_ID: &str = "20261122T101500Z-shrd";

/// bench-client writing into `shared` (not the client's own `out/`).
fn into(sim: &e2b_sim::SimHandle, shared: &Path) -> Client {
    Client::without_output_dir(sim)
        .args(["--output-dir"])
        .arg_path(shared)
}

/// Every file directly in `dir`, parsed, by name.
fn documents(dir: &Path) -> BTreeMap<String, Option<ResultDocument>> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let doc = (!name.starts_with("summary_report")).then(|| read_doc(&e.path()));
            (name, doc)
        })
        .collect()
}

fn raw_len(doc: &ResultDocument, metric: &str, labels: &[(&str, &str)]) -> Option<usize> {
    find_sample(doc, metric, labels).map(|s| s.raw.len())
}

#[test]
fn two_shards_write_one_run_into_one_directory() {
    let sim = quick_sim();
    let work = tempfile::tempdir().unwrap();
    let shared = work.path().join("results");
    // Shard 1 names its node; it skips the in-sandbox suite (no binary here).
    let one = into(&sim, &shared)
        .args(["--node", "jump-1", "--run-id", RUN_ID])
        .args(["run", "--quick", "--shard", "1/2", "--skip", "sandbox"])
        .run();
    one.assert_code(0);
    // Shard 2 keeps the default node (the hostname) and does not skip the
    // sandbox suite: only shard 1 runs it, so no binary is needed.
    let two = into(&sim, &shared)
        .args(["--run-id", RUN_ID])
        .args(["run", "--quick", "--shard", "2/2"])
        .run();
    two.assert_code(0);
    two.assert_stderr_has("shard 1 runs the in-sandbox suite");
    assert_eq!(sim.stats().live, 0);

    let docs = documents(&shared);
    for (name, doc) in &docs {
        assert_no_secret_in(&std::fs::read_to_string(shared.join(name)).unwrap(), name);
        let parsed = parse_file_name(name);
        let shard = parsed
            .shard
            .unwrap_or_else(|| panic!("{name} names no shard"));
        if let Some(doc) = doc {
            assert_eq!(doc.run_id, RUN_ID, "{name}");
            assert_eq!(doc.parameters["shard"], shard.to_string(), "{name}");
            assert_eq!(doc.fingerprint.node, parsed.node, "{name}");
        }
    }
    let host_node = docs
        .values()
        .flatten()
        .filter_map(|d| d.fingerprint.node.clone())
        .find(|n| n != "jump-1")
        .expect("shard 2's node");
    let name = |stem: &str, node: &str, i: u32| {
        bench_core::shard::qualified_file_name(stem, node, Some(Shard::new(i, 2).unwrap()))
    };
    let mut expected: Vec<String> = Vec::new();
    for (node, i) in [("jump-1", 1), (host_node.as_str(), 2)] {
        for stem in [
            "01_cold_start.json",
            "01_warm_start.json",
            "02_concurrency.json",
            "02_pause_resume.json",
            "summary_report.json",
        ] {
            expected.push(name(stem, node, i));
        }
    }
    expected.sort();
    let found: Vec<String> = docs.keys().cloned().collect();
    assert_eq!(found, expected, "no unqualified file, nothing overwritten");

    let doc = |stem: &str, node: &str, i: u32| docs[&name(stem, node, i)].clone().unwrap();
    // Lifecycle --quick: 5 warm starts as 3 + 2; the one cold start on shard 1.
    let warm = [("template", "base"), ("mode", "warm")];
    let cold = [("template", "base"), ("mode", "cold")];
    let w1 = doc("01_warm_start.json", "jump-1", 1);
    let w2 = doc("01_warm_start.json", &host_node, 2);
    assert_eq!(raw_len(&w1, "sandbox.create_ms", &warm), Some(3));
    assert_eq!(raw_len(&w2, "sandbox.create_ms", &warm), Some(2));
    assert_eq!(
        (
            w1.parameters["iterations"].clone(),
            w1.parameters["iterations_total"].clone()
        ),
        (3.into(), 5.into())
    );
    let c1 = doc("01_cold_start.json", "jump-1", 1);
    let c2 = doc("01_cold_start.json", &host_node, 2);
    assert_eq!(raw_len(&c1, "sandbox.create_ms", &cold), Some(1));
    assert!(c2.samples.is_empty(), "{:?}", c2.samples);

    // Concurrency --quick: levels 1, 2, 4 as 1+0, 1+1, 2+2 starts, each
    // sample labelled with the whole level.
    let k1 = doc("02_concurrency.json", "jump-1", 1);
    let k2 = doc("02_concurrency.json", &host_node, 2);
    assert_eq!(k1.parameters["level_shares"], serde_json::json!([1, 1, 2]));
    assert_eq!(k2.parameters["level_shares"], serde_json::json!([0, 1, 2]));
    let at = |level: &'static str| [("template", "base"), ("concurrency", level)];
    for (level, a, b) in [
        ("1", Some(1), None),
        ("2", Some(1), Some(1)),
        ("4", Some(2), Some(2)),
    ] {
        assert_eq!(
            raw_len(&k1, "sandbox.success_rate", &at(level)),
            a,
            "level {level}"
        );
        assert_eq!(
            raw_len(&k2, "sandbox.success_rate", &at(level)),
            b,
            "level {level}"
        );
    }

    // Pause --quick: 2 cycles as 1 + 1.
    let labels = [("template", "base")];
    for (node, i) in [("jump-1", 1), (host_node.as_str(), 2)] {
        let p = doc("02_pause_resume.json", node, i);
        assert_eq!(
            raw_len(&p, "sandbox.pause_ms", &labels),
            Some(1),
            "shard {i}"
        );
    }
}

#[test]
fn a_shard_needs_a_run_id_and_a_valid_value() {
    let sim = quick_sim();
    let ran = Client::new(&sim)
        .args(["run", "--quick", "--shard", "1/2", "--skip", "sandbox"])
        .run_code(2);
    let line = ran.stderr();
    assert!(line.contains("--shard 1/2 needs --run-id"), "{line}");
    assert_eq!(line.trim().lines().count(), 1, "{line}");
    for bad in ["3/2", "0/2", "1", "x/2", "1/1025"] {
        let ran = Client::new(&sim)
            .args(["--run-id", RUN_ID, "lifecycle", "--shard", bad])
            .run();
        assert_eq!(ran.code(), 2, "{bad}: {}", ran.stderr());
        assert!(
            ran.stderr().contains(&format!("--shard '{bad}': ")),
            "{bad}: {}",
            ran.stderr()
        );
    }
    let ran = Client::new(&sim)
        .args(["--node", "a/b", "lifecycle"])
        .run_code(2);
    ran.assert_stderr_has("--node 'a/b': ");
    assert_eq!(sim.stats().created, 0, "nothing was created");
}
