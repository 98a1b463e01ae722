//! bench-sandbox end to end: `info` and its output destinations.

mod support;

use assert_cmd::Command;
use bench_core::schema::Tier;
use support::document_from;

/// A value the kernel publishes, read independently of bench-core.
fn proc_text(path: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .to_owned()
}

/// `MemTotal` of /proc/meminfo, in bytes.
fn mem_total_bytes() -> u64 {
    let meminfo = proc_text("/proc/meminfo");
    let kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no MemTotal in /proc/meminfo: {meminfo}"));
    kib * 1024
}

#[test]
fn info_writes_the_sandbox_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bench-sandbox"))
        .current_dir(dir.path())
        .args([
            "info",
            "--cloud",
            "local",
            "--output-dir",
            "results",
            "--run-id",
            "s1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("wrote results"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "the document went to the file, not stdout"
    );
    let bytes = std::fs::read(dir.path().join("results/00_sandbox_info.json")).unwrap();
    // Schema-checked against docs/schema/result-v1.json, then parsed.
    let doc = document_from(&bytes, &stderr);
    assert_eq!(
        (doc.tier, doc.suite.as_str(), doc.run_id.as_str()),
        (Tier::Sandbox, "sandbox_info", "s1")
    );
    assert_eq!(
        (doc.tool.name.as_str(), doc.tool.version.as_str()),
        ("bench-sandbox", env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(doc.cloud, "local");
    assert!(doc.samples.is_empty(), "{:?}", doc.samples);

    // The fingerprint describes this machine, as the kernel reports it.
    let fp = &doc.fingerprint;
    assert_eq!(fp.hostname, proc_text("/proc/sys/kernel/hostname"));
    assert_eq!(fp.kernel, proc_text("/proc/sys/kernel/osrelease"));
    assert_eq!(fp.arch, std::env::consts::ARCH);
    assert_eq!(
        fp.cpu_count as usize,
        std::thread::available_parallelism().unwrap().get()
    );
    assert_eq!(fp.memory_bytes, mem_total_bytes());
    assert_eq!(fp.kvm_device, std::path::Path::new("/dev/kvm").exists());
    assert!(!fp.cpu_model.is_empty());
    // Without --node, the node is the host name (sanitized; plain here).
    if fp
        .hostname
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        assert_eq!(fp.node.as_deref(), Some(fp.hostname.as_str()));
    }
}
