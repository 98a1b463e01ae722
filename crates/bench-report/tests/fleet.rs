//! One run written by several machines into one cloud directory (bench-host
//! `--node` on two nodes, bench-client `--shard` on two jump boxes): the
//! report has one row per workload, exact over every node's and shard's
//! observations, and each host node's own row right after it; `list` says
//! which machine wrote each file.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use bench_core::schema::ResultDocument;
use support::fixtures::{self, ClientSpec, CloudSpec};
use support::{num, put, render_csv, report, run};

const RUN: &str = "20261122T101500Z-flt1";

/// `doc` as written by `node` (and `shard`) of run [`RUN`].
fn from(mut doc: ResultDocument, node: &str, shard: Option<&str>) -> ResultDocument {
    doc.run_id = RUN.to_owned();
    doc.fingerprint.node = Some(node.to_owned());
    if let Some(s) = shard {
        doc.parameters.insert("shard".into(), s.into());
    }
    doc
}

fn raw_of<'a>(doc: &'a ResultDocument, metric: &str) -> &'a [f64] {
    &doc.samples.iter().find(|s| s.metric == metric).unwrap().raw
}

/// aws: two host nodes (node-b half as fast) and two client shards; gcp:
/// one machine, as before nodes existed. Returns the aws documents.
fn fleet(root: &Path) -> [ResultDocument; 4] {
    let a = from(
        fixtures::host(&CloudSpec::small("aws", 1.0, 1)),
        "node-a",
        None,
    );
    let b = from(
        fixtures::host(&CloudSpec::small("aws", 0.5, 2)),
        "node-b",
        None,
    );
    put(root, "aws", "04_host_performance.node-a.json", &a);
    put(root, "aws", "04_host_performance.node-b.json", &b);
    let client = |seed, warm_raw| {
        fixtures::client_warm(
            &CloudSpec::small("aws", 1.0, seed),
            &ClientSpec {
                warm_raw,
                ..ClientSpec::saturating_at(4)
            },
        )
    };
    let s1 = from(client(3, 30), "jump-1", Some("1/2"));
    let s2 = from(client(4, 20), "jump-2", Some("2/2"));
    put(root, "aws", "01_warm_start.jump-1.shard-1-of-2.json", &s1);
    put(root, "aws", "01_warm_start.jump-2.shard-2-of-2.json", &s2);
    let gcp = CloudSpec::small("gcp", 0.9, 5);
    put(
        root,
        "gcp",
        "04_host_performance.json",
        &fixtures::host(&gcp),
    );
    put(
        root,
        "gcp",
        "01_warm_start.json",
        &fixtures::client_warm(&gcp, &ClientSpec::saturating_at(4)),
    );
    [a, b, s1, s2]
}

fn median_and_p95(raw: &[f64]) -> (f64, f64) {
    let s = bench_core::stats::summarize(raw).unwrap();
    (s.p50, s.p95)
}

#[test]
fn the_report_merges_nodes_and_shards_and_shows_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    let [a, b, s1, s2] = fleet(&root);
    let rows = render_csv(&root, &out);
    let lines = |metric: &str| -> Vec<(String, String, &BTreeMap<String, String>)> {
        rows.iter()
            .filter(|r| r["metric"] == metric)
            .map(|r| (r["labels"].clone(), r["cloud"].clone(), r))
            .collect()
    };

    // The host latency: the merged row of each cloud, then aws's nodes.
    let fsync = lines("disk.fsync_latency_us");
    let order: Vec<(&str, &str)> = fsync
        .iter()
        .map(|(l, c, _)| (l.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("", "aws"),
            ("", "gcp"),
            ("node=node-a", "aws"),
            ("node=node-b", "aws")
        ]
    );
    let all: Vec<f64> = [
        raw_of(&a, "disk.fsync_latency_us"),
        raw_of(&b, "disk.fsync_latency_us"),
    ]
    .concat();
    let merged = fsync[0].2;
    assert_eq!(num(&merged["n"]) as usize, all.len());
    let (p50, p95) = median_and_p95(&all);
    assert!(
        (num(&merged["value"]) - p50).abs() <= 1e-9 * p50,
        "{merged:?}"
    );
    assert!(
        (num(&merged["p95"]) - p95).abs() <= 1e-9 * p95,
        "{merged:?}"
    );
    assert!(
        merged["source"].contains("04_host_performance.node-a.json + "),
        "{merged:?}"
    );
    // The slow node shows: its own row is its own document's figure.
    let node_b = fsync[3].2;
    let (b50, _) = median_and_p95(raw_of(&b, "disk.fsync_latency_us"));
    assert!((num(&node_b["value"]) - b50).abs() <= 1e-9 * b50);
    let node_a = fsync[2].2;
    assert!(
        num(&node_b["value"]) > num(&node_a["value"]) * 1.5,
        "{node_a:?} {node_b:?}"
    );
    // Every host metric has its nodes' rows (gcp, one machine, has none).
    let cpu = lines("cpu.events_per_second");
    assert!(
        cpu.iter()
            .any(|(l, c, _)| l.contains("node=node-b") && c == "aws")
    );
    assert!(
        !rows
            .iter()
            .any(|r| r["cloud"] == "gcp" && r["labels"].contains("node="))
    );

    // Client shards: one row per template, over both shards' starts.
    let create: Vec<_> = lines("sandbox.create_ms")
        .into_iter()
        .filter(|(_, c, _)| c == "aws")
        .collect();
    assert_eq!(create.len(), 1, "{create:?}");
    let row = create[0].2;
    assert_eq!(row["labels"], "concurrency=1, mode=warm, template=base");
    let starts: Vec<f64> = [
        raw_of(&s1, "sandbox.create_ms"),
        raw_of(&s2, "sandbox.create_ms"),
    ]
    .concat();
    assert_eq!(num(&row["n"]) as usize, 50);
    let (p50, _) = median_and_p95(&starts);
    assert!((num(&row["value"]) - p50).abs() <= 1e-9 * p50);
    let success = lines("sandbox.success_rate");
    assert_eq!(success.iter().filter(|(_, c, _)| c == "aws").count(), 1);
}

#[test]
fn list_names_the_node_and_shard_of_each_file() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("outputs");
    fleet(&root);
    let (code, stdout, stderr) = run(report(&root).arg("list"));
    assert_eq!(code, 0, "{stderr}");
    let header = stdout.lines().next().unwrap();
    assert!(
        header.contains("RUN ID") && header.contains("NODE"),
        "{stdout}"
    );
    let line = |file: &str| {
        stdout
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} not listed:\n{stdout}"))
            .to_owned()
    };
    assert!(line("04_host_performance.node-b.json").contains(" node-b "));
    assert!(line("01_warm_start.jump-2.shard-2-of-2.json").contains(" jump-2 shard 2/2 "));

    // A single machine's directory keeps its table.
    let single = dir.path().join("single");
    fixtures::write_cloud(&single, &CloudSpec::small("aws", 1.0, 1));
    let (_, stdout, _) = run(report(&single).arg("list"));
    assert!(!stdout.lines().next().unwrap().contains("NODE"), "{stdout}");
}
