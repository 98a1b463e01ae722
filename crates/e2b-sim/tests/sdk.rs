//! Proof with E2B's official Python SDK (PyPI `e2b`): `tests/sdk/proof.py`
//! run by the SDK's own interpreter against an in-process emulator, once per
//! pinned SDK version (virtualenvs made by `scripts/sdk-venvs.sh`).
//!
//! A missing virtualenv fails the test (CI installs them) unless
//! `E2B_SIM_SKIP_SDK=1` is set.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2b_sim::{SimConfig, SimServer};
use serde_json::Value;

/// The SDK checks the key's shape (`e2b_` and hex) before sending anything.
const KEY: &str = "e2b_0123456789abcdef0123456789abcdef01234567";
const SDK_DEADLINE: Duration = Duration::from_secs(180);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `GET /_sim/stats` over plain HTTP/1.1.
fn http_stats(api_url: &str) -> Value {
    let addr = api_url.strip_prefix("http://").expect("http api url");
    let mut s = TcpStream::connect(addr).expect("connect to the emulator");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET /_sim/stats HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {KEY}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read the stats answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "stats answered {head}");
    serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("stats body {body:?}: {e}"))
}

/// Runs the proof with the SDK in `.test-tools/<venv>`, expecting the
/// create and connect requests at the given paths.
fn prove(venv: &str, create_path: &str, connect_path: &str) {
    let root = repo_root();
    let python = root.join(".test-tools").join(venv).join("bin/python");
    if !python.exists() {
        if std::env::var("E2B_SIM_SKIP_SDK").as_deref() == Ok("1") {
            eprintln!(
                "skipping the {venv} SDK proof: E2B_SIM_SKIP_SDK=1 and {} is missing",
                python.display()
            );
            return;
        }
        panic!(
            "{} is missing: run scripts/sdk-venvs.sh to install the E2B Python SDKs \
             (CI does), or set E2B_SIM_SKIP_SDK=1 to skip this test",
            python.display()
        );
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/proof.py");

    let sim = SimServer::spawn_blocking(SimConfig::for_tests(KEY)).expect("start the emulator");
    // The absolute-path steps need the commands' mount namespace.
    let absolute = sim.stats().commands.namespaced();
    if !absolute {
        eprintln!(
            "the {venv} SDK proof skips its absolute-path steps: this machine gives the \
             emulator's commands no mount namespace (see its startup warning)"
        );
    }
    let mut child = Command::new(&python)
        .arg(&script)
        .env("E2B_API_URL", &sim.api_url)
        .env("E2B_SANDBOX_URL", &sim.sandbox_url)
        .env("E2B_DOMAIN", &sim.domain)
        .env("E2B_API_KEY", KEY)
        .env("PROOF_EXPECT_CREATE_PATH", create_path)
        .env("PROOF_EXPECT_CONNECT_PATH", connect_path)
        .env("PROOF_ABSOLUTE_PATHS", if absolute { "1" } else { "0" })
        // Keep the SDK away from the developer's E2B settings.
        .env_remove("E2B_ACCESS_TOKEN")
        .env_remove("E2B_DEBUG")
        .env("PYTHONUNBUFFERED", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the SDK proof");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the SDK proof") {
            break status;
        }
        if started.elapsed() > SDK_DEADLINE {
            let _ = child.kill();
            let out = child
                .wait_with_output()
                .expect("collect the SDK proof output");
            panic!(
                "the {venv} SDK proof took over {SDK_DEADLINE:?}\nstdout:\n{}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child
        .wait_with_output()
        .expect("collect the SDK proof output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    assert!(
        status.success(),
        "the {venv} SDK proof failed ({status})\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.contains("PASS e2b SDK"), "no PASS line:\n{stdout}");
    assert!(
        stdout.contains(&format!("create used POST {create_path} ")),
        "{stdout}"
    );
    if absolute {
        for line in [
            "ok   files.write /home/user/hello.txt, commands.run cat /home/user/hello.txt",
            "ok   files.write /home/user/hi.sh, chmod +x and run it by absolute path",
        ] {
            assert!(stdout.contains(line), "no {line:?} in:\n{stdout}");
        }
    }

    let stats = http_stats(&sim.api_url);
    assert!(stats["created"].as_u64() >= Some(1), "{stats}");
    assert!(stats["killed"].as_u64() >= Some(1), "{stats}");
    assert_eq!(stats["live"], 0, "{stats}");
    assert_eq!(sim.stats().live, 0);
    sim.shutdown();
}

#[test]
fn sdk_2_45_creates_with_v1_and_secure_true() {
    prove("sdk-2.45", "/sandboxes", "/sandboxes/{id}/connect");
}

#[test]
fn sdk_latest_creates_and_connects_with_v2() {
    prove("sdk-latest", "/v2/sandboxes", "/v2/sandboxes/{id}/connect");
}
