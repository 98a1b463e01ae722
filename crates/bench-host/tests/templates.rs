//! `bench-host templates` end to end, on template trees built here: sparse
//! rootfs images, symlink aliases, corrupt and truncated metadata, missing
//! files, a mismatched build id, both metadata formats and the caches; the
//! audit against a throwaway Postgres cluster (Debian's) with planted
//! mismatches; and every bad input as one line with exit 2.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

use assert_cmd::Command;
use serde_json::{Value, json};
use support::{assert_code, host, read_until};

const MIB: u64 = 1 << 20;

/// bench-host with no inherited storage or database configuration.
fn templates(dir: &Path) -> Command {
    let mut cmd = host(dir);
    cmd.env_remove("DATABASE_URL").arg("templates");
    cmd
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

/// A sparse file of `len` bytes with one real 4 KiB block at the start.
fn sparse(path: &Path, len: u64) {
    write(path, &[0xe2; 4096]);
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

fn flat(build: &str, template: &str, kernel: &str, fc: &str, envd: Option<&str>) -> Vec<u8> {
    let mut v = json!({"kernelVersion": kernel, "firecrackerVersion": fc, "buildID": build, "templateID": template});
    if let Some(envd) = envd {
        v["envdVersion"] = json!(envd);
    }
    serde_json::to_vec(&v).unwrap()
}

fn v2(build: &str, template: Option<&str>, kernel: &str, fc: &str) -> Vec<u8> {
    let mut t = json!({"build_id": build, "kernel_version": kernel, "firecracker_version": fc});
    if let Some(id) = template {
        t["template_id"] = json!(id);
    }
    serde_json::to_vec(&json!({
        "version": 2, "template": t,
        "context": {"user": "user", "workdir": "/home/user", "env_vars": {}},
        "start": {"start_command": "", "ready_command": ""}, "from_image": "e2bdev/base"
    }))
    .unwrap()
}

/// A complete build: metadata, a sparse rootfs, memfile, snapfile, headers.
fn full_build(builds: &Path, id: &str, metadata: &[u8], rootfs_len: u64) {
    let d = builds.join(id);
    write(&d.join("metadata.json"), metadata);
    sparse(&d.join("rootfs.ext4"), rootfs_len);
    write(&d.join("rootfs.ext4.header"), &[1; 64]);
    sparse(&d.join("memfile"), 8 * MIB);
    write(&d.join("memfile.header"), &[2; 32]);
    write(&d.join("snapfile"), &[3; 1000]);
}

/// The classification fixture, at `<dir>/storage` (returned): one entry
/// for every status and reason.
fn classification_tree(dir: &Path) -> PathBuf {
    let root = dir.join("storage");
    let b = root.join("e2b-template-storage");
    fs::create_dir_all(&b).unwrap();
    full_build(
        &b,
        "b-flat",
        &flat(
            "b-flat",
            "base",
            "vmlinux-6.1.102",
            "v1.10.1_1fcdaec",
            Some("0.2.0"),
        ),
        64 * MIB,
    );
    full_build(
        &b,
        "b-v2",
        &v2(
            "b-v2",
            Some("code-interpreter"),
            "vmlinux-6.1.158",
            "v1.12.1_d990331",
        ),
        32 * MIB,
    );
    // A compressed variant beside the plain files.
    write(&b.join("b-v2/memfile.zstd"), &[4; 100]);
    symlink("b-v2", b.join("code-interpreter-v1")).unwrap();
    symlink("b-gone", b.join("dangling")).unwrap();
    fs::create_dir_all(b.join("b-empty")).unwrap();
    sparse(&b.join("b-nometa/rootfs.ext4"), MIB);
    write(
        &b.join("b-corrupt/metadata.json"),
        b"{\"kernelVersion\": \"x\",, }",
    );
    sparse(&b.join("b-corrupt/rootfs.ext4"), MIB);
    write(
        &b.join("b-truncated/metadata.json"),
        b"{\"version\": 2, \"template\": {\"build_id\": \"b-trunc",
    );
    sparse(&b.join("b-truncated/rootfs.ext4"), MIB);
    write(
        &b.join("b-norootfs/metadata.json"),
        &flat("b-norootfs", "base", "vmlinux-6.1.102", "v1.10.1", None),
    );
    sparse(&b.join("b-norootfs/memfile"), MIB);
    full_build(
        &b,
        "b-mismatch",
        &v2("b-other", None, "vmlinux-6.1.102", "v1.10.1"),
        MIB,
    );
    // Only a compressed rootfs: still a rootfs, but not one --read times.
    write(
        &b.join("b-zstd/metadata.json"),
        &flat("b-zstd", "python", "vmlinux-6.1.102", "v1.10.1", None),
    );
    write(&b.join("b-zstd/rootfs.ext4.zstd"), &[5; 5000]);
    write(&b.join("stray-file"), b"not a build");
    // A metadata.json that cannot be read (a directory: unreadable even as root).
    fs::create_dir_all(b.join("b-unreadable/metadata.json")).unwrap();
    write(
        &b.join("b-zero/metadata.json"),
        &flat("b-zero", "base", "vmlinux-6.1.102", "v1.10.1", None),
    );
    write(&b.join("b-zero/rootfs.ext4"), b"");
    sparse(&b.join("b-unreadable/rootfs.ext4"), MIB);

    write(&root.join("e2b-template-cache/a/rootfs.ext4"), &[0; 10_000]);
    write(&root.join("e2b-template-cache/b"), &[0; 24]);
    fs::create_dir_all(root.join("e2b-chunk-cache")).unwrap();
    sparse(&root.join("e2b-build-cache/x"), 4 * MIB);
    root
}

/// Everything about a tree that a write would change: each entry's type,
/// size, mode, mtime and ctime.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (u32, u64, i64, i64, i64, i64)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let m = fs::symlink_metadata(&path).unwrap();
            out.insert(
                path.clone(),
                (
                    m.mode(),
                    m.len(),
                    m.mtime(),
                    m.mtime_nsec(),
                    m.ctime(),
                    m.ctime_nsec(),
                ),
            );
            if m.is_dir() {
                stack.push(path);
            }
        }
    }
    out
}

