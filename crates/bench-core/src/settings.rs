//! Resolves the common flags and `.e2b_env` into validated settings before
//! anything runs, so every configuration mistake is an exit-2 one-liner in
//! the first second, not a lost ten-minute run.

use std::path::PathBuf;

use crate::cli::{CommonArgs, Verbosity};
use crate::env_file::Environment;
use crate::exit::Failure;
use crate::schema::{Fingerprint, ResultDocument, SCHEMA_VERSION, Tier, Tool};
use crate::shard::{self, Shard};
use crate::sink::{self, OutputTarget, QualifiedSink, Sink};

/// Directory that holds one sub-directory per cloud when `--output-dir` is not given.
pub const DEFAULT_OUTPUT_ROOT: &str = "outputs";

/// Cloud label used when nothing else names one.
pub const LOCAL_CLOUD: &str = "local";

/// Template storage root on a node when `E2B_STORAGE_DIR` is not set (contract).
pub const DEFAULT_STORAGE_DIR: &str = "/mnt/sdb/e2b-storage";

/// Everything a binary needs to run and write results, validated.
#[derive(Debug)]
pub struct Settings {
    /// The binary.
    pub tool: Tool,
    /// Its tier.
    pub tier: Tier,
    /// `.e2b_env` under the process environment.
    pub env: Environment,
    /// Cloud label (also the default output sub-directory).
    pub cloud: String,
    /// Run id written into every document of this run.
    pub run_id: String,
    /// True when `--run-id` was given rather than generated.
    pub run_id_explicit: bool,
    /// This machine's name in the results (`--node`, else the hostname,
    /// sanitized); also `fingerprint.node`.
    pub node: String,
    /// True when `--node` was given: file names then carry it.
    pub node_explicit: bool,
    /// The shard of a run split over several machines (bench-client
    /// `--shard`); set with [`Settings::set_shard`].
    pub shard: Option<Shard>,
    /// Where documents go.
    pub output: OutputTarget,
    /// How much goes to stderr.
    pub verbosity: Verbosity,
    /// This machine.
    pub fingerprint: Fingerprint,
}

impl Settings {
    /// Validates the flags against the environment. Nothing is written yet;
    /// [`Settings::open_sink`] proves the destination is writable.
    pub fn resolve(args: &CommonArgs, tool: Tool, tier: Tier) -> Result<Self, Failure> {
        let env =
            Environment::load(args.env_file.as_deref()).map_err(|e| match &args.env_file {
                Some(_) => Failure::usage(format!("--env-file {e}")),
                None => Failure::from(e),
            })?;
        let mut fingerprint = crate::fingerprint::collect();
        let node = match &args.node {
            Some(name) => {
                shard::check_node(name)
                    .map_err(|why| Failure::usage(format!("--node '{name}': {why}")))?;
                name.clone()
            }
            // A hostname is whatever the machine says; it is made fit, never refused.
            None => shard::sanitize_node(&fingerprint.hostname),
        };
        fingerprint.node = Some(node.clone());
        let cloud = resolve_cloud(
            args.cloud.as_deref(),
            env.get("CLOUD_PROVIDER"),
            &fingerprint.cloud_vendor,
        )?;
        let run_id = match &args.run_id {
            Some(id) if crate::time::is_valid_run_id(id) => id.clone(),
            Some(id) => {
                return Err(Failure::usage(format!(
                    "--run-id '{id}': use 1-64 letters, digits, '.', '_' or '-' (it names a directory)"
                )));
            }
            None => crate::time::run_id(std::time::SystemTime::now()),
        };
        let output = match (&args.output, &args.output_dir) {
            (Some(file), _) => OutputTarget::from_output(file),
            (None, Some(dir)) => OutputTarget::from_output_dir(dir)?,
            // Inside a sandbox the caller (bench-client through envd, or a
            // person at a terminal) reads stdout; there is no outputs/ tree.
            (None, None) if tier == Tier::Sandbox => OutputTarget::Stdout,
            (None, None) => OutputTarget::Dir(PathBuf::from(DEFAULT_OUTPUT_ROOT).join(&cloud)),
        };
        Ok(Settings {
            tool,
            tier,
            env,
            cloud,
            run_id,
            run_id_explicit: args.run_id.is_some(),
            node,
            node_explicit: args.node.is_some(),
            shard: None,
            output,
            verbosity: args.verbosity(),
            fingerprint,
        })
    }

    /// Makes this run shard `shard`; the run id must have been given
    /// (`--run-id`), since shards on different machines must share it for
    /// `bench-report` to merge them.
    pub fn set_shard(&mut self, shard: Shard) -> Result<(), Failure> {
        if !self.run_id_explicit {
            return Err(Failure::usage(format!(
                "--shard {shard} needs --run-id ID: every shard of a run must write the same run id, e.g. --run-id $(date -u +%Y%m%dT%H%M%SZ) on all of them"
            )));
        }
        self.shard = Some(shard);
        Ok(())
    }

