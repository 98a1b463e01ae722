//! Python: how fast the sandbox's interpreter starts, runs pure-Python code
//! and imports standard modules.
//!
//! - `python.startup_ms{workload=pass}`: wall time of `python3 -c pass`
//!   (spawn to exit), `--startup-runs` times; the first run warms the page
//!   cache and is not counted. `workload=pass_isolated` is the same with
//!   `-I -S` (no site, no user environment): the bare interpreter.
//! - `python.ops_per_second{workload}`: the fixed workloads of
//!   `python_workload.py` (embedded; each op is defined there), each run for
//!   `--py-time` in one interpreter, in chunks of 0.1 s. `raw` holds the
//!   per-chunk rates, `value` is total ops / total time.
//! - `python.import_ms{module}`: `importlib.import_module` timed with
//!   `time.perf_counter` inside a fresh interpreter, `--import-runs` times per
//!   module. A module that does not import is an error entry; the others
//!   are still measured.

use std::process::Command;
use std::time::Duration;

use bench_core::contract::metric::{PYTHON_IMPORT_MS, PYTHON_OPS_PER_SECOND, PYTHON_STARTUP_MS};
use bench_core::exit::Failure;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::schema::{ErrorKind, Sample};
use bench_core::settings::Settings;
use bench_core::units;
use serde_json::{Value, json};

use super::child::{self, ChildError, Finished};

/// The workload script (see its docstring for what one op is).
const WORKLOAD_SCRIPT: &str = include_str!("python_workload.py");

/// Facts about the interpreter, printed as JSON (works on Python 2 too, so
/// that one can be refused by name).
const INFO_SCRIPT: &str = "import json, platform, sys; print(json.dumps({\
    'version': platform.python_version(), \
    'implementation': platform.python_implementation(), \
    'executable': sys.executable, 'major': sys.version_info[0]}))";

/// Times one import. Uses no module that is not loaded at startup anyway
/// (not even `json`, which may be the module measured); prints
/// `ok <ms> <preloaded 0|1>` or `error <ExceptionName> <message>`.
const IMPORT_SCRIPT: &str = "import importlib, sys, time
name = sys.argv[1]
preloaded = name in sys.modules
start = time.perf_counter()
try:
    importlib.import_module(name)
except BaseException as e:
    sys.stdout.write('error %s %s\\n' % (type(e).__name__, str(e).replace('\\n', ' ')))
else:
    sys.stdout.write('ok %.6f %d\\n' % ((time.perf_counter() - start) * 1000.0, preloaded))
";

/// Workloads of the script, in the order it runs them.
pub const WORKLOADS: [&str; 5] = ["call", "dict", "str", "sort", "float"];
/// Modules whose import is timed by default.
pub const DEFAULT_MODULES: [&str; 5] = ["json", "decimal", "asyncio", "ssl", "sqlite3"];
/// Interpreter starts per startup workload (the first is not counted).
pub const DEFAULT_STARTUP_RUNS: usize = 20;
/// … with `--quick`.
pub const QUICK_STARTUP_RUNS: usize = 6;
/// Run time of each pure-Python workload.
pub const DEFAULT_PY_TIME: Duration = Duration::from_secs(2);
/// … with `--quick`.
pub const QUICK_PY_TIME: Duration = Duration::from_millis(300);
/// Fresh interpreters per imported module.
pub const DEFAULT_IMPORT_RUNS: usize = 5;
/// … with `--quick`.
pub const QUICK_IMPORT_RUNS: usize = 2;
/// Length of one chunk of a workload (shorter when `--py-time` is short).
const CHUNK: Duration = Duration::from_millis(100);
/// Deadline of one interpreter start or import.
const SHORT_TIMEOUT: Duration = Duration::from_secs(60);

