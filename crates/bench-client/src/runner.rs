//! From flags to a finished run: validate everything (exit 2 in the first
//! second), build the context, run the scenario on tokio, and on every way
//! out — success, error, panic, Ctrl-C, SIGTERM — kill what we created.

use std::collections::BTreeMap;
use std::sync::Arc;

use bench_core::exit::{Failure, Status};
use bench_core::settings::Settings;
use bench_core::shard::Shard;
use bench_core::sink::Sink;
use serde_json::{Value, json};

use crate::api::ControlPlane;
use crate::cli::{Cli, Command, ConnArgs};
use crate::ctx::{Cancel, Ctx};
use crate::endpoints::{EndpointFlags, Endpoints};
use crate::http::{self, HttpOptions};
use crate::ledger::{self, Ledger, RUN_METADATA_KEY};
use crate::output::Recorder;
use crate::scenarios;
use crate::summary;

/// What every scenario needs besides the context.
pub struct Run {
    /// Validated common settings.
    pub settings: Settings,
    /// The sink, opened (proved writable) before anything is created.
    pub sink: Arc<dyn Sink>,
    /// Templates to measure.
    pub templates: Vec<String>,
    /// Parameters every document carries.
    pub parameters: BTreeMap<String, Value>,
    /// `--run-id` was given (cleanup filters by it).
    pub explicit_run_id: bool,
    /// What was written through `sink` (`run` summarises it).
    pub recorder: Option<Arc<Recorder>>,
}

/// Templates from `--template`, else `E2B_TEMPLATES`, else `base`.
pub fn templates(conn: &ConnArgs, settings: &Settings) -> Result<Vec<String>, Failure> {
    let list: Vec<String> = if conn.templates.is_empty() {
        settings
            .env
            .get("E2B_TEMPLATES")
            .unwrap_or("base")
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect()
    } else {
        conn.templates.iter().map(|t| t.trim().to_owned()).collect()
    };
    if list.is_empty() || list.iter().any(String::is_empty) {
        return Err(Failure::usage(
            "no template: give --template NAME or E2B_TEMPLATES=base,... in .e2b_env",
        ));
    }
    Ok(list)
}

/// The endpoints of these flags and settings.
pub fn endpoints(conn: &ConnArgs, settings: &Settings) -> Result<Endpoints, Failure> {
    Endpoints::resolve(
        &settings.env,
        &EndpointFlags {
            sandbox_url_pattern: conn.sandbox_url_pattern.clone(),
            connect_to: conn.connect_to.clone(),
        },
    )
}

/// `info`'s parameters: the endpoints as resolved (or why they are not).
pub fn info_parameters(conn: &ConnArgs, settings: &Settings) -> BTreeMap<String, Value> {
    let env = &settings.env;
    let mut p = BTreeMap::from([
        ("e2b_domain".into(), json!(env.get("E2B_DOMAIN"))),
        ("e2b_sandbox_url".into(), json!(env.get("E2B_SANDBOX_URL"))),
        (
            "e2b_templates".into(),
            json!(templates(conn, settings).unwrap_or_default()),
        ),
        (
            "e2b_api_key_present".into(),
            json!(env.get("E2B_API_KEY").is_some()),
        ),
    ]);
    match endpoints(conn, settings) {
        Ok(e) => {
            p.insert("e2b_api_url".into(), json!(e.api_url));
            p.insert("envd_routing".into(), json!(e.routing.describe()));
            p.insert(
                "connect_to".into(),
                json!(e.connect_to.map(|a| a.to_string())),
            );
        }
        Err(f) => {
            p.insert(
                "e2b_api_url".into(),
                json!(
                    env.get("E2B_API_URL")
                        .map(str::to_owned)
                        .or_else(|| env.get("E2B_DOMAIN").map(|d| format!("https://api.{d}")))
                ),
            );
            p.insert("endpoint_problem".into(), json!(f.message));
        }
    }
    p
}

