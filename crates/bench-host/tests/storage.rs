//! `bench-host storage` end to end against real servers on loopback ports,
//! started here: moto (S3), Azurite (Azure Blob), fake-gcs-server (GCS, read
//! half only: object_store writes through GCS's XML API, which no emulator
//! in the registries speaks) and `file://`. Every run must leave nothing
//! behind, also when interrupted; bad input is one line.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use bench_core::schema::ResultDocument;
use bench_testkit::azurite::{
    self, ACCOUNT as AZURITE_ACCOUNT, KEY as AZURITE_KEY, request as azurite_request,
};
use bench_testkit::client::http;
use bench_testkit::service::{self, Server};

const BUCKET: &str = "bench-bucket";

/// The binary in `dir` with no cloud configuration inherited.
fn host(dir: &Path) -> Command {
    let mut cmd = support::host(dir);
    for (key, _) in std::env::vars().filter(|(k, _)| cloud_var(k)) {
        cmd.env_remove(key);
    }
    cmd
}

/// `bench-host storage --quick --output - --url URL` in `dir`.
fn storage(dir: &Path, url: &str) -> Command {
    let mut cmd = host(dir);
    cmd.args(["storage", "--quick", "--output", "-", "--url", url]);
    cmd
}

fn cloud_var(k: &str) -> bool {
    [
        "AWS_",
        "AZURE_",
        "AZURITE_",
        "GOOGLE_",
        "E2B_BENCH_INSTANCE",
    ]
    .iter()
    .any(|p| k.starts_with(p))
}

fn s3_env(cmd: &mut Command) {
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "zq-storage-secret")
        .env("AWS_REGION", "us-east-1");
}

fn moto() -> Option<Server> {
    let exe = service::service("moto_server", "E2B_BENCH_MOTO_SERVER")?;
    let port = service::free_port();
    let server = Server::start(&exe, &["-H", "127.0.0.1", "-p", &port.to_string()], port);
    let r = http(port, "PUT", &format!("/{BUCKET}"), &[], b"").unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    Some(server)
}

/// A plain GET to moto (it checks that a signature is present, not its value).
fn moto_get(port: u16, path: &str) -> String {
    let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00".to_owned();
    let r = http(port, "GET", path, &[("Authorization", auth)], b"").unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    String::from_utf8(r.body).unwrap()
}

/// Asserts the bucket holds no object and no unfinished multipart upload.
fn assert_s3_empty(port: u16) {
    let listing = moto_get(port, &format!("/{BUCKET}?list-type=2"));
    assert!(
        listing.contains("<KeyCount>0</KeyCount>"),
        "left behind: {listing}"
    );
    let uploads = moto_get(port, &format!("/{BUCKET}?uploads"));
    assert!(
        !uploads.contains("<Upload>"),
        "unfinished uploads: {uploads}"
    );
}

/// The document of a run written to stdout.
fn run_stdout(mut cmd: Command) -> (ResultDocument, String) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc = ResultDocument::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();
    (doc, stderr)
}

/// The samples every read-write run has, with sane values.
fn check_samples(doc: &ResultDocument, backend: &str) {
    assert_eq!(doc.suite, "cloud_storage");
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let errors = support::schema_errors(&serde_json::to_vec(doc).unwrap());
    assert!(errors.is_empty(), "{errors:?}");
    let find = |metric: &str, labels: &[(&str, &str)]| support::sample(doc, metric, labels);
    for s in &doc.samples {
        assert_eq!(s.labels["backend"], backend, "{s:?}");
        assert!(s.value > 0.0 && s.value.is_finite(), "{s:?}");
        assert!(s.labels.contains_key("concurrency"), "{s:?}");
    }
    let put = find("storage.put_latency_ms", &[("object_size", "1024")]);
    assert_eq!(put.raw.len(), 10, "--quick: 10 small PUTs");
    assert!(put.value < 10_000.0, "{put:?}");
    assert_eq!(
        find("storage.get_ttfb_ms", &[("object_size", "1024")])
            .raw
            .len(),
        10
    );
    find("storage.list_latency_ms", &[("object_count", "10")]);
    find(
        "storage.put_latency_ms",
        &[("object_size", "8388608"), ("method", "multipart")],
    );
    find(
        "storage.get_bandwidth_bytes_per_second",
        &[("object_size", "1048576"), ("access", "whole")],
    );
    for c in ["1", "8", "32"] {
        let lat = find(
            "storage.range_get_latency_ms",
            &[("concurrency", c), ("object_size", "1048576")],
        );
        assert_eq!(lat.labels["source_size"], "16777216");
        let want: usize = c.parse::<usize>().unwrap().max(4) * 2;
        assert_eq!(lat.raw.len(), want, "reads at concurrency {c}");
        let stats = lat.stats.as_ref().unwrap();
        assert!(stats.p95 >= stats.p50, "{stats:?}");
        find(
            "storage.get_bandwidth_bytes_per_second",
            &[("concurrency", c), ("access", "range")],
        );
    }
    let p = &doc.parameters["storage"];
    assert_eq!(p["backend"], backend);
    assert!(p["deleted_objects"].as_u64().unwrap() >= 12, "{p}");
}

