//! The Nomad jobs in `deploy/nomad/`: parsed with an HCL parser (hcl-rs),
//! checked against the variables table of `docs/nomad.md`, and evaluated the
//! way Nomad does (variables, locals, `concat`; runtime references such as
//! `${node.unique.name}` left for the client), so the argv each task would
//! run is checked, and then run: the wrapper script under `/bin/sh` with a
//! stand-in binary in `NOMAD_TASK_DIR`.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::{Block, Body, Expression, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One job file, parsed.
struct Job {
    name: &'static str,
    text: String,
    body: Body,
}

fn load(name: &'static str) -> Job {
    let path = repo().join(format!("deploy/nomad/{name}.nomad.hcl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Job { name, text, body }
}

fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == ident)
}

fn block<'a>(body: &'a Body, ident: &str) -> &'a Block {
    let mut found = body.blocks().filter(|b| b.identifier() == ident);
    let first = found.next().unwrap_or_else(|| panic!("no {ident} block"));
    assert!(found.next().is_none(), "more than one {ident} block");
    first
}

fn attr<'a>(body: &'a Body, key: &str) -> &'a Expression {
    body.attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr())
        .unwrap_or_else(|| panic!("no attribute {key}"))
}

fn label(b: &Block) -> &str {
    b.labels().first().map(|l| l.as_str()).unwrap_or_default()
}

/// A literal value (no references), evaluated.
fn literal(expr: &Expression) -> Value {
    expr.evaluate(&Context::new())
        .unwrap_or_else(|e| panic!("{expr:?}: {e}"))
}

/// The source text of a reference such as `var.shards`.
fn reference(expr: &Expression) -> String {
    match expr {
        Expression::Traversal(t) => hcl::format::to_string(&Expression::Traversal(t.clone()))
            .unwrap()
            .trim()
            .to_owned(),
        other => panic!("not a reference: {other:?}"),
    }
}

impl Job {
    fn job(&self) -> &Block {
        let job = block(&self.body, "job");
        assert_eq!(label(job), self.name, "the job id");
        job
    }

    fn group(&self) -> &Block {
        block(self.job().body(), "group")
    }

    fn task(&self) -> &Block {
        block(self.group().body(), "task")
    }

    /// Declared variables and their defaults (`None`: required).
    fn variables(&self) -> BTreeMap<String, Option<Value>> {
        blocks(&self.body, "variable")
            .map(|v| {
                let default = v
                    .body()
                    .attributes()
                    .find(|a| a.key() == "default")
                    .map(|a| literal(a.expr()));
                (label(v).to_owned(), default)
            })
            .collect()
    }

    /// Nomad's evaluation context: `var.*` (defaults, then `set`), `local.*`,
    /// `concat`, and the runtime attributes Nomad leaves in place for the
    /// client to interpolate.
    fn context(&self, set: &[(&str, Value)]) -> Context<'static> {
        let mut vars: hcl::Map<String, Value> = hcl::Map::new();
        for (name, default) in self.variables() {
            if let Some(v) = default {
                vars.insert(name, v);
            }
        }
        for (name, value) in set {
            assert!(
                vars.contains_key(*name) || self.variables().contains_key(*name),
                "{name} is not a variable"
            );
            vars.insert((*name).to_owned(), value.clone());
        }
        let mut ctx = Context::new();
        ctx.declare_var("var", Value::Object(vars));
        let mut node = hcl::Map::new();
        node.insert("class".to_owned(), Value::from("${node.class}"));
        let mut unique = hcl::Map::new();
        unique.insert("name".to_owned(), Value::from("${node.unique.name}"));
        node.insert("unique".to_owned(), Value::Object(unique));
        ctx.declare_var("node", Value::Object(node));
        ctx.declare_func(
            "concat",
            FuncDef::builder()
                .variadic_param(ParamType::array_of(ParamType::Any))
                .build(concat),
        );
        let mut locals = hcl::Map::new();
        for l in blocks(&self.body, "locals") {
            for a in l.body().attributes() {
                let v = a
                    .expr()
                    .evaluate(&ctx)
                    .unwrap_or_else(|e| panic!("local.{}: {e}", a.key()));
                locals.insert(a.key().to_owned(), v);
            }
        }
        ctx.declare_var("local", Value::Object(locals));
        ctx
    }

    /// The task's `config.args` as Nomad hands them to `/bin/sh`.
    fn argv(&self, set: &[(&str, Value)]) -> Vec<String> {
        let config = block(self.task().body(), "config");
        assert_eq!(
            literal(attr(config.body(), "command")),
            Value::from("/bin/sh")
        );
        let args = attr(config.body(), "args")
            .evaluate(&self.context(set))
            .unwrap_or_else(|e| panic!("{}: args: {e}", self.name));
        args.as_array()
            .expect("args is a list")
            .iter()
            .map(|v| v.as_str().expect("every arg is a string").to_owned())
            .collect()
    }
}

