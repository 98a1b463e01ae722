//! Template storage inventory (`bench-host templates`): what every build
//! directory of `e2b-template-storage/` holds and says (metadata in either
//! format, files, apparent and allocated sizes), whether it is usable
//! (`ok`), a symlink to another build (`alias`) or `invalid` and why; the
//! cache directories; with `--read`, the cold and warm sequential read
//! bandwidth of every valid rootfs; with a database, an audit against the
//! E2B API's `envs` and `env_builds`.
//!
//! Read-only throughout: files are only opened for reading (`O_NOATIME`
//! where allowed), the database is read in a read-only transaction. The
//! document (`06_templates.json`, suite `templates`) carries `templates`,
//! `caches` and (with a database) `audit` arrays beside its samples.

pub mod audit;
pub mod metadata;
pub mod read;
pub mod scan;
mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bench_core::contract::{file, metric, suite};
use bench_core::exit::{Failure, Status};
use bench_core::interrupt::Interrupt;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::progress::Progress;
use bench_core::schema::{ErrorKind, ResultDocument, Sample};
use bench_core::settings::Settings;
use bench_core::sink::OutputTarget;
use bench_core::suite::{Suite, Writes};
use serde_json::{Value, json};

use audit::{Finding, Snapshot, Source};
use scan::{BUILDS_DIR, Build, Cache, ROOTFS};

const NAME: &str = "templates";
use bench_core::settings::DEFAULT_STORAGE_DIR;

/// How the result is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The result document (06_templates.json, or stdout with --output -)
    #[default]
    Json,
    /// A readable table on stdout; the document is still written to the output directory
    Table,
}

/// Flags of `bench-host templates`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TemplatesArgs {
    /// Template storage root, the directory holding e2b-template-storage/
    /// [default: $E2B_STORAGE_DIR, else /mnt/sdb/e2b-storage]
    #[arg(long, value_name = "DIR")]
    pub storage_dir: Option<PathBuf>,
    /// The E2B API's Postgres (postgres://USER:PASSWORD@HOST:PORT/DB), to
    /// audit storage against envs/env_builds; read-only [default: $DATABASE_URL]
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Also time a sequential read of every valid rootfs.ext4, cold (page
    /// cache dropped for that file) and warm
    #[arg(long)]
    pub read: bool,
    /// json: the result document; table: a readable table on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
}

/// What the probe found besides samples: the document's extra arrays.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub templates: Vec<Build>,
    pub caches: Vec<Cache>,
    /// Only with a database.
    pub audit: Option<Vec<Finding>>,
}

/// The validated probe.
#[derive(Debug)]
pub struct TemplatesProbe {
    root: PathBuf,
    root_source: &'static str,
    read: bool,
    database: Option<Snapshot>,
    /// Why it cannot run here (no storage directory, in `run`).
    unavailable: Option<String>,
    inventory: Arc<Mutex<Inventory>>,
}

/// What a missing or wrong storage directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingStorage {
    /// A usage error (exit 2): `bench-host templates`, where the user asked for it.
    Fail,
    /// An `unavailable` entry in the document (exit 3): for `bench-host run`,
    /// on a machine that may simply not be an orchestrator node.
    Unavailable,
}

impl TemplatesArgs {
    /// Validates the flags (storage root present, database reachable and
    /// read) and builds the probe; `missing` says what a missing storage
    /// directory is. Database errors are usage errors either way.
    pub fn probe_with(
        &self,
        settings: &Settings,
        missing: MissingStorage,
    ) -> Result<TemplatesProbe, Failure> {
        let (root, root_source) = match storage_root(self.storage_dir.as_deref(), settings) {
            Ok(found) => found,
            Err(f) if missing == MissingStorage::Unavailable => {
                return Ok(TemplatesProbe {
                    root: PathBuf::new(),
                    root_source: "",
                    read: self.read,
                    database: None,
                    unavailable: Some(f.message),
                    inventory: Arc::default(),
                });
            }
            Err(f) => return Err(f),
        };
        let database = match database_url(self.database_url.as_deref(), settings) {
            Some((url, source)) => Some(audit::read(&url, source)?),
            None => None,
        };
        Ok(TemplatesProbe {
            root,
            root_source,
            read: self.read,
            database,
            unavailable: None,
            inventory: Arc::default(),
        })
    }
}