#[test]
fn s3_quick_run_measures_and_leaves_nothing() {
    let Some(server) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = storage(dir.path(), &format!("s3://{BUCKET}/bench/run"));
    s3_env(&mut cmd);
    cmd.args(["--endpoint", &server.base_url()]);
    let (doc, stderr) = run_stdout(cmd);
    check_samples(&doc, "s3");
    let p = &doc.parameters["storage"];
    assert_eq!(p["bucket"], BUCKET);
    assert_eq!(p["region"], "us-east-1");
    assert_eq!(p["endpoint"], server.base_url());
    let prefix = p["run_prefix"].as_str().unwrap();
    assert!(
        prefix.starts_with(&format!(
            "s3://{BUCKET}/bench/run/e2b-bench-{}-",
            doc.run_id
        )),
        "{prefix}"
    );
    let text = serde_json::to_string(&doc).unwrap();
    assert!(!text.contains("zq-storage-secret") && !stderr.contains("zq-storage-secret"));
    assert_s3_empty(server.port);
}

#[test]
fn azure_quick_run_measures_and_leaves_nothing() {
    let Some(exe) = service::service("azurite-blob", "E2B_BENCH_AZURITE_BLOB") else {
        return;
    };
    let port = service::free_port();
    let server = Server::start(&exe, &azurite_args(port), port);
    azurite::create_container(port, "bench");
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = storage(dir.path(), "az://bench/e2b");
    cmd.env("AZURE_STORAGE_USE_EMULATOR", "true")
        .env("AZURITE_BLOB_STORAGE_URL", server.base_url());
    let (doc, _) = run_stdout(cmd);
    check_samples(&doc, "azure");
    assert_eq!(doc.parameters["storage"]["bucket"], "bench");
    let r = azurite_request(
        port,
        "GET",
        "bench",
        &[("restype", "container"), ("comp", "list")],
        b"",
    )
    .unwrap();
    let listing = String::from_utf8_lossy(&r.body);
    assert_eq!(r.status, 200, "{listing}");
    assert!(!listing.contains("<Blob>"), "left behind: {listing}");
}

fn azurite_args(port: u16) -> Vec<&'static str> {
    let port: &'static str = Box::leak(port.to_string().into_boxed_str());
    vec![
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        port,
        "--inMemoryPersistence",
        "--disableTelemetry",
    ]
}

#[test]
fn file_quick_run_measures_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    std::fs::write(store.join("keep.txt"), b"not ours").unwrap();
    let cmd = storage(dir.path(), &format!("file://{}", store.display()));
    let (doc, _) = run_stdout(cmd);
    check_samples(&doc, "file");
    let left: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["keep.txt"], "only what was there before");
}

#[test]
fn storage_url_comes_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("from-env");
    let mut cmd = host(dir.path());
    cmd.env("STORAGE_URL", format!("file://{}", store.display()))
        .args(["storage", "--quick", "--output", "-", "--iterations", "2"])
        .args([
            "--sizes",
            "4k",
            "--range-object-size",
            "2M",
            "--concurrency",
            "2",
        ]);
    let (doc, _) = run_stdout(cmd);
    assert_eq!(doc.parameters["storage"]["backend"], "file");
    assert!(
        doc.samples
            .iter()
            .any(|s| s.metric == "storage.range_get_latency_ms")
    );
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 0);
}