fn concat(args: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for list in args.variadic_args() {
        out.extend(list.as_array().cloned().unwrap_or_default());
    }
    Ok(Value::Array(out))
}

/// `docs/nomad.md`'s variables table: name → job column (`host`, `client`
/// or `both`).
fn documented_variables() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string(repo().join("docs/nomad.md")).unwrap();
    let section = doc
        .split_once("\n## Variables\n")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap())
        .expect("docs/nomad.md has a ## Variables section");
    let rows: BTreeMap<String, String> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
        })
        .collect();
    assert!(!rows.is_empty(), "no rows in the variables table");
    rows
}

/// The variables a job must declare according to the docs.
fn documented_for(job: &str) -> BTreeSet<String> {
    let side = job.trim_start_matches("bench-");
    documented_variables()
        .into_iter()
        .filter(|(_, j)| j == side || j == "both")
        .map(|(name, _)| name)
        .collect()
}

/// Values for the required variables of both jobs.
fn required() -> Vec<(&'static str, Value)> {
    vec![
        (
            "artifact_url",
            Value::from("https://artifacts.example/bench"),
        ),
        ("storage_url", Value::from("s3://bench-results/fleet")),
        ("cloud", Value::from("aws")),
        ("run_id", Value::from("20261207T1000Z-fleet")),
    ]
}

fn client_required() -> Vec<(&'static str, Value)> {
    let mut v = required();
    v.push((
        "sandbox_artifact_url",
        Value::from("https://artifacts.example/bench-sandbox"),
    ));
    v
}

#[test]
fn both_jobs_declare_exactly_the_variables_the_docs_list() {
    let documented = documented_variables();
    for (name, job) in &documented {
        assert!(
            ["host", "client", "both"].contains(&job.as_str()),
            "docs/nomad.md: {name}: job column {job:?}"
        );
    }
    for name in ["bench-host", "bench-client"] {
        let job = load(name);
        let declared: BTreeSet<String> = job.variables().into_keys().collect();
        assert_eq!(
            declared,
            documented_for(name),
            "{name}: declared vs docs/nomad.md"
        );
    }
    // "required" in the docs is exactly "no default" in the files.
    let doc = std::fs::read_to_string(repo().join("docs/nomad.md")).unwrap();
    for name in ["bench-host", "bench-client"] {
        for (var, default) in load(name).variables() {
            let row = doc
                .lines()
                .find(|l| l.starts_with(&format!("| `{var}` |")))
                .unwrap();
            assert_eq!(
                row.contains("| required |"),
                default.is_none(),
                "{name}: {var}: {row}"
            );
        }
    }
}

#[test]
fn the_host_job_runs_once_per_orchestrator_node_with_raw_exec() {
    let job = load("bench-host");
    let body = job.job().body();
    assert_eq!(literal(attr(body, "type")), Value::from("sysbatch"));
    assert_eq!(reference(attr(body, "node_pool")), "var.node_pool");
    assert_eq!(reference(attr(body, "datacenters")), "var.datacenters");
    node_class_constraint(body);

    let task = job.task().body();
    assert_eq!(literal(attr(task, "driver")), Value::from("raw_exec"));
    no_restarts(task);
    let artifacts = artifacts(task);
    assert_eq!(
        artifacts,
        [("var.artifact_url".to_owned(), "local/bench-host".to_owned())]
    );
    secrets_from_nomad_variable(task, "bench-host");
    let env = block(task, "env").body();
    assert_eq!(
        reference(attr(env, "E2B_STORAGE_DIR")),
        "var.e2b_storage_dir"
    );
}