/// As one probe of a suite (`bench-host run`): a missing storage directory
/// is an `unavailable` entry. The probe's samples and facts reach that
/// suite's document; the `templates`/`caches`/`audit` arrays are written by
/// [`run_with`] only, so `06_templates.json` should come from there.
impl ProbeArgs for TemplatesArgs {
    fn build(&self, _quick: bool, settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        Ok(Box::new(
            self.probe_with(settings, MissingStorage::Unavailable)?,
        ))
    }
}

/// The storage root and which setting named it; a missing one is a usage
/// error naming that setting. Pointing at `e2b-template-storage` itself is
/// taken as its parent.
pub fn storage_root(
    flag: Option<&Path>,
    settings: &Settings,
) -> Result<(PathBuf, &'static str), Failure> {
    let env = settings
        .env
        .get("E2B_STORAGE_DIR")
        .filter(|v| !v.trim().is_empty());
    let (dir, source): (PathBuf, &'static str) = match (flag, env) {
        (Some(p), _) => (p.to_path_buf(), "--storage-dir"),
        (None, Some(v)) => (PathBuf::from(v), "E2B_STORAGE_DIR"),
        (None, None) => (
            PathBuf::from(DEFAULT_STORAGE_DIR),
            "the default storage directory",
        ),
    };
    let shown = dir.display();
    let what_to_do = "point --storage-dir (or E2B_STORAGE_DIR) at the node's template storage root, the directory holding e2b-template-storage/";
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Failure::usage(format!(
                "{source} {shown}: not a directory; {what_to_do}"
            )));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::usage(format!(
                "{source} {shown}: no such directory; {what_to_do}"
            )));
        }
        Err(e) => {
            return Err(Failure::usage(format!(
                "{source} {shown}: {e}; {what_to_do}"
            )));
        }
    }
    if dir.file_name().is_some_and(|n| n == BUILDS_DIR)
        && !dir.join(BUILDS_DIR).is_dir()
        && let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
    {
        let parent = std::path::absolute(parent).unwrap_or(parent.to_path_buf());
        return Ok((parent, source));
    }
    if !dir.join(BUILDS_DIR).is_dir() {
        return Err(Failure::usage(format!(
            "{source} {shown}: has no {BUILDS_DIR}/ directory; {what_to_do}"
        )));
    }
    // Absolute, so the document's paths mean something off this shell.
    Ok((std::path::absolute(&dir).unwrap_or(dir), source))
}

/// `--database-url`, else `DATABASE_URL`; empty means unset.
fn database_url(flag: Option<&str>, settings: &Settings) -> Option<(String, Source)> {
    if let Some(url) = flag.filter(|u| !u.trim().is_empty()) {
        return Some((url.trim().to_owned(), Source::Flag));
    }
    settings
        .env
        .get("DATABASE_URL")
        .filter(|u| !u.trim().is_empty())
        .map(|u| (u.trim().to_owned(), Source::Env))
}

impl Probe for TemplatesProbe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parameters(&self) -> Value {
        if self.unavailable.is_some() {
            return json!({"read": self.read});
        }
        json!({
            "storage_dir": self.root.display().to_string(),
            "storage_dir_from": self.root_source,
            "read": self.read,
            "database": self.database.as_ref().map(|d| d.target.clone()),
        })
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        if let Some(reason) = &self.unavailable {
            return Err(ProbeError::Unavailable(reason.clone()));
        }
        let mut out = ProbeOutput::default();
        let builds_dir = self.root.join(BUILDS_DIR);
        ctx.step(NAME, &format!("scanning {}", builds_dir.display()));
        let mut builds = scan::builds(&self.root).map_err(|e| {
            ProbeError::Unavailable(format!("{}: cannot list: {e}", builds_dir.display()))
        })?;
        let caches = scan::caches(&self.root);
        for status in ["ok", "alias", "invalid"] {
            let n = builds.iter().filter(|b| b.status == status).count();
            out.samples.push(
                Sample::new(metric::TEMPLATES_COUNT, "count", n as f64).label("status", status),
            );
        }
        out.fact("builds", builds.len());
        if self.read {
            out.fact(
                "read_method",
                "sequential 4 MiB read() calls over the whole rootfs.ext4; cold: posix_fadvise(POSIX_FADV_DONTNEED) \
                 on the file first, warm: read again straight after; raw = bytes/s of each 64 MiB segment",
            );
            self.read_all(&mut builds, ctx, &mut out);
        }
        let audit = self.database.as_ref().map(|db| {
            out.fact("database_builds", db.rows.len());
            audit::compare(&builds, &db.rows)
        });
        if let Some(findings) = &audit {
            let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
            for f in findings {
                *kinds.entry(f.kind).or_default() += 1;
            }
            out.fact("audit_findings", json!(kinds));
        }
        let mut inv = self.inventory.lock().unwrap_or_else(|e| e.into_inner());
        *inv = Inventory {
            templates: builds,
            caches,
            audit,
        };
        Ok(out)
    }
}

