//! Local directory and single-file sinks: atomic writes, history rules,
//! redaction, and clear one-line errors for bad destinations.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use bench_core::sink::{self, FileSink, LocalDirSink, OutputTarget, Sink, SinkError};
use support::{check_written, doc};

const NAME: &str = "04_host_performance.json";

fn read_run_id(path: &Path) -> String {
    check_written(&fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Every file under `dir`, as sorted relative paths.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                out.push(path.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn open_dir(dir: &Path) -> Box<dyn Sink> {
    let target = OutputTarget::from_output_dir(dir.to_str().unwrap()).unwrap();
    assert_eq!(target, OutputTarget::Dir(dir.to_path_buf()));
    sink::open(&target).unwrap()
}

#[test]
fn write_is_valid_json_redacted_and_leaves_no_temp_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("outputs/aws");
    let sink = open_dir(&dir);
    assert_eq!(sink.location(), dir.display().to_string());
    // open created the directory and removed its probe file.
    assert!(dir.is_dir());
    assert_eq!(tree(&dir), Vec::<String>::new());

    let written = sink.write(NAME, &doc("run-a")).unwrap();
    assert_eq!(written, dir.join(NAME).display().to_string());
    assert_eq!(read_run_id(&dir.join(NAME)), "run-a");
    let text = fs::read_to_string(dir.join(NAME)).unwrap();
    assert!(!text.contains(support::SECRET), "{text}");
    assert!(
        text.contains("example.com"),
        "the rest of the URL stays: {text}"
    );
    assert_eq!(tree(&dir), vec![NAME.to_owned()]);
}

#[test]
fn same_run_rewrite_replaces_without_history() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = open_dir(tmp.path());
    sink.write(NAME, &doc("run-a")).unwrap();
    let mut second = doc("run-a");
    second.samples.clear();
    sink.write(NAME, &second).unwrap();
    sink.write(NAME, &second).unwrap();
    assert_eq!(tree(tmp.path()), vec![NAME.to_owned()]);
    let text = fs::read_to_string(tmp.path().join(NAME)).unwrap();
    assert!(text.contains("\"samples\": []"), "{text}");
}

#[test]
fn earlier_run_moves_to_history() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sink = open_dir(dir);
    sink.write(NAME, &doc("run-a")).unwrap();
    sink.write("02_concurrency.json", &doc("run-a")).unwrap();
    let before = fs::read(dir.join(NAME)).unwrap();

    sink.write(NAME, &doc("run-b")).unwrap();
    assert_eq!(read_run_id(&dir.join(NAME)), "run-b");
    let kept = dir.join("history/run-a").join(NAME);
    assert_eq!(fs::read(&kept).unwrap(), before, "kept byte for byte");
    assert_eq!(
        tree(dir),
        vec![
            "02_concurrency.json".to_owned(),
            NAME.to_owned(),
            format!("history/run-a/{NAME}"),
        ]
    );

    // A third run keeps run-b's file too; run-a's history is untouched.
    sink.write(NAME, &doc("run-c")).unwrap();
    assert_eq!(read_run_id(&dir.join("history/run-b").join(NAME)), "run-b");
    assert_eq!(fs::read(&kept).unwrap(), before);
}

#[test]
fn taken_history_slot_gets_a_numeric_suffix() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sink = open_dir(dir);
    let slot = dir.join("history/run-a");
    fs::create_dir_all(&slot).unwrap();
    fs::write(slot.join(NAME), "occupied").unwrap();
    fs::write(slot.join("04_host_performance.1.json"), "also occupied").unwrap();

    sink.write(NAME, &doc("run-a")).unwrap();
    sink.write(NAME, &doc("run-b")).unwrap();
    assert_eq!(fs::read_to_string(slot.join(NAME)).unwrap(), "occupied");
    assert_eq!(
        fs::read_to_string(slot.join("04_host_performance.1.json")).unwrap(),
        "also occupied"
    );
    assert_eq!(
        read_run_id(&slot.join("04_host_performance.2.json")),
        "run-a"
    );
}

