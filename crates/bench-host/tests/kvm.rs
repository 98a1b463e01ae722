//! `bench-host kvm` end to end: a real run against /dev/kvm writes the
//! contract's metrics in a schema-valid document; a missing device, a
//! character device that is not KVM and a device the user may not open each
//! give an `unavailable` entry with the reason and exit 3, never a panic.

mod support;

use std::path::Path;

use assert_cmd::Command;
use bench_core::schema::ErrorKind;
use support::{document, host};

fn kvm_usable() -> bool {
    let usable = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    if !usable {
        eprintln!("skipped: /dev/kvm cannot be opened here");
    }
    usable
}

#[test]
fn real_run_writes_the_contract_metrics() {
    if !kvm_usable() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args([
            "kvm",
            "--iterations",
            "5",
            "--exits",
            "2000",
            "--output",
            "-",
        ])
        .output()
        .unwrap();
    let doc = document(&out);
    assert_eq!(out.status.code(), Some(0), "{:?}", doc.errors);
    assert_eq!(doc.suite, "host_performance");
    let params = &doc.parameters["kvm"];
    assert_eq!(params["api_version"], 12);
    assert_eq!(params["device"], "/dev/kvm");
    assert_eq!(params["capabilities"]["user_memory"], true);
    assert_eq!(params["exit_warmup_discarded"], 200);
    assert!(params["nested_virtualization"].is_boolean());
    let sample = |metric: &str| {
        doc.samples
            .iter()
            .find(|s| s.metric == metric)
            .unwrap_or_else(|| panic!("{metric} missing"))
    };
    for metric in ["kvm.vm_create_us", "kvm.vcpu_create_us"] {
        let s = sample(metric);
        assert_eq!(s.unit, "us");
        assert_eq!(s.raw.len(), 5);
        assert_eq!(s.value, s.stats.as_ref().unwrap().p50);
        // Creating a VM or a vCPU takes microseconds to milliseconds.
        assert!(
            s.raw.iter().all(|&us| us > 1.0 && us < 1e6),
            "{metric}: {:?}",
            s.raw
        );
    }
    let exits = sample("kvm.exit_roundtrip_ns");
    assert_eq!(exits.unit, "ns");
    assert_eq!(exits.raw.len(), 2000);
    assert_eq!(exits.stats.as_ref().unwrap().n, 2000);
    assert!(
        exits.raw.iter().all(|&ns| ns > 100.0 && ns < 1e9),
        "{:?}",
        exits.stats
    );
    assert!(exits.labels.is_empty());
}

#[test]
fn missing_device_is_unavailable_and_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let out = host(dir.path())
        .args(["kvm", "--device", "/nonexistent", "--output", "-"])
        .output()
        .unwrap();
    let doc = document(&out);
    assert_eq!(out.status.code(), Some(3));
    assert!(doc.samples.is_empty());
    assert_eq!(doc.errors.len(), 1);
    assert_eq!(doc.errors[0].probe, "kvm");
    assert_eq!(doc.errors[0].kind, ErrorKind::Unavailable);
    assert_eq!(
        doc.errors[0].message,
        "/nonexistent: not found; this node cannot run Firecracker (enable virtualization / nested virtualization)"
    );
    assert_eq!(doc.parameters["kvm"]["device_exists"], false);
}

#[test]
fn a_device_that_is_not_kvm_is_unavailable_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "not kvm").unwrap();
    for device in [Path::new("/dev/null"), file.as_path(), dir.path()] {
        let out = host(dir.path())
            .args(["kvm", "--output", "-", "--device"])
            .arg(device)
            .output()
            .unwrap();
        let doc = document(&out);
        assert_eq!(out.status.code(), Some(3), "{device:?}");
        assert!(doc.samples.is_empty());
        assert_eq!(doc.errors[0].kind, ErrorKind::Unavailable);
        let message = &doc.errors[0].message;
        assert!(
            message.starts_with(&device.display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("not a KVM device") || message.contains("cannot open"),
            "{message}"
        );
    }
}

/// A copy of the /dev/kvm node with mode 0600 in a directory everyone may
/// enter, opened by an unprivileged user through `setpriv`. Needs root (for
/// mknod) and util-linux's setpriv; skipped with a reason otherwise.
#[test]
fn permission_denied_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("kvm");
    let made = std::process::Command::new("mknod")
        .args(["-m", "0600"])
        .arg(&node)
        .args(["c", "10", "232"])
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mknod failed (not root, or no mknod)");
        return;
    }
    let chmod = std::process::Command::new("chmod")
        .arg("0755")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(chmod.success());
    let setpriv = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status();
    if !setpriv.is_ok_and(|s| s.success()) {
        eprintln!("skipped: setpriv cannot drop to uid 65534 here");
        return;
    }
    let mut cmd = Command::new("setpriv");
    cmd.current_dir(dir.path())
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_bench-host"))
        .args(["kvm", "--output", "-", "--device"])
        .arg(&node);
    for var in [
        "CLOUD_PROVIDER",
        "E2B_STORAGE_DIR",
        "E2B_API_KEY",
        "E2B_DOMAIN",
        "STORAGE_URL",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().unwrap();
    let doc = document(&out);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(doc.errors[0].kind, ErrorKind::Unavailable);
    assert_eq!(
        doc.errors[0].message,
        format!(
            "{}: permission denied; run as root or add the user to the kvm group",
            node.display()
        )
    );
    assert_eq!(doc.parameters["kvm"]["device_mode"], "0600");
    assert_eq!(
        doc.parameters["kvm"]["device_type"],
        "character device 10:232"
    );
}

#[test]
fn bad_counts_are_one_line_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["kvm", "--iterations", "0"][..], "--iterations '0'"),
        (&["kvm", "--exits", "lots"][..], "--exits 'lots'"),
        (&["kvm", "--exits", "-5"][..], "--exits '-5'"),
        (
            &["kvm", "--exits", "99999999999"][..],
            "--exits '99999999999'",
        ),
    ] {
        let out = host(dir.path()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{needle} not in {stderr}");
        assert!(out.stdout.is_empty());
    }
}
