//! bench-client end to end, over real HTTP against the emulator
//! (`e2b_sim::SimServer`): every subcommand, both create paths, every
//! routing scheme, faults, interruption and leaks. Tests never assume a
//! positive envd phase: like E2B, the emulator answers the create only once
//! envd is up.

mod support;

use std::time::Duration;

use bench_core::schema::{ErrorKind, ResultDocument};
use e2b_sim::{Dist, FaultScope, RateLimit, SimConfig};
use support::*;

fn phase_labels_agree(doc: &bench_core::schema::ResultDocument) {
    let sets: Vec<_> = doc
        .samples
        .iter()
        .filter(|s| s.unit == "ms")
        .map(|s| s.labels.clone())
        .collect();
    assert!(
        sets.windows(2).all(|w| w[0] == w[1]),
        "phase labels differ: {sets:?}"
    );
}

#[test]
fn lifecycle_times_every_phase_cold_and_warm() {
    let sim = quick_sim();
    let ran = Client::new(&sim)
        .args(["lifecycle", "--iterations", "4"])
        .run_code(0);
    let cold = ran.doc("01_cold_start.json");
    let warm = ran.doc("01_warm_start.json");
    assert_eq!(cold.suite, "cold_start");
    assert_eq!(warm.suite, "warm_start");
    for (doc, mode, n) in [(&cold, "cold", 1), (&warm, "warm", 4)] {
        for metric in [
            "sandbox.create_ms",
            "sandbox.envd_ready_ms",
            "sandbox.first_command_ms",
            "sandbox.time_to_interactive_ms",
            "sandbox.kill_ms",
        ] {
            let s = samples(doc, metric);
            assert_eq!(s.len(), 1, "{metric} in {mode}");
            assert_eq!(s[0].raw.len(), n, "{metric} in {mode}");
            assert_eq!(s[0].labels["mode"], mode);
            assert_eq!(s[0].labels["template"], "base");
            assert_eq!(s[0].labels["concurrency"], "1");
            assert!(s[0].raw.iter().all(|v| *v >= 0.0));
        }
        phase_labels_agree(doc);
        let rate = samples(doc, "sandbox.success_rate");
        assert_eq!((rate[0].value, rate[0].unit.as_str()), (1.0, "ratio"));
        // Time to interactive is measured, and covers create and command.
        let tti = &samples(doc, "sandbox.time_to_interactive_ms")[0].raw;
        let create = &samples(doc, "sandbox.create_ms")[0].raw;
        let cmd = &samples(doc, "sandbox.first_command_ms")[0].raw;
        for i in 0..n {
            assert!(
                tti[i] >= create[i] + cmd[i] - 1e-6,
                "{tti:?} {create:?} {cmd:?}"
            );
        }
        assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    }
    assert_eq!(warm.parameters["create_path"], "v2");
    let stats = sim.stats();
    assert_eq!((stats.live, stats.created, stats.killed), (0, 5, 5));
}

