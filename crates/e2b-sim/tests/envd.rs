//! The sandbox listener over real HTTP on loopback: client-proxy routing,
//! envd's HTTP API and its Connect-RPC services (JSON codec).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use e2b_sim::envd::base64;
use e2b_sim::state::{Life, Registry, Sandbox, SandboxState};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

mod support;
use support::{
    HANG, KEY, Stream, bash, client, connect_stream, connect_unary, eventually, group_members,
    multipart, output, read_stream, send_json,
};

const DOMAIN: &str = "e2b.local";
const ID: &str = "abcdefghij0123456789";
const TOKEN: &str = "secret-token";

struct Env {
    registry: Arc<Registry>,
    base: String,
    client: reqwest::Client,
    _dirs: Vec<tempfile::TempDir>,
}

fn sandbox(id: &str, token: Option<&str>, dir: &tempfile::TempDir) -> Arc<Sandbox> {
    let mut env_vars = BTreeMap::new();
    env_vars.insert("SIM_VAR".to_string(), "sim value".to_string());
    Arc::new(Sandbox {
        id: id.to_string(),
        template_id: "base".to_string(),
        alias: None,
        access_token: token.map(str::to_string),
        metadata: BTreeMap::new(),
        env_vars,
        started_at: SystemTime::now(),
        life: Mutex::new(Life {
            state: SandboxState::Running,
            end_at: SystemTime::now() + Duration::from_secs(300),
            auto_pause: false,
        }),
        workdir: dir.path().to_path_buf(),
        // Host processes in the directory: these tests use relative paths
        // (tests/sandbox_paths.rs covers the mount namespace).
        commands: Default::default(),
        processes: Default::default(),
    })
}

async fn env() -> Env {
    let registry = Arc::new(Registry::default());
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    registry.insert(sandbox(ID, None, &d1));
    registry.insert(sandbox("secure0000000000000x", Some(TOKEN), &d2));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = e2b_sim::proxy::router(registry.clone(), DOMAIN.to_string());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Env {
        registry,
        base: format!("http://{addr}"),
        client: client(),
        _dirs: vec![d1, d2],
    }
}

fn host(id: &str) -> String {
    format!("49983-{id}.{DOMAIN}")
}

impl Env {
    fn get(&self, path: &str, host: &str) -> reqwest::RequestBuilder {
        self.client
            .get(format!("{}{path}", self.base))
            .header("host", host)
    }

    fn post(&self, path: &str, host: &str) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base))
            .header("host", host)
    }

    fn rpc(&self, method: &str, body: Value) -> reqwest::RequestBuilder {
        connect_unary(self.post(&format!("/{method}"), &host(ID)), "user", &body)
    }

    async fn unary(&self, method: &str, body: Value) -> (u16, Value) {
        send_json(self.rpc(method, body)).await
    }

    /// `process.Process/SendSignal` to `pid`.
    async fn signal(&self, pid: u64, signal: &str) -> (u16, Value) {
        let body = json!({"process": {"pid": pid}, "signal": signal});
        self.unary("process.Process/SendSignal", body).await
    }

    fn start(&self, cmd: &str, interval: Option<u64>) -> reqwest::RequestBuilder {
        let mut req = connect_stream(
            self.post("/process.Process/Start", &host(ID)),
            "user",
            &json!({ "process": bash(cmd) }),
        );
        if let Some(s) = interval {
            req = req.header("keepalive-ping-interval", s.to_string());
        }
        req
    }

    /// Starts `cmd` and reads its stream in a task.
    fn start_in_background(&self, cmd: &str) -> JoinHandle<(Vec<Value>, Value)> {
        let req = self.start(cmd, None);
        tokio::spawn(async move { read_stream(req.send().await.unwrap()).await })
    }
}

/// The stream of a `start_in_background`, once it ends (a hang fails it).
async fn finish(stream: JoinHandle<(Vec<Value>, Value)>) -> (Vec<Value>, Value) {
    tokio::time::timeout(HANG, stream).await.unwrap().unwrap()
}

