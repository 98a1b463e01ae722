//! az:// against a real Azurite blob server on a free loopback port,
//! configured through the standard AZURE_* environment variables (emulator
//! mode) as a user would.
//!
//! This binary holds a single test because it sets process environment
//! variables (which must not race with other threads reading them).
#![cfg(feature = "object-store")]

mod support;

use bench_core::sink::{self, ObjectSink, OutputTarget};
use bench_testkit::azurite;
use bench_testkit::service::{self, Server};
use support::{check_written, doc};

const NAME: &str = "04_host_performance.json";
const CONTAINER: &str = "bench-results";

#[test]
fn azure_sink_against_azurite() {
    let Some(exe) = service::service("azurite-blob", "E2B_BENCH_AZURITE_BLOB") else {
        return;
    };
    let port = service::free_port();
    let port_arg = port.to_string();
    let server = Server::start(
        &exe,
        &[
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            &port_arg,
            "--inMemoryPersistence",
            "--disableTelemetry",
            // object_store may speak a newer API version than this Azurite.
            "--skipApiVersionCheck",
        ],
        port,
    );
    azurite::create_container(port, CONTAINER);

    // SAFETY: this is the only test in this binary and it has not started any
    // thread that reads the environment yet (the server is a child process).
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("AZURE_STORAGE_USE_EMULATOR", "true");
        std::env::set_var("AZURITE_BLOB_STORAGE_URL", server.base_url());
        std::env::set_var("AZURE_STORAGE_ACCOUNT_NAME", azurite::ACCOUNT);
        std::env::set_var("AZURE_STORAGE_ACCOUNT_KEY", azurite::KEY);
    }

    let url = format!("az://{CONTAINER}/outputs/azure");
    let sink = sink::open(&OutputTarget::from_output_dir(&url).unwrap()).unwrap();
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
    let concrete = ObjectSink::open(&url).unwrap();
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
    let e = sink::open(&OutputTarget::Object("az://no-such-container/p".into()))
        .err()
        .expect("no such container")
        .to_string();
    eprintln!("missing bucket: {e}");
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
