//! bench-sandbox `network` end to end, against loopback servers started
//! here (plain HTTP, HTTPS with a self-signed certificate, UDP DNS, and raw
//! TCP servers for chunked, close-delimited and silent responses). Nothing
//! leaves loopback: every run passes its targets or sets the registry
//! variables. https runs through the built-in client (the `tls` feature)
//! and through curl (`--https-client curl`; those tests are skipped when
//! curl is missing, unless `E2B_BENCH_REQUIRE_SERVICES=1`).

mod support;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bench_core::schema::{ErrorKind, ResultDocument, Sample};
use bench_testkit::dns::{DnsServer, Record};
use bench_testkit::e2e::{HANG, wait_for};
use bench_testkit::tls::TlsServer;
use serde_json::Value;
use support::{
    Response, StaticServer, document, run_document, sandbox, schema_errors, stderr, usage_error,
};

const METRICS: [&str; 4] = [
    "network.dns_ms",
    "network.tcp_connect_ms",
    "network.http_ttfb_ms",
    "network.http_bandwidth_bytes_per_second",
];

/// The samples of `target`, by metric.
fn samples_of<'a>(doc: &'a ResultDocument, target: &str) -> Vec<&'a Sample> {
    doc.samples
        .iter()
        .filter(|s| s.labels.get("target").map(String::as_str) == Some(target))
        .collect()
}

fn sample<'a>(doc: &'a ResultDocument, target: &str, metric: &str) -> &'a Sample {
    samples_of(doc, target)
        .into_iter()
        .find(|s| s.metric == metric)
        .unwrap_or_else(|| panic!("no {metric} for {target}: {:#?}", doc.samples))
}

/// `parameters.network.by_target.<target>`.
fn facts<'a>(doc: &'a ResultDocument, target: &str) -> &'a Value {
    let value = &doc.parameters["network"]["by_target"][target];
    assert!(
        value.is_object(),
        "no facts for {target}: {:#?}",
        doc.parameters
    );
    value
}

fn errors_about<'a>(
    doc: &'a ResultDocument,
    target: &str,
) -> Vec<&'a bench_core::schema::ErrorEntry> {
    doc.errors
        .iter()
        .filter(|e| e.message.starts_with(&format!("{target}: ")))
        .collect()
}

/// A body that is not one repeated byte.
fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// A TCP server answering every connection with `response` after reading
/// the request head (after `delay`, if any), then closing. Runs until the
/// test process ends.
fn raw_server(response: Vec<u8>, delay: Duration) -> SocketAddr {
    counted_raw_server(response, delay).0
}

/// [`raw_server`], with the number of request heads it has read so far.
fn counted_raw_server(response: Vec<u8>, delay: Duration) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a raw test server");
    let addr = listener.local_addr().expect("local_addr");
    let heads = Arc::new(AtomicUsize::new(0));
    let counter = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let response = response.clone();
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(delay);
                let _ = stream.write_all(&response);
            });
        }
    });
    (addr, heads)
}

/// How long the silent servers keep a request waiting: far longer than any
/// bound below, so a bound that holds proves a timeout or a signal ended the
/// wait, while leaving a loaded machine minutes of room.
const SILENT: Duration = Duration::from_secs(600);

/// A plain HTTP server whose `/to-tls` redirects (302) to `target`, and the
/// URL of `/to-tls`.
fn redirect_to(target: &str) -> (StaticServer, String) {
    let plain = StaticServer::start([("/to-tls".to_owned(), Response::redirect(302, target))]);
    let upgraded = format!("{}/to-tls", plain.url());
    (plain, upgraded)
}

