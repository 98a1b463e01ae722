//! The cross-check of template storage against the E2B API's Postgres
//! (`envs`, `env_builds`): builds registered but not in storage, in storage
//! but not registered, and kernel/Firecracker/envd version or status
//! mismatches. The database is read in one read-only transaction; nothing is
//! ever written to it.

use std::collections::BTreeMap;
use std::time::Duration;

use bench_core::exit::Failure;
use serde::Serialize;

use super::scan::Build;

/// Build statuses after which the files are in storage.
const STORED_STATUSES: [&str; 2] = ["success", "uploaded"];
/// How long to wait for the server to answer a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The query: every build with its template, every column cast to text so
/// uuid ids and enum statuses read alike across E2B versions.
const QUERY: &str = "SELECT b.id::text, b.env_id::text, b.status::text, b.kernel_version::text, \
     b.firecracker_version::text, b.envd_version::text \
     FROM env_builds b LEFT JOIN envs e ON e.id = b.env_id ORDER BY b.id";

/// One row of `env_builds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub build_id: String,
    pub template_id: Option<String>,
    pub status: Option<String>,
    pub kernel_version: Option<String>,
    pub firecracker_version: Option<String>,
    pub envd_version: Option<String>,
}

/// One finding (contract: the `audit` array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// `not_in_storage`, `not_registered`, `version_mismatch`, `status_mismatch`.
    pub kind: &'static str,
    pub template_id: Option<String>,
    pub build_id: String,
    /// For a version mismatch: `kernel_version`, `firecracker_version` or `envd_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    pub detail: String,
}

/// Where the database URL came from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Flag => "--database-url",
            Source::Env => "DATABASE_URL",
        }
    }
}

/// What was read from the database, and where from (password-free).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub rows: Vec<Registered>,
    /// `user@host:port/dbname`.
    pub target: String,
}

/// Connects, reads every build in a read-only transaction, disconnects.
/// Every failure is one line naming `source` and what to do.
pub fn read(url: &str, source: Source) -> Result<Snapshot, Failure> {
    // Masked in every log line and message from here on, even if the URL
    // does not parse.
    bench_core::redact::register_env_secrets([("DATABASE_URL", url)]);
    let flag = source.name();
    let mut config: postgres::Config = url.parse().map_err(|e| {
        Failure::usage(format!(
            "{flag}: not a Postgres connection string ({e}); give postgres://HOST:PORT/DBNAME with USER:PASSWORD@ before the host"
        ))
    })?;
    if let Some(password) = config.get_password() {
        bench_core::redact::register_secret(&String::from_utf8_lossy(password));
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let target = describe(&config);
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| Failure::usage(connect_error(flag, &target, &e)))?;
    let rows = query(&mut client).map_err(|e| Failure::runtime(query_error(flag, &target, &e)))?;
    let _ = client.close();
    Ok(Snapshot { rows, target })
}

fn query(client: &mut postgres::Client) -> Result<Vec<Registered>, postgres::Error> {
    let mut tx = client.build_transaction().read_only(true).start()?;
    let rows = tx.query(QUERY, &[])?;
    // Nothing to keep: end the read-only transaction without committing.
    tx.rollback()?;
    Ok(rows
        .iter()
        .map(|r| Registered {
            build_id: r.get::<_, Option<String>>(0).unwrap_or_default(),
            template_id: r.get(1),
            status: r.get(2),
            kernel_version: r.get(3),
            firecracker_version: r.get(4),
            envd_version: r.get(5),
        })
        .collect())
}

/// `user@host:port/dbname`, never the password.
fn describe(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(h)) => h.clone(),
        Some(postgres::config::Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("?");
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{db}")
}

/// One line for a failed connection: what happened and what to do.
fn connect_error(flag: &str, target: &str, e: &postgres::Error) -> String {
    use postgres::error::SqlState;
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        let hint = if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            "check the user and password"
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            "check the database name (E2B's is usually postgres)"
        } else {
            "check the URL"
        };
        return format!("{flag}: {target}: {}; {hint}", db.message());
    }
    let text = one_line(e);
    let hint = if text.contains("TLS") || text.contains("tls") {
        "this build connects without TLS: use sslmode=disable (or prefer) on a loopback or private network"
    } else if text.contains("password missing") {
        "put the password in the URL"
    } else {
        "check the host and port, and that Postgres is running and reachable from here"
    };
    format!("{flag}: cannot connect to {target}: {text}; {hint}")
}

/// One line for a failed query (tables missing: not E2B's database).
fn query_error(flag: &str, target: &str, e: &postgres::Error) -> String {
    let text = e
        .as_db_error()
        .map(|d| d.message().to_owned())
        .unwrap_or_else(|| one_line(e));
    format!(
        "{flag}: {target}: reading envs/env_builds failed: {text}; point it at the E2B API's database"
    )
}

/// The error and its sources on one line.
fn one_line(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text.replace('\n', " ")
}

