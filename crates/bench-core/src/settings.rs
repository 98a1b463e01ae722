//! Resolves the common flags and `.e2b_env` into validated settings before
//! anything runs, so every configuration mistake is an exit-2 one-liner in
//! the first second, not a lost ten-minute run.

use std::path::PathBuf;

use crate::cli::{CommonArgs, Verbosity};
use crate::env_file::Environment;
use crate::exit::Failure;
use crate::schema::{Fingerprint, ResultDocument, SCHEMA_VERSION, Tier, Tool};
use crate::sink::{self, OutputTarget, Sink};

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
        let fingerprint = crate::fingerprint::collect();
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
            output,
            verbosity: args.verbosity(),
            fingerprint,
        })
    }

    /// Opens the destination and proves it writable; object stores take
    /// their credentials from the process environment over `.e2b_env`.
    pub fn open_sink(&self) -> Result<Box<dyn Sink>, Failure> {
        Ok(sink::open_with_env(&self.output, self.env.iter())?)
    }

    /// An empty document for `suite`, stamped with this run; `started_at`
    /// is when the suite began (RFC 3339), `finished_at` is set on write.
    pub fn document(&self, suite: &str, started_at: String) -> ResultDocument {
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
            parameters: Default::default(),
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
}
