//! `bench-client watch` against the emulator over real HTTP: its
//! `/metrics` scraped while it runs and parsed by the Prometheus text
//! format rules, its JSON Lines log, SIGTERM, and a bad `--metrics-listen`.
//! Every wait is for an event (a stderr line, a log line, an exit), never a
//! fixed sleep.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::{Arc, Mutex};

use e2b_sim::{Dist, SimConfig};
use support::*;

/// A watch child whose stderr is collected line by line.
struct Watch {
    child: Child,
    stderr: Arc<Mutex<Vec<String>>>,
    out_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Watch {
    fn spawn(sim: &e2b_sim::SimHandle, args: &[&str]) -> Watch {
        let (mut child, dir) = Client::new(sim).args(["watch"]).args(args).spawn();
        let out_dir = dir.path().join("out");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let pipe = child.stderr.take().unwrap();
        let lines = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Watch {
            child,
            stderr,
            out_dir,
            _dir: dir,
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// The address of "serving metrics on http://ADDR/metrics".
    fn metrics_addr(&self) -> String {
        let mut addr = None;
        wait_for("the metrics address on stderr", || {
            addr = self.stderr.lock().unwrap().iter().find_map(|l| {
                l.split_once("serving metrics on http://")
                    .and_then(|(_, rest)| rest.strip_suffix("/metrics"))
                    .map(str::to_owned)
            });
            addr.is_some()
        });
        addr.unwrap()
    }

    fn log_lines(&self) -> Vec<serde_json::Value> {
        log_lines(&self.out_dir.join("watch.jsonl"))
    }

    /// Waits for the exit; the output directory lives as long as the
    /// returned guard.
    fn wait(mut self) -> (i32, String, tempfile::TempDir) {
        let status = self.child.wait().unwrap();
        // The reader thread ends at EOF; give it the last lines.
        wait_for("stderr to close", || Arc::strong_count(&self.stderr) == 1);
        let text = self.stderr();
        assert_no_secret_in(&text, "stderr");
        (status.code().unwrap_or(-1), text, self._dir)
    }
}

fn log_lines(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // A line is complete once its newline is written: a read racing the
    // writer may end in part of a line, which is left for the next read.
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// One HTTP/1.1 GET; (status, headers lower-cased, body).
fn get(addr: &str, path: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_owned())
}

/// A sample line: name, labels, value.
#[derive(Debug, Clone)]
struct Line {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: per family its TYPE and HELP, and the samples.
#[derive(Debug, Default)]
struct Exposition {
    types: BTreeMap<String, String>,
    helps: BTreeMap<String, String>,
    samples: Vec<Line>,
}

fn parse_value(v: &str) -> f64 {
    match v {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        v => v.parse().unwrap_or_else(|e| panic!("value {v:?}: {e}")),
    }
}

/// `{a="x",b="y\"z"}` → labels, by the text format's escaping rules.
fn parse_labels(s: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    let mut rest = s.strip_prefix('{').unwrap();
    loop {
        rest = rest.trim_start_matches(',');
        if let Some(r) = rest.strip_prefix('}') {
            return (labels, r);
        }
        let (name, r) = rest.split_once("=\"").expect("label=\"value\"");
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit()),
            "label name {name:?}"
        );
        let mut value = String::new();
        let mut chars = r.char_indices();
        let end = loop {
            match chars.next().expect("an unterminated label value") {
                (_, '\\') => match chars.next().unwrap().1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    c => panic!("bad escape \\{c}"),
                },
                (i, '"') => break i,
                (_, c) => value.push(c),
            }
        };
        assert!(
            labels.insert(name.to_owned(), value).is_none(),
            "label {name} twice"
        );
        rest = &r[end + 1..];
    }
}

/// Parses and checks an exposition by the Prometheus text format 0.0.4
/// rules (or OpenMetrics 1.0 with `openmetrics`).
fn parse(text: &str, openmetrics: bool) -> Exposition {
    let mut e = Exposition::default();
    let mut lines: Vec<&str> = text.lines().collect();
    if openmetrics {
        assert_eq!(lines.pop(), Some("# EOF"), "OpenMetrics ends with # EOF");
    }
    let mut seen_samples_of = std::collections::BTreeSet::new();
    for line in lines {
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (kw, name, arg) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap_or(""),
            );
            match kw {
                "HELP" => assert!(
                    e.helps.insert(name.into(), arg.into()).is_none(),
                    "HELP {name} twice"
                ),
                "TYPE" => {
                    assert!(
                        [
                            "counter",
                            "gauge",
                            "histogram",
                            "summary",
                            "untyped",
                            "unknown"
                        ]
                        .contains(&arg),
                        "TYPE {arg}"
                    );
                    assert!(
                        !seen_samples_of.contains(name),
                        "TYPE {name} after its samples"
                    );
                    assert!(
                        e.types.insert(name.into(), arg.into()).is_none(),
                        "TYPE {name} twice"
                    );
                }
                "UNIT" => assert!(openmetrics, "UNIT is OpenMetrics only"),
                _ => {}
            }
            continue;
        }
        assert!(
            !line.is_empty() || !openmetrics,
            "blank line in OpenMetrics"
        );
        if line.trim().is_empty() {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "metric name {name:?}"
        );
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..])
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let value = parse_value(rest.trim().split(' ').next().unwrap());
        let family = family_of(&e, name, openmetrics)
            .unwrap_or_else(|| panic!("{name}: no # TYPE before the sample"));
        seen_samples_of.insert(family);
        e.samples.push(Line {
            name: name.into(),
            labels,
            value,
        });
    }
    for family in e.types.keys() {
        assert!(e.helps.contains_key(family), "{family} has no HELP");
    }
    check_histograms(&e);
    e
}