impl TemplatesProbe {
    /// The arrays the last run found (for the document writer).
    pub fn inventory(&self) -> Arc<Mutex<Inventory>> {
        Arc::clone(&self.inventory)
    }

    /// Cold and warm reads of every `ok` build's rootfs.ext4.
    fn read_all(&self, builds: &mut [Build], ctx: &Context, out: &mut ProbeOutput) {
        let mut not_dropped = Vec::new();
        for b in builds
            .iter()
            .filter(|b| b.status == "ok" && b.rootfs_file.as_deref() == Some(ROOTFS))
        {
            let path = Path::new(&b.path).join(ROOTFS);
            let template = b.template_id.clone().unwrap_or_default();
            for (cache, cold) in [("cold", true), ("warm", false)] {
                ctx.step(NAME, &format!("reading {} ({cache})", path.display()));
                match read::pass(&path, cold, ctx) {
                    Ok(pass) => {
                        if !pass.dropped {
                            not_dropped.push(b.build_id.clone());
                        }
                        out.samples.push(
                            Sample::from_series(
                                metric::TEMPLATES_ROOTFS_READ_BANDWIDTH,
                                "bytes/s",
                                pass.segments.clone(),
                            )
                            .with_value(pass.bandwidth())
                            .label("template_id", &template)
                            .label("build_id", &b.build_id)
                            .label("cache", cache),
                        );
                    }
                    Err(ProbeError::Interrupted) => {
                        out.error(
                            NAME,
                            ErrorKind::Interrupted,
                            format!(
                                "interrupted while reading {}; later reads were not done",
                                path.display()
                            ),
                        );
                        return;
                    }
                    Err(e) => {
                        out.error(NAME, e.kind(), format!("{} ({cache}): {e}", b.build_id));
                        break;
                    }
                }
            }
        }
        if !not_dropped.is_empty() {
            out.fact(
                "cold_cache_not_dropped",
                json!({"builds": not_dropped, "why": "posix_fadvise(DONTNEED) was refused; those cold figures may be warm"}),
            );
        }
    }
}

/// The templates document's suite.
pub fn suite() -> Suite {
    Suite {
        file_name: file::TEMPLATES.into(),
        name: suite::TEMPLATES.into(),
        parameters: BTreeMap::new(),
    }
}

/// The document as written: the result document plus `templates`, `caches`
/// and (with a database) `audit`.
pub fn document_json(doc: &ResultDocument, inventory: &Inventory) -> Value {
    let mut value = serde_json::to_value(doc).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("templates".into(), json!(inventory.templates));
        map.insert("caches".into(), json!(inventory.caches));
        if let Some(audit) = &inventory.audit {
            map.insert("audit".into(), json!(audit));
        }
    }
    value
}

/// `bench-host templates`: validates, scans, writes `06_templates.json`
/// (and prints the table with `--format table`).
pub fn run(settings: &Settings, args: &TemplatesArgs) -> Result<Status, Failure> {
    run_with(settings, args, MissingStorage::Fail)
}

/// [`run`], with a choice of what a missing storage directory is (for
/// `bench-host run`: [`MissingStorage::Unavailable`]).
pub fn run_with(
    settings: &Settings,
    args: &TemplatesArgs,
    missing: MissingStorage,
) -> Result<Status, Failure> {
    check_format(settings, args)?;
    let probe = args.probe_with(settings, missing)?;
    run_probe(settings, args, probe)
}