/// A chunked response carrying `data` in chunks of `size` bytes.
fn chunked(data: &[u8], size: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for chunk in data.chunks(size) {
        out.extend_from_slice(format!("{:x};note=1\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    out
}

#[test]
fn an_http_target_gives_all_four_metrics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blob = body(3 << 20);
    let server = StaticServer::start([(
        "/blob".to_owned(),
        Response::ok("application/octet-stream", blob.clone()),
    )]);
    let target = format!("http://localhost:{}/blob", server.addr().port());
    let out = sandbox(dir.path())
        .args(["network", "--target", &target])
        .args([
            "--dns-lookups",
            "3",
            "--tcp-connects",
            "4",
            "--http-downloads",
            "2",
        ])
        .output()
        .expect("run bench-sandbox");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(schema_errors(&out.stdout), Vec::<String>::new());
    let doc = document(&out);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    for (metric, n) in METRICS.iter().zip([3, 4, 2, 2]) {
        let s = sample(&doc, &target, metric);
        assert_eq!(s.raw.len(), n, "{metric}: {s:?}");
        assert!(s.raw.iter().all(|x| *x > 0.0), "{metric}: {s:?}");
        assert_eq!(s.labels.len(), 1, "{metric}: only the target label");
        assert_eq!(s.stats.as_ref().map(|st| st.n), Some(n as u64), "{metric}");
    }
    let bw = sample(&doc, &target, "network.http_bandwidth_bytes_per_second");
    assert_eq!(bw.unit, "bytes/s");
    assert!(bw.value > 0.0);
    assert_eq!(sample(&doc, &target, "network.dns_ms").unit, "ms");
    let f = facts(&doc, &target);
    assert_eq!(f["resolver"], "system (getaddrinfo)");
    assert_eq!(f["address"], format!("127.0.0.1:{}", server.addr().port()));
    let downloads = f["downloads"].as_array().expect("downloads");
    assert_eq!(downloads.len(), 2);
    for d in downloads {
        assert_eq!(d["bytes"], blob.len() as u64);
        assert_eq!(d["truncated"], false);
    }
    // The request a sandbox's code would send: identity, one per connection.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let header = |name: &str| {
        requests[0]
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("accept-encoding").as_deref(), Some("identity"));
    assert_eq!(header("connection").as_deref(), Some("close"));
    assert_eq!(
        header("host"),
        Some(format!("localhost:{}", server.addr().port()))
    );
    assert!(header("user-agent").is_some_and(|ua| ua.starts_with("bench-sandbox/")));
    assert_eq!(doc.parameters["network"]["dns_lookups"], 3);
    assert_eq!(
        doc.parameters["network"]["targets"],
        serde_json::json!([target])
    );
}

#[test]
fn max_bytes_caps_each_download() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = StaticServer::start([(
        "/big".to_owned(),
        Response::ok("application/octet-stream", body(1 << 20)),
    )]);
    let target = format!("{}/big", server.url());
    let (_, doc) = run_document(
        sandbox(dir.path()).args([
            "network",
            "--quick",
            "--target",
            &target,
            "--max-bytes",
            "100k",
        ]),
        0,
    );
    let download = &facts(&doc, &target)["downloads"][0];
    assert_eq!(download["bytes"], 100 * 1024);
    assert_eq!(download["truncated"], true);
    // An IP literal has no DNS step.
    assert!(
        facts(&doc, &target)["dns"]
            .as_str()
            .is_some_and(|d| d.contains("IP literal"))
    );
    let metrics: Vec<&str> = samples_of(&doc, &target)
        .iter()
        .map(|s| s.metric.as_str())
        .collect();
    assert_eq!(metrics, METRICS[1..]);
}

#[cfg(feature = "tls")]
/// An HTTPS server with a 300 kB `/doc`, its CA written to `dir/ca.pem`,
/// and the URL of `/doc`.
fn tls_server(dir: &std::path::Path) -> (TlsServer, PathBuf, String) {
    let server = TlsServer::start(
        &["localhost", "127.0.0.1"],
        [(
            "/doc".to_owned(),
            Response::ok("application/json", body(300_000)),
        )],
    );
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).expect("write ca.pem");
    let target = format!("{}/doc", server.url());
    (server, ca, target)
}

#[cfg(feature = "tls")]
#[test]
fn an_https_target_is_fetched_with_the_given_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, ca, target) = tls_server(dir.path());
    // A plain http target that redirects to https needs TLS too.
    let (_plain, upgraded) = redirect_to(&target);
    let (_, doc) = run_document(
        sandbox(dir.path())
            .args(["network", "--quick", "--target", &target])
            .args(["--target", &upgraded, "--ca-file"])
            .arg(&ca),
        0,
    );
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    let f = facts(&doc, &target);
    assert_eq!(f["tls"]["version"], "TLSv1_3", "{f}");
    assert!(
        f["tls"]["cipher"]
            .as_str()
            .is_some_and(|c| c.starts_with("TLS13_"))
    );
    assert_eq!(f["downloads"][0]["bytes"], 300_000);
    assert_eq!(
        doc.parameters["network"]["ca_bundle"]["path"],
        ca.display().to_string()
    );
    let bw = sample(&doc, &target, "network.http_bandwidth_bytes_per_second");
    assert!(bw.value > 0.0);
    let f = facts(&doc, &upgraded);
    assert_eq!(f["redirects"], serde_json::json!([target]));
    assert_eq!(f["tls"]["version"], "TLSv1_3");
    assert_eq!(f["downloads"][0]["bytes"], 300_000);
    assert_eq!(server.requests().len(), 2);
}