/// The declared family a sample name belongs to.
fn family_of(e: &Exposition, name: &str, openmetrics: bool) -> Option<String> {
    if let Some(t) = e.types.get(name) {
        // In 0.0.4 a counter's samples carry the family name itself; in
        // OpenMetrics a counter's samples need `_total`.
        assert!(
            !(openmetrics && t == "counter"),
            "{name}: OpenMetrics counter sample without _total"
        );
        return Some(name.into());
    }
    for suffix in ["_bucket", "_sum", "_count", "_total", "_created"] {
        if let Some(base) = name.strip_suffix(suffix)
            && let Some(t) = e.types.get(base)
        {
            let fits = match t.as_str() {
                "histogram" => suffix != "_total",
                "counter" => openmetrics && (suffix == "_total" || suffix == "_created"),
                _ => false,
            };
            assert!(fits, "{name} does not fit TYPE {t} of {base}");
            return Some(base.into());
        }
    }
    None
}

/// Per histogram series: `le` ascending, counts monotone, `+Inf` = `_count`,
/// `_sum` present.
fn check_histograms(e: &Exposition) {
    for (family, t) in &e.types {
        if t != "histogram" {
            continue;
        }
        let mut series: BTreeMap<BTreeMap<String, String>, Vec<(f64, f64)>> = BTreeMap::new();
        for s in e
            .samples
            .iter()
            .filter(|s| s.name == format!("{family}_bucket"))
        {
            let mut key = s.labels.clone();
            let le = parse_value(&key.remove("le").expect("a bucket without le"));
            series.entry(key).or_default().push((le, s.value));
        }
        assert!(!series.is_empty(), "{family}: no buckets");
        for (labels, buckets) in series {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{family}{labels:?}: buckets not ascending and monotone: {buckets:?}"
            );
            let (last_le, inf) = *buckets.last().unwrap();
            assert!(last_le.is_infinite(), "{family}{labels:?}: no +Inf bucket");
            let one = |suffix: &str| {
                let v: Vec<_> = e
                    .samples
                    .iter()
                    .filter(|s| s.name == format!("{family}{suffix}") && s.labels == labels)
                    .collect();
                assert_eq!(v.len(), 1, "{family}{suffix}{labels:?}");
                v[0].value
            };
            assert_eq!(
                one("_count"),
                inf,
                "{family}{labels:?}: +Inf bucket != _count"
            );
            let sum = one("_sum");
            assert!(
                sum >= 0.0 && (inf > 0.0 || sum == 0.0),
                "{family}: _sum {sum}"
            );
        }
    }
}

fn value(e: &Exposition, name: &str, labels: &[(&str, &str)]) -> f64 {
    let want: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let v: Vec<_> = e
        .samples
        .iter()
        .filter(|s| s.name == name && s.labels == want)
        .collect();
    assert_eq!(v.len(), 1, "{name}{want:?} in {:?}", e.samples);
    v[0].value
}

fn check_figures(e: &Exposition, openmetrics: bool) -> f64 {
    assert_eq!(
        e.types
            .get("e2b_bench_sandbox_create_seconds")
            .map(String::as_str),
        Some("histogram")
    );
    assert_eq!(
        e.types
            .get("e2b_bench_sandbox_time_to_interactive_seconds")
            .map(String::as_str),
        Some("histogram")
    );
    let counter = if openmetrics {
        "e2b_bench_sandbox_lifecycles"
    } else {
        "e2b_bench_sandbox_lifecycles_total"
    };
    assert_eq!(e.types.get(counter).map(String::as_str), Some("counter"));
    for s in &e.samples {
        assert_eq!(
            s.labels.get("cloud").map(String::as_str),
            Some("sim"),
            "{s:?}"
        );
        assert_eq!(
            s.labels.get("template").map(String::as_str),
            Some("base"),
            "{s:?}"
        );
    }
    let l = [("cloud", "sim"), ("template", "base")];
    let ok = value(
        e,
        "e2b_bench_sandbox_lifecycles_total",
        &[l[0], l[1], ("result", "ok")],
    );
    let failed = value(
        e,
        "e2b_bench_sandbox_lifecycles_total",
        &[l[0], l[1], ("result", "failed")],
    );
    assert_eq!(failed, 0.0);
    let count = value(e, "e2b_bench_sandbox_create_seconds_count", &l);
    assert_eq!(count, ok, "one create per successful lifecycle");
    assert_eq!(
        value(e, "e2b_bench_sandbox_time_to_interactive_seconds_count", &l),
        ok
    );
    ok
}

