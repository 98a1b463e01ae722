//! A sandbox's commands see its files at the absolute paths the files API
//! uses (`/home/user`, `/root`, `/tmp`), through their own mount namespace,
//! over real HTTP against a started emulator. Each namespace test skips,
//! saying why, where this machine allows no namespace; the last test forces
//! the fallback (host processes in the sandbox's directory).

use e2b_sim::envd::base64;
use e2b_sim::{Commands, SimConfig, SimServer};
use reqwest::Client;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

mod support;
use support::{
    KEY, bash, client, connect_stream, connect_unary, create, delete, eventually, get,
    group_members, multipart, output, read_stream, send_json, start,
};

/// An emulator whose commands get a mount namespace, or `None` (after
/// saying why) where this machine allows none.
async fn namespaced(test: &str) -> Option<SimServer> {
    let sim = start(SimConfig::for_tests(KEY)).await;
    if sim.stats().commands.namespaced() {
        return Some(sim);
    }
    let why = e2b_sim::namespace::detect(&sim.root)
        .await
        .err()
        .unwrap_or_default();
    eprintln!(
        "skipping {test}: this machine gives commands no mount namespace ({why}), \
         so they run as host processes and cannot see /home/user of a sandbox"
    );
    sim.shutdown().await;
    None
}

/// `GET /_sim/stats`.
async fn stats(sim: &SimServer) -> Value {
    get(&client(), sim, "/_sim/stats")
        .await
        .json()
        .await
        .unwrap()
}

/// One sandbox of an emulator, spoken to through its envd.
struct Sbx<'a> {
    sim: &'a SimServer,
    c: Client,
    id: String,
}

/// The outcome of one `process.Process/Start` stream.
#[derive(Debug)]
struct Ran {
    stdout: String,
    stderr: String,
    pty: String,
    end: Value,
}

impl Ran {
    fn ok(self) -> String {
        assert_eq!(
            self.end.get("exitCode"),
            None,
            "end {}, stdout {:?}, stderr {:?}",
            self.end,
            self.stdout,
            self.stderr
        );
        self.stdout
    }
}

fn ran(events: &[Value]) -> Ran {
    let end = events.iter().rev().find_map(|e| e["event"].get("end"));
    Ran {
        stdout: output(events, "stdout"),
        stderr: output(events, "stderr"),
        pty: output(events, "pty"),
        end: end.cloned().unwrap_or(Value::Null),
    }
}