#[cfg(feature = "tls")]
#[test]
fn an_https_target_without_its_ca_is_a_tls_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (server, _ca, target) = tls_server(dir.path());

    // The system bundle (or none at all on this machine): not trusted.
    let (_, doc) = run_document(
        sandbox(dir.path())
            .env_remove("SSL_CERT_FILE")
            .args(["network", "--quick", "--target", &target]),
        3,
    );
    let errors = errors_about(&doc, &target);
    assert_eq!(errors.len(), 1, "{:?}", doc.errors);
    assert!(
        matches!(errors[0].kind, ErrorKind::Failed | ErrorKind::Unavailable),
        "{:?}",
        errors[0]
    );
    assert!(errors[0].message.contains("TLS"), "{}", errors[0].message);
    // DNS-free TCP connects still measured; no download.
    assert!(
        samples_of(&doc, &target)
            .iter()
            .all(|s| s.metric == "network.tcp_connect_ms")
    );

    // $SSL_CERT_FILE with another certificate: the handshake names the problem.
    let other = rcgen::generate_simple_self_signed(vec!["other.test".to_owned()])
        .expect("a second certificate");
    let other_pem = dir.path().join("other.pem");
    std::fs::write(&other_pem, other.cert.pem()).expect("write other.pem");
    let (_, doc) = run_document(
        sandbox(dir.path())
            .env("SSL_CERT_FILE", &other_pem)
            .args(["network", "--quick", "--target", &target]),
        3,
    );
    let errors = errors_about(&doc, &target);
    assert_eq!(errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(errors[0].kind, ErrorKind::Failed);
    assert!(
        errors[0].message.contains("TLS handshake") && errors[0].message.contains("certificate"),
        "{}",
        errors[0].message
    );
    assert_eq!(
        doc.parameters["network"]["ca_bundle"]["path"],
        other_pem.display().to_string()
    );
    // The server never saw a request.
    assert!(server.requests().is_empty());
}

