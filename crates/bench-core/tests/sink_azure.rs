//! az:// against a real Azurite blob server on a free loopback port,
//! configured through the standard AZURE_* variables handed to the sink as
//! an explicit list (what `sink::open` builds from the process environment),
//! so the test never touches its own environment.
//!
//! Azurite is addressed as any Azure-compatible endpoint (account, key,
//! `AZURE_STORAGE_ENDPOINT`), and in emulator mode with the Azurite URL in
//! the list only (`.e2b_env`), which the sink turns into the same kind of
//! endpoint because object_store reads that variable from the process
//! environment only.
#![cfg(feature = "object-store")]

mod support;

use bench_core::sink::{self, ObjectSink, OutputTarget};
use bench_testkit::azurite;
use support::{check_written, doc};

const NAME: &str = "04_host_performance.json";
const CONTAINER: &str = "bench-results";

#[test]
fn azure_sink_against_azurite() {
    let Some(server) = azurite::start(CONTAINER) else {
        return;
    };
    let port = server.port;
    // Path-style: the account is the endpoint's first path segment.
    let endpoint = format!("{}/{}", server.base_url(), azurite::ACCOUNT);
    let env = [
        ("AZURE_STORAGE_ACCOUNT_NAME", azurite::ACCOUNT),
        ("AZURE_STORAGE_ACCOUNT_KEY", azurite::KEY),
        ("AZURE_STORAGE_ENDPOINT", endpoint.as_str()),
        ("AZURE_ALLOW_HTTP", "true"),
    ];

    let url = format!("az://{CONTAINER}/outputs/azure");
    let sink = sink::open_with_env(&OutputTarget::from_output_dir(&url).unwrap(), env).unwrap();
    assert_eq!(sink.location(), url);

    // Read back independently with a SharedKey-signed GET.
    let object = |key: &str| {
        let resource = format!("{CONTAINER}/outputs/azure/{key}");
        let r = azurite::request(port, "GET", &resource, &[], b"").unwrap();
        match r.status {
            200 => Some(r.body),
            404 => None,
            other => panic!(
                "GET {resource}: {other} {}",
                String::from_utf8_lossy(&r.body)
            ),
        }
    };

    assert_eq!(
        sink.write(NAME, &doc("run-a")).unwrap(),
        format!("{url}/{NAME}")
    );
    assert_eq!(check_written(&object(NAME).expect("blob written")), "run-a");

    // Same run: replaced, no history.
    let mut again = doc("run-a");
    again.samples.clear();
    sink.write(NAME, &again).unwrap();
    let second = object(NAME).unwrap();
    assert!(String::from_utf8_lossy(&second).contains("\"samples\": []"));
    let concrete = ObjectSink::open_with_env(&url, env).unwrap();
    assert_eq!(
        concrete.list().unwrap(),
        vec![NAME.to_owned()],
        "no probe blobs left"
    );

    // Another run: the earlier blob is kept under history/run-a/.
    sink.write(NAME, &doc("run-b")).unwrap();
    assert_eq!(check_written(&object(NAME).unwrap()), "run-b");
    assert_eq!(
        object(&format!("history/run-a/{NAME}")).expect("history copy"),
        second,
        "kept byte for byte"
    );
    assert_eq!(
        concrete
            .read(&format!("history/run-a/{NAME}"))
            .unwrap()
            .unwrap(),
        second
    );
    assert_eq!(
        concrete.list().unwrap(),
        vec![NAME.to_owned(), format!("history/run-a/{NAME}")]
    );

    // A missing container fails at open, on one line, without the key.
    let e = sink::open_with_env(
        &OutputTarget::Object("az://no-such-container/p".into()),
        env,
    )
    .err()
    .expect("no such container")
    .to_string();
    eprintln!("missing container: {e}");
    assert!(
        e.starts_with("az://no-such-container/p/.e2b-bench-probe-"),
        "{e}"
    );
    assert!(
        e.contains("AZURE_STORAGE_ACCOUNT_NAME") && !e.contains('\n'),
        "{e}"
    );
    assert!(!e.contains(azurite::KEY), "{e}");
    drop(server);
}

/// Emulator mode with the Azurite URL given only in the lookup (as from
/// `.e2b_env`): object_store alone would read that variable from the
/// process environment and connect to 127.0.0.1:10000 while the reported
/// endpoint named this server. The blob must land on this server, and the
/// endpoint must name it.
#[test]
fn emulator_url_from_the_lookup_is_the_one_used() {
    let Some(server) = azurite::start(CONTAINER) else {
        return;
    };
    assert!(
        std::env::var_os("AZURITE_BLOB_STORAGE_URL").is_none(),
        "the test needs AZURITE_BLOB_STORAGE_URL unset in its own environment"
    );
    let base = server.base_url();
    let env = [
        ("AZURE_STORAGE_USE_EMULATOR", "true"),
        ("AZURITE_BLOB_STORAGE_URL", base.as_str()),
    ];
    let url = format!("az://{CONTAINER}/emulator");
    let opened = sink::open_store(&url, "--output-dir", &[], env).unwrap();
    assert_eq!(
        opened.endpoint.as_deref(),
        Some(format!("{base}/{}", azurite::ACCOUNT).as_str())
    );

    let sink = sink::open_with_env(&OutputTarget::from_output_dir(&url).unwrap(), env).unwrap();
    sink.write(NAME, &doc("run-e")).unwrap();
    let r = azurite::request(
        server.port,
        "GET",
        &format!("{CONTAINER}/emulator/{NAME}"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(check_written(&r.body), "run-e");
}