fn check_format(settings: &Settings, args: &TemplatesArgs) -> Result<(), Failure> {
    if args.format == OutputFormat::Table
        && matches!(settings.output, OutputTarget::Stdout | OutputTarget::Paste)
    {
        return Err(Failure::usage(
            "--format table prints the table on stdout, where --output - would put the document; drop one of them",
        ));
    }
    Ok(())
}

/// Runs a probe built (validated, the database read) beforehand by
/// [`TemplatesArgs::probe_with`]: `bench-host run` validates every probe
/// before the first one runs.
pub fn run_probe(
    settings: &Settings,
    args: &TemplatesArgs,
    probe: TemplatesProbe,
) -> Result<Status, Failure> {
    check_format(settings, args)?;
    let table = args.format == OutputFormat::Table;
    let inventory = probe.inventory();
    let suite = suite();
    let sink = settings.open_sink()?;
    let interrupt = Interrupt::from_signals()
        .map_err(|e| Failure::runtime(format!("cannot install the Ctrl-C handler: {e}")))?;
    let ctx = Context::new(interrupt);
    let writes = if sink.replaces() {
        Writes::AfterEveryProbe
    } else {
        Writes::OnceAtTheEnd
    };
    let probes: Vec<Box<dyn Probe>> = vec![Box::new(probe)];
    let mut progress = Progress::new(1, settings.verbosity);
    let (doc, status, write_error) = bench_core::suite::run_probes(
        settings,
        &suite,
        &probes,
        &ctx,
        &mut progress,
        writes,
        |doc| {
            let inv = inventory.lock().unwrap_or_else(|e| e.into_inner());
            sink.write_json(file::TEMPLATES, &document_json(doc, &inv))
        },
    );
    progress.finish();
    if let Some(e) = write_error {
        return Err(Failure::runtime(format!(
            "could not write {}: {e}",
            file::TEMPLATES
        )));
    }
    tracing::info!(
        "{}: {} samples, {} errors, written to {}",
        suite::TEMPLATES,
        doc.samples.len(),
        doc.errors.len(),
        sink.location()
    );
    if table {
        let inv = inventory.lock().unwrap_or_else(|e| e.into_inner());
        let text = bench_core::redact::redact_str(&table::render(&doc, &inv));
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| Failure::runtime(format!("cannot write the table to stdout: {e}")))?;
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use bench_core::cli::CommonArgs;
    use bench_core::schema::{Tier, Tool};

    use super::*;

    fn settings() -> Settings {
        let args = CommonArgs {
            output: Some("-".into()),
            cloud: Some("test".into()),
            ..CommonArgs::default()
        };
        Settings::resolve(&args, Tool::new("bench-host", "0"), Tier::Host).unwrap()
    }

    fn args(dir: &Path) -> TemplatesArgs {
        TemplatesArgs {
            storage_dir: Some(dir.to_path_buf()),
            ..TemplatesArgs::default()
        }
    }

    #[test]
    fn a_missing_storage_dir_is_a_usage_error_or_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = args(&missing)
            .probe_with(&settings(), MissingStorage::Fail)
            .unwrap_err();
        assert_eq!(err.code, Failure::usage("").code);
        assert!(err.message.starts_with("--storage-dir "), "{}", err.message);
        let probe = args(&missing)
            .probe_with(&settings(), MissingStorage::Unavailable)
            .unwrap();
        match probe.run(&Context::uninterruptible()) {
            Err(ProbeError::Unavailable(reason)) => {
                assert!(reason.contains("no such directory"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_document_carries_the_arrays() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(BUILDS_DIR).join("b1")).unwrap();
        let probe = args(dir.path())
            .probe_with(&settings(), MissingStorage::Fail)
            .unwrap();
        let out = probe.run(&Context::uninterruptible()).unwrap();
        assert_eq!(out.facts["builds"], 1);
        let doc = settings().document("templates", "2026-01-01T00:00:00Z".into());
        let inv = probe.inventory();
        let value = document_json(&doc, &inv.lock().unwrap());
        assert_eq!(value["templates"][0]["build_id"], "b1");
        assert_eq!(value["templates"][0]["reason"], "empty directory");
        assert_eq!(value["caches"].as_array().unwrap().len(), 4);
        assert!(value.get("audit").is_none());
        assert_eq!(value["suite"], "templates");
    }
}