    /// True when file names carry the node (and shard): `--node` was given
    /// or this is a shard. Otherwise they are exactly the contract's.
    pub fn qualifies_files(&self) -> bool {
        self.node_explicit || self.shard.is_some()
    }

    /// The name `file_name` is written under in a directory or prefix
    /// (`04_host_performance.node-a.json`; unchanged when
    /// [`qualifies_files`](Self::qualifies_files) is false). For files
    /// written outside the sink, such as a log.
    pub fn file_name(&self, file_name: &str) -> String {
        if self.qualifies_files() {
            shard::qualified_file_name(file_name, &self.node, self.shard)
        } else {
            file_name.to_owned()
        }
    }

    /// Opens the destination and proves it writable; object stores take
    /// their credentials from the process environment over `.e2b_env`.
    /// Writes to a directory or prefix go under [`Settings::file_name`].
    pub fn open_sink(&self) -> Result<Box<dyn Sink>, Failure> {
        let opened = sink::open_with_env(&self.output, self.env.iter())?;
        let shared = matches!(self.output, OutputTarget::Dir(_) | OutputTarget::Object(_));
        Ok(if shared && self.qualifies_files() {
            Box::new(QualifiedSink::new(opened, &self.node, self.shard))
        } else {
            opened
        })
    }

    /// An empty document for `suite`, stamped with this run (and, for a
    /// shard, `parameters.shard = "i/N"`); `started_at` is when the suite
    /// began (RFC 3339), `finished_at` is set on write.
    pub fn document(&self, suite: &str, started_at: String) -> ResultDocument {
        let mut parameters = std::collections::BTreeMap::new();
        if let Some(shard) = self.shard {
            parameters.insert("shard".to_owned(), serde_json::json!(shard.to_string()));
        }
        ResultDocument {
            schema_version: SCHEMA_VERSION,
            tool: self.tool.clone(),
            tier: self.tier,
            suite: suite.to_owned(),
            cloud: self.cloud.clone(),
            run_id: self.run_id.clone(),
            finished_at: started_at.clone(),
            started_at,
            fingerprint: self.fingerprint.clone(),
            parameters,
            samples: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// `--cloud`, else `CLOUD_PROVIDER`, else the DMI vendor, else `local`;
/// lower-cased and checked, since it names a directory.
fn resolve_cloud(flag: Option<&str>, env: Option<&str>, detected: &str) -> Result<String, Failure> {
    let (source, value) = match (flag, env) {
        (Some(v), _) => ("--cloud", v),
        (None, Some(v)) => ("CLOUD_PROVIDER", v),
        (None, None) if detected != "unknown" => return Ok(detected.to_owned()),
        (None, None) => return Ok(LOCAL_CLOUD.to_owned()),
    };
    check_cloud(source, value)
}

/// A cloud label as given by `source` (a flag or variable name), lower-cased
/// and checked, since it names a directory.
pub fn check_cloud(source: &str, value: &str) -> Result<String, Failure> {
    let cloud = value.trim().to_ascii_lowercase();
    let valid = (1..=32).contains(&cloud.len())
        && cloud.starts_with(|c: char| c.is_ascii_alphanumeric())
        && cloud
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(cloud)
    } else {
        Err(Failure::usage(format!(
            "{source} '{value}': use 1-32 letters, digits, '-' or '_' (it names the output directory), e.g. aws"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_precedence_and_validation() {
        assert_eq!(
            resolve_cloud(Some("GCP"), Some("aws"), "azure").unwrap(),
            "gcp"
        );
        assert_eq!(resolve_cloud(None, Some("aws"), "azure").unwrap(), "aws");
        assert_eq!(resolve_cloud(None, None, "azure").unwrap(), "azure");
        assert_eq!(resolve_cloud(None, None, "unknown").unwrap(), "local");
        let err = resolve_cloud(None, Some("aws/east"), "unknown").unwrap_err();
        assert_eq!(err.code, crate::exit::USAGE);
        assert!(
            err.message.starts_with("CLOUD_PROVIDER 'aws/east':"),
            "{}",
            err.message
        );
        assert!(resolve_cloud(Some("../x"), None, "unknown").is_err());
    }

    fn resolve(args: CommonArgs) -> Result<Settings, Failure> {
        let args = CommonArgs {
            cloud: Some("test".into()),
            // No ./.e2b_env of the developer's leaks in.
            env_file: Some("/dev/null".into()),
            ..args
        };
        Settings::resolve(&args, Tool::new("bench-test", "0"), Tier::Host)
    }

    #[test]
    fn node_defaults_to_the_hostname_and_leaves_file_names_alone() {
        let s = resolve(CommonArgs::default()).unwrap();
        assert_eq!(s.node, shard::sanitize_node(&s.fingerprint.hostname));
        assert_eq!(s.fingerprint.node.as_deref(), Some(s.node.as_str()));
        assert!(!s.node_explicit && !s.qualifies_files());
        assert_eq!(
            s.file_name("04_host_performance.json"),
            "04_host_performance.json"
        );
        let doc = s.document("host_performance", "2026-11-22T10:15:00Z".into());
        assert_eq!(doc.fingerprint.node.as_deref(), Some(s.node.as_str()));
        assert!(doc.parameters.is_empty());
    }

    #[test]
    fn a_bad_node_is_a_usage_error_naming_the_flag() {
        for bad in ["a/b", "", ".x", "-x", "a b"] {
            let err = resolve(CommonArgs {
                node: Some(bad.into()),
                ..CommonArgs::default()
            })
            .unwrap_err();
            assert_eq!(err.code, crate::exit::USAGE, "{bad}");
            assert!(
                err.message.starts_with(&format!("--node '{bad}': ")),
                "{}",
                err.message
            );
            assert!(!err.message.contains('\n'));
        }
    }

    #[test]
    fn a_shard_needs_an_explicit_run_id() {
        let mut s = resolve(CommonArgs::default()).unwrap();
        let err = s.set_shard("1/2".parse().unwrap()).unwrap_err();
        assert_eq!(err.code, crate::exit::USAGE);
        assert!(
            err.message.starts_with("--shard 1/2 needs --run-id"),
            "{}",
            err.message
        );
        let mut s = resolve(CommonArgs {
            run_id: Some("r1".into()),
            node: Some("jump-1".into()),
            ..CommonArgs::default()
        })
        .unwrap();
        s.set_shard("1/2".parse().unwrap()).unwrap();
        assert_eq!(
            s.file_name("01_cold_start.json"),
            "01_cold_start.jump-1.shard-1-of-2.json"
        );
        let doc = s.document("cold_start", "2026-11-22T10:15:00Z".into());
        assert_eq!(doc.parameters["shard"], "1/2");
    }

    /// The sink of one node, writing into `dir` as run `run_id`.
    fn node_sink(
        dir: &std::path::Path,
        node: Option<&str>,
        run_id: &str,
    ) -> (Settings, Box<dyn Sink>) {
        let s = resolve(CommonArgs {
            output_dir: Some(dir.display().to_string()),
            node: node.map(str::to_owned),
            run_id: Some(run_id.into()),
            ..CommonArgs::default()
        })
        .unwrap();
        let sink = s.open_sink().unwrap();
        (s, sink)
    }

    #[test]
    fn nodes_writing_one_directory_never_overwrite_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let write = |node: Option<&str>, run_id: &str| {
            let (s, sink) = node_sink(dir.path(), node, run_id);
            let doc = s.document("host_performance", "2026-11-22T10:15:00Z".into());
            sink.write("04_host_performance.json", &doc).unwrap();
            sink.write_json(
                "summary_report.json",
                &serde_json::json!({"run_id": run_id}),
            )
            .unwrap();
        };
        write(Some("node-a"), "r1");
        write(Some("node-b"), "r1");
        write(None, "r1");
        let names = |d: &std::path::Path| {
            let mut v: Vec<String> = std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            names(dir.path()),
            [
                "04_host_performance.json",
                "04_host_performance.node-a.json",
                "04_host_performance.node-b.json",
                "summary_report.json",
                "summary_report.node-a.json",
                "summary_report.node-b.json",
            ]
        );
        let read = |name: &str| -> ResultDocument {
            serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
        };
        assert_eq!(
            read("04_host_performance.node-b.json")
                .fingerprint
                .node
                .as_deref(),
            Some("node-b")
        );
        // A later run of node A keeps A's earlier file under its qualified
        // name in history and leaves node B's alone.
        write(Some("node-a"), "r2");
        assert_eq!(
            names(&dir.path().join("history/r1")),
            [
                "04_host_performance.node-a.json",
                "summary_report.node-a.json"
            ]
        );
        assert_eq!(read("04_host_performance.node-a.json").run_id, "r2");
        assert_eq!(read("04_host_performance.node-b.json").run_id, "r1");
        assert_eq!(read("04_host_performance.json").run_id, "r1");
    }

    #[test]
    fn a_single_file_or_stdout_is_not_renamed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exactly.json");
        let s = resolve(CommonArgs {
            output: Some(path.display().to_string()),
            node: Some("node-a".into()),
            ..CommonArgs::default()
        })
        .unwrap();
        let doc = s.document("host_performance", "2026-11-22T10:15:00Z".into());
        s.open_sink()
            .unwrap()
            .write("04_host_performance.json", &doc)
            .unwrap();
        assert!(path.is_file());
    }
}
