//! s3:// against a real moto_server on a free loopback port, configured the
//! way users configure it: the standard AWS_* variables, here handed to the
//! sink as an explicit list (what `sink::open` builds from the process
//! environment), so the test never touches its own environment.
#![cfg(feature = "object-store")]

mod support;

use std::time::{Duration, Instant};

use bench_core::sink::{self, ObjectSink, OutputTarget};
use bench_testkit::client::http;
use bench_testkit::{moto, service};
use support::{check_written, doc};

const NAME: &str = "04_host_performance.json";
const BUCKET: &str = "bench-results";
/// Must never appear in an error message.
const SECRET_KEY: &str = "moto-secret-key-0f3c9";

/// `moto::client_env` as the `(name, value)` list the sink takes.
fn pairs<'a>(env: &'a [(&'static str, String)]) -> impl Iterator<Item = (&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str()))
}

#[test]
fn s3_sink_against_moto() {
    let Some(server) = moto::start(BUCKET) else {
        return;
    };
    let port = server.port;
    let env = moto::client_env(&server.base_url(), SECRET_KEY);

    let url = format!("s3://{BUCKET}/outputs/aws");
    let target = OutputTarget::from_output_dir(&url).unwrap();
    let sink = sink::open_with_env(&target, pairs(&env)).unwrap();
    assert_eq!(sink.location(), url);

    // Write; read back independently over plain HTTP to prove the object
    // key is <prefix>/<file_name>.
    let object = |key: &str| {
        let r = moto::get(port, &format!("/{BUCKET}/outputs/aws/{key}"));
        match r.status {
            200 => Some(r.body),
            404 => None,
            other => panic!("GET {key}: {other} {}", String::from_utf8_lossy(&r.body)),
        }
    };
    assert_eq!(
        sink.write(NAME, &doc("run-a")).unwrap(),
        format!("{url}/{NAME}")
    );
    let first = object(NAME).expect("object written");
    assert_eq!(check_written(&first), "run-a");

    // Same run: replaced, no history.
    let mut again = doc("run-a");
    again.samples.clear();
    sink.write(NAME, &again).unwrap();
    let concrete = ObjectSink::open_with_env(&url, pairs(&env)).unwrap();
    assert_eq!(
        concrete.list().unwrap(),
        vec![NAME.to_owned()],
        "no probe objects left"
    );
    let second = concrete.read(NAME).unwrap().unwrap();
    assert!(String::from_utf8_lossy(&second).contains("\"samples\": []"));

    // Another run: the earlier object moves to history/run-a/.
    sink.write(NAME, &doc("run-b")).unwrap();
    assert_eq!(check_written(&object(NAME).unwrap()), "run-b");
    let kept = object(&format!("history/run-a/{NAME}")).expect("history copy");
    assert_eq!(kept, second, "kept byte for byte");

    // A corrupt earlier object is kept under unknown-<mtime>.
    let r = http(
        port,
        "PUT",
        &format!("/{BUCKET}/outputs/aws/x.json"),
        &[],
        b"{oops",
    )
    .unwrap();
    assert_eq!(r.status, 200);
    sink.write("x.json", &doc("run-b")).unwrap();
    let listing = concrete.list().unwrap();
    let unknown: Vec<&String> = listing
        .iter()
        .filter(|p| p.starts_with("history/unknown-") && p.ends_with("/x.json"))
        .collect();
    assert_eq!(unknown.len(), 1, "{listing:?}");
    assert_eq!(concrete.read(unknown[0]).unwrap().unwrap(), b"{oops");
    assert_eq!(listing.len(), 4, "{listing:?}");

    // A missing bucket fails at open, on one line, without the secret key.
    let e = sink::open_with_env(
        &OutputTarget::Object("s3://no-such-bucket/p".into()),
        pairs(&env),
    )
    .err()
    .expect("no such bucket")
    .to_string();
    eprintln!("missing bucket: {e}");
    assert!(
        e.starts_with("s3://no-such-bucket/p/.e2b-bench-probe-"),
        "{e}"
    );
    assert!(e.contains("AWS_ACCESS_KEY_ID") && !e.contains('\n'), "{e}");
    assert!(!e.contains(SECRET_KEY), "{e}");

    // An endpoint nobody listens on fails fast, not after minutes.
    let closed = moto::client_env(
        &format!("http://127.0.0.1:{}", service::free_port()),
        SECRET_KEY,
    );
    let started = Instant::now();
    let e = ObjectSink::open_with_env(&url, pairs(&closed))
        .expect_err("closed port")
        .to_string();
    eprintln!("closed port: {e}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        e.starts_with(&format!("{url}/.e2b-bench-probe-")) && !e.contains('\n'),
        "{e}"
    );
    assert!(!e.contains(SECRET_KEY), "{e}");
    drop(server);
}