#[test]
fn v1_and_v2_create_paths() {
    let sim = quick_sim();
    for (api, path) in [("v1", "v1"), ("v2", "v2"), ("auto", "v2")] {
        let ran = Client::new(&sim)
            .args(["lifecycle", "--iterations", "1", "--api", api])
            .run();
        assert_eq!(ran.code(), 0, "{api}: {}", ran.stderr());
        assert_eq!(
            ran.doc("01_warm_start.json").parameters["create_path"],
            path
        );
    }
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn legacy_host_form_and_current_host_form_through_connect_to() {
    let sim = quick_sim();
    let sandbox_addr = sim.sandbox_url.trim_start_matches("http://").to_owned();
    for pattern in [
        "http://{port}-{sandbox_id}.{domain}",
        "http://{port}-{sandbox_id}-{client_id}.{domain}",
    ] {
        // The API URL is an IP literal (not resolved); every sandbox name
        // resolves to the emulator's sandbox listener, Host kept.
        let ran = Client::new(&sim)
            .env_remove("E2B_SANDBOX_URL")
            .args([
                "lifecycle",
                "--iterations",
                "2",
                "--sandbox-url-pattern",
                pattern,
                "--connect-to",
                &sandbox_addr,
            ])
            .run();
        assert_eq!(ran.code(), 0, "{pattern}: {}", ran.stderr());
        let warm = ran.doc("01_warm_start.json");
        assert_eq!(samples(&warm, "sandbox.success_rate")[0].value, 1.0);
        assert!(
            warm.parameters["envd_routing"]
                .as_str()
                .unwrap()
                .contains(pattern)
        );
    }
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn concurrency_ramp_finds_the_knee_of_a_start_limit() {
    // Two starts at a time, each taking a modelled 300 ms: throughput
    // grows from 1 to 2 and stops there.
    let sim = sim(SimConfig {
        time_scale: 1.0,
        max_starting: Some(2),
        latency: e2b_sim::LatencyConfig {
            cold_start: Dist::new(0.3, 0.3),
            warm_start: Dist::new(0.3, 0.3),
            envd_ready: Dist::new(0.0, 0.0),
        },
        ..SimConfig::for_tests(KEY)
    });
    let ran = Client::new(&sim)
        .args(["concurrency", "--max-concurrency", "8"])
        .run_code(0);
    let doc = ran.doc("02_concurrency.json");
    let tput = samples(&doc, "sandbox.creates_per_second");
    let levels: Vec<&str> = tput
        .iter()
        .map(|s| s.labels["concurrency"].as_str())
        .collect();
    assert_eq!(levels, ["1", "2", "4", "8"]);
    assert!(
        tput.iter()
            .all(|s| s.unit == "sandboxes/s" && s.labels["schedule"] == "burst")
    );
    let knee = &doc.parameters["knee"]["base"];
    assert_eq!(
        knee["concurrency"],
        2.0,
        "{knee} from {:?}",
        tput.iter().map(|s| s.value).collect::<Vec<_>>()
    );
    for level in ["1", "2", "4", "8"] {
        let rate = samples(&doc, "sandbox.success_rate")
            .into_iter()
            .find(|s| s.labels["concurrency"] == level)
            .unwrap();
        assert_eq!(rate.value, 1.0);
        let tti = samples(&doc, "sandbox.time_to_interactive_ms")
            .into_iter()
            .find(|s| s.labels["concurrency"] == level)
            .unwrap();
        assert_eq!(tti.raw.len(), level.parse::<usize>().unwrap());
        assert_eq!(tti.labels["mode"], "warm");
    }
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn staggered_and_ramp_schedules() {
    let sim = quick_sim();
    for (mode, per_level) in [("staggered", 1), ("ramp", 2)] {
        let ran = Client::new(&sim)
            .args([
                "concurrency",
                "--levels",
                "1,3",
                "--mode",
                mode,
                "--interval",
                "20ms",
                "--rounds",
                "2",
            ])
            .run();
        assert_eq!(ran.code(), 0, "{mode}: {}", ran.stderr());
        let doc = ran.doc("02_concurrency.json");
        let create = samples(&doc, "sandbox.create_ms");
        assert_eq!(create.len(), 2);
        assert_eq!(create[1].raw.len(), 3 * per_level, "{mode}");
        assert_eq!(create[1].labels["schedule"], mode);
    }
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn rate_limit_storms_are_waited_out_as_retry_after_asks() {
    let sim = sim(SimConfig {
        rate_limit: Some(RateLimit {
            per_second: 20.0,
            burst: 2,
        }),
        ..SimConfig::for_tests(KEY)
    });
    let ran = Client::new(&sim)
        .args(["concurrency", "--levels", "4"])
        .run_code(0);
    let doc = ran.doc("02_concurrency.json");
    let limited = samples(&doc, "sandbox.rate_limited")[0];
    assert_eq!(limited.unit, "count");
    assert!(limited.value >= 1.0, "the storm was not seen: {limited:?}");
    assert_eq!(samples(&doc, "sandbox.success_rate")[0].value, 1.0);
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn injected_500s_are_counted_not_dropped() {
    let mut config = SimConfig::for_tests(KEY);
    config.faults.error_rate = 0.5;
    config.faults.scope = FaultScope::Create;
    let sim = sim(config);
    let ran = Client::new(&sim)
        .args(["lifecycle", "--iterations", "12"])
        .run_code(3);
    let warm = ran.doc("01_warm_start.json");
    let rate = samples(&warm, "sandbox.success_rate")[0];
    assert_eq!(rate.raw.len(), 12, "every attempt counts");
    assert!(rate.value < 1.0 && rate.value > 0.0, "{rate:?}");
    let failures = rate.raw.iter().filter(|v| **v == 0.0).count();
    assert!(
        warm.errors.iter().any(|e| e.kind == ErrorKind::Failed
            && e.message.contains("500")
            && e.message.contains("injected fault")),
        "{:?}",
        warm.errors
    );
    let create = &samples(&warm, "sandbox.create_ms")[0];
    assert_eq!(create.raw.len(), 12 - failures);
    assert_eq!(sim.stats().live, 0);
}

/// One lifecycle iteration with a 500 ms --phase-timeout against an emulator
/// with `config`: exit 3, and the cold-start document's timeout entry whose
/// message passes `says`.
fn phase_timeout(
    config: SimConfig,
    says: fn(&str) -> bool,
) -> (e2b_sim::SimHandle, ResultDocument) {
    let sim = sim(config);
    let ran = Client::new(&sim)
        .args(["lifecycle", "--iterations", "1", "--phase-timeout", "500ms"])
        .run_code(3);
    let cold = ran.doc("01_cold_start.json");
    assert!(
        cold.errors
            .iter()
            .any(|e| e.kind == ErrorKind::Timeout && says(&e.message)),
        "{:?}",
        cold.errors
    );
    (sim, cold)
}

#[test]
fn a_stalled_create_and_a_stalled_envd_hit_the_phase_timeout() {
    let mut config = SimConfig::for_tests(KEY);
    config.faults.stall_rate = 1.0;
    config.faults.scope = FaultScope::Create;
    config.faults.stall_for = Duration::from_secs(600);
    phase_timeout(config, |m| m.contains("--phase-timeout"));

    let mut config = SimConfig::for_tests(KEY);
    config.faults.envd_stall_rate = 1.0;
    config.faults.envd_stall_for = Duration::from_secs(600);
    let (stalled_envd, cold) = phase_timeout(config, |m| m.starts_with("envd_ready"));
    assert_eq!(samples(&cold, "sandbox.success_rate")[0].value, 0.0);
    // The sandbox whose envd never answered was killed all the same.
    let stats = stalled_envd.stats();
    assert_eq!(stats.live, 0, "{stats:?}");
    assert!(stats.killed >= 2, "{stats:?}");
}

#[test]
fn pause_and_resume_prove_the_sandbox_works() {
    let sim = quick_sim();
    let ran = Client::new(&sim)
        .args(["pause", "--iterations", "3"])
        .run_code(0);
    let doc = ran.doc("02_pause_resume.json");
    assert_eq!(doc.suite, "pause_resume");
    for metric in [
        "sandbox.pause_ms",
        "sandbox.resume_ms",
        "sandbox.resume_command_ms",
    ] {
        let s = samples(&doc, metric);
        assert_eq!(s[0].raw.len(), 3, "{metric}");
        assert_eq!(s[0].labels["template"], "base");
    }
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn doctor_passes_and_prints_settings_that_work() {
    let sim = quick_sim();
    let ran = Client::new(&sim).args(["doctor"]).run_code(0);
    let err = ran.stderr();
    for check in [
        "dns",
        "tcp",
        "api key",
        "template",
        "create",
        "envd (configured)",
        "access token",
        "kill",
    ] {
        assert!(
            err.lines()
                .any(|l| l.starts_with("pass") && l.contains(check)),
            "{check}:\n{err}"
        );
    }
    let out = ran.stdout();
    assert!(
        out.contains(&format!("export E2B_API_URL={}", sim.api_url)),
        "{out}"
    );
    assert!(
        out.contains(&format!("export E2B_SANDBOX_URL={}", sim.sandbox_url)),
        "{out}"
    );
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn doctor_diagnoses_invalid_host_and_names_the_fix() {
    let sim = quick_sim();
    let sandbox_addr = sim.sandbox_url.trim_start_matches("http://").to_owned();
    // A pattern without `<port>-`: client-proxy cannot route it.
    let ran = Client::new(&sim)
        .args([
            "doctor",
            "--sandbox-url-pattern",
            "http://{sandbox_id}.{domain}",
            "--connect-to",
            &sandbox_addr,
        ])
        .run_code(3);
    let err = ran.stderr();
    let line = err
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains("envd (configured)"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(line.contains("'Invalid host'"), "{line}");
    assert!(
        line.contains("<port>-<sandboxID>.<domain>") && line.contains("--connect-to"),
        "{line}"
    );
    // The schemes that do work are named, and the settings printed.
    assert!(
        err.lines()
            .any(|l| l.starts_with("pass") && l.contains("envd host form")),
        "{err}"
    );
    ran.assert_stdout_has("--connect-to");
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn bad_key_and_unreachable_api_are_one_line_errors() {
    let sim = quick_sim();
    let ran = Client::new(&sim)
        .env(
            "E2B_API_KEY",
            "e2b_0000000000000000000000000000000000000000",
        )
        .args(["lifecycle", "--iterations", "1"])
        .run();
    assert_eq!(ran.code(), 3);
    let cold = ran.doc("01_cold_start.json");
    assert!(
        cold.errors[0].message.contains("E2B_API_KEY"),
        "{:?}",
        cold.errors
    );
    let warm = ran.doc("01_warm_start.json");
    assert!(
        warm.errors[0].message.contains("not run"),
        "{:?}",
        warm.errors
    );

    let refused = Client::new(&sim)
        .env("E2B_API_URL", "http://127.0.0.1:9")
        .args(["doctor"])
        .run();
    assert_eq!(refused.code(), 3);
    refused.assert_stderr_has("connection refused");

    let no_key = Client::new(&sim)
        .env_remove("E2B_API_KEY")
        .args(["lifecycle"])
        .run();
    assert_eq!(no_key.code(), 2);
    assert_eq!(
        no_key.stderr().trim().lines().count(),
        1,
        "{}",
        no_key.stderr()
    );
    assert!(no_key.stderr().contains("E2B_API_KEY"));
}

#[test]
fn tls_problems_name_the_certificate_and_ca_cert_fixes_them() {
    let server = bench_testkit::tls::TlsServer::start(
        &["api.e2b.test"],
        [(
            "/health".to_owned(),
            bench_testkit::http::Response::ok("text/plain", "ok"),
        )],
    );
    let sim = quick_sim();
    let url = format!("https://api.e2b.test:{}", server.addr().port());
    let ran = Client::new(&sim)
        .env("E2B_API_URL", &url)
        .args(["doctor", "--connect-to", &server.addr().to_string()])
        .run();
    let err = ran.stderr();
    let line = err
        .lines()
        .find(|l| l.contains(" api "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        line.starts_with("FAIL")
            && line.contains("unknown authority")
            && line.contains("--ca-cert"),
        "{line}"
    );
    let ca = ran.dir.path().join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).unwrap();
    let ran = Client::new(&sim)
        .env("E2B_API_URL", &url)
        .args([
            "doctor",
            "--connect-to",
            &server.addr().to_string(),
            "--ca-cert",
            ca.to_str().unwrap(),
        ])
        .run();
    let err = ran.stderr();
    assert!(
        err.lines()
            .any(|l| l.starts_with("pass") && l.contains(" api ")),
        "{err}"
    );
}

#[test]
fn cleanup_kills_only_our_sandboxes() {
    let sim = sim(SimConfig {
        ..SimConfig::for_tests(KEY)
    });
    // kill -9 in the middle of a run leaves tagged sandboxes behind.
    let mut child = Client::new(&sim)
        .args([
            "lifecycle",
            "--iterations",
            "100000",
            "--run-id",
            "leaky-run",
        ])
        .cmd
        .spawn()
        .unwrap();
    wait_for("a sandbox of the run", || sim.stats().live >= 1);
    child.kill().unwrap();
    child.wait().unwrap();
    // A create in flight at the kill may still land: wait until the
    // emulator has closed every connection of the dead client.
    wait_for("no request in flight at the emulator", || {
        api_connections(&sim) == 0
    });
    let left = sim.stats().live;
    let dry = Client::new(&sim).args(["cleanup", "--dry-run"]).run_code(0);
    assert_eq!(
        dry.stdout().lines().count() as u64,
        left,
        "{}",
        dry.stdout()
    );
    assert!(dry.stdout().contains("leaky-run"));
    assert_eq!(sim.stats().live, left, "--dry-run kills nothing");
    let other = Client::new(&sim)
        .args(["cleanup", "--run-id", "another-run"])
        .run();
    other.assert_stdout_has("killed 0 of 0");
    let ran = Client::new(&sim)
        .args(["cleanup", "--run-id", "leaky-run"])
        .run();
    ran.assert_stdout_has(&format!("killed {left} of {left}"));
    assert_eq!(sim.stats().live, 0);
}

#[test]
fn kill_9_leaves_sandboxes_that_expire_by_their_timeout() {
    // envd never answers, so the sandbox is surely alive at the kill.
    let mut config = SimConfig::for_tests(KEY);
    config.faults.envd_stall_rate = 1.0;
    config.faults.envd_stall_for = Duration::from_secs(600);
    let sim = sim(config);
    let mut child = Client::new(&sim)
        .args(["lifecycle", "--iterations", "1", "--sandbox-timeout", "2s"])
        .cmd
        .spawn()
        .unwrap();
    wait_for("a sandbox", || sim.stats().live >= 1);
    child.kill().unwrap();
    child.wait().unwrap();
    wait_for("the sandbox to expire", || sim.stats().live == 0);
    let stats = sim.stats();
    assert_eq!((stats.killed, stats.expired), (0, 1), "{stats:?}");
}

#[test]
fn sigint_mid_run_kills_everything_and_keeps_finished_suites() {
    let sim = sim(SimConfig {
        time_scale: 1.0,
        latency: e2b_sim::LatencyConfig {
            cold_start: Dist::new(0.02, 0.02),
            warm_start: Dist::new(0.05, 0.05),
            envd_ready: Dist::new(0.0, 0.0),
        },
        ..SimConfig::for_tests(KEY)
    });
    let client = Client::new(&sim).args(["lifecycle", "--iterations", "100000"]);
    let out_dir = client.dir.path().join("out");
    let dir = client.dir;
    let mut cmd = client.cmd;
    let child = cmd
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the cold document", || {
        out_dir.join("01_cold_start.json").exists()
    });
    wait_for("warm starts", || sim.stats().created >= 4);
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sim.stats().live, 0, "every sandbox is killed on Ctrl-C");
    let cold = read_doc(&out_dir.join("01_cold_start.json"));
    assert_eq!(samples(&cold, "sandbox.create_ms")[0].raw.len(), 1);
    let warm = read_doc(&out_dir.join("01_warm_start.json"));
    assert!(warm.errors.iter().any(|e| e.kind == ErrorKind::Interrupted));
    assert!(
        !samples(&warm, "sandbox.create_ms").is_empty(),
        "finished warm starts are kept"
    );
    assert_no_secret_in(&String::from_utf8_lossy(&out.stderr), "stderr");
    drop(dir);
}