#[test]
fn ctrl_c_during_the_upload_exits_130_and_leaves_nothing() {
    let Some(server) = moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let mut cmd = StdCommand::new(support::BIN);
    cmd.current_dir(dir.path());
    for var in support::SCRUBBED {
        cmd.env_remove(var);
    }
    for (key, _) in std::env::vars().filter(|(k, _)| cloud_var(k)) {
        cmd.env_remove(key);
    }
    // A range object large enough that the upload is still running when
    // the signal arrives.
    let mut child = cmd
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .args([
            "storage",
            "--quick",
            "--range-object-size",
            "2G",
            "--output-dir",
        ])
        .arg(&out_dir)
        .arg("--url")
        .arg(format!("s3://{BUCKET}/interrupted"))
        .args(["--endpoint", &server.base_url()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    // A hang guard per line, not a speed bound: moto on a loaded machine
    // is slow, and only a hang takes this long.
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the upload step did not start");
        if line.contains("uploading the 2G range source object") {
            break;
        }
    }
    // Objects of the earlier steps are in the bucket now.
    let listing = moto_get(server.port, &format!("/{BUCKET}?list-type=2"));
    assert!(!listing.contains("<KeyCount>0</KeyCount>"), "{listing}");
    // Our own child, not yet reaped, so its pid cannot have been reused.
    // Timed from the signal: the earlier steps' speed is not the subject.
    let signalled = Instant::now();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = child.wait().unwrap();
    let stderr = reader.join().unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    // Generous for a loaded machine: the probe aborts the upload and
    // deletes what it wrote rather than finishing the 2G object.
    assert!(
        signalled.elapsed() < Duration::from_secs(60),
        "{:?}",
        signalled.elapsed()
    );
    assert_s3_empty(server.port);
    let text = std::fs::read_to_string(out_dir.join("05_cloud_storage.json")).unwrap();
    let doc = ResultDocument::from_json(&text).unwrap();
    assert!(
        doc.errors
            .iter()
            .any(|e| e.kind == bench_core::schema::ErrorKind::Interrupted),
        "{:?}",
        doc.errors
    );
    assert!(
        doc.samples
            .iter()
            .any(|s| s.metric == "storage.put_latency_ms"),
        "what finished is kept"
    );
}

/// Runs a storage command expected to fail; returns (exit code, stderr,
/// the document if one was written to stdout).
fn run_failing(mut cmd: Command) -> (i32, String, Option<ResultDocument>) {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc = ResultDocument::from_json(&String::from_utf8_lossy(&out.stdout)).ok();
    (out.status.code().unwrap_or(-1), stderr, doc)
}

#[test]
fn an_unreachable_endpoint_is_one_error_entry() {
    let dir = tempfile::tempdir().unwrap();
    let closed = service::free_port();
    let mut cmd = storage(dir.path(), "s3://b/p");
    s3_env(&mut cmd);
    cmd.args(["--endpoint", &format!("http://127.0.0.1:{closed}")]);
    let started = Instant::now();
    let (code, stderr, doc) = run_failing(cmd);
    assert_eq!(code, 3, "{stderr}");
    // A refused connect fails at once; the bound only catches endless
    // retries, with a loaded machine's margin.
    assert!(started.elapsed() < Duration::from_secs(60));
    let doc = doc.expect("the document is still written");
    assert!(doc.samples.is_empty());
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    let msg = &doc.errors[0].message;
    assert!(msg.starts_with("PUT s3://b/p/e2b-bench-"), "{msg}");
    assert!(msg.contains("failed") && !msg.contains('\n'), "{msg}");
    assert!(
        msg.to_ascii_lowercase().contains("connect"),
        "says it could not connect: {msg}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_credentials_are_one_error_entry() {
    let Some(exe) = service::service("azurite-blob", "E2B_BENCH_AZURITE_BLOB") else {
        return;
    };
    let port = service::free_port();
    let server = Server::start(&exe, &azurite_args(port), port);
    azurite::create_container(port, "bench");
    assert_ne!(AZURITE_KEY, "d3Jvbmcta2V5LXdyb25nLWtleQ==");
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = storage(dir.path(), "az://bench/x");
    cmd.env("AZURE_STORAGE_USE_EMULATOR", "true")
        .env("AZURITE_BLOB_STORAGE_URL", server.base_url())
        .env("AZURE_STORAGE_ACCOUNT_NAME", AZURITE_ACCOUNT)
        .env("AZURE_STORAGE_ACCOUNT_KEY", "d3Jvbmcta2V5LXdyb25nLWtleQ==")
        .env("AZURE_MAX_RETRIES", "0");
    let (code, stderr, doc) = run_failing(cmd);
    assert_eq!(code, 3, "{stderr}");
    let doc = doc.unwrap();
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    let msg = &doc.errors[0].message;
    assert!(msg.contains("403"), "{msg}");
    assert!(msg.contains("check the credentials"), "{msg}");
    assert!(!msg.contains("d3Jvbmcta2V5"), "{msg}");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--url", "ftp://host/x"],
            "--url ftp://host/x: unsupported scheme `ftp://`",
        ),
        (&[], "no bucket to measure"),
        (&["--url", "s3://b/p"], "find credentials failed"),
        (
            &["--url", "file:///tmp/x", "--endpoint", "http://h"],
            "--endpoint",
        ),
        (&["--url", "s3:///p"], "--url s3:///p: no bucket name"),
    ];
    for (args, want) in cases {
        let out = host(dir.path())
            .args(["storage", "--quick", "--output", "-"])
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn gcs_read_half_against_fake_gcs_server() {
    let Some(exe) = service::service("fake-gcs-server", "E2B_BENCH_FAKE_GCS_SERVER") else {
        return;
    };
    let port = service::free_port();
    let host_port = format!("127.0.0.1:{port}");
    let server = Server::start(
        &exe,
        &[
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            &port.to_string(),
            "-backend",
            "memory",
            "-public-host",
            &host_port,
        ],
        port,
    );
    // Seed through the JSON API (the write half object_store cannot do here).
    let r = http(
        port,
        "POST",
        "/storage/v1/b",
        &[("Content-Type", "application/json".to_owned())],
        br#"{"name":"templates"}"#,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let body: Vec<u8> = (0..4u32 << 20).map(|i| (i % 251) as u8).collect();
    let r = http(
        port,
        "POST",
        "/upload/storage/v1/b/templates/o?uploadType=media&name=builds%2Fb1%2Fmemfile",
        &[("Content-Type", "application/octet-stream".to_owned())],
        &body,
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let key = format!(
        r#"{{"gcs_base_url":"{}","disable_oauth":true,"client_email":"","private_key":"","private_key_id":""}}"#,
        server.base_url()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = storage(dir.path(), "gs://templates/builds");
    cmd.env("GOOGLE_SERVICE_ACCOUNT_KEY", &key)
        .args(["--existing-object", "b1/memfile"]);
    let (doc, _) = run_stdout(cmd);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert!(doc.samples.iter().all(|s| s.labels["backend"] == "gcs"));
    assert!(
        doc.samples
            .iter()
            .all(|s| !s.metric.starts_with("storage.put"))
    );
    for c in ["1", "8", "32"] {
        assert!(
            doc.samples
                .iter()
                .any(|s| s.metric == "storage.range_get_latency_ms"
                    && s.labels["concurrency"] == c
                    && s.labels["source_size"] == "4194304"),
            "{c}"
        );
    }
    assert!(
        doc.samples
            .iter()
            .any(|s| s.metric == "storage.list_latency_ms" && s.labels["object_count"] == "1")
    );
    assert_eq!(doc.parameters["storage"]["existing_object_size"], 4 << 20);
    // Nothing was written: the bucket holds the seeded object only.
    let r = http(port, "GET", "/storage/v1/b/templates/o", &[], b"").unwrap();
    let listing = String::from_utf8_lossy(&r.body);
    assert_eq!(listing.matches("\"name\"").count(), 1, "{listing}");

    // The write half: object_store PUTs through the XML API, which the
    // emulator does not speak. The run fails with one clear entry.
    let mut cmd = storage(dir.path(), "gs://templates/bench");
    cmd.env("GOOGLE_SERVICE_ACCOUNT_KEY", &key);
    let (code, stderr, doc) = run_failing(cmd);
    assert_eq!(code, 3, "{stderr}");
    let doc = doc.unwrap();
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    let msg = &doc.errors[0].message;
    assert!(
        msg.starts_with("PUT gs://templates/bench/e2b-bench-")
            && msg.contains("invalid uploadType"),
        "{msg}"
    );
}