#[test]
fn watch_is_scraped_while_it_runs_and_logs_every_lifecycle() {
    let sim = quick_sim();
    let watch = Watch::spawn(
        &sim,
        &[
            "--count",
            "3",
            "--interval",
            "50ms",
            "--metrics-listen",
            "127.0.0.1:0",
            // Stay up until a scrape has seen all three (the test's).
            "--linger",
            "10m",
        ],
    );
    let addr = watch.metrics_addr();
    wait_for("the first lifecycle in the log", || {
        !watch.log_lines().is_empty()
    });

    let (status, head, body) = get(&addr, "/metrics", None);
    assert_eq!(status, 200, "{body}");
    assert!(
        head.contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let first = parse(&body, false);
    let seen = check_figures(&first, false);
    assert!((1.0..=3.0).contains(&seen), "{body}");

    if seen < 3.0 {
        // Still running: the final scrape, in OpenMetrics, ends the linger.
        wait_for("three lifecycles in the log", || {
            watch.log_lines().len() == 3
        });
        let (status, head, body) = get(
            &addr,
            "/metrics",
            Some("application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"),
        );
        assert_eq!(status, 200, "{body}");
        assert!(
            head.contains("content-type: application/openmetrics-text"),
            "{head}"
        );
        let last = parse(&body, true);
        assert_eq!(check_figures(&last, true), 3.0, "{body}");
    }
    let log = watch.out_dir.join("watch.jsonl");
    let (code, stderr, _dir) = watch.wait();
    assert_eq!(code, 0, "{stderr}");

    let lines = log_lines(&log);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let mut seqs: Vec<_> = lines.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, [0, 1, 2]);
    for l in &lines {
        assert_eq!(l["template"], "base", "{l}");
        assert_eq!(l["cloud"], "sim", "{l}");
        assert_eq!(l["result"], "ok", "{l}");
        assert!(l["error"].is_null(), "{l}");
        assert!(l["timestamp"].as_str().unwrap().ends_with('Z'), "{l}");
        assert!(l["late_ms"].as_f64().unwrap() >= 0.0, "{l}");
        for phase in [
            "create",
            "envd_ready",
            "first_command",
            "time_to_interactive",
            "kill",
        ] {
            assert!(
                l["phases_ms"][phase].as_f64().unwrap() >= 0.0,
                "{phase}: {l}"
            );
        }
    }
    assert_eq!(sim.stats().live, 0);
    assert_eq!(sim.stats().created, 3);
}

#[test]
fn sigterm_during_a_long_watch_kills_everything_and_exits_130() {
    let sim = sim(SimConfig {
        time_scale: 1.0,
        latency: e2b_sim::LatencyConfig {
            cold_start: Dist::new(0.05, 0.05),
            warm_start: Dist::new(0.05, 0.05),
            envd_ready: Dist::new(0.0, 0.0),
        },
        ..SimConfig::for_tests(KEY)
    });
    let watch = Watch::spawn(
        &sim,
        &["--interval", "50ms", "--metrics-listen", "127.0.0.1:0"],
    );
    watch.metrics_addr();
    wait_for("lifecycles in the log", || watch.log_lines().len() >= 2);
    wait_for("a sandbox alive", || sim.stats().live >= 1);
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &watch.child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (code, stderr, _dir) = watch.wait();
    assert_eq!(code, 130, "{stderr}");

    let api = sim.api_url.trim_start_matches("http://").to_owned();
    let (status, _, body) = get(&api, "/_sim/stats", None);
    assert_eq!(status, 200, "{body}");
    let stats: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(stats["live"], 0, "{body}");
    assert!(stats["created"].as_u64().unwrap() >= 2, "{body}");
}

#[test]
fn a_bad_metrics_listen_is_one_line_and_creates_nothing() {
    let sim = quick_sim();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let in_use = taken.local_addr().unwrap().to_string();
    for bad in ["not-an-address", "9464", "127.0.0.1:99999", in_use.as_str()] {
        let ran = Client::new(&sim)
            .args(["watch", "--count", "1", "--metrics-listen", bad])
            .run();
        assert_eq!(ran.code(), 2, "{bad}: {}", ran.stderr());
        assert_eq!(
            ran.stderr().trim().lines().count(),
            1,
            "{bad}: {}",
            ran.stderr()
        );
        ran.assert_stderr_has("--metrics-listen");
    }
    assert_eq!(sim.stats().created, 0);
    drop(taken);
}