/// Flags of the `python` probe.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PythonArgs {
    /// Python interpreter to measure [default: python3 on PATH]
    #[arg(long, value_name = "PATH")]
    pub python: Option<String>,
    /// Interpreter starts per startup workload; the first is a warm-up and not counted [default: 20; 6 with --quick]
    #[arg(long, value_name = "N")]
    pub startup_runs: Option<String>,
    /// How long each pure-Python workload runs (e.g. 2s, 500ms) [default: 2s; 300ms with --quick]
    #[arg(long, value_name = "DURATION")]
    pub py_time: Option<String>,
    /// Pure-Python workloads to run, comma-separated, of call, dict, str, sort, float [default: all]
    #[arg(long, value_name = "NAME,...")]
    pub py_workloads: Option<String>,
    /// Modules whose import time is measured, comma-separated [default: json,decimal,asyncio,ssl,sqlite3]
    #[arg(long, value_name = "MODULE,...")]
    pub modules: Option<String>,
    /// Fresh interpreters per module import [default: 5; 2 with --quick]
    #[arg(long, value_name = "N")]
    pub import_runs: Option<String>,
}

impl ProbeArgs for PythonArgs {
    fn build(&self, quick: bool, _settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        Ok(Box::new(PythonProbe {
            config: PythonConfig::from_args(self, quick)?,
        }))
    }
}

/// A validated `python` configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonConfig {
    /// The interpreter (a name looked up on PATH, or a path).
    pub python: String,
    /// Interpreter starts per startup workload, warm-up included.
    pub startup_runs: usize,
    /// Run time of each pure-Python workload.
    pub py_time: Duration,
    /// Pure-Python workloads, in the script's order.
    pub workloads: Vec<String>,
    /// Modules to import.
    pub modules: Vec<String>,
    /// Fresh interpreters per module.
    pub import_runs: usize,
}

impl PythonConfig {
    /// Applies the defaults (which depend on `quick`) and validates the
    /// flags; the error names the flag.
    pub fn from_args(args: &PythonArgs, quick: bool) -> Result<Self, Failure> {
        let python = match &args.python {
            None => "python3".to_owned(),
            Some(p) if p.trim().is_empty() => {
                return Err(Failure::usage(
                    "--python '': give the interpreter's path or name, e.g. /usr/bin/python3",
                ));
            }
            Some(p) => p.clone(),
        };
        let startup_runs = parse_count(
            "--startup-runs",
            args.startup_runs.as_deref(),
            2..=1000,
            if quick {
                QUICK_STARTUP_RUNS
            } else {
                DEFAULT_STARTUP_RUNS
            },
        )?;
        let import_runs = parse_count(
            "--import-runs",
            args.import_runs.as_deref(),
            1..=100,
            if quick {
                QUICK_IMPORT_RUNS
            } else {
                DEFAULT_IMPORT_RUNS
            },
        )?;
        let py_time = match &args.py_time {
            None if quick => QUICK_PY_TIME,
            None => DEFAULT_PY_TIME,
            Some(text) => bench_core::units::parse_duration_in(
                text,
                Duration::from_millis(10)..=Duration::from_secs(600),
            )
            .map_err(|e| Failure::usage(format!("--py-time {e}")))?,
        };
        let workloads = match &args.py_workloads {
            None => WORKLOADS.map(str::to_owned).to_vec(),
            Some(text) => {
                let mut picked = Vec::new();
                for item in text.split(',').map(str::trim) {
                    if !WORKLOADS.contains(&item) {
                        return Err(Failure::usage(format!(
                            "--py-workloads '{text}': '{item}' is not a workload; use some of {}",
                            WORKLOADS.join(", ")
                        )));
                    }
                    picked.push(item);
                }
                // The script's order, whatever the flag's.
                WORKLOADS
                    .iter()
                    .filter(|w| picked.contains(w))
                    .map(|w| (*w).to_owned())
                    .collect()
            }
        };
        let modules = match &args.modules {
            None => DEFAULT_MODULES.map(str::to_owned).to_vec(),
            Some(text) => parse_modules(text)?,
        };
        Ok(PythonConfig {
            python,
            startup_runs,
            py_time,
            workloads,
            modules,
            import_runs,
        })
    }