/// Compares the storage inventory with the database.
pub fn compare(builds: &[Build], rows: &[Registered]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let stored: BTreeMap<&str, &Build> = builds
        .iter()
        .filter(|b| b.status != "alias")
        .map(|b| (b.build_id.as_str(), b))
        .collect();
    let registered: BTreeMap<&str, &Registered> =
        rows.iter().map(|r| (r.build_id.as_str(), r)).collect();
    for r in rows {
        let status = r.status.as_deref().unwrap_or("");
        let expected_in_storage = STORED_STATUSES.contains(&status);
        let Some(b) = stored.get(r.build_id.as_str()) else {
            if expected_in_storage {
                findings.push(Finding {
                    kind: "not_in_storage",
                    template_id: r.template_id.clone(),
                    build_id: r.build_id.clone(),
                    field: None,
                    detail: format!(
                        "env_builds has it with status {status}, but there is no {}/{} here",
                        super::scan::BUILDS_DIR,
                        r.build_id
                    ),
                });
            }
            continue;
        };
        if !expected_in_storage {
            findings.push(Finding {
                kind: "status_mismatch",
                template_id: r.template_id.clone(),
                build_id: r.build_id.clone(),
                field: None,
                detail: format!(
                    "the build is in storage ({}) but env_builds says {}",
                    b.status,
                    if status.is_empty() { "nothing" } else { status }
                ),
            });
        } else if b.status == "invalid" {
            findings.push(Finding {
                kind: "status_mismatch",
                template_id: r.template_id.clone(),
                build_id: r.build_id.clone(),
                field: None,
                detail: format!(
                    "env_builds says {status} but the build in storage is invalid: {}",
                    b.reason.as_deref().unwrap_or("?")
                ),
            });
        }
        let pairs = [
            ("kernel_version", &b.kernel_version, &r.kernel_version),
            (
                "firecracker_version",
                &b.firecracker_version,
                &r.firecracker_version,
            ),
            ("envd_version", &b.envd_version, &r.envd_version),
        ];
        for (field, in_storage, in_db) in pairs {
            if let (Some(s), Some(d)) = (in_storage, in_db)
                && s != d
            {
                findings.push(Finding {
                    kind: "version_mismatch",
                    template_id: r.template_id.clone().or_else(|| b.template_id.clone()),
                    build_id: r.build_id.clone(),
                    field: Some(field),
                    detail: format!("{field}: storage metadata says {s}, env_builds says {d}"),
                });
            }
        }
    }
    for b in stored.values() {
        if !registered.contains_key(b.build_id.as_str()) {
            findings.push(Finding {
                kind: "not_registered",
                template_id: b.template_id.clone(),
                build_id: b.build_id.clone(),
                field: None,
                detail: format!(
                    "{} is in storage ({}) but not in env_builds",
                    b.path, b.status
                ),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn build(id: &str, status: &'static str, kernel: &str) -> Build {
        Build {
            build_id: id.to_owned(),
            template_id: Some("base".into()),
            path: format!("/s/e2b-template-storage/{id}"),
            status,
            reason: (status == "invalid").then(|| "no rootfs.ext4".to_owned()),
            alias_of: None,
            kernel_version: Some(kernel.to_owned()),
            firecracker_version: Some("fc1".into()),
            envd_version: None,
            metadata_format: Some("v2"),
            metadata_version: Some("2".into()),
            rootfs_bytes: None,
            rootfs_allocated_bytes: None,
            rootfs_file: None,
            files: BTreeMap::new(),
            missing_files: Vec::new(),
            allocated_bytes: 0,
        }
    }

    fn row(id: &str, status: &str, kernel: &str, envd: Option<&str>) -> Registered {
        Registered {
            build_id: id.to_owned(),
            template_id: Some("base".into()),
            status: Some(status.to_owned()),
            kernel_version: Some(kernel.to_owned()),
            firecracker_version: Some("fc1".into()),
            envd_version: envd.map(str::to_owned),
        }
    }

    #[test]
    fn finds_each_kind_once() {
        let builds = vec![
            build("same", "ok", "k1"),
            build("kernel", "ok", "k2"),
            build("failed", "ok", "k1"),
            build("broken", "invalid", "k1"),
            build("stray", "ok", "k1"),
            Build {
                alias_of: Some("same".into()),
                ..build("alias", "alias", "k1")
            },
        ];
        let rows = vec![
            row("same", "success", "k1", Some("0.2.0")),
            row("kernel", "uploaded", "k1", None),
            row("failed", "failed", "k1", None),
            row("broken", "success", "k1", None),
            row("gone", "success", "k1", None),
            row("gone-failed", "failed", "k1", None),
            row("building", "building", "k1", None),
        ];
        let findings = compare(&builds, &rows);
        let found: Vec<(&str, &str, Option<&str>)> = findings
            .iter()
            .map(|f| (f.kind, f.build_id.as_str(), f.field))
            .collect();
        assert_eq!(
            found,
            vec![
                ("version_mismatch", "kernel", Some("kernel_version")),
                ("status_mismatch", "failed", None),
                ("status_mismatch", "broken", None),
                ("not_in_storage", "gone", None),
                ("not_registered", "stray", None),
            ]
        );
    }
}