impl<'a> Sbx<'a> {
    async fn create(sim: &'a SimServer) -> Sbx<'a> {
        let c = client();
        let (status, v) = create(&c, sim, json!({"templateID": "base"})).await;
        assert_eq!(status, 201);
        let id = v["sandboxID"].as_str().unwrap().to_owned();
        Sbx { sim, c, id }
    }

    fn envd(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.c
            .request(method, format!("{}{path}", self.sim.sandbox_url))
            .header("host", format!("49983-{}.{}", self.id, self.sim.domain))
    }

    /// `POST /files` as envd takes it (multipart), as `user`.
    async fn write(&self, path: &str, content: &[u8]) {
        let (ct, body) = multipart("f", content);
        let r = self
            .envd(
                reqwest::Method::POST,
                &format!("/files?path={path}&username=user"),
            )
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    /// `GET /files`: the status and the body.
    async fn read(&self, path: &str) -> (u16, Vec<u8>) {
        let r = self
            .envd(
                reqwest::Method::GET,
                &format!("/files?path={path}&username=user"),
            )
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }

    /// `process.Process/Start` with a whole `StartRequest`.
    fn start_request(&self, user: &str, request: &Value) -> reqwest::RequestBuilder {
        connect_stream(
            self.envd(reqwest::Method::POST, "/process.Process/Start"),
            user,
            request,
        )
    }

    /// Starts `process` as `user` and reads its stream to the end.
    async fn run(&self, user: &str, process: Value) -> (Vec<Value>, Value) {
        let request = json!({ "process": process });
        read_stream(self.start_request(user, &request).send().await.unwrap()).await
    }

    /// Starts a whole `StartRequest` as user `user` and reads its stream in a task.
    async fn run_in_background(&self, request: &Value) -> JoinHandle<(Vec<Value>, Value)> {
        tokio::spawn(read_stream(
            self.start_request("user", request).send().await.unwrap(),
        ))
    }

    /// Sends `input` (stdin or pty) to the one running process, then reads
    /// `stream` to its end.
    async fn send_input(&self, stream: JoinHandle<(Vec<Value>, Value)>, input: Value) -> Ran {
        let pid = self.wait_for_processes(1).await[0];
        let (status, _) = self
            .unary(
                "process.Process/SendInput",
                json!({"process": {"pid": pid}, "input": input}),
            )
            .await;
        assert_eq!(status, 200);
        let (events, _) = stream.await.unwrap();
        ran(&events)
    }

    /// `bash -l -c cmd` as the SDK sends it, as `user`, to its end.
    async fn sh(&self, cmd: &str) -> Ran {
        self.sh_as("user", cmd, None).await
    }

    async fn sh_as(&self, user: &str, cmd: &str, cwd: Option<&str>) -> Ran {
        let mut process = bash(cmd);
        if let Some(cwd) = cwd {
            process["cwd"] = json!(cwd);
        }
        let (events, end) = self.run(user, process).await;
        assert_eq!(end, json!({}), "{events:?}");
        ran(&events)
    }

    async fn unary(&self, method: &str, body: Value) -> (u16, Value) {
        let rpc = self.envd(reqwest::Method::POST, &format!("/{method}"));
        send_json(connect_unary(rpc, "user", &body)).await
    }

    /// The pids `process.Process/List` reports, once there are `n`.
    async fn wait_for_processes(&self, n: usize) -> Vec<u64> {
        eventually(&format!("{n} processes"), || async {
            let (status, v) = self.unary("process.Process/List", json!({})).await;
            assert_eq!(status, 200);
            let list = v["processes"].as_array().cloned().unwrap_or_default();
            (list.len() == n).then(|| list.iter().map(|p| p["pid"].as_u64().unwrap()).collect())
        })
        .await
    }

    async fn kill(&self) {
        let r = delete(&self.c, self.sim, &format!("/sandboxes/{}", self.id)).await;
        assert_eq!(r.status(), 204);
    }
}

#[tokio::test]
async fn files_written_at_absolute_paths_are_seen_by_commands() {
    let Some(sim) = namespaced("files_written_at_absolute_paths_are_seen_by_commands").await else {
        return;
    };
    let sbx = Sbx::create(&sim).await;
    sbx.write("/home/user/hello.txt", b"hello from files\n")
        .await;
    assert_eq!(
        sbx.sh("cat /home/user/hello.txt").await.ok(),
        "hello from files\n"
    );
    // Relative to the home means the same file.
    assert_eq!(sbx.sh("cat hello.txt").await.ok(), "hello from files\n");
    sbx.write("/tmp/x", b"in the sandbox's tmp").await;
    assert_eq!(sbx.sh("cat /tmp/x").await.ok(), "in the sandbox's tmp");
    let workdir = sim.registry.get(&sbx.id).unwrap().workdir.clone();
    assert_eq!(
        std::fs::read(workdir.join("tmp/x")).unwrap(),
        b"in the sandbox's tmp"
    );
    // And the other way: what a command writes, the files API reads.
    sbx.sh("echo made by a command > /tmp/made && echo as root too > /root/r")
        .await
        .ok();
    assert_eq!(
        sbx.read("/tmp/made").await,
        (200, b"made by a command\n".to_vec())
    );
    assert_eq!(sbx.read("/root/r").await, (200, b"as root too\n".to_vec()));
    sim.shutdown().await;
}

#[tokio::test]
async fn an_uploaded_script_runs_by_absolute_path() {
    let Some(sim) = namespaced("an_uploaded_script_runs_by_absolute_path").await else {
        return;
    };
    let sbx = Sbx::create(&sim).await;
    sbx.write(
        "/home/user/run.sh",
        b"#!/bin/sh\necho \"run.sh ran in $(pwd) as $0 with $1\"\n",
    )
    .await;
    let out = sbx
        .sh("chmod +x /home/user/run.sh && /home/user/run.sh arg1")
        .await
        .ok();
    assert_eq!(
        out,
        "run.sh ran in /home/user as /home/user/run.sh with arg1\n"
    );
    // Started directly (no shell) by its absolute path, in another cwd.
    let (events, _) = sbx
        .run(
            "user",
            json!({"cmd": "/home/user/run.sh", "args": ["direct"], "cwd": "/tmp"}),
        )
        .await;
    assert_eq!(
        ran(&events).ok(),
        "run.sh ran in /tmp as /home/user/run.sh with direct\n"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn commands_start_in_the_virtual_home() {
    let Some(sim) = namespaced("commands_start_in_the_virtual_home").await else {
        return;
    };
    let sbx = Sbx::create(&sim).await;
    assert_eq!(sbx.sh("pwd").await.ok(), "/home/user\n");
    assert_eq!(sbx.sh("pwd -P").await.ok(), "/home/user\n");
    assert_eq!(sbx.sh("echo $HOME").await.ok(), "/home/user\n");
    assert_eq!(sbx.sh("echo $PWD").await.ok(), "/home/user\n");
    assert_eq!(sbx.sh("cd ~ && pwd").await.ok(), "/home/user\n");
    let root = sbx.sh_as("root", "pwd; echo $HOME", None).await.ok();
    assert_eq!(root, "/root\n/root\n");
    let tmp = sbx.sh_as("user", "pwd", Some("/tmp")).await.ok();
    assert_eq!(tmp, "/tmp\n");
    // Outside the mounted trees a command sees the host's directories.
    let slash = sbx.sh_as("user", "pwd; test -d usr", Some("/")).await.ok();
    assert_eq!(slash, "/\n");
    // A cwd missing from the sandbox is refused before anything runs.
    let (events, end) = sbx
        .run(
            "user",
            json!({"cmd": "/bin/true", "cwd": "/home/user/nope"}),
        )
        .await;
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(end["error"]["code"], "invalid_argument", "{end}");
    // The mode is reported.
    let stats = stats(&sim).await;
    assert!(
        ["mount-namespace", "user-namespace"].contains(&stats["commands"].as_str().unwrap()),
        "{stats}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn each_sandbox_has_its_own_tmp() {
    let Some(sim) = namespaced("each_sandbox_has_its_own_tmp").await else {
        return;
    };
    let (a, b) = (Sbx::create(&sim).await, Sbx::create(&sim).await);
    let name = format!("/tmp/only-in-{}", a.id);
    a.sh(&format!("echo a > {name}")).await.ok();
    assert_eq!(a.sh(&format!("cat {name}")).await.ok(), "a\n");
    let in_b = b.sh(&format!("cat {name}")).await;
    assert_eq!(in_b.end["exitCode"], 1, "{in_b:?}");
    assert!(
        !std::path::Path::new(&name).exists(),
        "{name} leaked to the host"
    );
    // Removed through the filesystem API, the tree comes back empty.
    let (status, _) = a
        .unary("filesystem.Filesystem/Remove", json!({"path": "/tmp"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(a.sh("ls -A /tmp | wc -l").await.ok().trim(), "0");
    sim.shutdown().await;
}

#[tokio::test]
async fn stdin_pty_and_kill_work_in_the_namespace() {
    let Some(sim) = namespaced("stdin_pty_and_kill_work_in_the_namespace").await else {
        return;
    };
    let sbx = Sbx::create(&sim).await;
    // SendInput reaches stdin.
    let stream = sbx
        .run_in_background(&json!({ "process": bash("head -n1 > /tmp/typed; cat /tmp/typed") }))
        .await;
    let typed = sbx
        .send_input(stream, json!({"stdin": base64::encode(b"typed\n")}))
        .await;
    assert_eq!(typed.ok(), "typed\n");
    sbx.wait_for_processes(0).await;

    // So does pty input, and the output comes back as pty data.
    let stream = sbx
        .run_in_background(&json!({
            "process": bash("read line; echo \"got $line in $PWD\""),
            "pty": {"size": {"cols": 80, "rows": 24}},
        }))
        .await;
    let pty = sbx
        .send_input(stream, json!({"pty": base64::encode(b"keys\n")}))
        .await;
    assert_eq!(pty.pty, "got keys in /home/user\n", "{pty:?}");
    sbx.wait_for_processes(0).await;

    // The sandbox's kill reaches the whole process group.
    let stream = sbx
        .run_in_background(&json!({ "process": bash("sleep 30 & sleep 30; wait") }))
        .await;
    let pgid = sbx.wait_for_processes(1).await[0];
    // bash forks its background sleep shortly after it starts.
    eventually("bash and both sleeps run", || async {
        (group_members(pgid) >= 3).then_some(())
    })
    .await;
    sbx.kill().await;
    let (events, _) = stream.await.unwrap();
    assert_eq!(ran(&events).end["status"], "signal: killed");
    eventually("the whole process group to be gone", || async {
        (group_members(pgid) == 0).then_some(())
    })
    .await;
    sim.shutdown().await;
}

#[tokio::test]
async fn without_the_namespace_commands_run_in_the_sandbox_directory() {
    let sim = start(SimConfig {
        mount_namespace: false,
        ..SimConfig::for_tests(KEY)
    })
    .await;
    assert_eq!(sim.stats().commands, Commands::Host);
    let sbx = Sbx::create(&sim).await;
    let workdir = sim
        .registry
        .get(&sbx.id)
        .unwrap()
        .workdir
        .canonicalize()
        .unwrap();
    let home = workdir.join("home/user");
    // Paths relative to the home are shared, as before.
    sbx.write("notes/hello.txt", b"relative\n").await;
    assert_eq!(sbx.sh("cat notes/hello.txt").await.ok(), "relative\n");
    sbx.write("/home/user/abs.txt", b"absolute\n").await;
    assert_eq!(sbx.sh("cat abs.txt").await.ok(), "absolute\n");
    // Commands are host processes in the sandbox's directory.
    let where_ = format!("{}\n", home.display());
    assert_eq!(sbx.sh("pwd").await.ok(), where_);
    assert_eq!(sbx.sh("echo $HOME").await.ok(), where_);
    let stats = stats(&sim).await;
    assert_eq!(stats["commands"], "host", "{stats}");
    sim.shutdown().await;
}