#[test]
fn a_dns_server_resolves_names_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dns = DnsServer::start();
    dns.add("registry.bench.test", Record::A(Ipv4Addr::LOCALHOST))
        .add(
            "alias.bench.test",
            Record::Cname("registry.bench.test".into()),
        );
    let server = StaticServer::start([(
        "/file".to_owned(),
        Response::ok("text/plain", body(200_000)),
    )]);
    let port = server.addr().port();
    let named = format!("http://registry.bench.test:{port}/file");
    let missing = format!("http://missing.bench.test:{port}/file");
    let alias = format!("http://alias.bench.test:{port}/file");
    let (_, doc) = run_document(
        sandbox(dir.path())
            .args(["network", "--quick"])
            .args(["--target", &named, "--target", &missing, "--target", &alias])
            .args(["--dns-server", &dns.addr().to_string()]),
        3,
    );
    for target in [&named, &alias] {
        for metric in METRICS {
            let s = sample(&doc, target, metric);
            assert!(s.value > 0.0, "{target} {metric}");
        }
        let f = facts(&doc, target);
        assert_eq!(f["addresses"], serde_json::json!(["127.0.0.1"]), "{f}");
        assert!(
            f["resolver"]
                .as_str()
                .is_some_and(|r| r.contains(&dns.addr().to_string()))
        );
        assert_eq!(f["downloads"][0]["bytes"], 200_000);
    }
    // The unknown name is one error entry; nothing else measured for it.
    let errors = errors_about(&doc, &missing);
    assert_eq!(errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(errors[0].kind, ErrorKind::Failed);
    assert!(
        errors[0].message.contains("NXDOMAIN"),
        "{}",
        errors[0].message
    );
    assert!(samples_of(&doc, &missing).is_empty());
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
    // Both A and AAAA were asked, 5 lookups each (quick) for the name.
    let queries = dns.queries();
    let asked = |qtype| {
        queries
            .iter()
            .filter(|q| q.name == "registry.bench.test" && q.qtype == qtype)
            .count()
    };
    assert_eq!((asked(1), asked(28)), (5, 5));
    // The server was reached through the name.
    let hosts: Vec<String> = server
        .requests()
        .iter()
        .filter_map(|r| {
            r.headers
                .iter()
                .find(|(n, _)| n == "host")
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(
        hosts,
        [
            format!("registry.bench.test:{port}"),
            format!("alias.bench.test:{port}")
        ]
    );
}

#[test]
fn a_dropped_dns_query_is_asked_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dns = DnsServer::start();
    dns.add("registry.bench.test", Record::A(Ipv4Addr::LOCALHOST));
    dns.drop_next(1);
    let server = StaticServer::start([("/".to_owned(), Response::ok("text/plain", "ok"))]);
    let target = format!("http://registry.bench.test:{}/", server.addr().port());
    let (_, doc) = run_document(
        sandbox(dir.path())
            .args(["network", "--quick", "--target", &target])
            .args(["--dns-server", &dns.addr().to_string()])
            .args(["--net-timeout", "4s", "--dns-lookups", "2"]),
        0,
    );
    let dns_ms = sample(&doc, &target, "network.dns_ms");
    // The first lookup waited one attempt (half the timeout, 2 s) for its
    // retry; the second did not, with nearly 2 s to spare for a loaded machine.
    assert!(dns_ms.raw[0] >= 1990.0, "{:?}", dns_ms.raw);
    assert!(dns_ms.raw[1] < 1990.0, "{:?}", dns_ms.raw);
    let queries = dns.queries();
    assert_eq!(queries.iter().filter(|q| !q.answered).count(), 1);
    assert_eq!(queries.len(), 5, "{queries:?}"); // 2 + 1 retry, then 2
}

#[test]
fn redirects_chunked_close_delimited_and_failures() {
    let dir = tempfile::tempdir().expect("tempdir");
    let payload = body(150_000);
    let server = StaticServer::start([
        ("/a/start".to_owned(), Response::redirect(302, "next")),
        (
            "/final".to_owned(),
            Response::ok("text/plain", payload.clone()),
        ),
        ("/loop".to_owned(), Response::redirect(307, "/loop")),
    ]);
    let base = server.url();
    // Relative (a/start -> a/next), then absolute (-> /final).
    server.route("/a/next", Response::redirect(301, &format!("{base}/final")));
    let chunks = raw_server(chunked(&payload, 7000), Duration::ZERO);
    let mut close = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_vec();
    close.extend_from_slice(&payload);
    let close = raw_server(close, Duration::ZERO);
    let silent = raw_server(Vec::new(), SILENT);
    let refused = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("local_addr")
    };
    let redirected = format!("{base}/a/start");
    let chunked_target = format!("http://{chunks}/chunked");
    let close_target = format!("http://{close}/close");
    let not_found = format!("{base}/missing");
    let looping = format!("{base}/loop");
    let silent_target = format!("http://{silent}/");
    let refused_target = format!("http://{refused}/");
    let started = Instant::now();
    let out = sandbox(dir.path())
        .args(["network", "--quick", "--net-timeout", "500ms"])
        .args(["--target", &redirected, "--target", &chunked_target])
        .args(["--target", &close_target, "--target", &not_found])
        .args(["--target", &looping, "--target", &silent_target])
        .args(["--target", &refused_target])
        .output()
        .expect("run bench-sandbox");
    // The 500 ms --net-timeout ended the silent target's wait.
    assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = document(&out);

    let f = facts(&doc, &redirected);
    assert_eq!(
        f["redirects"],
        serde_json::json!([format!("{base}/a/next"), format!("{base}/final")])
    );
    assert_eq!(f["final_url"], format!("{base}/final"));
    for target in [&redirected, &chunked_target, &close_target] {
        assert_eq!(
            facts(&doc, target)["downloads"][0]["bytes"],
            150_000,
            "{target}"
        );
        assert!(sample(&doc, target, "network.http_bandwidth_bytes_per_second").value > 0.0);
        assert!(errors_about(&doc, target).is_empty(), "{:?}", doc.errors);
    }

    let expect_error = |target: &str, kind: ErrorKind, needle: &str| {
        let errors = errors_about(&doc, target);
        assert_eq!(errors.len(), 1, "{target}: {:?}", doc.errors);
        assert_eq!(errors[0].kind, kind, "{:?}", errors[0]);
        assert!(errors[0].message.contains(needle), "{}", errors[0].message);
    };
    expect_error(&not_found, ErrorKind::Failed, "HTTP 404");
    expect_error(&looping, ErrorKind::Failed, "more than 5 redirects");
    expect_error(&silent_target, ErrorKind::Timeout, "--net-timeout");
    expect_error(&refused_target, ErrorKind::Failed, "TCP: connect to");
    // A 404 still measured its connects; the refused target measured nothing.
    assert!(
        samples_of(&doc, &not_found)
            .iter()
            .any(|s| s.metric == "network.tcp_connect_ms")
    );
    assert!(samples_of(&doc, &refused_target).is_empty());
    assert_eq!(doc.errors.len(), 4, "{:?}", doc.errors);
}