/// The written document as JSON, checked against the committed schema.
fn document(out: &Output) -> Value {
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let errors = support::schema_errors(&out.stdout);
    assert!(errors.is_empty(), "{errors:#?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs `cmd` (exit 0) and checks that it changed nothing under `root`:
/// its document.
fn run_read_only(cmd: &mut Command, root: &Path) -> Value {
    let before = snapshot(root);
    let out = cmd.output().unwrap();
    let doc = document(&out);
    assert_code(&out, 0);
    assert_eq!(snapshot(root), before, "the storage tree changed");
    doc
}

fn entry<'a>(doc: &'a Value, build: &str) -> &'a Value {
    doc["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["build_id"] == build)
        .unwrap_or_else(|| panic!("{build} missing from {:#}", doc["templates"]))
}

#[test]
fn classifies_every_fixture_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = classification_tree(tmp.path());
    let doc = run_read_only(
        templates(tmp.path()).args(["--storage-dir", root.to_str().unwrap(), "--output", "-"]),
        &root,
    );
    assert_eq!(doc["suite"], "templates");
    assert_eq!(doc["tier"], "host");
    assert!(doc.get("audit").is_none(), "no database, no audit");

    let ok = entry(&doc, "b-flat");
    assert_eq!(ok["status"], "ok");
    assert_eq!(ok["reason"], Value::Null);
    assert_eq!(ok["template_id"], "base");
    assert_eq!(ok["metadata_format"], "flat");
    assert_eq!(ok["kernel_version"], "vmlinux-6.1.102");
    assert_eq!(ok["firecracker_version"], "v1.10.1_1fcdaec");
    assert_eq!(ok["envd_version"], "0.2.0");
    assert_eq!(ok["rootfs_bytes"], 64 * MIB);
    let allocated = ok["rootfs_allocated_bytes"].as_u64().unwrap();
    assert!(
        allocated < 64 * MIB,
        "a sparse image allocates less than it shows: {allocated}"
    );
    assert_eq!(
        ok["files"],
        json!({"memfile": 8 * MIB, "memfile.header": 32, "metadata.json": fs::metadata(root.join("e2b-template-storage/b-flat/metadata.json")).unwrap().len(),
               "rootfs.ext4": 64 * MIB, "rootfs.ext4.header": 64, "snapfile": 1000})
    );
    assert_eq!(ok["missing_files"], json!([]));
    assert!(
        ok["path"]
            .as_str()
            .unwrap()
            .ends_with("e2b-template-storage/b-flat")
    );

    let v2 = entry(&doc, "b-v2");
    assert_eq!(
        (&v2["status"], &v2["metadata_format"], &v2["template_id"]),
        (&json!("ok"), &json!("v2"), &json!("code-interpreter"))
    );
    assert_eq!(v2["kernel_version"], "vmlinux-6.1.158");
    assert_eq!(
        v2["envd_version"],
        Value::Null,
        "v2 metadata has no envd version"
    );
    assert_eq!(v2["files"]["memfile.zstd"], 100);

    let alias = entry(&doc, "code-interpreter-v1");
    assert_eq!(alias["status"], "alias");
    assert_eq!(alias["alias_of"], "b-v2");
    assert_eq!(
        alias["kernel_version"], "vmlinux-6.1.158",
        "read through the link"
    );

    let zstd = entry(&doc, "b-zstd");
    assert_eq!(zstd["status"], "ok");
    assert_eq!(zstd["rootfs_bytes"], 5000);
    assert_eq!(
        zstd["missing_files"],
        json!([
            "rootfs.ext4.header",
            "memfile",
            "memfile.header",
            "snapfile"
        ]),
        "rootfs.ext4.zstd stands for rootfs.ext4"
    );

    let invalid = [
        ("dangling", "symlink to b-gone which cannot be opened"),
        ("b-empty", "empty directory"),
        ("b-nometa", "no metadata.json"),
        ("b-corrupt", "metadata.json is not valid JSON"),
        ("b-truncated", "metadata.json is truncated"),
        ("b-norootfs", "no rootfs.ext4"),
        (
            "b-mismatch",
            "build id in metadata.json (b-other) is not the directory name (b-mismatch)",
        ),
        ("stray-file", "not a directory"),
        ("b-unreadable", "metadata.json unreadable"),
        ("b-zero", "rootfs.ext4 is empty"),
    ];
    for (build, reason) in invalid {
        let e = entry(&doc, build);
        assert_eq!(e["status"], "invalid", "{build}: {e:#}");
        let got = e["reason"].as_str().unwrap();
        assert!(got.contains(reason), "{build}: {got:?} lacks {reason:?}");
    }
    assert_eq!(
        entry(&doc, "b-nometa")["reason"],
        "no metadata.json",
        "one reason only"
    );
    assert_eq!(doc["templates"].as_array().unwrap().len(), 14);

    let caches: BTreeMap<&str, &Value> = doc["caches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c))
        .collect();
    assert_eq!(caches.len(), 4);
    let tc = caches["e2b-template-cache"];
    assert_eq!(
        (&tc["bytes"], &tc["files"], &tc["present"]),
        (&json!(10_024), &json!(2), &json!(true))
    );
    let cc = caches["e2b-chunk-cache"];
    assert_eq!(
        (&cc["bytes"], &cc["files"], &cc["present"]),
        (&json!(0), &json!(0), &json!(true))
    );
    assert_eq!(caches["e2b-sandbox-cache"]["present"], false);
    let bc = caches["e2b-build-cache"];
    assert_eq!(bc["bytes"], 4 * MIB);
    assert!(bc["allocated_bytes"].as_u64().unwrap() < 4 * MIB);

    let counts: BTreeMap<String, f64> = doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["metric"] == "templates.count")
        .map(|s| {
            (
                s["labels"]["status"].as_str().unwrap().to_owned(),
                s["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([
            ("alias".into(), 1.0),
            ("invalid".into(), 10.0),
            ("ok".into(), 3.0)
        ])
    );
    assert_eq!(doc["parameters"]["templates"]["builds"], 14);
}

#[test]
fn read_times_every_valid_rootfs_cold_and_warm() {
    let tmp = tempfile::tempdir().unwrap();
    let root = classification_tree(tmp.path());
    let doc = run_read_only(
        templates(tmp.path())
            .env("E2B_STORAGE_DIR", &root)
            .args(["--read", "--output", "-"]),
        &root,
    );
    assert_eq!(
        doc["parameters"]["templates"]["storage_dir_from"],
        "E2B_STORAGE_DIR"
    );
    let reads: BTreeSet<(String, String, String)> = doc["samples"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["metric"] == "templates.rootfs_read_bandwidth_bytes_per_second")
        .map(|s| {
            assert_eq!(s["unit"], "bytes/s");
            assert!(s["value"].as_f64().unwrap() > 0.0, "{s:#}");
            assert!(!s["raw"].as_array().unwrap().is_empty());
            let l = |k: &str| s["labels"][k].as_str().unwrap().to_owned();
            (l("build_id"), l("template_id"), l("cache"))
        })
        .collect();
    let expected: BTreeSet<(String, String, String)> = [
        ("b-flat", "base", "cold"),
        ("b-flat", "base", "warm"),
        ("b-v2", "code-interpreter", "cold"),
        ("b-v2", "code-interpreter", "warm"),
    ]
    .iter()
    .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
    .collect();
    assert_eq!(
        reads, expected,
        "only ok builds with a plain rootfs.ext4 are read"
    );
}

#[test]
fn table_format_prints_a_readable_table_and_writes_the_document() {
    let tmp = tempfile::tempdir().unwrap();
    let root = classification_tree(tmp.path());
    let outputs = tmp.path().join("outputs");
    let table = |output: &[&str]| {
        let mut cmd = templates(tmp.path());
        cmd.arg("--storage-dir")
            .arg(&root)
            .args(["--format", "table"]);
        cmd.args(output).output().unwrap()
    };
    let out = table(&["--cloud", "test", "--output-dir", outputs.to_str().unwrap()]);
    assert_code(&out, 0);
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "Template builds (14)",
        "BUILD",
        "STATUS",
        "alias → b-v2",
        "b-corrupt",
        "metadata.json is not valid JSON",
        "64.00 MiB",
        "Caches",
        "e2b-sandbox-cache",
        "absent",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    let file = fs::read(outputs.join("06_templates.json")).unwrap();
    assert!(support::schema_errors(&file).is_empty());
    let doc: Value = serde_json::from_slice(&file).unwrap();
    assert_eq!(doc["templates"].as_array().unwrap().len(), 14);

    // The table and the document cannot both go to stdout.
    let out = table(&["--output", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format table"));
}

/// Runs `cmd`, expecting exit 2, one error line and nothing on stdout:
/// that line.
fn usage_line(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert_code(&out, 2);
    assert!(out.stdout.is_empty());
    one_line_error(&out)
}

/// The last non-empty stderr line, after checking it is the only error line.
fn one_line_error(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    lines[0].to_owned()
}

#[test]
fn a_missing_or_wrong_storage_dir_is_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let line = usage_line(templates(tmp.path()).arg("--storage-dir").arg(&missing));
    assert!(
        line.contains("--storage-dir") && line.contains("no such directory"),
        "{line}"
    );
    assert!(line.contains(missing.to_str().unwrap()), "{line}");

    assert!(
        usage_line(templates(tmp.path()).env("E2B_STORAGE_DIR", &missing))
            .contains("E2B_STORAGE_DIR")
    );

    // A directory that is not a storage root.
    assert!(
        usage_line(templates(tmp.path()).arg("--storage-dir").arg(tmp.path()))
            .contains("has no e2b-template-storage/")
    );

    // Pointing at e2b-template-storage itself is understood.
    let root = classification_tree(tmp.path());
    let out = templates(tmp.path())
        .arg("--storage-dir")
        .arg(root.join("e2b-template-storage"))
        .args(["--output", "-"])
        .output()
        .unwrap();
    assert_code(&out, 0);
    assert_eq!(document(&out)["templates"].as_array().unwrap().len(), 14);
}

#[test]
fn a_wrong_database_url_is_one_line_without_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let root = classification_tree(tmp.path());
    // A loopback port nobody listens on: bound, then closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let secret = "hunter2-very-secret";
    let refused = format!("postgres://e2b:{secret}@127.0.0.1:{port}/postgres");
    for (url, via_env, expect) in [
        (refused.as_str(), false, "cannot connect to e2b@127.0.0.1"),
        (refused.as_str(), true, "cannot connect to e2b@127.0.0.1"),
        (
            "postgres://e2b:hunter2-very-secret@127.0.0.1:notaport/db",
            false,
            "not a Postgres connection string",
        ),
    ] {
        let mut cmd = templates(tmp.path());
        cmd.arg("--storage-dir").arg(&root);
        if via_env {
            cmd.env("DATABASE_URL", url);
        } else {
            cmd.args(["--database-url", url]);
        }
        let line = usage_line(&mut cmd);
        let name = if via_env {
            "DATABASE_URL"
        } else {
            "--database-url"
        };
        assert!(line.contains(name), "{line}");
        assert!(line.contains(expect), "{line}");
        assert!(!line.contains(secret), "password leaked: {line}");
    }
}

// ---------------------------------------------------------------------------
// The audit against a real Postgres.

/// A throwaway Postgres cluster on a loopback port, in a temp dir; stopped
/// on drop.
struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

const SUPERUSER_PASSWORD: &str = "super-secret-pw";
const AUDITOR_PASSWORD: &str = "auditor-secret-pw";

impl Postgres {
    /// Starts one, or says why it cannot.
    fn start() -> Result<Postgres, String> {
        let bin = fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| "Postgres is not installed (apt-get install postgresql)".to_owned())?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin"))
            .filter(|b| b.join("initdb").exists())
            .max_by_key(|b| {
                b.parent()
                    .and_then(|v| v.file_name())
                    .and_then(|v| v.to_str())
                    .and_then(|v| v.parse::<u32>().ok())
                    .unwrap_or(0)
            })
            .ok_or("no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)")?;
        // initdb refuses to run as root: run the server as the postgres user.
        let as_postgres_user = is_root();
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let pwfile = dir.path().join("pw");
        fs::write(&pwfile, SUPERUSER_PASSWORD).unwrap();
        if as_postgres_user {
            let status = StdCommand::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .map_err(|e| format!("chown: {e}"))?;
            if !status.success() {
                return Err("chown to the postgres user failed (no postgres user?)".into());
            }
        }
        let mut pg = Postgres {
            dir,
            bin,
            port: 0,
            as_postgres_user,
        };
        let data = pg.dir.path().join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--pwfile",
                pwfile.to_str().unwrap(),
                "--no-sync",
            ],
        )?;
        // A free port can be taken between the check and the start: try a few.
        let mut last = String::new();
        for _ in 0..3 {
            pg.port = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
                l.local_addr().unwrap().port()
            };
            let opts = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
                pg.port,
                pg.dir.path().display()
            );
            let log = pg.dir.path().join("log");
            // -w: returns once the server accepts connections.
            match pg.run(
                "pg_ctl",
                &[
                    "-D",
                    data.to_str().unwrap(),
                    "-l",
                    log.to_str().unwrap(),
                    "-w",
                    "-o",
                    &opts,
                    "start",
                ],
            ) {
                Ok(()) => return Ok(pg),
                Err(e) => {
                    last = format!("{e}; log: {}", fs::read_to_string(&log).unwrap_or_default())
                }
            }
        }
        Err(last)
    }

    fn run(&self, tool: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres_user {
            let mut c = StdCommand::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            StdCommand::new(&exe)
        };
        let out = cmd
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .map_err(|e| format!("{tool}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn url(&self, user: &str, password: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    fn superuser(&self) -> postgres::Client {
        postgres::Client::connect(&self.url("postgres", SUPERUSER_PASSWORD), postgres::NoTls)
            .unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }
}

fn is_root() -> bool {
    // The effective uid of this process, from procfs.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// A Postgres, or None (skip) with the reason unless services are required.
fn postgres_or_skip() -> Option<Postgres> {
    match Postgres::start() {
        Ok(pg) => Some(pg),
        Err(reason) if std::env::var("E2B_BENCH_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("Postgres is required here (E2B_BENCH_REQUIRE_SERVICES=1): {reason}")
        }
        Err(reason) => {
            eprintln!("skipped: {reason}");
            None
        }
    }
}

/// `envs` and `env_builds` with the columns of E2B's migrations, and a
/// role that may only read them.
const SCHEMA: &str = "
CREATE TABLE envs (
    id text PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    public boolean NOT NULL DEFAULT false, build_count integer NOT NULL DEFAULT 1, spawn_count bigint NOT NULL DEFAULT 0,
    last_spawned_at timestamptz, team_id uuid NOT NULL DEFAULT gen_random_uuid(), created_by uuid, cluster_id uuid,
    source text NOT NULL DEFAULT 'template', deleted_at timestamptz);
CREATE TABLE env_builds (
    id uuid PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz, status text NOT NULL DEFAULT 'waiting', dockerfile text, start_cmd text, ready_cmd text,
    vcpu bigint NOT NULL DEFAULT 2, ram_mb bigint NOT NULL DEFAULT 512, free_disk_size_mb bigint NOT NULL DEFAULT 512,
    total_disk_size_mb bigint, kernel_version text NOT NULL, firecracker_version text NOT NULL, envd_version text,
    env_id text REFERENCES envs(id), cluster_node_id text, reason jsonb, team_id uuid);
CREATE ROLE auditor LOGIN PASSWORD 'auditor-secret-pw';
GRANT SELECT ON envs, env_builds TO auditor;
";

const K1: &str = "vmlinux-6.1.102";
const K2: &str = "vmlinux-6.1.158";
const F1: &str = "v1.10.1_1fcdaec";
const F2: &str = "v1.12.1_d990331";

/// An `env_builds` row: build number, template, status, kernel, firecracker, envd.
type Row<'a> = (u8, &'a str, &'a str, &'a str, &'a str, Option<&'a str>);

fn uuid(n: u8) -> String {
    format!("0000000{n}-0000-4000-8000-00000000000{n}")
}

#[test]
fn audit_finds_every_planted_mismatch_and_nothing_else() {
    let Some(pg) = postgres_or_skip() else { return };
    let mut db = pg.superuser();
    db.batch_execute(SCHEMA).unwrap();
    for t in ["base", "code-interpreter", "python", "node", "go"] {
        db.execute("INSERT INTO envs (id) VALUES ($1)", &[&t])
            .unwrap();
    }
    // (build, template, status, kernel, firecracker, envd)
    let rows: [Row; 9] = [
        (1, "base", "success", K1, F1, Some("0.2.0")), // agrees
        (2, "code-interpreter", "uploaded", K1, F1, None), // storage kernel K2
        (3, "python", "success", K1, F1, None),        // storage firecracker F2
        (4, "node", "success", K1, F1, Some("0.1.5")), // storage envd 0.2.0
        (5, "go", "failed", K1, F1, None),             // in storage anyway
        (6, "base", "success", K1, F1, None),          // invalid in storage
        (8, "base", "success", K1, F1, None),          // not in storage
        (9, "base", "failed", K1, F1, None),           // failed, absent: fine
        (0, "python", "building", K1, F1, None),       // building, absent: fine
    ];
    for (n, template, status, kernel, fc, envd) in rows {
        db.execute(
            "INSERT INTO env_builds (id, env_id, status, kernel_version, firecracker_version, envd_version) \
             VALUES ($1::text::uuid, $2, $3, $4, $5, $6)",
            &[&uuid(n), &template, &status, &kernel, &fc, &envd],
        )
        .unwrap();
    }

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("storage");
    let b = root.join("e2b-template-storage");
    full_build(
        &b,
        &uuid(1),
        &flat(&uuid(1), "base", K1, F1, Some("0.2.0")),
        MIB,
    );
    full_build(
        &b,
        &uuid(2),
        &v2(&uuid(2), Some("code-interpreter"), K2, F1),
        MIB,
    );
    full_build(&b, &uuid(3), &v2(&uuid(3), None, K1, F2), MIB);
    full_build(
        &b,
        &uuid(4),
        &flat(&uuid(4), "node", K1, F1, Some("0.2.0")),
        MIB,
    );
    full_build(&b, &uuid(5), &v2(&uuid(5), Some("go"), K1, F1), MIB);
    write(
        &b.join(uuid(6)).join("metadata.json"),
        &v2(&uuid(6), None, K1, F1),
    );
    full_build(&b, &uuid(7), &v2(&uuid(7), Some("base"), K1, F1), MIB); // not registered
    symlink(uuid(1), b.join("base-v1")).unwrap(); // an alias is not a build

    let before: i64 = db
        .query_one("SELECT count(*) FROM env_builds", &[])
        .unwrap()
        .get(0);
    let out = templates(tmp.path())
        .arg("--storage-dir")
        .arg(&root)
        .args(["--output", "-"])
        .env("DATABASE_URL", pg.url("auditor", AUDITOR_PASSWORD))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!text.contains(AUDITOR_PASSWORD) && !stderr.contains(AUDITOR_PASSWORD));
    let doc = document(&out);
    let after: i64 = db
        .query_one("SELECT count(*) FROM env_builds", &[])
        .unwrap()
        .get(0);
    assert_eq!(before, after);

    let found: BTreeSet<(String, String, String)> = doc["audit"]
        .as_array()
        .unwrap_or_else(|| panic!("no audit: {doc:#}"))
        .iter()
        .map(|f| {
            assert!(f["detail"].as_str().is_some_and(|d| !d.is_empty()), "{f:#}");
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["build_id"].as_str().unwrap().to_owned(),
                f["field"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let planted: BTreeSet<(String, String, String)> = [
        ("version_mismatch", 2, "kernel_version"),
        ("version_mismatch", 3, "firecracker_version"),
        ("version_mismatch", 4, "envd_version"),
        ("status_mismatch", 5, ""),
        ("status_mismatch", 6, ""),
        ("not_registered", 7, ""),
        ("not_in_storage", 8, ""),
    ]
    .iter()
    .map(|(k, n, f)| ((*k).to_owned(), uuid(*n), (*f).to_owned()))
    .collect();
    assert_eq!(found, planted, "{:#}", doc["audit"]);
    assert_eq!(
        doc["audit"].as_array().unwrap().len(),
        planted.len(),
        "no duplicates"
    );
    let mismatch = doc["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["build_id"] == uuid(2))
        .unwrap();
    assert_eq!(mismatch["template_id"], "code-interpreter");
    assert!(mismatch["detail"].as_str().unwrap().contains(K2));
    assert_eq!(
        doc["parameters"]["templates"]["database"],
        format!("auditor@127.0.0.1:{}/postgres", pg.port)
    );
    assert_eq!(doc["parameters"]["templates"]["database_builds"], 9);

    // The table shows the audit too.
    let out = templates(tmp.path())
        .arg("--storage-dir")
        .arg(&root)
        .args(["--format", "table", "--output-dir"])
        .arg(tmp.path().join("outputs"))
        .args(["--database-url", &pg.url("auditor", AUDITOR_PASSWORD)])
        .output()
        .unwrap();
    assert_code(&out, 0);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("Audit against the database (7 findings)"),
        "{table}"
    );
    assert!(table.contains("not_in_storage"), "{table}");
}

#[test]
fn bad_credentials_and_a_missing_database_are_one_line() {
    let Some(pg) = postgres_or_skip() else { return };
    let mut db = pg.superuser();
    db.batch_execute(SCHEMA).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let root = classification_tree(tmp.path());
    let wrong = "wrong-password-123";
    let no_db = format!(
        "postgres://auditor:{AUDITOR_PASSWORD}@127.0.0.1:{}/nosuchdb",
        pg.port
    );
    for (url, expect, secret) in [
        (
            pg.url("auditor", wrong),
            "check the user and password",
            wrong,
        ),
        (no_db, "check the database name", AUDITOR_PASSWORD),
        (
            format!("{}?sslmode=require", pg.url("auditor", AUDITOR_PASSWORD)),
            "connects without TLS",
            AUDITOR_PASSWORD,
        ),
    ] {
        let line = usage_line(
            templates(tmp.path())
                .arg("--storage-dir")
                .arg(&root)
                .args(["--database-url", &url]),
        );
        assert!(
            line.contains("--database-url") && line.contains(expect),
            "{line}"
        );
        assert!(!line.contains(secret), "password leaked: {line}");
    }
    // A database without E2B's tables.
    db.batch_execute("DROP TABLE env_builds").unwrap();
    let out = templates(tmp.path())
        .arg("--storage-dir")
        .arg(&root)
        .env("DATABASE_URL", pg.url("postgres", SUPERUSER_PASSWORD))
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let line = one_line_error(&out);
    assert!(
        line.contains("DATABASE_URL") && line.contains("env_builds"),
        "{line}"
    );
    assert!(!line.contains(SUPERUSER_PASSWORD));
}

#[test]
fn ctrl_c_during_a_read_writes_what_finished_and_exits_130() {
    use std::io::BufReader;
    use std::process::Stdio;

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("storage");
    let b = root.join("e2b-template-storage");
    // Sparse: 64 GiB of holes take far longer to read than the signal takes to arrive.
    full_build(
        &b,
        "b-big",
        &flat("b-big", "base", "k", "f", None),
        64 << 30,
    );
    let outputs = tmp.path().join("outputs");
    let mut child = StdCommand::new(support::BIN)
        .current_dir(tmp.path())
        .env_remove("DATABASE_URL")
        .env_remove("E2B_STORAGE_DIR")
        .arg("templates")
        .arg("--storage-dir")
        .arg(&root)
        .arg("--read")
        .arg("--output-dir")
        .arg(&outputs)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let seen = read_until(&mut stderr, "(cold)");
    let killed = StdCommand::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{seen}{rest}");
    let doc: Value =
        serde_json::from_slice(&fs::read(outputs.join("06_templates.json")).unwrap()).unwrap();
    assert_eq!(doc["templates"][0]["status"], "ok", "the inventory is kept");
    assert!(
        doc["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "interrupted"),
        "{:#}",
        doc["errors"]
    );
}
