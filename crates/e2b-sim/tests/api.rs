//! Control-plane tests: real HTTP on loopback against a started emulator.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

use e2b_sim::state::SandboxState;
use e2b_sim::{Dist, FaultScope, RateLimit, SimConfig, SimServer};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

mod support;
use support::{HANG, KEY, client, create, delete, eventually, get, post, start};

#[tokio::test]
async fn auth_is_required_and_errors_have_e2b_shape() {
    let s = start(SimConfig::for_tests(KEY)).await;
    let c = client();
    let health = c.get(format!("{}/health", s.api_url)).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let r = c
        .get(format!("{}/sandboxes", s.api_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], 401);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid API key"),
        "{body}"
    );

    let r = c
        .get(format!("{}/sandboxes", s.api_url))
        .header("X-API-Key", "wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The Python SDK's spelling, and the deprecated bearer form.
    let r = c
        .get(format!("{}/sandboxes", s.api_url))
        .header("X-API-KEY", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c
        .get(format!("{}/templates", s.api_url))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t[0]["aliases"], json!(["base"]));
    assert_eq!(t[0]["cpuCount"], 2);
    assert_eq!(t[0]["memoryMB"], 512);
    assert_eq!(t[0]["buildStatus"], "ready");
    assert_eq!(t[0]["envdVersion"], "0.2.0");
    s.shutdown().await;
}