#[test]
fn corrupt_earlier_file_is_kept_under_unknown_mtime() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join(NAME), "{\"run_id\": \"trunc").unwrap();
    let mtime = fs::metadata(dir.join(NAME))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sink = open_dir(dir);
    sink.write(NAME, &doc("run-a")).unwrap();
    let kept = dir.join(format!("history/unknown-{mtime}")).join(NAME);
    assert_eq!(fs::read_to_string(kept).unwrap(), "{\"run_id\": \"trunc");
    assert_eq!(read_run_id(&dir.join(NAME)), "run-a");

    // Valid JSON without a run_id counts as unknown too.
    fs::write(dir.join("x.json"), "[1, 2]").unwrap();
    sink.write("x.json", &doc("run-a")).unwrap();
    let unknown: Vec<String> = tree(dir)
        .into_iter()
        .filter(|p| p.ends_with("/x.json") && p.starts_with("history/unknown-"))
        .collect();
    assert_eq!(unknown.len(), 1, "{:?}", tree(dir));
}

#[test]
fn hostile_run_id_is_sanitized() {
    let outer = tempfile::tempdir().unwrap();
    let dir = outer.path().join("a/b/out");
    let sink = open_dir(&dir);
    sink.write(NAME, &doc("../../../evil")).unwrap();
    sink.write(NAME, &doc("run-2")).unwrap();
    // Nothing escaped the output directory...
    assert_eq!(tree(outer.path()).len(), 2, "{:?}", tree(outer.path()));
    assert!(!outer.path().join("evil").exists());
    // ...and the earlier file sits in one safe directory under history/.
    let history: Vec<PathBuf> = fs::read_dir(dir.join("history"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(history.len(), 1);
    let name = history[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(!name.starts_with('.') && !name.contains('/'), "{name}");
    assert!(name.ends_with("evil"), "{name}");
    assert_eq!(read_run_id(&history[0].join(NAME)), "../../../evil");
}

#[test]
fn concurrent_writes_of_one_run_stay_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = open_dir(tmp.path());
    std::thread::scope(|s| {
        for i in 0..8 {
            let sink = &sink;
            s.spawn(move || {
                for _ in 0..10 {
                    let name = if i % 2 == 0 {
                        NAME
                    } else {
                        "02_concurrency.json"
                    };
                    sink.write(name, &doc("run-a")).unwrap();
                }
            });
        }
    });
    assert_eq!(
        tree(tmp.path()),
        vec!["02_concurrency.json".to_owned(), NAME.to_owned()]
    );
    assert_eq!(read_run_id(&tmp.path().join(NAME)), "run-a");
}

#[test]
fn bad_file_names_are_rejected() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = open_dir(tmp.path());
    for bad in ["../x.json", "a/b.json", "", "..", "history"] {
        let e = sink.write(bad, &doc("r")).unwrap_err();
        assert!(matches!(e, SinkError::InvalidFileName { .. }), "{bad}: {e}");
    }
    assert_eq!(tree(tmp.path()), Vec::<String>::new());
}

fn assert_one_line(msg: &str, must_contain: &[&str]) {
    assert!(!msg.contains('\n'), "multi-line: {msg}");
    for s in must_contain {
        assert!(msg.contains(s), "{s:?} missing in: {msg}");
    }
}

#[test]
fn open_fails_fast_under_a_regular_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plain-file");
    fs::write(&file, "x").unwrap();
    let dir = file.join("outputs");
    let target = OutputTarget::from_output_dir(dir.to_str().unwrap()).unwrap();
    let e = sink::open(&target)
        .err()
        .expect("cannot create a dir under a file");
    let msg = e.to_string();
    assert!(matches!(e, SinkError::CreateDir { .. }), "{msg}");
    assert_eq!(
        msg,
        format!(
            "--output-dir {}: cannot create directory: Not a directory (os error 20); choose a writable directory",
            dir.display()
        )
    );

    let e = sink::open(&OutputTarget::File(file.join("r.json")))
        .err()
        .unwrap()
        .to_string();
    assert_one_line(
        &e,
        &[
            "--output ",
            "plain-file: cannot create directory: exists and is not a directory",
        ],
    );
}