/// Runs the subcommand.
pub fn run(cli: Cli, mut settings: Settings) -> Result<Status, Failure> {
    if let Command::Info = cli.command {
        let parameters = info_parameters(&cli.conn, &settings);
        return bench_core::info::run(&settings, parameters);
    }
    if let Command::Summary = cli.command {
        return summary_of_directory(&settings);
    }
    if let Some(text) = shard_flag(&cli.command) {
        let shard = text
            .parse::<Shard>()
            .map_err(|why| Failure::usage(format!("--shard '{text}': {why}")))?;
        settings.set_shard(shard)?;
    }
    let conn = cli.conn;
    if conn.phase_timeout.is_zero() || conn.sandbox_timeout.as_secs() < 1 {
        return Err(Failure::usage(
            "--phase-timeout must be > 0 and --sandbox-timeout at least 1s",
        ));
    }
    let endpoints = endpoints(&conn, &settings)?;
    let templates = templates(&conn, &settings)?;
    let key = settings.env.get("E2B_API_KEY").map(str::to_owned);
    if let Some(k) = &key {
        bench_core::redact::register_secret(k);
    }
    let ca_cert = conn.ca_cert.clone().or_else(|| {
        settings
            .env
            .get("SSL_CERT_FILE")
            .filter(|p| !p.is_empty())
            .map(Into::into)
    });
    let http_client = http::client(&HttpOptions {
        connect_to: endpoints.connect_to,
        ca_cert,
        fresh_connections: conn.fresh_connections,
    })?;
    if let Command::Lifecycle(_)
    | Command::Concurrency(_)
    | Command::Pause(_)
    | Command::Sandbox(_)
    | Command::Run(_)
    | Command::Watch(_) = cli.command
        && key.is_none()
    {
        return Err(Failure::usage(
            "E2B_API_KEY is not set: add an `export E2B_API_KEY=` line with the team's API key to .e2b_env (or set it in the environment)",
        ));
    }
    check_suite_flags(&cli.command, &settings)?;
    let (sink, recorder): (Arc<dyn Sink>, _) = match cli.command {
        Command::Doctor | Command::Cleanup(_) => {
            (Arc::new(bench_core::sink::StdoutSink::new()), None)
        }
        _ => {
            let recorder = Arc::new(Recorder::new(settings.open_sink()?));
            (recorder.clone(), Some(recorder))
        }
    };
    let mut parameters = BTreeMap::from([
        ("templates".into(), json!(templates)),
        ("api".into(), json!(conn.api)),
        ("api_url".into(), json!(endpoints.api_url)),
        ("envd_routing".into(), json!(endpoints.routing.describe())),
        (
            "connect_to".into(),
            json!(endpoints.connect_to.map(|a| a.to_string())),
        ),
        (
            "connections".into(),
            json!(if conn.fresh_connections {
                "fresh"
            } else {
                "reused"
            }),
        ),
        (
            "phase_timeout_s".into(),
            json!(conn.phase_timeout.as_secs_f64()),
        ),
        (
            "sandbox_timeout_s".into(),
            json!(conn.sandbox_timeout.as_secs_f64()),
        ),
    ]);
    if let Some(shard) = settings.shard {
        // DocWriter documents take these parameters, not Settings::document's.
        parameters.insert("shard".into(), json!(shard.to_string()));
    }
    let api = Arc::new(ControlPlane::new(
        http_client.clone(),
        &endpoints.api_url,
        key,
        conn.api,
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::runtime(format!("cannot start the async runtime: {e}")))?;
    let explicit_run_id = settings.run_id_explicit;
    let run = Arc::new(Run {
        settings,
        sink,
        templates,
        parameters,
        explicit_run_id,
        recorder,
    });
    runtime.block_on(async move {
        let (fire, cancel) = Cancel::new();
        let ctx = Arc::new(Ctx {
            http: http_client,
            api,
            endpoints,
            ledger: Arc::new(Ledger::default()),
            cancel,
            run_id: run.settings.run_id.clone(),
            phase_timeout: conn.phase_timeout,
            sandbox_timeout: conn.sandbox_timeout,
        });
        watch_signals(fire)?;
        let refresher = {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                ledger::refresh_loop(&ctx.ledger, &ctx.api, ctx.sandbox_timeout).await
            })
        };
        let scenario = {
            let (ctx, run) = (ctx.clone(), run.clone());
            tokio::spawn(async move { scenarios::run(cli.command, ctx, run).await })
        };
        let outcome = scenario.await;
        refresher.abort();
        let leftovers = clean_up(&ctx).await;
        let interrupted = ctx.cancel.is_cancelled();
        match outcome {
            Ok(Ok(status)) if interrupted => {
                let _ = status;
                Ok(Status::Interrupted)
            }
            Ok(Ok(status)) if leftovers > 0 && status == Status::Complete => Ok(Status::Partial),
            Ok(result) => result,
            Err(join) => Err(Failure::runtime(format!(
                "internal error ({}); every sandbox of this run was killed",
                panic_text(join)
            ))),
        }
    })
}

