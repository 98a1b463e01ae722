//! `bench-host disk` end to end: the safety rules (no existing file or block
//! device without --force, free space, a real --dir), cleanup after a normal
//! run and after a SIGINT in the middle of a measurement.

mod support;

use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bench_core::schema::{ErrorKind, ResultDocument};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::{BIN, SCRUBBED, assert_code, assert_usage_error, host, wait_or_kill};

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn refuses_an_existing_file_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("precious");
    std::fs::write(&file, b"do not overwrite").unwrap();
    assert_usage_error(
        host(tmp.path())
            .args(["disk", "--quick", "--output", "-", "--file"])
            .arg(&file),
        "--force",
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"do not overwrite");
}

#[test]
fn refuses_a_block_device_without_force_and_other_devices_always() {
    let tmp = tempfile::tempdir().unwrap();
    let block = [
        "/dev/loop0",
        "/dev/vda",
        "/dev/sda",
        "/dev/nvme0n1",
        "/dev/xvda",
        "/dev/ram0",
    ]
    .into_iter()
    .find(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_block_device()));
    match block {
        Some(device) => assert_usage_error(
            host(tmp.path()).args(["disk", "--quick", "--output", "-", "--file", device]),
            "block device",
        ),
        None => eprintln!("skipped the block-device case: no block device node found"),
    }
    // A character device is refused even with --force (checked: /dev/null
    // is not always one in containers).
    let char_device = ["/dev/zero", "/dev/full", "/dev/urandom", "/dev/null"]
        .into_iter()
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_char_device()));
    match char_device {
        Some(device) => assert_usage_error(
            host(tmp.path()).args([
                "disk", "--quick", "--output", "-", "--force", "--file", device,
            ]),
            "not a regular file or a block device",
        ),
        None => eprintln!("skipped the character-device case: none found"),
    }
}

#[test]
fn refuses_a_size_beyond_free_space() {
    let tmp = tempfile::tempdir().unwrap();
    assert_usage_error(
        host(tmp.path())
            .args(["disk", "--output", "-", "--size", "1000T", "--dir"])
            .arg(tmp.path()),
        "not enough free space",
    );
    assert!(entries(tmp.path()).is_empty());
}

#[test]
fn refuses_a_missing_dir_and_bad_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    assert_usage_error(
        host(tmp.path())
            .args(["disk", "--output", "-", "--dir"])
            .arg(&missing),
        "--dir",
    );
    assert_usage_error(
        host(tmp.path()).args(["disk", "--output", "-", "--block-size", "1000"]),
        "--block-size",
    );
    assert_usage_error(
        host(tmp.path()).args(["disk", "--output", "-", "--iodepth", "0"]),
        "--iodepth",
    );
    assert_usage_error(
        host(tmp.path()).args(["disk", "--output", "-", "--runtime", "0"]),
        "--runtime",
    );
    // `run` takes the same target flags.
    assert_usage_error(
        host(tmp.path())
            .args(["run", "--quick", "--output", "-", "--dir"])
            .arg(&missing),
        "--dir",
    );
}

/// A short run with every pattern: exit 0, figures present, nothing left.
#[test]
fn a_normal_run_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let out = host(tmp.path())
        .args([
            "disk",
            "--size",
            "16M",
            "--runtime",
            "0.3",
            "--ramp",
            "0.1",
            "--fsync-ops",
            "5",
            "--output",
            "-",
            "--dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc = ResultDocument::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    for pattern in ["read", "write", "randread", "randwrite"] {
        for metric in [
            "disk.iops",
            "disk.bandwidth_bytes_per_second",
            "disk.latency_us",
        ] {
            let s = doc
                .samples
                .iter()
                .find(|s| {
                    s.metric == metric
                        && s.labels.get("pattern").map(String::as_str) == Some(pattern)
                })
                .unwrap_or_else(|| panic!("{metric} {pattern} missing"));
            assert!(s.value > 0.0 && !s.raw.is_empty());
            assert_eq!(s.labels["direct"], "true");
            assert!(["io_uring", "threads"].contains(&s.labels["engine"].as_str()));
        }
    }
    assert!(
        doc.samples
            .iter()
            .any(|s| s.metric == "disk.fsync_latency_us")
    );
    assert_eq!(doc.parameters["disk"]["created_by_us"], true);
    assert!(
        entries(&data).is_empty(),
        "left behind: {:?}",
        entries(&data)
    );
}

/// `--file` naming a new path: created, used, removed; an existing file
/// with --force: used in place and kept.
#[test]
fn file_flag_creates_and_removes_or_keeps_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("named.dat");
    let run = |extra: &[&str]| {
        let out = host(tmp.path())
            .args([
                "disk",
                "--size",
                "8M",
                "--runtime",
                "0.2",
                "--ramp",
                "0",
                "--fsync-ops",
                "2",
                "--pattern",
                "randread",
                "--engine",
                "threads",
                "--output",
                "-",
                "--file",
            ])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap();
        assert_code(&out, 0);
        ResultDocument::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap()
    };
    let doc = run(&[]);
    assert_eq!(doc.parameters["disk"]["created_by_us"], true);
    assert_eq!(doc.parameters["disk"]["engine"], "threads");
    assert!(!path.exists(), "the file we created is removed");
    std::fs::write(&path, vec![7u8; 8 << 20]).unwrap();
    let doc = run(&["--force"]);
    assert_eq!(doc.parameters["disk"]["created_by_us"], false);
    assert!(path.exists(), "an existing file is never removed");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 8 << 20);
}

/// SIGINT while measuring: exit 130, no file left, and the
/// document says the run was interrupted.
#[test]
fn sigint_mid_measurement_cleans_up_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, results) = (tmp.path().join("data"), tmp.path().join("out"));
    std::fs::create_dir(&data).unwrap();
    let mut cmd = StdCommand::new(BIN);
    cmd.current_dir(tmp.path())
        .args(["disk", "--size", "64M", "--runtime", "30", "--dir"])
        .arg(&data)
        .arg("--output-dir")
        .arg(&results)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for var in SCRUBBED {
        cmd.env_remove(var);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    // The step line of the first pattern means the layout is done and I/O runs.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains("disk: read ") => break,
            Ok(_) => continue,
            Err(e) => {
                let _ = child.kill();
                panic!("no measurement step seen ({e}): {}", reader.join().unwrap());
            }
        }
    }
    // The step line is logged as the pattern's ramp (5 s) begins, so the
    // signal lands mid-measurement without waiting any longer.
    assert!(
        entries(&data).is_empty(),
        "the scratch file is unlinked while in use"
    );
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    kill(pid, Signal::SIGINT).unwrap();
    // The probe checks the flag between I/Os and stops at once; the wait's
    // guard is for hangs only.
    let status = wait_or_kill(&mut child, "bench-host disk after SIGINT");
    let log = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{log}");
    assert!(
        entries(&data).is_empty(),
        "left behind: {:?}",
        entries(&data)
    );
    let text = std::fs::read_to_string(results.join("04_host_performance.json")).unwrap();
    let doc = ResultDocument::from_json(&text).unwrap();
    assert!(
        doc.errors
            .iter()
            .any(|e| e.kind == ErrorKind::Interrupted && e.probe == "disk"),
        "{:?}",
        doc.errors
    );
}