/// A registry stand-in: a pip index page at `pip_path` and npm's registry
/// root `/npm`, of `pip_len` and `npm_len` bytes.
fn registry_server(pip_path: &str, pip_len: usize, npm_len: usize) -> StaticServer {
    StaticServer::start([
        (
            pip_path.to_owned(),
            Response::ok("text/html", body(pip_len)),
        ),
        (
            "/npm".to_owned(),
            Response::ok("application/json", body(npm_len)),
        ),
    ])
}

/// The paths `server` was asked for, sorted.
fn requested_paths(server: &StaticServer) -> Vec<String> {
    let mut paths: Vec<String> = server.requests().iter().map(|r| r.target.clone()).collect();
    paths.sort();
    paths
}

#[test]
fn without_targets_the_configured_registries_are_measured() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = registry_server("/simple/pip/", 40_000, 90_000);
    let port = server.addr().port();
    let (out, doc) = run_document(
        sandbox(dir.path())
            .env("HOME", dir.path())
            .env(
                "PIP_INDEX_URL",
                format!("http://pipuser:tok3n-s3cret@127.0.0.1:{port}/simple"),
            )
            .env("NPM_CONFIG_REGISTRY", format!("http://127.0.0.1:{port}/"))
            .args(["network", "--quick"]),
        0,
    );
    let pip = format!("http://127.0.0.1:{port}/simple/pip/");
    let npm = format!("http://127.0.0.1:{port}/npm");
    assert_eq!(facts(&doc, &pip)["downloads"][0]["bytes"], 40_000);
    assert_eq!(facts(&doc, &npm)["downloads"][0]["bytes"], 90_000);
    let registries = &doc.parameters["network"]["registries"];
    assert_eq!(registries["pip"]["source"], "env PIP_INDEX_URL");
    assert_eq!(
        registries["pip"]["url"],
        format!("http://127.0.0.1:{port}/simple")
    );
    assert_eq!(registries["npm"]["source"], "env NPM_CONFIG_REGISTRY");
    assert_eq!(facts(&doc, &npm)["registry"], "npm");
    assert_eq!(requested_paths(&server), ["/npm", "/simple/pip/"]);
    // pip's credentials went to the server, never into the document.
    let requests = server.requests();
    let auth = requests
        .iter()
        .find(|r| r.target == "/simple/pip/")
        .and_then(|r| r.headers.iter().find(|(n, _)| n == "authorization"))
        .map(|(_, v)| v.as_str());
    assert_eq!(auth, Some("Basic cGlwdXNlcjp0b2szbi1zM2NyZXQ="));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("tok3n"));
    let npm_accept = requests
        .iter()
        .find(|r| r.target == "/npm")
        .and_then(|r| r.headers.iter().find(|(n, _)| n == "accept"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    assert!(
        npm_accept.contains("application/vnd.npm.install-v1+json"),
        "{npm_accept}"
    );
}

#[test]
fn a_pip_conf_file_names_the_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = registry_server("/conf-index/pip/", 1000, 2000);
    let port = server.addr().port();
    let conf = dir.path().join("pip.conf");
    std::fs::write(
        &conf,
        format!("[global]\ntimeout = 60\nindex-url = http://127.0.0.1:{port}/conf-index/\n"),
    )
    .expect("write pip.conf");
    let npmrc = dir.path().join("npmrc");
    std::fs::write(&npmrc, format!("registry=http://127.0.0.1:{port}/\n")).expect("write npmrc");
    let (_, doc) = run_document(
        sandbox(dir.path())
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path())
            .env("PIP_CONFIG_FILE", &conf)
            .env("NPM_CONFIG_USERCONFIG", &npmrc)
            .args(["network", "--quick"]),
        0,
    );
    let registries = &doc.parameters["network"]["registries"];
    assert_eq!(
        registries["pip"]["source"],
        format!("{} [global]", conf.display())
    );
    assert_eq!(registries["npm"]["source"], npmrc.display().to_string());
    assert_eq!(requested_paths(&server), ["/conf-index/pip/", "/npm"]);
    assert_eq!(
        facts(&doc, &format!("http://127.0.0.1:{port}/conf-index/pip/"))["registry_source"],
        format!("{} [global]", conf.display())
    );
}