#[test]
fn the_client_job_is_a_batch_of_one_allocation_per_shard() {
    let job = load("bench-client");
    let body = job.job().body();
    assert_eq!(literal(attr(body, "type")), Value::from("batch"));
    assert_eq!(reference(attr(body, "node_pool")), "var.node_pool");
    node_class_constraint(body);

    let group = job.group().body();
    assert_eq!(reference(attr(group, "count")), "var.shards");
    let distinct = block(group, "dynamic");
    assert_eq!(label(distinct), "constraint");
    let content = block(distinct.body(), "content").body();
    assert_eq!(
        literal(attr(content, "operator")),
        Value::from("distinct_hosts")
    );
    assert!(
        hcl::format::to_string(attr(distinct.body(), "for_each"))
            .unwrap()
            .contains("var.distinct_hosts")
    );
    no_restarts(group);
    let reschedule = block(group, "reschedule").body();
    assert_eq!(literal(attr(reschedule, "attempts")), Value::from(0));
    assert_eq!(literal(attr(reschedule, "unlimited")), Value::from(false));

    let task = job.task().body();
    assert_eq!(literal(attr(task, "driver")), Value::from("raw_exec"));
    assert_eq!(
        artifacts(task),
        [
            (
                "var.artifact_url".to_owned(),
                "local/bench-client".to_owned()
            ),
            (
                "var.sandbox_artifact_url".to_owned(),
                "local/bench-sandbox".to_owned()
            ),
        ]
    );
    secrets_from_nomad_variable(task, "bench-client");
}

/// The optional node-class constraint: a `dynamic` block over `var.node_class`.
fn node_class_constraint(job: &Body) {
    let dynamic = block(job, "dynamic");
    assert_eq!(label(dynamic), "constraint");
    let content = block(dynamic.body(), "content").body();
    // Left for the Nomad client to interpolate, so compared as written.
    match attr(content, "attribute") {
        Expression::TemplateExpr(t) => assert_eq!(t.to_string(), "${node.class}"),
        other => panic!("constraint attribute: {other:?}"),
    }
    assert!(
        hcl::format::to_string(attr(dynamic.body(), "for_each"))
            .unwrap()
            .contains("var.node_class")
    );
}

fn no_restarts(body: &Body) {
    let restart = block(body, "restart").body();
    assert_eq!(literal(attr(restart, "attempts")), Value::from(0));
    assert_eq!(literal(attr(restart, "mode")), Value::from("fail"));
}

