//! s3:// against a real moto_server on a free loopback port, configured the
//! way users configure it: through the standard AWS_* environment variables.
//!
//! This binary holds a single test because it sets process environment
//! variables (which must not race with other threads reading them).
#![cfg(feature = "object-store")]

mod support;

use std::time::{Duration, Instant};

use bench_core::sink::{self, ObjectSink, OutputTarget};
use bench_testkit::client::http;
use bench_testkit::service::{self, Server};
use support::{check_written, doc};

const NAME: &str = "04_host_performance.json";
const BUCKET: &str = "bench-results";
/// Must never appear in an error message.
const SECRET_KEY: &str = "moto-secret-key-0f3c9";

#[test]
fn s3_sink_against_moto() {
    let Some(exe) = service::service("moto_server", "E2B_BENCH_MOTO_SERVER") else {
        return;
    };
    let port = service::free_port();
    let server = Server::start(&exe, &["-H", "127.0.0.1", "-p", &port.to_string()], port);
    let r = http(port, "PUT", &format!("/{BUCKET}"), &[], b"").unwrap();
    assert_eq!(
        r.status,
        200,
        "create bucket: {}",
        String::from_utf8_lossy(&r.body)
    );

    // SAFETY: this is the only test in this binary and it has not started any
    // thread that reads the environment yet (the server is a child process).
    #[allow(unsafe_code)]
    unsafe {
        for var in [
            "AWS_ENDPOINT_URL_S3",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_ALLOW_HTTP",
        ] {
            std::env::remove_var(var);
        }
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        std::env::set_var("AWS_REGION", "us-east-1");
        // No AWS_ALLOW_HTTP: an http:// endpoint implies it.
        std::env::set_var("AWS_ENDPOINT_URL", server.base_url());
    }

    let url = format!("s3://{BUCKET}/outputs/aws");
    let target = OutputTarget::from_output_dir(&url).unwrap();
    let sink = sink::open(&target).unwrap();
    assert_eq!(sink.location(), url);

    // Write; read back independently over plain HTTP to prove the object
    // key is <prefix>/<file_name>. moto rejects anonymous GETs (403) but does
    // not verify signatures, so any SigV4-shaped Authorization header passes.
    let object = |key: &str| {
        let auth = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00".to_owned();
        let path = format!("/{BUCKET}/outputs/aws/{key}");
        let r = http(port, "GET", &path, &[("Authorization", auth)], b"").unwrap();
        match r.status {
            200 => Some(r.body),
            404 => None,
            other => panic!("GET {path}: {other} {}", String::from_utf8_lossy(&r.body)),
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
    let concrete = ObjectSink::open(&url).unwrap();
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
    let e = sink::open(&OutputTarget::Object("s3://no-such-bucket/p".into()))
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
    let closed = service::free_port();
    let started = Instant::now();
    let e = ObjectSink::open_with_options(
        &url,
        [("aws_endpoint", format!("http://127.0.0.1:{closed}"))],
    )
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
