//! Object-store sinks without a network: memory:// and file:// through
//! object_store.
#![cfg(feature = "object-store")]

mod support;

use std::fs;

use bench_core::sink::{self, ObjectSink, OutputTarget, Sink};
use support::{check_written, doc};

const NAME: &str = bench_core::contract::file::HOST_PERFORMANCE;

fn run_id_of(sink: &ObjectSink, relative: &str) -> String {
    let bytes = sink
        .read(relative)
        .unwrap()
        .unwrap_or_else(|| panic!("{relative} missing; have {:?}", sink.list().unwrap()));
    check_written(&bytes)
}

#[test]
fn memory_write_history_and_read_back() {
    let sink = ObjectSink::open("memory://bucket/outputs/aws").unwrap();
    assert_eq!(sink.location(), "memory://bucket/outputs/aws");
    assert_eq!(sink.prefix(), "bucket/outputs/aws");
    // The probe object is gone.
    assert_eq!(sink.list().unwrap(), Vec::<String>::new());

    let url = sink.write(NAME, &doc("run-a")).unwrap();
    assert_eq!(url, format!("memory://bucket/outputs/aws/{NAME}"));
    assert_eq!(run_id_of(&sink, NAME), "run-a");

    // Same run: replaced, no history.
    let mut again = doc("run-a");
    again.samples.clear();
    sink.write(NAME, &again).unwrap();
    assert_eq!(sink.list().unwrap(), vec![NAME.to_owned()]);
    let text = String::from_utf8(sink.read(NAME).unwrap().unwrap()).unwrap();
    assert!(text.contains("\"samples\": []"), "{text}");

    // Another run: the earlier object is kept under history/run-a/.
    sink.write(NAME, &doc("run-b")).unwrap();
    assert_eq!(run_id_of(&sink, NAME), "run-b");
    assert_eq!(run_id_of(&sink, &format!("history/run-a/{NAME}")), "run-a");
    assert_eq!(
        sink.read(&format!("history/run-a/{NAME}"))
            .unwrap()
            .unwrap(),
        text.as_bytes(),
        "kept byte for byte"
    );

    // Back to run-a again (say, a re-imported file): the slot is taken, so
    // run-b's object lands in its own slot and run-a's old copy stays.
    sink.write(NAME, &doc("run-c")).unwrap();
    sink.write(NAME, &doc("run-a")).unwrap();
    sink.write(NAME, &doc("run-d")).unwrap();
    assert_eq!(
        sink.list().unwrap(),
        vec![
            NAME.to_owned(),
            "history/run-a/04_host_performance.1.json".to_owned(),
            format!("history/run-a/{NAME}"),
            format!("history/run-b/{NAME}"),
            format!("history/run-c/{NAME}"),
        ]
    );
    assert_eq!(
        run_id_of(&sink, "history/run-a/04_host_performance.1.json"),
        "run-a"
    );
    assert_eq!(sink.read("nope.json").unwrap(), None);
}

#[test]
fn memory_hostile_run_id_is_sanitized() {
    let sink = ObjectSink::open("memory://").unwrap();
    sink.write(NAME, &doc("../../x")).unwrap();
    sink.write(NAME, &doc("run-b")).unwrap();
    let listing = sink.list().unwrap();
    assert!(
        listing.contains(&format!("history/___.._x/{NAME}")),
        "{listing:?}"
    );
    assert!(listing.iter().all(|p| !p.contains("../")), "{listing:?}");
}

#[test]
fn file_url_writes_through_object_store() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("obj/out");
    let url = format!("file://{}", dir.display());
    let target = OutputTarget::from_output_dir(&url).unwrap();
    assert_eq!(target, OutputTarget::Object(url.clone()));
    let sink = sink::open(&target).unwrap();
    assert!(dir.is_dir(), "open creates the prefix directory");
    assert_eq!(sink.location(), url);

    assert_eq!(
        sink.write(NAME, &doc("run-a")).unwrap(),
        format!("{url}/{NAME}")
    );
    sink.write(NAME, &doc("run-a")).unwrap();
    assert!(!dir.join("history").exists());
    sink.write(NAME, &doc("run-b")).unwrap();

    assert_eq!(check_written(&fs::read(dir.join(NAME)).unwrap()), "run-b");
    assert_eq!(
        check_written(&fs::read(dir.join("history/run-a").join(NAME)).unwrap()),
        "run-a"
    );
    // No probe or staging files left.
    let mut names: Vec<String> = walk(&dir);
    names.sort();
    assert_eq!(
        names,
        vec![NAME.to_owned(), format!("history/run-a/{NAME}")]
    );
}

#[test]
fn file_url_errors_are_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f");
    fs::write(&file, "x").unwrap();
    let url = format!("file://{}/sub", file.display());
    let e = sink::open(&OutputTarget::Object(url.clone()))
        .err()
        .expect("under a regular file")
        .to_string();
    assert!(e.starts_with("--output-dir "), "{e}");
    assert!(e.contains("/f/sub"), "{e}");
    assert!(!e.contains('\n'), "{e}");

    let e = sink::open(&OutputTarget::Object("file://host/x".into()))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("absolute local path"), "{e}");
}

#[test]
fn works_from_inside_an_async_runtime() {
    // bench-client is async: the synchronous sink must not try to start a
    // runtime inside its runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let sink = ObjectSink::open("memory://x").unwrap();
        sink.write(NAME, &doc("run-a")).unwrap();
        sink.write(NAME, &doc("run-b")).unwrap();
        // Read back through the store: exactly the bytes the sink renders,
        // and the first run kept under history/.
        let (b, _) = sink::render_document(&doc("run-b")).unwrap();
        assert_eq!(sink.read(NAME).unwrap().as_deref(), Some(&b[..]));
        let (a, _) = sink::render_document(&doc("run-a")).unwrap();
        let kept = sink.read(&format!("history/run-a/{NAME}")).unwrap();
        assert_eq!(kept.as_deref(), Some(&a[..]));
    });
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out
}