/// Every answer of both listeners, errors and the fallback included, names
/// the emulator, so a client can mark what it measured as emulated.
#[tokio::test]
async fn every_answer_names_the_emulator() {
    let s = start(SimConfig::for_tests(KEY)).await;
    let c = client();
    let expected = format!("e2b-sim {}", env!("CARGO_PKG_VERSION"));
    assert_eq!(e2b_sim::IDENTITY, expected);
    let answers = [
        c.get(format!("{}/health", s.api_url)).send().await.unwrap(),
        c.get(format!("{}/sandboxes", s.api_url))
            .send()
            .await
            .unwrap(),
        c.get(format!("{}/no-such-route", s.api_url))
            .send()
            .await
            .unwrap(),
        c.get(format!("{}/_sim/stats", s.api_url))
            .send()
            .await
            .unwrap(),
        // The sandbox listener: a Host it cannot route (400 Invalid host).
        c.get(format!("{}/health", s.sandbox_url))
            .header("Host", "nodots")
            .send()
            .await
            .unwrap(),
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(statuses, [200, 401, 404, 200, 400]);
    for a in &answers {
        assert_eq!(
            a.headers()
                .get(e2b_sim::IDENTITY_HEADER)
                .and_then(|v| v.to_str().ok()),
            Some(expected.as_str()),
            "{} {}",
            a.url(),
            a.status()
        );
    }
    s.shutdown().await;
}

#[tokio::test]
async fn create_get_list_delete() {
    let s = start(SimConfig::for_tests(KEY)).await;
    let c = client();
    let (st, sb) = create(
        &c,
        &s,
        json!({"templateID":"base","timeout":300,"metadata":{"who":"t"},"envVars":{"A":"1"}}),
    )
    .await;
    assert_eq!(st, 201, "{sb}");
    let id = sb["sandboxID"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 20);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        "{id}"
    );
    assert_eq!(sb["clientID"], "6532622b");
    assert_eq!(sb["envdVersion"], "0.2.0");
    assert_eq!(sb["alias"], "base");
    // Present as null (the SDKs read it), and no token for a v1 create without `secure`.
    assert_eq!(sb.get("domain"), Some(&Value::Null), "{sb}");
    assert!(sb.get("envdAccessToken").is_none());
    let template_id = sb["templateID"].as_str().unwrap().to_owned();

    let sandbox = s.registry.get(&id).unwrap();
    assert!(sandbox.workdir.is_dir());
    assert_eq!(sandbox.env_vars.get("A").map(String::as_str), Some("1"));

    // By template id too, and secure.
    let (st, sec) = create(&c, &s, json!({"templateID": template_id, "secure": true})).await;
    assert_eq!(st, 201);
    assert!(
        sec["envdAccessToken"]
            .as_str()
            .is_some_and(|t| t.len() >= 16),
        "{sec}"
    );
    let sec_id = sec["sandboxID"].as_str().unwrap().to_owned();
    assert_ne!(sec_id, id);

    let r = get(&c, &s, &format!("/sandboxes/{sec_id}")).await;
    assert_eq!(r.status(), 200);
    let one: Value = r.json().await.unwrap();
    assert_eq!(one["state"], "running");
    assert_eq!(one["envdAccessToken"], sec["envdAccessToken"]);
    for field in [
        "startedAt",
        "endAt",
        "cpuCount",
        "memoryMB",
        "diskSizeMB",
        "metadata",
        "clientID",
    ] {
        assert!(one.get(field).is_some(), "missing {field}: {one}");
    }
    assert!(one["startedAt"].as_str().unwrap().ends_with('Z'));

    let list: Value = get(&c, &s, "/sandboxes").await.json().await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let filtered: Value = get(&c, &s, "/sandboxes?metadata=who%3Dt")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    assert_eq!(filtered[0]["sandboxID"], id.as_str());

    // Errors.
    let (st, e) = create(&c, &s, json!({"templateID":"nope"})).await;
    assert_eq!(st, 404);
    assert_eq!(e["code"], 404);
    let (st, e) = create(&c, &s, json!({"timeout": 5})).await;
    assert_eq!(st, 400);
    assert_eq!(e["code"], 400);

    let del = delete(&c, &s, &format!("/sandboxes/{id}")).await;
    assert_eq!(del.status(), 204);
    assert!(!sandbox.workdir.exists());
    // The tree is deleted after the answer, off the request path.
    let mut doomed = sandbox.workdir.clone().into_os_string();
    doomed.push(".gone");
    let doomed = std::path::PathBuf::from(doomed);
    eventually(&format!("{} to be deleted", doomed.display()), || async {
        (!doomed.exists()).then_some(())
    })
    .await;
    let del = delete(&c, &s, &format!("/sandboxes/{id}")).await;
    assert_eq!(del.status(), 404);
    assert_eq!(del.json::<Value>().await.unwrap()["code"], 404);
    assert_eq!(get(&c, &s, &format!("/sandboxes/{id}")).await.status(), 404);

    let stats: Value = c
        .get(format!("{}/_sim/stats", s.api_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        stats,
        json!({"live":1,"created":2,"killed":1,"expired":0,"commands":s.stats().commands.name()})
    );
    let root = s.root.clone();
    s.shutdown().await;
    assert!(!root.exists());
}

#[tokio::test]
async fn v2_create_list_filter_and_pagination() {
    let s = start(SimConfig::for_tests(KEY)).await;
    let c = client();
    let mut ids = Vec::new();
    for i in 0..5 {
        let (st, sb) = post(
            &c,
            &s,
            "/v2/sandboxes",
            json!({"templateID":"base","metadata":{"i": i.to_string()}}),
        )
        .await;
        assert_eq!(st, 201);
        ids.push(sb["sandboxID"].as_str().unwrap().to_owned());
    }
    for id in &ids[..2] {
        assert_eq!(
            post(&c, &s, &format!("/sandboxes/{id}/pause"), json!({}))
                .await
                .0,
            204
        );
    }
    let paused: Value = get(&c, &s, "/v2/sandboxes?state=paused")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paused.as_array().unwrap().len(), 2);
    assert!(
        paused
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["state"] == "paused")
    );
    let running: Value = get(&c, &s, "/v2/sandboxes?state=running")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(running.as_array().unwrap().len(), 3);
    // v1 lists running only.
    let v1: Value = get(&c, &s, "/sandboxes").await.json().await.unwrap();
    assert_eq!(v1.as_array().unwrap().len(), 3);
    let by_meta: Value = get(&c, &s, "/v2/sandboxes?metadata=i%3D3")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_meta.as_array().unwrap().len(), 1);
    assert_eq!(by_meta[0]["sandboxID"], ids[3].as_str());

    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/v2/sandboxes?state=running,paused&limit=2".to_owned();
        if let Some(t) = &token {
            path.push_str(&format!("&nextToken={t}"));
        }
        let r = get(&c, &s, &path).await;
        assert_eq!(r.status(), 200);
        token = r
            .headers()
            .get("x-next-token")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Value = r.json().await.unwrap();
        let page = page.as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(
            page.iter()
                .map(|p| p["sandboxID"].as_str().unwrap().to_owned()),
        );
        pages += 1;
        if token.is_none() {
            break;
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    seen.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(seen, want);
    assert_eq!(get(&c, &s, "/v2/sandboxes?limit=101").await.status(), 400);
    assert_eq!(
        get(&c, &s, "/v2/sandboxes?nextToken=garbage")
            .await
            .status(),
        400
    );
    s.shutdown().await;
}