    /// What the document's `parameters.python` records.
    pub fn to_json(&self) -> Value {
        json!({
            "python": self.python,
            "startup_runs": self.startup_runs,
            "py_time_s": self.py_time.as_secs_f64(),
            "workloads": self.workloads,
            "modules": self.modules,
            "import_runs": self.import_runs,
        })
    }
}

/// A whole number in `range` for `flag`, or `default` when absent.
fn parse_count(
    flag: &str,
    text: Option<&str>,
    range: std::ops::RangeInclusive<usize>,
    default: usize,
) -> Result<usize, Failure> {
    text.map_or(Ok(default), |text| {
        units::parse_count(text, range).map_err(|e| Failure::usage(format!("{flag} {e}")))
    })
}

/// Comma-separated dotted module names (`json,xml.dom`), duplicates dropped.
fn parse_modules(text: &str) -> Result<Vec<String>, Failure> {
    let mut modules: Vec<String> = Vec::new();
    for item in text.split(',').map(str::trim) {
        let valid = !item.is_empty()
            && item.split('.').all(|part| {
                part.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !valid {
            return Err(Failure::usage(format!(
                "--modules '{text}': '{item}' is not a module name; use names separated by commas, e.g. json,decimal"
            )));
        }
        if !modules.iter().any(|m| m == item) {
            modules.push(item.to_owned());
        }
    }
    Ok(modules)
}

/// The interpreter, as it describes itself.
#[derive(Debug, Clone, PartialEq)]
pub struct PythonInfo {
    /// `platform.python_version()`.
    pub version: String,
    /// `platform.python_implementation()` (CPython, PyPy).
    pub implementation: String,
    /// `sys.executable`.
    pub executable: String,
    /// `sys.version_info[0]`.
    pub major: u64,
}

/// Parses what [`INFO_SCRIPT`] prints.
pub fn parse_info(stdout: &str) -> Result<PythonInfo, String> {
    let value: Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("unexpected output ({e}): {}", stdout.trim()))?;
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("'{key}' missing in {value}"))
    };
    Ok(PythonInfo {
        version: text("version")?,
        implementation: text("implementation")?,
        executable: text("executable")?,
        major: value
            .get("major")
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("'major' missing in {value}"))?,
    })
}

/// One workload's result as the script reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum WorkloadResult {
    /// It ran: what one op is, and `(ops, seconds)` per chunk.
    Chunks {
        /// Workload name.
        name: String,
        /// What one op is.
        op: String,
        /// Ops and seconds of each chunk.
        chunks: Vec<(f64, f64)>,
    },
    /// It raised.
    Error {
        /// Workload name.
        name: String,
        /// `ExceptionName: message`.
        message: String,
    },
}