#[test]
fn run_takes_the_network_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = StaticServer::start([("/x".to_owned(), Response::ok("text/plain", body(5000)))]);
    let target = format!("{}/x", server.url());
    let (_, doc) = run_document(
        sandbox(dir.path())
            .args(["run", "--quick", "--skip", "cpu,memory,disk,python,pkg"])
            .args(["--target", &target, "--tcp-connects", "2"]),
        0,
    );
    assert_eq!(sample(&doc, &target, "network.tcp_connect_ms").raw.len(), 2);
    assert_eq!(doc.parameters["network"]["tcp_connects"], 2);
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (args, flag) in [
        (vec!["--target", "ftp://x"], "--target"),
        (
            vec!["--target", "http://h/", "--dns-server", "nonsense"],
            "--dns-server",
        ),
        (
            vec!["--target", "http://h/", "--max-bytes", "0"],
            "--max-bytes",
        ),
        (
            vec!["--target", "http://h/", "--ca-file", "/nonexistent.pem"],
            "--ca-file",
        ),
        (
            vec!["--target", "http://h/", "--https-client", "nope"],
            "--https-client",
        ),
        (
            vec!["--target", "http://h/", "--curl", "/nonexistent/curl"],
            "--curl",
        ),
    ] {
        let args = [&["network"][..], &args[..]].concat();
        let err = usage_error(dir.path(), &args, &format!("error: {flag} '"));
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{err}");
        assert!(lines[0].contains(&format!("error: {flag} '")), "{err}");
    }
}

#[test]
fn ctrl_c_stops_a_stalled_download_and_keeps_what_finished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = StaticServer::start([("/x".to_owned(), Response::ok("text/plain", body(5000)))]);
    let fast = format!("{}/x", server.url());
    let (silent, heads) = counted_raw_server(Vec::new(), SILENT);
    let silent = format!("http://{silent}/");
    let child = std::process::Command::new(support::BIN)
        .current_dir(dir.path())
        .args(["network", "--quick", "--net-timeout", "600s"])
        .args(["--target", &fast, "--target", &silent])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start bench-sandbox");
    // The silent server holding a request means the stalled download has
    // begun (the targets run in order, so the fast one is done).
    wait_for("the stalled download to begin", || {
        heads.load(Ordering::SeqCst) > 0
    });
    let started = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait for bench-sandbox");
    // The signal, not the 600 s timeout, ended the wait.
    assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    let doc = document(&out);
    assert!(sample(&doc, &fast, "network.http_bandwidth_bytes_per_second").value > 0.0);
    assert!(
        doc.errors
            .iter()
            .any(|e| e.kind == ErrorKind::Interrupted && e.probe == "network"),
        "{:?}",
        doc.errors
    );
    // The stalled target is not reported as failed or timed out.
    assert!(errors_about(&doc, &silent).is_empty(), "{:?}", doc.errors);
}

/// The curl on PATH, or None (the test is skipped, with a message) when
/// there is none, unless `E2B_BENCH_REQUIRE_SERVICES=1`.
fn curl_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("curl"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert_ne!(
            std::env::var("E2B_BENCH_REQUIRE_SERVICES").as_deref(),
            Ok("1"),
            "E2B_BENCH_REQUIRE_SERVICES=1 but there is no curl on PATH"
        );
        eprintln!("skipping {test}: no curl on PATH");
    }
    found
}

fn header(request: &bench_testkit::http::Request, name: &str) -> Option<String> {
    request
        .headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
}