async fn text(r: reqwest::RequestBuilder) -> (u16, String, String) {
    let r = r.send().await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (r.status().as_u16(), ct, r.text().await.unwrap())
}

#[tokio::test]
async fn host_parsing_matches_the_proxy() {
    let e = env().await;
    for h in [
        host(ID),
        format!("49983-{ID}-6532622b.{DOMAIN}"),
        format!("49983-{ID}.{DOMAIN}:3002"),
    ] {
        let r = e.get("/health", &h).send().await.unwrap();
        assert_eq!(r.status(), 204, "{h}");
    }
    let cases = [
        ("localhost", "Invalid host"),
        ("nodot-abc", "Invalid host"),
        ("49983.e2b.local", "Invalid host"),
        ("abc-abcdefghij0123456789.e2b.local", "Invalid sandbox port"),
        ("49983-ABC.e2b.local", "Invalid sandbox ID"),
        ("49983-.e2b.local", "Invalid sandbox ID"),
    ];
    for (h, msg) in cases {
        let (status, ct, body) = text(e.get("/health", h)).await;
        assert_eq!(
            (status, body.as_str()),
            (400, format!("{msg}\n").as_str()),
            "{h}"
        );
        assert_eq!(ct, "text/plain; charset=utf-8");
    }
    let r = e
        .get("/health", &host("unknown0000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!({"sandboxId": "unknown0000000000000", "message": "The sandbox was not found", "code": 502})
    );
    let r = e
        .get("/health", &format!("8080-{ID}.{DOMAIN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["message"], "The sandbox is running but port is not open");
    assert_eq!(v["port"], 8080);
    // Paused sandboxes are not routable.
    e.registry.get(ID).unwrap().life.lock().unwrap().state = SandboxState::Paused;
    assert_eq!(
        e.get("/health", &host(ID)).send().await.unwrap().status(),
        502
    );
}

#[tokio::test]
async fn header_routing_for_local_hosts() {
    let e = env().await;
    for h in [
        "localhost",
        "127.0.0.1",
        "127.0.0.1:3002",
        "[::1]:3002",
        "sandbox.e2b.local",
    ] {
        let r = e
            .get("/health", h)
            .header("E2b-Sandbox-Id", ID)
            .header("E2b-Sandbox-Port", "49983");
        assert_eq!(r.send().await.unwrap().status(), 204, "{h}");
        let (status, _, body) = text(e.get("/health", h).header("E2b-Sandbox-Id", ID)).await;
        assert_eq!((status, body.as_str()), (400, "missing header\n"), "{h}");
        let (status, _, body) = text(e.get("/health", h).header("E2b-Sandbox-Port", "49983")).await;
        assert_eq!((status, body.as_str()), (400, "missing header\n"));
    }
    // Headers are ignored on a sandbox host: the Host decides.
    let r = e
        .get("/health", "49983-unknown0000000000000.e2b.local")
        .header("E2b-Sandbox-Id", ID)
        .header("E2b-Sandbox-Port", "49983");
    assert_eq!(r.send().await.unwrap().status(), 502);
}

#[tokio::test]
async fn files_round_trip_and_stay_inside_the_sandbox() {
    let e = env().await;
    let (ct, body) = multipart("hello.txt", b"hello\x00world");
    let r = e
        .post("/files?path=notes/hello.txt&username=user", &host(ID))
        .header("content-type", ct)
        .body(body);
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        v,
        json!([{"path": "/home/user/notes/hello.txt", "name": "hello.txt", "type": "file"}])
    );
    let workdir = e.registry.get(ID).unwrap().workdir.clone();
    assert_eq!(
        std::fs::read(workdir.join("home/user/notes/hello.txt")).unwrap(),
        b"hello\x00world"
    );
    for path in [
        "notes/hello.txt",
        "/home/user/notes/hello.txt",
        "~/notes/../notes/hello.txt",
    ] {
        let r = e
            .get(&format!("/files?path={path}&username=user"), &host(ID))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(&r.bytes().await.unwrap()[..], b"hello\x00world");
    }
    // Missing file: 404 JSON.
    let (status, ct, body) = text(e.get("/files?path=nope&username=user", &host(ID))).await;
    assert_eq!(
        (status, ct.as_str()),
        (404, "application/json; charset=utf-8")
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        json!({"code": 404, "message": "path '/home/user/nope' does not exist"})
    );
    // Escapes refused.
    let (status, _, _) = text(e.get(
        "/files?path=../../../../etc/passwd&username=user",
        &host(ID),
    ))
    .await;
    assert_eq!(status, 400);
    std::os::unix::fs::symlink("/etc", workdir.join("home/user/etc")).unwrap();
    let (status, _, _) = text(e.get("/files?path=etc/passwd&username=user", &host(ID))).await;
    assert_eq!(status, 400);
    // Username required (envd 0.2.0), and only user/root exist.
    let (status, ct, body) = text(e.get("/files?path=notes/hello.txt", &host(ID))).await;
    assert_eq!(
        (status, body.as_str()),
        (400, "Query argument username is required, but not found\n")
    );
    assert_eq!(ct, "text/plain; charset=utf-8");
    let (status, _, body) =
        text(e.get("/files?path=notes/hello.txt&username=bob", &host(ID))).await;
    assert_eq!(status, 401);
    assert!(body.contains("unknown user bob"), "{body}");
    // root's home is /root.
    let (ct, body) = multipart("r.txt", b"r");
    let r = e
        .post("/files?username=root", &host(ID))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()[0]["path"], "/root/r.txt");
}

#[tokio::test]
async fn secure_sandbox_needs_the_access_token() {
    let e = env().await;
    let h = host("secure0000000000000x");
    assert_eq!(e.get("/health", &h).send().await.unwrap().status(), 204);
    let (status, _, body) = text(e.get("/envs", &h)).await;
    assert_eq!(status, 401);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["message"],
        "unauthorized access, please provide a valid access token or method signing if supported"
    );
    let r = e
        .get("/envs", &h)
        .header("X-Access-Token", TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"SIM_VAR": "sim value"})
    );
    // /files passes the general check but validates the token (or a signature) itself.
    let (status, _, body) = text(e.get("/files?path=x&username=user", &h)).await;
    assert_eq!(status, 401);
    assert!(body.contains("missing signature query parameter"), "{body}");
    let (status, _, _) = text(
        e.get("/files?path=x&username=user", &h)
            .header("X-Access-Token", TOKEN),
    )
    .await;
    assert_eq!(status, 404);
    let r = e
        .post("/process.Process/List", &h)
        .header("content-type", "application/json")
        .body("{}");
    assert_eq!(r.send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn start_streams_output_and_exit_code() {
    let e = env().await;
    let (events, end) = read_stream(
        e.start("echo hi; echo err >&2; echo $SIM_VAR; exit 3", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(end, json!({}));
    assert!(events[0]["event"]["start"]["pid"].as_u64().unwrap() > 0);
    assert_eq!(output(&events, "stdout"), "hi\nsim value\n");
    assert_eq!(output(&events, "stderr"), "err\n");
    let last = events.last().unwrap();
    assert_eq!(
        last["event"]["end"],
        json!({"exitCode": 3, "exited": true, "status": "exit status 3", "error": "exit status 3"})
    );

    let (events, _) = read_stream(e.start("pwd", None).send().await.unwrap()).await;
    let workdir = e.registry.get(ID).unwrap().workdir.canonicalize().unwrap();
    assert_eq!(
        output(&events, "stdout").trim(),
        workdir.join("home/user").to_str().unwrap()
    );
    let end = &events.last().unwrap()["event"]["end"];
    assert_eq!(
        end,
        &json!({"exited": true, "status": "exit status 0"}),
        "exitCode omitted when 0"
    );
}

#[tokio::test]
async fn keepalive_arrives_at_the_requested_interval() {
    let e = env().await;
    // With a 1 s interval two keepalives arrive while the command runs; the
    // 90 s default would send none before `eventually` gives up (60 s). The
    // command runs until the test has seen them, so no timing is assumed.
    let resp = e.start("sleep 600", Some(1)).send().await.unwrap();
    let mut stream = Stream::new(resp);
    let mut pid = None;
    let mut keepalives = 0;
    tokio::time::timeout(HANG, async {
        while keepalives < 2 {
            let ev = stream.next().await.expect("stream ended early");
            if let Some(p) = ev["event"]["start"]["pid"].as_u64() {
                pid = Some(p);
            }
            if ev["event"].get("keepalive").is_some() {
                keepalives += 1;
            }
        }
    })
    .await
    .expect("two keepalives within the hang timeout");
    let pid = pid.expect("a start event before the keepalives");
    let (status, _) = e.signal(pid, "SIGNAL_SIGKILL").await;
    assert_eq!(status, 200);
    while stream.next().await.is_ok() {}

    // Without the header, the 90 s default: none during a short command.
    let (events, _) = read_stream(e.start("sleep 1.2", None).send().await.unwrap()).await;
    assert!(events.iter().all(|v| v["event"].get("keepalive").is_none()));
}

async fn wait_for_processes(e: &Env, n: usize) -> Vec<Value> {
    eventually(&format!("{n} processes"), || async {
        let (status, v) = e.unary("process.Process/List", json!({})).await;
        assert_eq!(status, 200);
        let list = v["processes"].as_array().cloned().unwrap_or_default();
        (list.len() == n).then_some(list)
    })
    .await
}

#[tokio::test]
async fn list_send_signal_and_input() {
    let e = env().await;
    let stream = e.start_in_background("sleep 30");
    let list = wait_for_processes(&e, 1).await;
    let pid = list[0]["pid"].as_u64().unwrap();
    assert_eq!(list[0]["config"]["args"], json!(["-l", "-c", "sleep 30"]));
    let (status, v) = e.signal(pid, "SIGNAL_SIGKILL").await;
    assert_eq!((status, v), (200, json!({})));
    let (events, end) = finish(stream).await;
    assert_eq!(end, json!({}));
    let ev = &events.last().unwrap()["event"]["end"];
    assert_eq!(ev["status"], "signal: killed");
    assert!(ev.get("exited").is_none());
    assert_eq!(
        (ev["exitCode"].as_i64(), ev["error"].as_str()),
        (Some(-1), Some("signal: killed"))
    );
    wait_for_processes(&e, 0).await;
    let (status, v) = e.signal(pid, "SIGNAL_SIGTERM").await;
    assert_eq!(status, 404);
    assert_eq!(v["code"], "not_found");

    // SendInput reaches stdin.
    let stream = e.start_in_background("head -n1");
    let pid = wait_for_processes(&e, 1).await[0]["pid"].as_u64().unwrap();
    let (status, _) = e
        .unary(
            "process.Process/SendInput",
            json!({"process": {"pid": pid}, "input": {"stdin": base64::encode(b"typed\n")}}),
        )
        .await;
    assert_eq!(status, 200);
    let (events, _) = finish(stream).await;
    assert_eq!(output(&events, "stdout"), "typed\n");
}

#[tokio::test]
async fn kill_all_kills_running_processes() {
    let e = env().await;
    let stream = e.start_in_background("sleep 30 & sleep 30; wait");
    let pgid = wait_for_processes(&e, 1).await[0]["pid"].as_u64().unwrap();
    // bash forks its background sleep shortly after it starts.
    eventually("bash and both sleeps run", || async {
        (group_members(pgid) >= 3).then_some(())
    })
    .await;
    e.registry.remove(ID).unwrap();
    let (events, _) = finish(stream).await;
    assert_eq!(
        events.last().unwrap()["event"]["end"]["status"],
        "signal: killed"
    );
    eventually(&format!("process group {pgid} empty"), || async {
        (group_members(pgid) == 0).then_some(())
    })
    .await;
}

#[tokio::test]
async fn rpc_needs_a_user_and_unknown_methods_are_404() {
    let e = env().await;
    let r = e
        .post("/filesystem.Filesystem/Stat", &host(ID))
        .header("content-type", "application/json")
        .body("{\"path\":\"/\"}");
    let r = r.send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": "unauthenticated", "message": "no user specified"})
    );
    let r = e
        .rpc("process.Process/Nope", json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn filesystem_calls() {
    let e = env().await;
    let (status, v) = e
        .unary("filesystem.Filesystem/MakeDir", json!({"path": "a/b"}))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["entry"]["path"], "/home/user/a/b");
    assert_eq!(v["entry"]["type"], "FILE_TYPE_DIRECTORY");
    assert_eq!(
        v["entry"]["permissions"].as_str().unwrap().chars().next(),
        Some('d')
    );
    let (status, v) = e
        .unary(
            "filesystem.Filesystem/MakeDir",
            json!({"path": "/home/user/a/b"}),
        )
        .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("already_exists")));
    let (ct, body) = multipart("f", b"12345");
    e.post("/files?path=a/b/f.txt&username=user", &host(ID))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    let (status, v) = e
        .unary("filesystem.Filesystem/Stat", json!({"path": "a/b/f.txt"}))
        .await;
    assert_eq!(status, 200);
    let entry = &v["entry"];
    assert_eq!(
        (
            entry["name"].as_str(),
            entry["type"].as_str(),
            entry["size"].as_str()
        ),
        (Some("f.txt"), Some("FILE_TYPE_FILE"), Some("5"))
    );
    assert!(entry["modifiedTime"].as_str().unwrap().ends_with('Z'));
    let (_, v) = e
        .unary("filesystem.Filesystem/ListDir", json!({"path": "a"}))
        .await;
    let paths: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/home/user/a/b"]);
    let (_, v) = e
        .unary(
            "filesystem.Filesystem/ListDir",
            json!({"path": "a", "depth": 2}),
        )
        .await;
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
    let (status, v) = e
        .unary(
            "filesystem.Filesystem/ListDir",
            json!({"path": "a/b/f.txt"}),
        )
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_argument"))
    );
    let (status, v) = e
        .unary("filesystem.Filesystem/Stat", json!({"path": "missing"}))
        .await;
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
    let (status, v) = e
        .unary("filesystem.Filesystem/Stat", json!({"path": "../../.."}))
        .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_argument"))
    );
    let (status, v) = e
        .unary("filesystem.Filesystem/Remove", json!({"path": "a"}))
        .await;
    assert_eq!((status, v), (200, json!({})));
    let (status, _) = e
        .unary("filesystem.Filesystem/Stat", json!({"path": "a"}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn stalled_envd_hangs_health_and_start_after_routing() {
    let mut config = e2b_sim::SimConfig::for_tests(KEY);
    config.faults.envd_stall_rate = 1.0;
    config.faults.envd_stall_for = Duration::from_secs(3600);
    let sim = support::start(config).await;
    let client = client();
    // The control plane is not stalled.
    let r = client
        .post(format!("{}/sandboxes", sim.api_url))
        .header("X-API-Key", KEY)
        .json(&json!({"templateID": "base", "timeout": 300}))
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["sandboxID"]
        .as_str()
        .unwrap()
        .to_owned();
    let short = Duration::from_millis(300);
    let r = client
        .get(format!("{}/health", sim.sandbox_url))
        .header("host", format!("49983-{id}.{}", sim.domain))
        .timeout(short)
        .send()
        .await;
    assert!(r.as_ref().is_err_and(|e| e.is_timeout()), "{r:?}");
    let start = client
        .post(format!("{}/process.Process/Start", sim.sandbox_url))
        .header("host", format!("49983-{id}.{}", sim.domain));
    let r = connect_stream(start, "user", &json!({ "process": bash("echo hi") }))
        .timeout(short)
        .send()
        .await;
    assert!(r.as_ref().is_err_and(|e| e.is_timeout()), "{r:?}");
    // Routing comes first: an unknown sandbox gets the proxy's 502 at once.
    let r = client
        .get(format!("{}/health", sim.sandbox_url))
        .header(
            "host",
            format!("49983-{}.{}", "unknown0000000000000", sim.domain),
        )
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    sim.shutdown().await;
}