/// `(source, destination)` of every artifact, each a single file.
fn artifacts(task: &Body) -> Vec<(String, String)> {
    blocks(task, "artifact")
        .map(|a| {
            let b = a.body();
            assert_eq!(literal(attr(b, "mode")), Value::from("file"));
            let dest = literal(attr(b, "destination"));
            (
                reference(attr(b, "source")),
                dest.as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// One template, rendered into the task's environment from the job's own
/// Nomad Variable, into secrets/.
fn secrets_from_nomad_variable(task: &Body, job: &str) {
    let t = block(task, "template").body();
    assert_eq!(literal(attr(t, "env")), Value::from(true));
    let dest = literal(attr(t, "destination"));
    assert!(dest.as_str().unwrap().starts_with("secrets/"), "{dest:?}");
    let data = literal(attr(t, "data"));
    let data = data.as_str().unwrap();
    assert!(
        data.contains(&format!("nomadVar \"nomad/jobs/{job}\"")),
        "{data}"
    );
    assert!(data.contains("toJSON"), "values are JSON-quoted: {data}");
}

#[test]
fn the_arguments_carry_node_cloud_run_id_output_dir_and_shard() {
    let window = |argv: &[String], pair: [&str; 2]| {
        argv.windows(2).any(|w| w[0] == pair[0] && w[1] == pair[1])
    };
    for name in ["bench-host", "bench-client"] {
        let job = load(name);
        let set = if name == "bench-host" {
            required()
        } else {
            client_required()
        };
        let argv = job.argv(&set);
        assert_eq!(
            (argv[0].as_str(), argv[2].as_str()),
            ("-c", name),
            "{argv:?}"
        );
        for pair in [
            ["--node", "${node.unique.name}"],
            ["--cloud", "aws"],
            ["--run-id", "20261207T1000Z-fleet"],
            ["--output-dir", "s3://bench-results/fleet/aws"],
        ] {
            assert!(window(&argv, pair), "{name}: no {pair:?} in {argv:?}");
        }
        assert!(!argv.contains(&"--quick".to_owned()));

        let mut set = set.clone();
        set.push(("quick", Value::from(true)));
        set.push(("run_args", Value::from(vec!["--skip", "disk"])));
        let argv = job.argv(&set);
        assert!(
            argv.ends_with(&["--quick".into(), "--skip".into(), "disk".into()]),
            "{argv:?}"
        );
    }
    let script = &load("bench-client").argv(&client_required())[1];
    assert!(
        script.contains(r#"run --shard "$((NOMAD_ALLOC_INDEX + 1))/2" "$@""#),
        "{script}"
    );
    let mut set = client_required();
    set.push(("shards", Value::from(8)));
    let script = &load("bench-client").argv(&set)[1];
    assert!(script.contains("+ 1))/8\""), "{script}");
    let script = &load("bench-host").argv(&required())[1];
    assert!(script.contains(r#""$bin" run "$@" &"#), "{script}");
}

#[test]
fn no_secret_is_in_the_job_files() {
    for name in ["bench-host", "bench-client"] {
        let job = load(name);
        // No secret shape (URL password, E2B key, token=value) anywhere.
        assert_eq!(
            bench_core::redact::redact_str(&job.text),
            job.text,
            "{name}"
        );
        for marker in ["AKIA", "sk_e2b_", "BEGIN PRIVATE KEY", "AccountKey="] {
            assert!(!job.text.contains(marker), "{name} contains {marker:?}");
        }
        // A secret passed as a job variable would be readable in the job
        // spec by anyone who may read the job.
        for var in job.variables().keys() {
            assert!(
                !bench_core::redact::is_secret_name(var),
                "{name}: variable {var}"
            );
        }
        if let Some(env) = blocks(job.task().body(), "env").next() {
            for a in env.body().attributes() {
                assert!(
                    !bench_core::redact::is_secret_name(a.key()),
                    "{name}: env {}",
                    a.key()
                );
            }
        }
    }
}

// ------------------------------------------------ the wrappers, under sh --

/// A task directory holding a stand-in for `bins` (written without the
/// execute bit, as an artifact download leaves it): it records its argv in
/// `argv.<name>` and exits with `$FAKE_RC`.
fn task_dir(bins: &[&str], body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for bin in bins {
        let path = dir.path().join(bin);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$NOMAD_TASK_DIR/argv.{bin}\"\n{body}\nexit \"$FAKE_RC\"\n"
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    dir
}

/// The wrapper as a Nomad client would start it on node `orch-1`.
fn wrapper(argv: &[String], dir: &Path, alloc_index: u32, rc: i32) -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(
        argv.iter()
            .map(|a| a.replace("${node.unique.name}", "orch-1")),
    )
    .env("NOMAD_TASK_DIR", dir)
    .env("NOMAD_ALLOC_INDEX", alloc_index.to_string())
    .env("FAKE_RC", rc.to_string())
    .stdin(Stdio::null());
    cmd
}

fn run(mut cmd: Command) -> (i32, String) {
    let out: Output = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn recorded(dir: &Path, bin: &str) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(dir.join(format!("argv.{bin}"))).ok()?;
    Some(text.lines().map(str::to_owned).collect())
}

fn sha256(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[test]
fn the_host_wrapper_runs_bench_host_and_counts_exit_3_as_done() {
    let job = load("bench-host");
    let dir = task_dir(&["bench-host"], "");
    let argv = job.argv(&required());

    let (code, stderr) = run(wrapper(&argv, dir.path(), 0, 0));
    assert_eq!(code, 0, "{stderr}");
    let got = recorded(dir.path(), "bench-host").expect("bench-host ran");
    assert_eq!(
        got,
        [
            "run",
            "--node",
            "orch-1",
            "--cloud",
            "aws",
            "--run-id",
            "20261207T1000Z-fleet",
            "--output-dir",
            "s3://bench-results/fleet/aws"
        ]
    );

    let (code, stderr) = run(wrapper(&argv, dir.path(), 0, 3));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("bench-host: exit 3: finished"), "{stderr}");
    for rc in [1, 2, 130] {
        let (code, stderr) = run(wrapper(&argv, dir.path(), 0, rc));
        assert_eq!(code, rc, "{stderr}");
        assert!(!stderr.contains("counted as done"), "{stderr}");
    }

    let mut strict = required();
    strict.push(("strict", Value::from(true)));
    let (code, _) = run(wrapper(&job.argv(&strict), dir.path(), 0, 3));
    assert_eq!(code, 3, "strict keeps exit 3");

    // The checksum: a mismatch is refused before the binary runs.
    let good = sha256(&dir.path().join("bench-host"));
    let mut set = required();
    set.push(("artifact_sha256", Value::from(good)));
    std::fs::remove_file(dir.path().join("argv.bench-host")).unwrap();
    let (code, stderr) = run(wrapper(&job.argv(&set), dir.path(), 0, 0));
    assert_eq!(code, 0, "{stderr}");
    assert!(recorded(dir.path(), "bench-host").is_some());
    let mut set = required();
    set.push(("artifact_sha256", Value::from("0".repeat(64))));
    std::fs::remove_file(dir.path().join("argv.bench-host")).unwrap();
    let (code, stderr) = run(wrapper(&job.argv(&set), dir.path(), 0, 0));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("does not have the SHA-256"), "{stderr}");
    assert!(recorded(dir.path(), "bench-host").is_none(), "not run");
}

#[test]
fn the_client_wrapper_numbers_shards_from_one() {
    let job = load("bench-client");
    let dir = task_dir(&["bench-client", "bench-sandbox"], "");
    let mut set = client_required();
    set.push(("shards", Value::from(3)));
    set.push(("run_args", Value::from(vec!["--", "--skip", "pkg"])));
    let argv = job.argv(&set);
    for (index, shard) in [(0, "1/3"), (2, "3/3")] {
        let (code, stderr) = run(wrapper(&argv, dir.path(), index, 0));
        assert_eq!(code, 0, "{stderr}");
        let got = recorded(dir.path(), "bench-client").unwrap();
        assert_eq!(got[..3], ["run", "--shard", shard]);
        assert!(got.windows(2).any(|w| w == ["--node", "orch-1"]), "{got:?}");
        // bench-sandbox's flags stay last, after `--`.
        assert!(
            got.ends_with(&["--".into(), "--skip".into(), "pkg".into()]),
            "{got:?}"
        );
    }
    let (code, stderr) = run(wrapper(&argv, dir.path(), 0, 3));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("bench-client: exit 3: finished"),
        "{stderr}"
    );

    // The uploaded binary is checked too.
    set.push(("sandbox_artifact_sha256", Value::from("0".repeat(64))));
    std::fs::remove_file(dir.path().join("argv.bench-client")).unwrap();
    let (code, stderr) = run(wrapper(&job.argv(&set), dir.path(), 0, 0));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("bench-sandbox does not have the SHA-256"),
        "{stderr}"
    );
    assert!(recorded(dir.path(), "bench-client").is_none(), "not run");
}

#[test]
fn nomads_stop_signal_reaches_the_binary_and_its_exit_code_comes_back() {
    // Nomad sends SIGINT by default; sh starts a background child with
    // SIGINT ignored, so the wrapper must pass the stop on as SIGTERM.
    for (name, signal) in [("bench-host", "INT"), ("bench-client", "TERM")] {
        let job = load(name);
        let set = if name == "bench-host" {
            required()
        } else {
            client_required()
        };
        let body = "trap 'echo TERM > \"$NOMAD_TASK_DIR/signal\"; exit 42' TERM\n\
                    touch \"$NOMAD_TASK_DIR/started\"\n\
                    while :; do sleep 0.05; done";
        let dir = task_dir(&["bench-host", "bench-client", "bench-sandbox"], body);
        let mut child = wrapper(&job.argv(&set), dir.path(), 0, 0)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The bound only stops a broken test from hanging.
        let give_up = Instant::now() + Duration::from_secs(60);
        while !dir.path().join("started").exists() {
            assert!(
                Instant::now() < give_up,
                "{name}: the stand-in never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(42),
            "{name}: the binary's own exit code"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("signal"))
                .unwrap()
                .trim(),
            "TERM",
            "{name}"
        );
    }
}