#[tokio::test]
async fn pause_resume_connect_state_machine() {
    let s = start(SimConfig::for_tests(KEY)).await;
    let c = client();
    let (_, sb) = create(&c, &s, json!({"templateID":"base"})).await;
    let id = sb["sandboxID"].as_str().unwrap();
    let p = |suffix: &str| format!("/sandboxes/{id}/{suffix}");

    let (st, e) = post(&c, &s, &p("resume"), json!({"timeout": 60})).await;
    assert_eq!(st, 409, "{e}");
    assert_eq!(e["code"], 409);
    assert_eq!(
        post(&c, &s, &p("connect"), json!({"timeout": 60})).await.0,
        200
    );
    assert_eq!(post(&c, &s, &p("pause"), json!({})).await.0, 204);
    assert_eq!(post(&c, &s, &p("pause"), json!({})).await.0, 409);
    let one: Value = get(&c, &s, &format!("/sandboxes/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["state"], "paused");
    let (st, body) = post(&c, &s, &p("resume"), json!({"timeout": 60})).await;
    assert_eq!(st, 201);
    assert_eq!(body["sandboxID"], id);
    assert_eq!(post(&c, &s, &p("pause"), json!({})).await.0, 204);
    let (st, body) = post(
        &c,
        &s,
        &format!("/v2/sandboxes/{id}/connect"),
        json!({"timeout": 60}),
    )
    .await;
    assert_eq!(st, 201);
    assert_eq!(body["sandboxID"], id);
    assert_eq!(
        post(
            &c,
            &s,
            &format!("/v2/sandboxes/{id}/connect"),
            json!({"timeout": 60})
        )
        .await
        .0,
        200
    );
    assert_eq!(
        post(&c, &s, "/sandboxes/aaaaaaaaaaaaaaaaaaaa/pause", json!({}))
            .await
            .0,
        404
    );
    assert_eq!(
        post(
            &c,
            &s,
            "/sandboxes/aaaaaaaaaaaaaaaaaaaa/connect",
            json!({"timeout": 5})
        )
        .await
        .0,
        404
    );

    // Timeout and refreshes.
    let end = |v: &Value| v["endAt"].as_str().unwrap().to_owned();
    let before: Value = get(&c, &s, &format!("/sandboxes/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        post(&c, &s, &p("timeout"), json!({"timeout": 3000}))
            .await
            .0,
        204
    );
    let after: Value = get(&c, &s, &format!("/sandboxes/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(end(&after) > end(&before), "{before} {after}");
    assert_eq!(
        post(&c, &s, &p("refreshes"), json!({"duration": 3601}))
            .await
            .0,
        400
    );
    assert_eq!(
        post(&c, &s, &p("refreshes"), json!({"duration": 30}))
            .await
            .0,
        204
    );
    s.shutdown().await;
}

#[tokio::test]
async fn sandboxes_expire_at_their_timeout() {
    let s = start(SimConfig::for_tests(KEY)).await;
    let c = client();
    let (_, a) = create(&c, &s, json!({"templateID":"base","timeout":1})).await;
    let (_, b) = create(
        &c,
        &s,
        json!({"templateID":"base","timeout":1,"autoPause":true}),
    )
    .await;
    let (_, keep) = create(&c, &s, json!({"templateID":"base","timeout":300})).await;
    // Wait for both ends to be handled: `a` expired, `b` paused.
    let b_id = b["sandboxID"].as_str().unwrap().to_owned();
    let b_paused = || {
        s.registry
            .get(&b_id)
            .is_some_and(|sb| sb.life.lock().unwrap().state == SandboxState::Paused)
    };
    eventually("a expired and b paused", || async {
        (s.stats().expired == 1 && b_paused()).then_some(())
    })
    .await;
    let st = s.stats();
    assert_eq!((st.expired, st.live, st.killed), (1, 2, 0));
    assert_eq!(
        get(
            &c,
            &s,
            &format!("/sandboxes/{}", a["sandboxID"].as_str().unwrap())
        )
        .await
        .status(),
        404
    );
    let paused: Value = get(
        &c,
        &s,
        &format!("/sandboxes/{}", b["sandboxID"].as_str().unwrap()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(paused["state"], "paused");
    let kept: Value = get(
        &c,
        &s,
        &format!("/sandboxes/{}", keep["sandboxID"].as_str().unwrap()),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(kept["state"], "running");
    s.shutdown().await;
}

#[tokio::test]
async fn cold_then_warm_and_evict() {
    // The cold start is long and the warm one free, so the bounds below only
    // fail if the routes pick the wrong delay: a warm create must stay under
    // the cold delay, a margin of whole seconds even on a loaded 2-core CI
    // machine. (`latency::tests` checks the cold/warm/evict order exactly.)
    const COLD: Duration = Duration::from_secs(3);
    let mut config = SimConfig::for_tests(KEY);
    config.time_scale = 0.001;
    let cold_ms = COLD.as_secs_f64() * 1000.0;
    config.latency.cold_start = Dist::new(cold_ms, cold_ms);
    config.latency.warm_start = Dist::new(0.0, 0.0);
    config.latency.envd_ready = Dist::new(0.0, 0.0);
    let s = start(config).await;
    let c = client();
    let timed = |c: Client| {
        let url = format!("{}/sandboxes", s.api_url);
        async move {
            let t = Instant::now();
            let r = c
                .post(url)
                .header("X-API-Key", KEY)
                .json(&json!({"templateID":"base"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            t.elapsed()
        }
    };
    // A sleep never ends early: the lower bounds hold on any machine.
    let cold_floor = COLD - Duration::from_millis(50);
    assert!(timed(c.clone()).await >= cold_floor);
    assert!(timed(c.clone()).await < COLD);
    let r = c
        .post(format!("{}/_sim/evict", s.api_url))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert!(timed(c.clone()).await >= cold_floor);
    s.shutdown().await;
}

#[tokio::test]
async fn concurrency_limit_answers_e2b_429() {
    let mut config = SimConfig::for_tests(KEY);
    config.max_concurrent = Some(2);
    let s = start(config).await;
    let c = client();
    let (_, a) = create(&c, &s, json!({"templateID":"base"})).await;
    assert_eq!(create(&c, &s, json!({"templateID":"base"})).await.0, 201);
    let (st, e) = create(&c, &s, json!({"templateID":"base"})).await;
    assert_eq!(st, 429);
    assert_eq!(e["code"], 429);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("you have reached the maximum number of concurrent E2B sandboxes (2)"),
        "{e}"
    );
    // Paused sandboxes do not count; resuming one needs a slot.
    let a = a["sandboxID"].as_str().unwrap();
    assert_eq!(
        post(&c, &s, &format!("/sandboxes/{a}/pause"), json!({}))
            .await
            .0,
        204
    );
    assert_eq!(create(&c, &s, json!({"templateID":"base"})).await.0, 201);
    assert_eq!(
        post(
            &c,
            &s,
            &format!("/sandboxes/{a}/connect"),
            json!({"timeout": 10})
        )
        .await
        .0,
        429
    );
    s.shutdown().await;
}

#[tokio::test]
async fn rate_limit_and_injected_errors() {
    let mut config = SimConfig::for_tests(KEY);
    config.rate_limit = Some(RateLimit {
        per_second: 0.5,
        burst: 2,
    });
    let s = start(config).await;
    let c = client();
    assert_eq!(get(&c, &s, "/sandboxes").await.status(), 200);
    assert_eq!(get(&c, &s, "/sandboxes").await.status(), 200);
    let r = get(&c, &s, "/sandboxes").await;
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"code":429,"message":"Rate limit exceeded"}));
    // Health and admin routes are not limited.
    assert_eq!(
        c.get(format!("{}/health", s.api_url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    s.shutdown().await;

    let mut config = SimConfig::for_tests(KEY);
    config.faults.error_rate = 1.0;
    let s = start(config).await;
    let (st, e) = create(&c, &s, json!({"templateID":"base"})).await;
    assert_eq!(st, 500);
    assert_eq!(e["code"], 500);
    assert_eq!(s.stats().created, 0);
    s.shutdown().await;

    let mut config = SimConfig::for_tests(KEY);
    config.faults.stall_rate = 1.0;
    config.faults.stall_for = Duration::from_millis(300);
    let s = start(config).await;
    let t = Instant::now();
    assert_eq!(get(&c, &s, "/sandboxes").await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(280));
    s.shutdown().await;
}

/// A running sandbox put straight into the registry (creates fail in these tests).
fn insert_sandbox(s: &SimServer, id: &str) {
    use e2b_sim::state::{Life, Sandbox, SandboxState};
    use std::time::SystemTime;
    let workdir = s.root.join(id);
    std::fs::create_dir(&workdir).unwrap();
    s.registry.insert(std::sync::Arc::new(Sandbox {
        id: id.to_owned(),
        template_id: "rki5dems9wqfm4r03t7g".to_owned(),
        alias: Some("base".to_owned()),
        access_token: None,
        metadata: Default::default(),
        env_vars: Default::default(),
        started_at: SystemTime::now(),
        life: std::sync::Mutex::new(Life {
            state: SandboxState::Running,
            end_at: SystemTime::now() + Duration::from_secs(300),
            auto_pause: false,
        }),
        workdir,
        commands: s.registry.commands(),
        processes: Default::default(),
    }));
}

#[tokio::test]
async fn fault_scope_create_spares_the_other_routes() {
    let c = client();
    let mut config = SimConfig::for_tests(KEY);
    config.faults.error_rate = 1.0;
    config.faults.scope = FaultScope::Create;
    let s = start(config).await;
    let (st, e) = create(&c, &s, json!({"templateID":"base"})).await;
    assert_eq!(
        (st, e["code"].clone()),
        (StatusCode::INTERNAL_SERVER_ERROR, json!(500))
    );
    let (st, _) = post(&c, &s, "/v2/sandboxes", json!({"templateID":"base"})).await;
    assert_eq!(st, 500);
    assert_eq!(s.stats().created, 0);
    insert_sandbox(&s, "scope00000000000000a");
    assert_eq!(get(&c, &s, "/sandboxes").await.status(), 200);
    assert_eq!(
        get(&c, &s, "/sandboxes/scope00000000000000a")
            .await
            .status(),
        200
    );
    let (st, _) = post(
        &c,
        &s,
        "/sandboxes/scope00000000000000a/timeout",
        json!({"timeout":60}),
    )
    .await;
    assert_eq!(st, 204);
    let r = delete(&c, &s, "/sandboxes/scope00000000000000a").await;
    assert_eq!(r.status(), 204);
    assert_eq!(s.stats().killed, 1);
    s.shutdown().await;

    // Stalls too: a create hangs past a short client timeout, a kill does not hang.
    let mut config = SimConfig::for_tests(KEY);
    config.faults.stall_rate = 1.0;
    config.faults.stall_for = Duration::from_secs(3600);
    config.faults.scope = FaultScope::Create;
    let s = start(config).await;
    let r = c
        .post(format!("{}/sandboxes", s.api_url))
        .header("X-API-Key", KEY)
        .json(&json!({"templateID":"base"}))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(r.as_ref().is_err_and(|e| e.is_timeout()), "{r:?}");
    insert_sandbox(&s, "scope00000000000000b");
    let r = c
        .delete(format!("{}/sandboxes/scope00000000000000b", s.api_url))
        .header("X-API-Key", KEY)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    s.shutdown().await;

    // The default scope still fails kills.
    let mut config = SimConfig::for_tests(KEY);
    config.faults.error_rate = 1.0;
    let s = start(config).await;
    insert_sandbox(&s, "scope00000000000000c");
    let r = delete(&c, &s, "/sandboxes/scope00000000000000c").await;
    assert_eq!(r.status(), 500);
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_starting_queues_creates_and_resumes() {
    // One start at a time. Two facts prove the queue without timing the
    // answers: (1) while one start has finished, the other is still
    // waiting (seen in the registry, an event); (2) the later one ends at
    // least two delays after both were sent. A sleep never ends early, so
    // (2) is a lower bound that load only makes easier to meet; (1) has the
    // queued start's whole delay (1 s) to be seen by a poll every 20 ms.
    const DELAY: Duration = Duration::from_secs(1);
    let mut config = SimConfig::for_tests(KEY);
    config.time_scale = 1.0;
    let d = Dist::new(DELAY.as_secs_f64(), DELAY.as_secs_f64());
    config.latency.cold_start = d;
    config.latency.warm_start = d;
    config.latency.envd_ready = Dist::new(0.0, 0.0);
    config.max_starting = Some(1);
    let s = start(config).await;
    let c = client();
    let send = |path: String, body: Value| {
        let (c, url) = (c.clone(), format!("{}{path}", s.api_url));
        tokio::spawn(async move {
            let r = c
                .post(url)
                .header("X-API-Key", KEY)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        })
    };
    let running = || {
        s.registry
            .all()
            .iter()
            .filter(|sb| sb.life.lock().unwrap().state == SandboxState::Running)
            .count()
    };
    let new = || json!({"templateID":"base","timeout":300});
    let t0 = Instant::now();
    let (a, b) = (
        send("/sandboxes".into(), new()),
        send("/sandboxes".into(), new()),
    );
    eventually("the first start to finish", || async {
        (running() > 0).then_some(())
    })
    .await;
    assert_eq!(running(), 1, "both started at once");
    assert!(
        !(a.is_finished() && b.is_finished()),
        "both answered at once"
    );
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert!(t0.elapsed() >= 2 * DELAY, "{:?}", t0.elapsed());
    assert_eq!((a.0, b.0), (StatusCode::CREATED, StatusCode::CREATED));

    // Resumes take the same permits.
    let ids = [&a.1, &b.1].map(|v| v["sandboxID"].as_str().unwrap().to_owned());
    for id in &ids {
        let (st, _) = post(&c, &s, &format!("/sandboxes/{id}/pause"), json!({})).await;
        assert_eq!(st, 204);
    }
    assert_eq!(running(), 0);
    let t0 = Instant::now();
    let [ra, rb] = ids.map(|id| send(format!("/sandboxes/{id}/resume"), json!({"timeout":300})));
    eventually("the first resume to finish", || async {
        (running() > 0).then_some(())
    })
    .await;
    assert_eq!(running(), 1, "both resumed at once");
    assert!(
        !(ra.is_finished() && rb.is_finished()),
        "both answered at once"
    );
    let (ra, rb) = (ra.await.unwrap(), rb.await.unwrap());
    assert!(t0.elapsed() >= 2 * DELAY, "{:?}", t0.elapsed());
    assert_eq!((ra.0, rb.0), (StatusCode::CREATED, StatusCode::CREATED));
    s.shutdown().await;
}

#[test]
fn spawn_blocking_serves_and_stops() {
    let sim = SimServer::spawn_blocking(SimConfig::for_tests(KEY)).unwrap();
    let addr = sim.api_url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /_sim/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains("\"live\":0"), "{resp}");
    assert_eq!(sim.stats().created, 0);
    sim.shutdown();
    assert!(std::net::TcpStream::connect(&addr).is_err());
}

#[test]
fn binary_prints_env_lines_first_and_requires_a_key() {
    let exe = env!("CARGO_BIN_EXE_bench-sim");
    let out = std::process::Command::new(exe)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--api-key") && err.contains("runs commands"),
        "{err}"
    );

    let out = std::process::Command::new(exe)
        .args(["serve", "--listen", "0.0.0.0:0", "--api-key", "k"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-remote"));

    let mut child = std::process::Command::new(exe)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            "k",
            "--time-scale",
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut first = Vec::new();
    for _ in 0..3 {
        first.push(lines.next().unwrap().unwrap());
    }
    assert!(
        first[0].starts_with("E2B_API_URL=http://127.0.0.1:"),
        "{first:?}"
    );
    assert!(
        first[1].starts_with("E2B_SANDBOX_URL=http://127.0.0.1:"),
        "{first:?}"
    );
    assert_eq!(first[2], "E2B_DOMAIN=e2b.local");
    let addr = first[0]
        .trim_start_matches("E2B_API_URL=http://")
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    stream.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // SIGINT via kill(1) is the Ctrl-C path.
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // A hang guard only: the emulator gives in-flight requests up to 2 s.
    let deadline = Instant::now() + HANG;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            assert!(st.success(), "{st:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "bench-sim did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