#[test]
fn https_through_curl_uses_our_resolver_and_the_given_ca() {
    if curl_or_skip("https_through_curl_uses_our_resolver_and_the_given_ca").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TlsServer::start(
        &["registry.bench.test", "127.0.0.1"],
        [(
            "/doc".to_owned(),
            Response::ok("application/json", body(300_000)),
        )],
    );
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).expect("write ca.pem");
    // Only our stub resolver knows this name: curl must connect where it says.
    let dns = DnsServer::start();
    dns.add("registry.bench.test", Record::A(Ipv4Addr::LOCALHOST));
    let port = server.addr().port();
    let named = format!("https://registry.bench.test:{port}/doc");
    let with_user = format!("https://us%40er:pa%22ss@registry.bench.test:{port}/doc");
    let labelled = format!("https://registry.bench.test:{port}/doc?auth");
    server.route("/doc?auth", Response::ok("application/json", body(300_000)));
    // An http target redirecting to https: the https hop goes through curl.
    let (_plain, upgraded) = redirect_to(&named);
    let (out, doc) = run_document(
        sandbox(dir.path())
            .args(["network", "--quick", "--https-client", "curl"])
            .args(["--dns-server", &dns.addr().to_string()])
            .args(["--target", &named, "--target", &upgraded])
            .args(["--target", &format!("{with_user}?auth"), "--ca-file"])
            .arg(&ca),
        0,
    );
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert_eq!(doc.parameters["network"]["https_client"], "curl");
    let curl_fact = &doc.parameters["network"]["curl"];
    assert!(curl_fact["version"].is_string(), "{curl_fact}");
    for target in [&named, &labelled] {
        for metric in METRICS {
            assert!(
                sample(&doc, target, metric).value > 0.0,
                "{target} {metric}"
            );
        }
        let f = facts(&doc, target);
        assert_eq!(f["https_client"], "curl", "{f}");
        assert_eq!(f["curl"], curl_fact["version"], "{f}");
        assert_eq!(f["downloads"][0]["bytes"], 300_000, "{f}");
        assert_eq!(f["downloads"][0]["truncated"], false, "{f}");
        assert!(f.get("tls").is_none(), "{f}");
    }
    let f = facts(&doc, &upgraded);
    assert_eq!(f["redirects"], serde_json::json!([named]), "{f}");
    assert_eq!(f["https_client"], "curl", "{f}");
    assert_eq!(f["downloads"][0]["bytes"], 300_000, "{f}");
    assert!(sample(&doc, &upgraded, "network.http_ttfb_ms").value > 0.0);
    // What curl sent: our headers, identity, credentials only where given.
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    for r in &requests {
        assert_eq!(
            header(r, "host"),
            Some(format!("registry.bench.test:{port}"))
        );
        assert_eq!(header(r, "accept").as_deref(), Some("*/*"));
        assert_eq!(header(r, "accept-encoding").as_deref(), Some("identity"));
        assert!(header(r, "user-agent").is_some_and(|ua| ua.starts_with("bench-sandbox/")));
        let auth = header(r, "authorization");
        if r.target == "/doc?auth" {
            // base64("us@er:pa\"ss")
            assert_eq!(auth.as_deref(), Some("Basic dXNAZXI6cGEic3M="));
        } else {
            assert_eq!(auth, None);
        }
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains("pa%22ss"));
}

#[test]
fn curl_downloads_are_capped_by_max_bytes() {
    if curl_or_skip("curl_downloads_are_capped_by_max_bytes").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TlsServer::start(
        &["127.0.0.1"],
        [
            (
                "/big".to_owned(),
                Response::ok("application/octet-stream", body(2 << 20)),
            ),
            (
                "/exact".to_owned(),
                Response::ok("application/octet-stream", body(100 * 1024)),
            ),
        ],
    );
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).expect("write ca.pem");
    let big = format!("{}/big", server.url());
    let exact = format!("{}/exact", server.url());
    let missing = format!("{}/missing", server.url());
    let started = Instant::now();
    let out = sandbox(dir.path())
        .args(["network", "--quick", "--https-client", "curl"])
        .args(["--max-bytes", "100k", "--http-downloads", "2"])
        .args(["--target", &big, "--target", &exact, "--target", &missing])
        .arg("--ca-file")
        .arg(&ca)
        .output()
        .expect("run bench-sandbox");
    // A hang guard only: curl is stopped at --max-bytes, not read to the end.
    assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = document(&out);
    for (target, truncated) in [(&big, true), (&exact, false)] {
        let downloads = facts(&doc, target)["downloads"]
            .as_array()
            .expect("downloads")
            .clone();
        assert_eq!(downloads.len(), 2, "{target}");
        for d in downloads {
            assert_eq!(d["bytes"], 100 * 1024, "{target}");
            assert_eq!(d["truncated"], truncated, "{target}");
        }
        let bw = sample(&doc, target, "network.http_bandwidth_bytes_per_second");
        assert_eq!(bw.raw.len(), 2);
    }
    // A non-2xx final status names the status.
    let errors = errors_about(&doc, &missing);
    assert_eq!(errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(errors[0].kind, ErrorKind::Failed);
    assert!(
        errors[0].message.contains("HTTP 404"),
        "{}",
        errors[0].message
    );
    assert_eq!(doc.errors.len(), 1, "{:?}", doc.errors);
}