#[test]
fn open_fails_fast_under_proc() {
    let e = sink::open(&OutputTarget::Dir("/proc/e2b-bench-sink-test/out".into()))
        .err()
        .expect("/proc takes no new directories")
        .to_string();
    assert_one_line(
        &e,
        &[
            "--output-dir /proc/e2b-bench-sink-test/out: ",
            "; choose a writable",
        ],
    );

    // An existing directory where nothing can be created: the probe fails.
    let e = LocalDirSink::open("/proc/self")
        .expect_err("probe in /proc")
        .to_string();
    assert_one_line(
        &e,
        &[
            "--output-dir /proc/self: not writable: ",
            "; choose a writable",
        ],
    );

    let e = sink::open(&OutputTarget::File("/proc/e2b-bench-result.json".into()))
        .err()
        .expect("probe in /proc")
        .to_string();
    assert_one_line(&e, &["--output /proc: not writable: "]);
}

#[test]
fn unknown_scheme_is_rejected_by_name() {
    let e = OutputTarget::from_output_dir("ftp://x")
        .unwrap_err()
        .to_string();
    assert_one_line(
        &e,
        &[
            "--output-dir ftp://x",
            "ftp://",
            "s3://",
            "gs://",
            "az://",
            "file://",
        ],
    );
}

#[test]
fn file_sink_writes_atomically_and_creates_the_parent() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("nested/dir/result.json");
    let target = OutputTarget::from_output(path.to_str().unwrap());
    assert_eq!(target, OutputTarget::File(path.clone()));
    let sink = sink::open(&target).unwrap();
    assert_eq!(
        sink.write(NAME, &doc("run-a")).unwrap(),
        path.display().to_string()
    );
    assert_eq!(read_run_id(&path), "run-a");
    sink.write("other.json", &doc("run-b")).unwrap();
    assert_eq!(read_run_id(&path), "run-b");
    assert_eq!(tree(tmp.path()), vec!["nested/dir/result.json".to_owned()]);

    // A directory is not a file destination.
    let e = FileSink::open(tmp.path()).unwrap_err().to_string();
    assert_one_line(&e, &["--output ", "not a file path"]);
}

/// bench-sandbox builds bench-core without `object-store`.
#[cfg(not(feature = "object-store"))]
#[test]
fn object_urls_without_object_store_support() {
    for url in ["s3://bucket/p", "memory://x", "az://c/p?sig=SECRET"] {
        let e = sink::open(&OutputTarget::Object(url.to_owned()))
            .err()
            .expect("no object store in this build")
            .to_string();
        assert!(matches!(
            sink::open(&OutputTarget::Object(url.to_owned())),
            Err(SinkError::ObjectStoreUnsupported { .. })
        ));
        assert_one_line(&e, &["--output-dir ", "built without object-store support"]);
        assert!(!e.contains("SECRET"), "{e}");
    }
    // file:// needs no object store: it is a local directory.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("with space");
    let url = format!("file://{}", dir.display()).replace(' ', "%20");
    let sink = sink::open(&OutputTarget::from_output_dir(&url).unwrap()).unwrap();
    sink.write(NAME, &doc("run-a")).unwrap();
    sink.write(NAME, &doc("run-b")).unwrap();
    assert_eq!(read_run_id(&dir.join(NAME)), "run-b");
    assert_eq!(read_run_id(&dir.join("history/run-a").join(NAME)), "run-a");
}

#[test]
fn file_sink_writes_devices_and_fifos_in_place() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;

    // Renaming over /dev/null (as root) would replace the device with a file.
    let sink = FileSink::open("/dev/null").unwrap();
    assert!(!sink.replaces(), "a device is a stream: written once");
    sink.write(NAME, &doc("run-a")).unwrap();
    let meta = fs::metadata("/dev/null").unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null is still a device"
    );

    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("results.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            fs::File::open(fifo)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        })
    };
    let sink = FileSink::open(&fifo).unwrap();
    sink.write(NAME, &doc("run-b")).unwrap();
    drop(sink);
    let text = reader.join().unwrap();
    assert!(text.contains("\"run-b\""), "{text}");
    assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(tree(tmp.path()), vec!["results.fifo".to_owned()]);
}