/// `summary`: `summary_report.json` from the documents already in the
/// output directory (no cluster is contacted).
fn summary_of_directory(settings: &Settings) -> Result<Status, Failure> {
    use bench_core::sink::OutputTarget;
    let OutputTarget::Dir(dir) = &settings.output else {
        return Err(Failure::usage(
            "summary reads a local results directory: give --output-dir DIR (copy object-store results down first; `run` writes its summary wherever it writes)",
        ));
    };
    let docs = summary::load_named(dir, |f| settings.file_name(f)).map_err(Failure::usage)?;
    if docs.is_empty() {
        return Err(Failure::usage(format!(
            "{}: no bench-client or bench-host results to summarise; run `bench-client run` (or lifecycle, concurrency, sandbox) first, or give --output-dir DIR",
            dir.display()
        )));
    }
    let sink = settings.open_sink()?;
    let at = summary::write(sink.as_ref(), &summary::build(&docs))
        .map_err(|e| Failure::runtime(format!("cannot write {}: {e}", summary::FILE_NAME)))?;
    tracing::info!(
        "summary of {} documents written to {at}",
        docs.inputs().count()
    );
    Ok(Status::Complete)
}

/// Flags of `sandbox` and `run` checked before anything is created: the
/// bench-sandbox binary exists, and `run` (several documents) writes to a
/// directory.
fn check_suite_flags(command: &Command, settings: &Settings) -> Result<(), Failure> {
    use bench_core::sink::OutputTarget;
    let target = match command {
        Command::Sandbox(a) => &a.target,
        Command::Run(a) => {
            if matches!(
                settings.output,
                OutputTarget::Stdout | OutputTarget::Paste | OutputTarget::File(_)
            ) {
                return Err(Failure::usage(
                    "--output is refused for run: it writes several documents; use --output-dir DIR (or an s3://, gs://, az:// URL)",
                ));
            }
            if scenarios::run_all::selected(a).is_empty() {
                return Err(Failure::usage(
                    "--skip/--only leave no suite to run; choose from lifecycle, concurrency, pause, sandbox",
                ));
            }
            if !scenarios::run_all::selected(a).contains(&crate::cli::SuiteName::Sandbox)
                || !scenarios::sandbox::runs_on(settings.shard)
            {
                return Ok(());
            }
            &a.target
        }
        _ => return Ok(()),
    };
    if target.suite_timeout.is_zero() {
        return Err(Failure::usage("--suite-timeout must be > 0"));
    }
    scenarios::sandbox::locate(target.bench_sandbox.as_deref()).map(|_| ())
}

/// The `--shard` value of the subcommands that take one.
fn shard_flag(command: &Command) -> Option<&str> {
    match command {
        Command::Lifecycle(a) => a.shard.as_deref(),
        Command::Concurrency(a) => a.shard.as_deref(),
        Command::Pause(a) => a.shard.as_deref(),
        Command::Run(a) => a.shard.as_deref(),
        _ => None,
    }
}

fn panic_text(e: tokio::task::JoinError) -> String {
    if e.is_cancelled() {
        return "the scenario was cancelled".into();
    }
    let p = e.into_panic();
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .map_or_else(|| "panic".to_owned(), |m| format!("panic: {m}"))
}

/// Ctrl-C and SIGTERM fire the cancel signal; the scenario stops at its
/// next wait and the runner kills what is alive.
fn watch_signals(fire: tokio::sync::watch::Sender<bool>) -> Result<(), Failure> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())
        .map_err(|e| Failure::runtime(format!("cannot install the Ctrl-C handler: {e}")))?;
    let mut term = signal(SignalKind::terminate())
        .map_err(|e| Failure::runtime(format!("cannot install the SIGTERM handler: {e}")))?;
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::warn!("interrupted: killing this run's sandboxes and writing what finished");
        let _ = fire.send(true);
    });
    Ok(())
}

/// Kills what the ledger holds, then sweeps the API for sandboxes tagged
/// with this run (a create that answered after its phase timed out is in
/// no ledger). Returns how many are still alive.
async fn clean_up(ctx: &Ctx) -> usize {
    let failed = ctx.ledger.kill_all(&ctx.api).await;
    let swept = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        ctx.api.list_tagged(RUN_METADATA_KEY, &ctx.run_id),
    )
    .await;
    let mut left = failed;
    if let Ok(Ok(items)) = swept {
        for sb in items {
            tracing::info!("killing sandbox {} left by this run", sb.sandbox_id);
            if !ledger::kill_with_retries(&ctx.api, &sb.sandbox_id).await {
                left += 1;
            }
        }
    }
    if left > 0 {
        tracing::warn!(
            "{left} sandboxes of run {} could not be killed; they expire at their timeout, \
             or run `bench-client cleanup --run-id {}`",
            ctx.run_id,
            ctx.run_id
        );
    }
    left
}