#[test]
fn curl_without_the_ca_reports_the_certificate_problem() {
    if curl_or_skip("curl_without_the_ca_reports_the_certificate_problem").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TlsServer::start(
        &["127.0.0.1"],
        [("/doc".to_owned(), Response::ok("text/plain", body(1000)))],
    );
    let target = format!("{}/doc", server.url());
    let (_, doc) = run_document(
        sandbox(dir.path())
            .env_remove("SSL_CERT_FILE")
            .env_remove("CURL_CA_BUNDLE")
            .args(["network", "--quick", "--https-client", "curl"])
            .args(["--target", &target]),
        3,
    );
    let errors = errors_about(&doc, &target);
    assert_eq!(errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(errors[0].kind, ErrorKind::Failed);
    assert!(
        errors[0].message.contains("certificate") && errors[0].message.contains("curl: (60)"),
        "{}",
        errors[0].message
    );
    // The TCP connects were still measured; no download.
    let metrics: Vec<&str> = samples_of(&doc, &target)
        .iter()
        .map(|s| s.metric.as_str())
        .collect();
    assert_eq!(metrics, ["network.tcp_connect_ms"]);
    assert!(server.requests().is_empty());
}

#[test]
fn a_silent_https_server_times_out_through_curl() {
    if curl_or_skip("a_silent_https_server_times_out_through_curl").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // Accepts, never answers the TLS handshake.
    let silent = format!("https://{}/", raw_server(Vec::new(), SILENT));
    let started = Instant::now();
    let out = sandbox(dir.path())
        .args(["network", "--quick", "--https-client", "curl"])
        .args(["--net-timeout", "500ms", "--target", &silent])
        .output()
        .expect("run bench-sandbox");
    // The 500 ms --net-timeout ended the wait, not the server.
    assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let doc = document(&out);
    let errors = errors_about(&doc, &silent);
    assert_eq!(errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(errors[0].kind, ErrorKind::Timeout, "{:?}", errors[0]);
    assert!(
        errors[0].message.contains("curl: (28)") && errors[0].message.contains("--net-timeout"),
        "{}",
        errors[0].message
    );
}

#[test]
fn https_without_curl_is_unavailable_and_http_still_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = StaticServer::start([("/x".to_owned(), Response::ok("text/plain", body(5000)))]);
    let plain = format!("{}/x", server.url());
    let secure = format!("https://{}/x", server.addr());
    let empty = dir.path().join("empty-path");
    std::fs::create_dir(&empty).expect("an empty PATH directory");
    let (_, doc) = run_document(
        sandbox(dir.path())
            .env("PATH", &empty)
            .args(["network", "--quick", "--https-client", "curl"])
            .args(["--target", &plain, "--target", &secure]),
        3,
    );
    assert!(sample(&doc, &plain, "network.http_bandwidth_bytes_per_second").value > 0.0);
    let errors = errors_about(&doc, &secure);
    assert_eq!(errors.len(), 1, "{:?}", doc.errors);
    assert_eq!(errors[0].kind, ErrorKind::Unavailable);
    assert!(
        errors[0].message.contains("https needs curl")
            && errors[0]
                .message
                .contains("install curl or use http:// targets"),
        "{}",
        errors[0].message
    );
    assert!(
        doc.parameters["network"]["curl"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("no curl on PATH"))
    );
}

#[cfg(feature = "tls")]
#[test]
fn https_client_builtin_is_accepted_with_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_server, ca, target) = tls_server(dir.path());
    let (_, doc) = run_document(
        sandbox(dir.path())
            .args(["network", "--quick", "--https-client", "builtin"])
            .args(["--target", &target])
            .arg("--ca-file")
            .arg(&ca),
        0,
    );
    assert_eq!(doc.parameters["network"]["https_client"], "builtin");
    let f = facts(&doc, &target);
    assert_eq!(f["https_client"], "builtin");
    assert_eq!(f["tls"]["version"], "TLSv1_3", "{f}");
    assert!(f.get("curl").is_none(), "{f}");
}

#[cfg(not(feature = "tls"))]
#[test]
fn https_client_builtin_needs_the_tls_feature() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = sandbox(dir.path())
        .args([
            "network",
            "--https-client",
            "builtin",
            "--target",
            "http://h/",
        ])
        .output()
        .expect("run bench-sandbox");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("--https-client 'builtin'"), "{err}");
    assert!(err.contains("no TLS"), "{err}");
    assert!(out.stdout.is_empty());
}
