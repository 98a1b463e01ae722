//! bench-sandbox's `python` probe end to end: the metrics and labels it
//! writes, a module that does not import, a missing interpreter, bad flags.

mod support;

use std::path::{Path, PathBuf};

use bench_core::schema::{ErrorKind, ResultDocument, Sample};
use support::{run_document, sandbox, usage_error};

/// The real interpreter behind `python3` (not a pyenv-style shim script,
/// whose own start-up would dominate every figure).
fn real_python3() -> PathBuf {
    let out = std::process::Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .expect("these tests need python3 on PATH");
    assert!(out.status.success(), "python3 does not run");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A directory holding only a `python3` symlink to the real interpreter,
/// to be the whole PATH of a run.
fn path_with_python3(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("create bin dir");
    std::os::unix::fs::symlink(real_python3(), bin.join("python3")).expect("symlink python3");
    bin
}

fn samples<'a>(doc: &'a ResultDocument, metric: &str) -> Vec<&'a Sample> {
    doc.samples.iter().filter(|s| s.metric == metric).collect()
}

fn label<'a>(samples: &[&'a Sample], key: &str) -> Vec<&'a str> {
    samples.iter().map(|s| s.labels[key].as_str()).collect()
}

#[test]
fn every_metric_is_measured_with_its_labels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = path_with_python3(dir.path());
    // python3 is found on PATH (the default), which holds nothing else.
    let (_, doc) = run_document(
        sandbox(dir.path()).env("PATH", &bin).args([
            "python",
            "--quick",
            "--startup-runs",
            "3",
            "--py-time",
            "100ms",
            "--import-runs",
            "2",
        ]),
        0,
    );
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);

    let startup = samples(&doc, "python.startup_ms");
    assert_eq!(label(&startup, "workload"), ["pass", "pass_isolated"]);
    for s in &startup {
        assert_eq!(s.unit, "ms");
        // 3 runs, the first one a warm-up.
        assert_eq!(s.raw.len(), 2, "{s:?}");
        assert!(s.value > 0.0 && s.value < 10_000.0, "{s:?}");
    }

    let ops = samples(&doc, "python.ops_per_second");
    assert_eq!(
        label(&ops, "workload"),
        ["call", "dict", "str", "sort", "float"]
    );
    for s in &ops {
        assert_eq!(s.unit, "ops/s");
        assert!(s.value > 0.0, "{s:?}");
        assert!(!s.raw.is_empty() && s.raw.iter().all(|r| *r > 0.0), "{s:?}");
    }

    let imports = samples(&doc, "python.import_ms");
    assert_eq!(
        label(&imports, "module"),
        ["json", "decimal", "asyncio", "ssl", "sqlite3"]
    );
    for s in &imports {
        assert_eq!(s.unit, "ms");
        assert_eq!(s.raw.len(), 2, "{s:?}");
        assert!(s.raw.iter().all(|ms| *ms >= 0.0), "{s:?}");
    }

    let facts = &doc.parameters["python"];
    assert_eq!(facts["startup_runs"], 3);
    assert_eq!(facts["implementation"], "CPython");
    assert!(
        facts["version"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "{facts}"
    );
    assert_eq!(facts["interpreter"], bin.join("python3").to_str().unwrap());
    assert!(facts["executable"].as_str().is_some(), "{facts}");
    assert!(
        facts["startup"]
            .as_str()
            .is_some_and(|s| s.contains("warm-up")),
        "{facts}"
    );
    assert!(facts["workload_ops"]["call"].as_str().is_some(), "{facts}");
}

#[test]
fn a_module_that_does_not_import_leaves_the_others_measured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let python = real_python3();
    let (_, doc) = run_document(
        sandbox(dir.path())
            .args(["python", "--python"])
            .arg(&python)
            .args([
                "--startup-runs",
                "2",
                "--py-time",
                "50ms",
                "--py-workloads",
                "sort",
                "--import-runs",
                "2",
                "--modules",
                "e2b_bench_no_such_module,json",
            ]),
        3,
    );
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    let error = &doc.errors[0];
    assert_eq!(
        (error.probe.as_str(), error.kind),
        ("python", ErrorKind::Unavailable)
    );
    assert!(
        error.message.contains("e2b_bench_no_such_module")
            && error.message.contains("ModuleNotFoundError"),
        "{}",
        error.message
    );
    assert_eq!(
        label(&samples(&doc, "python.import_ms"), "module"),
        ["json"]
    );
    assert_eq!(
        label(&samples(&doc, "python.ops_per_second"), "workload"),
        ["sort"]
    );
    assert_eq!(samples(&doc, "python.startup_ms").len(), 2);
}

#[test]
fn a_missing_interpreter_is_unavailable() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (python, needle) in [
        ("/nonexistent/python3", "/nonexistent/python3"),
        // Runs, but is no Python.
        ("/bin/false", "does not run Python code"),
    ] {
        let (_, doc) = run_document(
            sandbox(dir.path()).args(["python", "--quick", "--python", python]),
            3,
        );
        assert!(doc.samples.is_empty(), "{:?}", doc.samples);
        assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
        assert_eq!(doc.errors[0].kind, ErrorKind::Unavailable);
        assert!(
            doc.errors[0].message.contains(needle) && doc.errors[0].message.contains("--python"),
            "{}",
            doc.errors[0].message
        );
    }
    // No python3 on PATH at all.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("create empty dir");
    let (_, doc) = run_document(
        sandbox(dir.path())
            .env("PATH", &empty)
            .args(["python", "--quick"]),
        3,
    );
    assert_eq!(doc.errors[0].kind, ErrorKind::Unavailable);
    assert!(
        doc.errors[0].message.contains("not found on PATH"),
        "{}",
        doc.errors[0].message
    );
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    let skip_others = "--skip=cpu,memory,disk,network,pkg";
    for (args, flag) in [
        (&["python", "--py-time", "0"][..], "--py-time"),
        (&["python", "--startup-runs", "1"][..], "--startup-runs"),
        (&["python", "--import-runs", "x"][..], "--import-runs"),
        (
            &["python", "--modules", "json,os.path,a b"][..],
            "--modules",
        ),
        (
            &["python", "--py-workloads", "call,regex"][..],
            "--py-workloads",
        ),
        // `run` takes the same flags.
        (&["run", skip_others, "--py-time", "soon"][..], "--py-time"),
    ] {
        usage_error(dir.path(), args, flag);
    }
}

#[test]
fn run_measures_python_with_its_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let python = real_python3();
    let (_, doc) = run_document(
        sandbox(dir.path())
            .args([
                "run",
                "--quick",
                "--skip=cpu,memory,disk,network,pkg",
                "--startup-runs",
                "2",
                "--py-time",
                "20ms",
                "--py-workloads",
                "dict",
                "--modules",
                "json",
                "--import-runs",
                "1",
                "--python",
            ])
            .arg(&python),
        0,
    );
    let metrics: Vec<(&str, usize)> = doc
        .samples
        .iter()
        .map(|s| (s.metric.as_str(), s.raw.len()))
        .collect();
    assert_eq!(metrics.len(), 4, "{metrics:?}");
    assert_eq!(metrics[0], ("python.startup_ms", 1));
    assert_eq!(metrics[1], ("python.startup_ms", 1));
    assert_eq!(metrics[2].0, "python.ops_per_second");
    assert!(metrics[2].1 >= 1, "{metrics:?}");
    assert_eq!(metrics[3], ("python.import_ms", 1));
    assert_eq!(doc.parameters["python"]["py_time_s"], 0.02);
}