/// Parses the workload script's JSON.
pub fn parse_workloads(stdout: &str) -> Result<Vec<WorkloadResult>, String> {
    let value: Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("the workload script printed no JSON ({e})"))?;
    let list = value
        .get("workloads")
        .and_then(Value::as_array)
        .ok_or("the workload script's JSON has no 'workloads' list")?;
    let mut results = Vec::new();
    for item in list {
        let name = item
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("a workload without a name: {item}"))?
            .to_owned();
        if let Some(message) = item.get("error").and_then(Value::as_str) {
            results.push(WorkloadResult::Error {
                name,
                message: message.to_owned(),
            });
            continue;
        }
        let chunks = item
            .get("chunks")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("workload {name}: no 'chunks'"))?
            .iter()
            .map(|c| match c.as_array().map(Vec::as_slice) {
                Some([ops, secs]) => match (ops.as_f64(), secs.as_f64()) {
                    (Some(ops), Some(secs)) if ops >= 0.0 && secs > 0.0 => Ok((ops, secs)),
                    _ => Err(format!("workload {name}: bad chunk {c}")),
                },
                _ => Err(format!("workload {name}: bad chunk {c}")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if chunks.is_empty() {
            return Err(format!("workload {name}: no chunks"));
        }
        let op = item
            .get("op")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        results.push(WorkloadResult::Chunks { name, op, chunks });
    }
    Ok(results)
}

/// The `python.ops_per_second` sample of a workload's chunks: per-chunk
/// rates as `raw`, total ops / total time as `value`.
pub fn ops_sample(name: &str, chunks: &[(f64, f64)]) -> Sample {
    let rates = chunks.iter().map(|(ops, secs)| ops / secs).collect();
    let ops: f64 = chunks.iter().map(|c| c.0).sum();
    let secs: f64 = chunks.iter().map(|c| c.1).sum();
    Sample::from_series(PYTHON_OPS_PER_SECOND, "ops/s", rates)
        .with_value(if secs > 0.0 { ops / secs } else { 0.0 })
        .label("workload", name)
}

/// One timed import.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportRun {
    /// Imported in `ms`; `preloaded` when it was in `sys.modules` already.
    Ok {
        /// Milliseconds spent in `import_module`.
        ms: f64,
        /// Already imported at startup (so the figure is ~0).
        preloaded: bool,
    },
    /// Raised `exception` with `message`.
    Error {
        /// Exception class name (`ModuleNotFoundError`).
        exception: String,
        /// Its message.
        message: String,
    },
}

/// Parses what [`IMPORT_SCRIPT`] prints.
pub fn parse_import(stdout: &str) -> Result<ImportRun, String> {
    let line = stdout.trim();
    let mut words = line.splitn(3, ' ');
    match (words.next(), words.next(), words.next()) {
        (Some("ok"), Some(ms), Some(pre)) => match (ms.parse::<f64>(), pre) {
            (Ok(ms), "0" | "1") if ms.is_finite() && ms >= 0.0 => Ok(ImportRun::Ok {
                ms,
                preloaded: pre == "1",
            }),
            _ => Err(format!("unexpected output: {line}")),
        },
        (Some("error"), Some(exception), message) => Ok(ImportRun::Error {
            exception: exception.to_owned(),
            message: message.unwrap_or_default().to_owned(),
        }),
        _ => Err(format!("unexpected output: {line}")),
    }
}

/// The `python` probe.
#[derive(Debug, Clone)]
pub struct PythonProbe {
    /// What it runs.
    pub config: PythonConfig,
}

impl Probe for PythonProbe {
    fn name(&self) -> &'static str {
        "python"
    }

    fn parameters(&self) -> Value {
        self.config.to_json()
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        run_python(&self.config, ctx)
    }
}

const PROBE: &str = "python";

/// Why a step stopped the probe early.
enum Stop {
    Interrupted,
}

