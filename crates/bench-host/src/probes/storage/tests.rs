//! Unit tests of the storage probe on in-process stores (memory://, file://).

use bench_core::cli::CommonArgs;
use bench_core::interrupt::Interrupt;
use bench_core::schema::{ErrorKind, Tier, Tool};
use object_store::ObjectStoreExt;

use super::*;

fn settings() -> Settings {
    let args = CommonArgs {
        output: Some("-".into()),
        cloud: Some("test".into()),
        run_id: Some("unit-1".into()),
        ..CommonArgs::default()
    };
    Settings::resolve(&args, Tool::new("bench-test", "0"), Tier::Host).unwrap()
}

fn quick(url: &str) -> StorageArgs {
    StorageArgs {
        url: Some(url.into()),
        iterations: Some("3".into()),
        sizes: Some("64k,6M".into()),
        transfers: Some("1".into()),
        range_object_size: Some("8M".into()),
        chunk_size: Some("1M".into()),
        concurrency: Some("1,4".into()),
        list_iterations: Some("2".into()),
        ..StorageArgs::default()
    }
}

fn build(args: &StorageArgs) -> StorageProbe {
    let plan = args.plan(true).unwrap();
    let opened =
        bench_core::sink::open_store(args.url.as_deref().unwrap(), "--url", &[], []).unwrap();
    let run_prefix = opened.prefix.clone().join("e2b-bench-unit");
    StorageProbe {
        opened,
        run_prefix,
        plan,
    }
}

fn remaining(probe: &StorageProbe) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use futures_util::TryStreamExt;
        probe
            .opened
            .store
            .list(None)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len()
    })
}

#[test]
fn measures_everything_and_leaves_nothing_on_a_local_store() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().display());
    let probe = build(&quick(&url));
    let out = probe.run(&Context::uninterruptible()).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    let find = |metric: &str, key: &str, value: &str| {
        out.samples
            .iter()
            .find(|s| s.metric == metric && s.labels.get(key).map(String::as_str) == Some(value))
            .unwrap_or_else(|| panic!("no {metric} with {key}={value}: {:#?}", out.samples))
    };
    let put = find("storage.put_latency_ms", "object_size", "1024");
    assert_eq!(put.raw.len(), 3);
    assert_eq!(put.labels["backend"], "file");
    assert_eq!(
        find("storage.put_latency_ms", "object_size", "6291456").labels["method"],
        "multipart"
    );
    assert_eq!(
        find("storage.get_ttfb_ms", "object_size", "65536")
            .raw
            .len(),
        1
    );
    assert_eq!(
        find("storage.list_latency_ms", "object_count", "3")
            .raw
            .len(),
        2
    );
    for c in ["1", "4"] {
        let lat = out
            .samples
            .iter()
            .find(|s| s.metric == "storage.range_get_latency_ms" && s.labels["concurrency"] == c)
            .unwrap();
        assert_eq!(lat.labels["object_size"], "1048576");
        assert_eq!(lat.raw.len(), 8, "max(8, 2c) reads in one round");
        assert!(lat.value > 0.0);
        let bw = out
            .samples
            .iter()
            .find(|s| {
                s.metric == "storage.get_bandwidth_bytes_per_second"
                    && s.labels.get("access").map(String::as_str) == Some("range")
                    && s.labels["concurrency"] == c
            })
            .unwrap();
        assert!(bw.value > 0.0);
    }
    assert_eq!(remaining(&probe), 0);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_interrupted_run_keeps_what_finished_and_cleans_up() {
    let probe = build(&quick("memory:///bench"));
    let interrupt = Interrupt::new();
    interrupt.trigger();
    let r = probe.run(&Context::new(interrupt));
    assert!(matches!(r, Err(ProbeError::Interrupted)), "{r:?}");
    assert_eq!(remaining(&probe), 0);
}

#[test]
fn read_only_mode_writes_nothing() {
    let mut args = quick("memory:///seed");
    args.existing_object = Some("template/memfile".into());
    let probe = build(&args);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        probe
            .opened
            .store
            .put(
                &ObjectPath::from("seed/template/memfile"),
                measure::random_block(3 << 20, 1).into(),
            )
            .await
            .unwrap();
    });
    let out = probe.run(&Context::uninterruptible()).unwrap();
    assert!(out.errors.is_empty(), "{:?}", out.errors);
    assert!(
        out.samples
            .iter()
            .all(|s| !s.metric.starts_with("storage.put"))
    );
    assert!(
        out.samples
            .iter()
            .any(|s| s.metric == "storage.range_get_latency_ms")
    );
    assert_eq!(remaining(&probe), 1, "only the seeded object");
    // A missing object is one failure, not a panic.
    args.existing_object = Some("nope".into());
    let e = build(&args).run(&Context::uninterruptible()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Failed);
    assert!(e.to_string().contains("HEAD memory"), "{e}");
}

#[test]
fn flags_are_validated() {
    let s = settings();
    let bad = |args: StorageArgs, want: &str| {
        let e = args.build(true, &s).err().expect("refused").to_string();
        assert!(e.contains(want), "{e}");
        assert!(!e.contains('\n'), "{e}");
    };
    bad(StorageArgs::default(), "no bucket to measure");
    bad(
        StorageArgs {
            url: Some("ftp://x/y".into()),
            ..StorageArgs::default()
        },
        "--url ftp://x/y: unsupported scheme",
    );
    bad(
        StorageArgs {
            concurrency: Some("0".into()),
            ..quick("memory:///x")
        },
        "--concurrency",
    );
    bad(
        StorageArgs {
            chunk_size: Some("32M".into()),
            ..quick("memory:///x")
        },
        "--chunk-size 32M is larger",
    );
    bad(
        StorageArgs {
            endpoint: Some("http://127.0.0.1:1".into()),
            ..quick("file:///tmp/x")
        },
        "--endpoint",
    );
    let plan = quick("memory:///x").plan(true).unwrap();
    assert_eq!(plan.reads_per_round(1), 8);
    assert_eq!(plan.reads_per_round(32), 64);
    let p = StorageArgs::default().plan(false).unwrap();
    assert_eq!(
        (
            p.chunk_size,
            p.range_object_size,
            p.sizes.clone(),
            p.concurrency.clone()
        ),
        (4 * MIB, 256 * MIB, vec![MIB, 64 * MIB], vec![1, 8, 32])
    );
}