/// Runs `python ARGS…` to completion, turning what went wrong into an
/// error entry (`what` says which step) or a [`Stop`].
fn run_step(
    python: &str,
    args: &[&str],
    timeout: Duration,
    what: &str,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<Option<Finished>, Stop> {
    match child::run(Command::new(python).args(args), timeout, ctx) {
        Ok(done) if done.status.success() => Ok(Some(done)),
        Ok(done) => {
            out.error(
                PROBE,
                ErrorKind::Failed,
                format!(
                    "{what}: {python} exited with {}: {}",
                    done.status,
                    child::tail(&done.stderr, 3)
                ),
            );
            Ok(None)
        }
        Err(ChildError::Interrupted) => Err(Stop::Interrupted),
        Err(ChildError::Timeout(stderr)) => {
            out.error(
                PROBE,
                ErrorKind::Timeout,
                format!(
                    "{what}: still running after {:.0} s, killed {}",
                    timeout.as_secs_f64(),
                    child::tail(&stderr, 3)
                )
                .trim_end()
                .to_owned(),
            );
            Ok(None)
        }
        Err(ChildError::Spawn(e)) => {
            out.error(
                PROBE,
                ErrorKind::Failed,
                format!("{what}: cannot start {python}: {e}"),
            );
            Ok(None)
        }
    }
}

/// Measures everything `config` asks for.
pub fn run_python(config: &PythonConfig, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
    let mut out = ProbeOutput::default();
    let python = match child::which(&config.python) {
        Some(path) => path.to_string_lossy().into_owned(),
        None if config.python.contains('/') => {
            return Err(ProbeError::Unavailable(format!(
                "{}: no such executable file; pass --python with the path of a Python 3 interpreter",
                config.python
            )));
        }
        None => {
            return Err(ProbeError::Unavailable(format!(
                "{}: not found on PATH; install Python 3 (e.g. apt-get install python3) or pass --python PATH",
                config.python
            )));
        }
    };
    out.fact("interpreter", python.clone());

    // What the interpreter is (and whether it runs at all).
    let info = match child::run(
        Command::new(&python).args(["-c", INFO_SCRIPT]),
        SHORT_TIMEOUT,
        ctx,
    ) {
        Ok(done) if done.status.success() => {
            parse_info(&String::from_utf8_lossy(&done.stdout)).map_err(ProbeError::Failed)?
        }
        Ok(done) => {
            return Err(ProbeError::Unavailable(format!(
                "{python} does not run Python code (exited with {}: {}); pass --python with a working Python 3",
                done.status,
                child::tail(&done.stderr, 3)
            )));
        }
        Err(ChildError::Spawn(e)) => {
            return Err(ProbeError::Unavailable(format!(
                "cannot start {python}: {e}; pass --python with a working Python 3"
            )));
        }
        Err(ChildError::Timeout(_)) => {
            return Err(ProbeError::Failed(format!(
                "{python} did not print its version within {} s",
                SHORT_TIMEOUT.as_secs()
            )));
        }
        Err(ChildError::Interrupted) => return Err(ProbeError::Interrupted),
    };
    if info.major < 3 {
        return Err(ProbeError::Unavailable(format!(
            "{python} is Python {}; the probe needs Python 3 (pass --python)",
            info.version
        )));
    }
    out.fact("version", info.version.clone());
    out.fact("implementation", info.implementation.clone());
    out.fact("executable", info.executable.clone());

    let finished = startup(&python, config, ctx, &mut out)
        .and_then(|()| workloads(&python, config, ctx, &mut out))
        .and_then(|()| imports(&python, config, ctx, &mut out));
    match finished {
        Ok(()) => Ok(out),
        Err(Stop::Interrupted) if out.samples.is_empty() => Err(ProbeError::Interrupted),
        Err(Stop::Interrupted) => {
            out.error(
                PROBE,
                ErrorKind::Interrupted,
                "interrupted; the measurements that finished are kept",
            );
            Ok(out)
        }
    }
}

/// `python.startup_ms` for `pass` and `pass_isolated`.
fn startup(
    python: &str,
    config: &PythonConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<(), Stop> {
    out.fact(
        "startup",
        format!(
            "wall time from spawn to exit of {} runs per workload; the first run of each is a warm-up and not counted",
            config.startup_runs
        ),
    );
    for (workload, args) in [
        ("pass", &["-c", "pass"][..]),
        ("pass_isolated", &["-I", "-S", "-c", "pass"][..]),
    ] {
        ctx.step(
            PROBE,
            &format!("startup {workload}: {} runs", config.startup_runs),
        );
        let mut ms = Vec::new();
        for run in 0..config.startup_runs {
            let what = format!("startup {workload}");
            match run_step(python, args, SHORT_TIMEOUT, &what, ctx, out)? {
                Some(done) if run > 0 => ms.push(done.elapsed.as_secs_f64() * 1e3),
                Some(_) => {}
                None => {
                    ms.clear();
                    break;
                }
            }
        }
        if !ms.is_empty() {
            out.samples
                .push(Sample::from_series(PYTHON_STARTUP_MS, "ms", ms).label("workload", workload));
        }
    }
    Ok(())
}

/// `python.ops_per_second` for each workload, from one interpreter.
fn workloads(
    python: &str,
    config: &PythonConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<(), Stop> {
    if config.workloads.is_empty() {
        return Ok(());
    }
    let chunk = CHUNK.min(config.py_time / 5);
    ctx.step(
        PROBE,
        &format!(
            "workloads {}: {:.1} s each",
            config.workloads.join(","),
            config.py_time.as_secs_f64()
        ),
    );
    let seconds = format!("{}", config.py_time.as_secs_f64());
    let chunk_s = format!("{}", chunk.as_secs_f64());
    let mut args = vec!["-c", WORKLOAD_SCRIPT, &seconds, &chunk_s];
    args.extend(config.workloads.iter().map(String::as_str));
    // Every workload overshoots by at most a chunk; the rest is slack for a
    // slow or busy machine.
    let timeout = config.py_time * (2 * config.workloads.len() as u32) + SHORT_TIMEOUT;
    let Some(done) = run_step(python, &args, timeout, "workloads", ctx, out)? else {
        return Ok(());
    };
    let results = match parse_workloads(&String::from_utf8_lossy(&done.stdout)) {
        Ok(results) => results,
        Err(e) => {
            out.error(PROBE, ErrorKind::Failed, format!("workloads: {e}"));
            return Ok(());
        }
    };
    let mut ops = serde_json::Map::new();
    for result in results {
        match result {
            WorkloadResult::Chunks { name, op, chunks } => {
                out.samples.push(ops_sample(&name, &chunks));
                ops.insert(name, op.into());
            }
            WorkloadResult::Error { name, message } => {
                out.error(
                    PROBE,
                    ErrorKind::Failed,
                    format!("workload {name}: {message}"),
                );
            }
        }
    }
    out.fact("workload_ops", Value::Object(ops));
    out.fact("workload_chunk_s", chunk.as_secs_f64());
    Ok(())
}

/// `python.import_ms` for each module, one fresh interpreter per run.
fn imports(
    python: &str,
    config: &PythonConfig,
    ctx: &Context,
    out: &mut ProbeOutput,
) -> Result<(), Stop> {
    let mut preloaded = Vec::new();
    for module in &config.modules {
        ctx.step(
            PROBE,
            &format!("import {module}: {} runs", config.import_runs),
        );
        let what = format!("import {module}");
        let mut ms = Vec::new();
        for _ in 0..config.import_runs {
            let Some(done) = run_step(
                python,
                &["-c", IMPORT_SCRIPT, module],
                SHORT_TIMEOUT,
                &what,
                ctx,
                out,
            )?
            else {
                ms.clear();
                break;
            };
            match parse_import(&String::from_utf8_lossy(&done.stdout)) {
                Ok(ImportRun::Ok {
                    ms: t,
                    preloaded: p,
                }) => {
                    ms.push(t);
                    if p && !preloaded.contains(module) {
                        preloaded.push(module.clone());
                    }
                }
                Ok(ImportRun::Error { exception, message }) => {
                    let kind = if exception == "ModuleNotFoundError" {
                        ErrorKind::Unavailable
                    } else {
                        ErrorKind::Failed
                    };
                    out.error(PROBE, kind, format!("{what}: {exception}: {message}"));
                    ms.clear();
                    break;
                }
                Err(e) => {
                    out.error(PROBE, ErrorKind::Failed, format!("{what}: {e}"));
                    ms.clear();
                    break;
                }
            }
        }
        if !ms.is_empty() {
            out.samples
                .push(Sample::from_series(PYTHON_IMPORT_MS, "ms", ms).label("module", module));
        }
    }
    if !preloaded.is_empty() {
        // Loaded by site/startup already: their import_ms is a dict lookup.
        out.fact("preloaded_modules", preloaded);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> PythonArgs {
        PythonArgs::default()
    }

    #[test]
    fn defaults_depend_on_quick() {
        let c = PythonConfig::from_args(&args(), false).expect("defaults");
        assert_eq!(c.python, "python3");
        assert_eq!(c.startup_runs, 20);
        assert_eq!(c.py_time, Duration::from_secs(2));
        assert_eq!(c.import_runs, 5);
        assert_eq!(c.workloads, WORKLOADS);
        assert_eq!(c.modules, DEFAULT_MODULES);
        let q = PythonConfig::from_args(&args(), true).expect("quick defaults");
        assert_eq!(
            (q.startup_runs, q.py_time, q.import_runs),
            (6, Duration::from_millis(300), 2)
        );
        let c = PythonConfig::from_args(
            &PythonArgs {
                python: Some("/opt/py/bin/python3.12".into()),
                startup_runs: Some("2".into()),
                py_time: Some("100ms".into()),
                py_workloads: Some("sort, call".into()),
                modules: Some("json, xml.dom,json,_ssl".into()),
                import_runs: Some("1".into()),
            },
            true,
        )
        .expect("valid flags");
        assert_eq!(c.workloads, ["call", "sort"]);
        assert_eq!(c.modules, ["json", "xml.dom", "_ssl"]);
        assert_eq!(c.to_json()["py_time_s"], 0.1);
        assert_eq!(c.to_json()["python"], "/opt/py/bin/python3.12");
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let cases: [(PythonArgs, &str); 9] = [
            (
                PythonArgs {
                    python: Some(" ".into()),
                    ..args()
                },
                "--python",
            ),
            (
                PythonArgs {
                    startup_runs: Some("1".into()),
                    ..args()
                },
                "--startup-runs",
            ),
            (
                PythonArgs {
                    startup_runs: Some("many".into()),
                    ..args()
                },
                "--startup-runs",
            ),
            (
                PythonArgs {
                    import_runs: Some("0".into()),
                    ..args()
                },
                "--import-runs",
            ),
            (
                PythonArgs {
                    py_time: Some("1ms".into()),
                    ..args()
                },
                "--py-time",
            ),
            (
                PythonArgs {
                    py_time: Some("soon".into()),
                    ..args()
                },
                "--py-time",
            ),
            (
                PythonArgs {
                    py_workloads: Some("call,regex".into()),
                    ..args()
                },
                "--py-workloads",
            ),
            (
                PythonArgs {
                    modules: Some("json,,os".into()),
                    ..args()
                },
                "--modules",
            ),
            (
                PythonArgs {
                    modules: Some("os; import x".into()),
                    ..args()
                },
                "--modules",
            ),
        ];
        for (a, flag) in cases {
            let e = PythonConfig::from_args(&a, false).expect_err(flag);
            assert_eq!(e.code, bench_core::exit::USAGE);
            assert!(e.message.starts_with(flag), "{}", e.message);
            assert!(!e.message.contains('\n'), "{}", e.message);
        }
    }

    #[test]
    fn parses_the_interpreter_info() {
        let info = parse_info(
            r#"{"version": "3.12.1", "implementation": "CPython", "executable": "/usr/bin/python3", "major": 3}
"#,
        )
        .expect("valid info");
        assert_eq!(info.version, "3.12.1");
        assert_eq!(info.implementation, "CPython");
        assert_eq!(info.executable, "/usr/bin/python3");
        assert_eq!(info.major, 3);
        assert!(parse_info("Python 3.12.1").is_err());
        assert!(parse_info(r#"{"version": "3.12.1"}"#).is_err());
    }

    #[test]
    fn parses_workload_chunks_and_errors() {
        let text = r#"{"chunk_s": 0.1, "workloads": [
            {"name": "call", "op": "one call", "chunks": [[1000, 0.1], [3000, 0.2]]},
            {"name": "float", "error": "OverflowError: math range error"}]}"#;
        let results = parse_workloads(text).expect("valid output");
        assert_eq!(
            results,
            [
                WorkloadResult::Chunks {
                    name: "call".into(),
                    op: "one call".into(),
                    chunks: vec![(1000.0, 0.1), (3000.0, 0.2)],
                },
                WorkloadResult::Error {
                    name: "float".into(),
                    message: "OverflowError: math range error".into(),
                },
            ]
        );
        let WorkloadResult::Chunks { chunks, .. } = &results[0] else {
            unreachable!()
        };
        let sample = ops_sample("call", chunks);
        assert_eq!(sample.metric, "python.ops_per_second");
        assert_eq!(sample.unit, "ops/s");
        assert_eq!(sample.labels["workload"], "call");
        assert_eq!(sample.raw, [10_000.0, 15_000.0]);
        // Total ops / total time, not the mean of the rates.
        assert!((sample.value - 4000.0 / 0.3).abs() < 1e-6);
        for bad in [
            "",
            "{}",
            r#"{"workloads": [{"name": "call", "chunks": []}]}"#,
            r#"{"workloads": [{"name": "call", "chunks": [[1, 0]]}]}"#,
            r#"{"workloads": [{"name": "call", "chunks": [[1]]}]}"#,
            r#"{"workloads": [{"chunks": [[1, 1]]}]}"#,
        ] {
            assert!(parse_workloads(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_import_lines() {
        assert_eq!(
            parse_import("ok 12.500000 0\n"),
            Ok(ImportRun::Ok {
                ms: 12.5,
                preloaded: false
            })
        );
        assert_eq!(
            parse_import("ok 0.001000 1"),
            Ok(ImportRun::Ok {
                ms: 0.001,
                preloaded: true
            })
        );
        assert_eq!(
            parse_import("error ModuleNotFoundError No module named 'nosuch'\n"),
            Ok(ImportRun::Error {
                exception: "ModuleNotFoundError".into(),
                message: "No module named 'nosuch'".into()
            })
        );
        for bad in ["", "ok", "ok x 0", "ok 1.0 2", "ok -1 0", "Traceback ..."] {
            assert!(parse_import(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_interrupted_run_measures_nothing() {
        let interrupt = bench_core::interrupt::Interrupt::new();
        interrupt.trigger();
        let config = PythonConfig::from_args(&args(), true).expect("defaults");
        let ctx = Context::new(interrupt);
        match run_python(&config, &ctx) {
            // No python3 here: unavailable comes first.
            Err(ProbeError::Unavailable(_)) if child::which("python3").is_none() => {}
            other => assert_eq!(other, Err(ProbeError::Interrupted)),
        }
    }

    #[test]
    fn the_embedded_scripts_run() {
        let Some(python) = child::which("python3") else {
            eprintln!("skipped: no python3 on PATH");
            return;
        };
        let ctx = Context::uninterruptible();
        let done = child::run(
            Command::new(&python).args(["-c", WORKLOAD_SCRIPT, "0.02", "0.01", "call", "float"]),
            Duration::from_secs(60),
            &ctx,
        )
        .expect("python3 runs");
        assert!(done.status.success(), "{}", child::tail(&done.stderr, 5));
        let results = parse_workloads(&String::from_utf8_lossy(&done.stdout)).expect("JSON");
        let names: Vec<_> = results
            .iter()
            .map(|r| match r {
                WorkloadResult::Chunks { name, chunks, .. } => {
                    assert!(chunks.iter().all(|c| c.0 > 0.0));
                    name.as_str()
                }
                WorkloadResult::Error { name, message } => panic!("{name}: {message}"),
            })
            .collect();
        assert_eq!(names, ["call", "float"]);
        let done = child::run(
            Command::new(&python).args(["-c", IMPORT_SCRIPT, "json"]),
            Duration::from_secs(60),
            &ctx,
        )
        .expect("python3 runs");
        assert!(matches!(
            parse_import(&String::from_utf8_lossy(&done.stdout)),
            Ok(ImportRun::Ok { .. })
        ));
    }
}
