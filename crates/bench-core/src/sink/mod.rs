//! Where result documents go: stdout, one file, a local directory, or (with
//! the `object-store` feature) an object-store prefix.
//!
//! A tier binary turns its `--output-dir` / `--output` flags into an
//! [`OutputTarget`], calls [`open`] *before* measuring anything (it creates
//! the destination and proves it writable with a probe file or object), and
//! then calls [`Sink::write`] each time a suite is complete — possibly again
//! for the same file during one run, as results accumulate.
//!
//! Every document is serialized the same way ([`render_document`]): to a JSON
//! value, through [`crate::redact::redact_json`], then pretty-printed with a
//! trailing newline.
//!
//! Directory sinks (local or object store) never silently destroy an earlier
//! result: a file of the same name written by a *different* run (`run_id`)
//! is first kept as `history/<old_run_id>/<file_name>`; a rewrite by the same
//! run simply replaces it. See `docs/output.md`.
//!
//! ```
//! use bench_core::sink::OutputTarget;
//!
//! assert!(matches!(OutputTarget::from_output("-"), OutputTarget::Stdout));
//! assert!(matches!(OutputTarget::from_output_dir("outputs/aws").unwrap(), OutputTarget::Dir(_)));
//! assert!(matches!(OutputTarget::from_output_dir("s3://bucket/prefix").unwrap(), OutputTarget::Object(_)));
//! let err = OutputTarget::from_output_dir("ftp://host/x").unwrap_err().to_string();
//! assert!(err.contains("ftp://host/x") && err.contains("s3://"));
//! ```

use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::schema::ResultDocument;

mod local;
#[cfg(feature = "object-store")]
mod object;
mod qualified;
mod stdout;

pub use local::{FileSink, LocalDirSink};
#[cfg(feature = "object-store")]
pub use object::{
    INSTANCE_CREDENTIALS_VAR, ObjectSink, OpenedStore, describe_error as describe_store_error,
    open_store,
};
pub use qualified::QualifiedSink;
pub use stdout::StdoutSink;

/// URL schemes `--output-dir` accepts, as listed in error messages.
pub const ACCEPTED_SCHEMES: &[&str] =
    &["s3", "gs", "az", "azure", "abfs", "abfss", "file", "memory"];

/// Name of the sub-directory (or sub-prefix) that keeps earlier results.
pub const HISTORY_DIR: &str = "history";

/// Where the result documents of a run go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTarget {
    /// The pretty JSON document on stdout (`--output -`).
    Stdout,
    /// The document on stdout between BEGIN/END marker lines, for copying
    /// out of a terminal (`bench-sandbox --paste`, see [`crate::paste`]).
    Paste,
    /// Exactly this file (`--output PATH`); every write replaces it.
    File(PathBuf),
    /// A local directory with one file per suite (`--output-dir DIR`).
    Dir(PathBuf),
    /// An object-store prefix (`--output-dir s3://bucket/prefix`, `gs://`,
    /// `az://`, `file://`, `memory://`).
    Object(String),
}

impl OutputTarget {
    /// Interprets a `--output-dir` value: a plain path is a [`Dir`](Self::Dir);
    /// `s3://`, `gs://`, `az://` (also `azure://`, `abfs://`, `abfss://`),
    /// `file://` and `memory://` are an [`Object`](Self::Object) URL; any other
    /// `scheme://` is an error that names the value and the accepted schemes.
    pub fn from_output_dir(value: &str) -> Result<Self, SinkError> {
        if value.trim().is_empty() {
            return Err(SinkError::InvalidDestination {
                flag: "--output-dir",
                value: value.to_owned(),
                reason: "empty value; give a directory or a URL such as s3://bucket/prefix"
                    .to_owned(),
            });
        }
        match url_scheme(value) {
            None => Ok(OutputTarget::Dir(PathBuf::from(value))),
            Some(scheme) => {
                let lower = scheme.to_ascii_lowercase();
                if ACCEPTED_SCHEMES.contains(&lower.as_str()) {
                    Ok(OutputTarget::Object(value.to_owned()))
                } else {
                    Err(SinkError::UnsupportedScheme {
                        value: display_url(value),
                        scheme: scheme.to_owned(),
                    })
                }
            }
        }
    }

    /// Interprets a `--output` value: `-` is stdout, anything else a file path.
    pub fn from_output(value: &str) -> Self {
        if value == "-" {
            OutputTarget::Stdout
        } else {
            OutputTarget::File(PathBuf::from(value))
        }
    }
}

/// A destination for result documents. Implementations are cheap to call
/// repeatedly and safe to share between threads.
pub trait Sink: Send + Sync {
    /// Writes one suite document under `file_name` (e.g.
    /// `04_host_performance.json`) and returns where it went (a path or URL,
    /// for a log line). Called as soon as a suite is complete, possibly again
    /// for the same file during one run (incremental updates).
    fn write(&self, file_name: &str, doc: &ResultDocument) -> Result<String, SinkError> {
        self.write_json(file_name, &serde_json::to_value(doc)?)
    }

    /// Writes any JSON value under `file_name` exactly as [`write`](Self::write)
    /// writes a document: redacted, pretty-printed, atomically, with the same
    /// history rule keyed on the value's top-level `run_id` string (a value
    /// without one counts as another run's). For files that are not result
    /// documents, such as bench-client's `summary_report.json`.
    fn write_json(&self, file_name: &str, value: &Value) -> Result<String, SinkError>;

    /// Human-readable location: a directory path, a URL, or `stdout`.
    fn location(&self) -> String;

    /// True when a second write of the same file replaces the first, so a
    /// suite can be written after every probe. stdout appends instead, so a
    /// suite goes there once, when it is complete.
    fn replaces(&self) -> bool {
        true
    }
}

/// Opens a sink and proves it is writable before anything is measured: the
/// directory (or prefix) is created and a probe file (or object) is written
/// and removed, so a bad destination fails in a second, not after a long run.
/// Object stores take their credentials from the process environment.
pub fn open(target: &OutputTarget) -> Result<Box<dyn Sink>, SinkError> {
    let env: Vec<(String, String)> = std::env::vars().collect();
    open_with_env(target, env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// Like [`open`], with object-store credentials and settings (`AWS_*`,
/// `GOOGLE_*`, `AZURE_*`, `E2B_BENCH_INSTANCE_CREDENTIALS`) taken from `env`
/// — normally the process environment over `.e2b_env`.
pub fn open_with_env<'a>(
    target: &OutputTarget,
    env: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Box<dyn Sink>, SinkError> {
    match target {
        OutputTarget::Stdout => Ok(Box::new(StdoutSink::new())),
        OutputTarget::Paste => Ok(Box::new(StdoutSink::framed())),
        OutputTarget::File(path) => Ok(Box::new(FileSink::open(path)?)),
        OutputTarget::Dir(path) => Ok(Box::new(LocalDirSink::open(path)?)),
        OutputTarget::Object(url) => open_object(url, env),
    }
}

#[cfg(feature = "object-store")]
fn open_object<'a>(
    url: &str,
    env: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Box<dyn Sink>, SinkError> {
    Ok(Box::new(ObjectSink::open_with_env(url, env)?))
}

#[cfg(not(feature = "object-store"))]
fn open_object<'a>(
    url: &str,
    _env: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Box<dyn Sink>, SinkError> {
    // A file:// URL needs no object store: it is a local directory.
    if let Some(path) = file_url_path(url) {
        return Ok(Box::new(LocalDirSink::open_for_flag(
            &path,
            "--output-dir",
        )?));
    }
    Err(SinkError::ObjectStoreUnsupported {
        url: display_url(url),
    })
}

/// The local path of a `file://` URL (`file:///abs/path` or
/// `file://localhost/abs/path`, percent-decoded), if `url` is one.
#[cfg(not(feature = "object-store"))]
fn file_url_path(url: &str) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;

    let scheme = url_scheme(url)?;
    if !scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    let rest = &url[scheme.len() + 3..];
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
}

/// Why a sink could not be opened or written. Every message is one line that
/// names the flag, path or URL concerned and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// `--output-dir` got a URL whose scheme no sink handles.
    #[error(
        "--output-dir {value}: unsupported scheme `{scheme}://`; use a directory path or a URL with one of s3://, gs://, az://, azure://, abfs://, abfss://, file://, memory://"
    )]
    UnsupportedScheme {
        /// The flag value (credentials removed).
        value: String,
        /// The scheme found.
        scheme: String,
    },
    /// A flag value that cannot name a destination.
    #[error("{flag} {value}: {reason}")]
    InvalidDestination {
        /// The flag, e.g. `--output-dir`.
        flag: &'static str,
        /// The flag value (credentials removed).
        value: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// An object-store URL given to a binary built without the
    /// `object-store` feature (`bench-sandbox`).
    #[error(
        "--output-dir {url}: this binary was built without object-store support; write to a local directory (or --output -) and upload the files from a machine with bench-host or bench-client"
    )]
    ObjectStoreUnsupported {
        /// The URL (credentials removed).
        url: String,
    },
    /// The output directory (or a file's parent) could not be created.
    #[error("{flag} {}: cannot create directory: {source}; choose a writable directory", path.display())]
    CreateDir {
        /// The flag, e.g. `--output-dir`.
        flag: &'static str,
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The destination exists but the probe write failed.
    #[error("{flag} {}: not writable: {source}; choose a writable location", path.display())]
    NotWritable {
        /// The flag, e.g. `--output`.
        flag: &'static str,
        /// The path that was probed.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A write, rename or history move failed while writing a result.
    #[error("{}: cannot {action}: {source}; check free space and permissions", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What was being done, e.g. `write temporary file`.
        action: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// A file name that is not a plain name inside the output directory.
    #[error(
        "result file name {file_name:?} is not a plain file name; use a name such as 04_host_performance.json"
    )]
    InvalidFileName {
        /// The rejected name.
        file_name: String,
    },
    /// The document could not be serialized (a bug; JSON cannot fail here
    /// unless a map key is not a string).
    #[error("cannot serialize the result document: {0}; this is a bug, please report it")]
    Serialize(#[from] serde_json::Error),
    /// Writing to stdout failed.
    #[error("--output -: cannot write to stdout: {0}")]
    Stdout(String),
    /// An object-store request failed.
    #[error("{url}: {action} failed: {message}; {hint}")]
    Object {
        /// The object or prefix URL (credentials removed).
        url: String,
        /// What was being done, e.g. `write`.
        action: &'static str,
        /// The store's error, on one line, with credentials removed.
        message: String,
        /// What to check.
        hint: &'static str,
    },
    /// An object-store request did not finish in time.
    #[error(
        "{url}: {action} did not finish within {secs} s; check the network path to the endpoint and retry"
    )]
    Timeout {
        /// The object or prefix URL (credentials removed).
        url: String,
        /// What was being done.
        action: &'static str,
        /// The time limit.
        secs: u64,
    },
}

/// Serializes a document the way every sink writes it: JSON value →
/// [`crate::redact::redact_json`] → pretty-printed text with a trailing
/// newline. Also returns the (redacted) `run_id` actually written.
pub fn render_document(doc: &ResultDocument) -> Result<(Vec<u8>, String), SinkError> {
    render_json(&serde_json::to_value(doc)?)
}

/// [`render_document`] for any JSON value: redacted, pretty-printed with a
/// trailing newline; also returns its top-level `run_id` string (empty when
/// it has none).
pub fn render_json(value: &Value) -> Result<(Vec<u8>, String), SinkError> {
    let mut value = value.clone();
    crate::redact::redact_json(&mut value);
    let run_id = value
        .get("run_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut bytes = serde_json::to_vec_pretty(&value)?;
    bytes.push(b'\n');
    Ok((bytes, run_id))
}

/// Makes a run id read from an earlier file safe to use as one path
/// component: only ASCII letters, digits, `_`, `-` and `.` are kept (others
/// become `_`), it never starts with `.` (so never `.` or `..`), is never
/// empty, and is at most 128 bytes.
pub fn sanitize_run_id(run_id: &str) -> String {
    let mut out: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect();
    let leading_dots = out.bytes().take_while(|&b| b == b'.').count();
    if leading_dots > 0 {
        out.replace_range(..leading_dots, &"_".repeat(leading_dots));
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

/// The directory name under `history/` for an earlier file: its sanitized
/// `run_id`, or `unknown-<mtime secs>` when it is unreadable, not JSON, or
/// has no `run_id`.
pub(crate) fn history_run_id(previous: Option<&[u8]>, mtime_secs: u64) -> String {
    previous
        .and_then(previous_run_id)
        .map(|id| sanitize_run_id(&id))
        .unwrap_or_else(|| format!("unknown-{mtime_secs}"))
}

/// The non-empty `run_id` of an earlier file's JSON, if it has one.
pub(crate) fn previous_run_id(bytes: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    match value.get("run_id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The `n`th name tried in a history slot: `name` itself, then
/// `stem.1.ext`, `stem.2.ext`, ...
pub(crate) fn history_candidate(file_name: &str, n: u32) -> String {
    if n == 0 {
        return file_name.to_owned();
    }
    match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{n}.{ext}"),
        _ => format!("{file_name}.{n}"),
    }
}

/// Checks that `file_name` is one plain path component.
pub(crate) fn check_file_name(file_name: &str) -> Result<(), SinkError> {
    let ok = !file_name.is_empty()
        && file_name != "."
        && file_name != ".."
        && file_name != HISTORY_DIR
        && !file_name.contains(['/', '\\', '\0'])
        && !file_name.chars().any(char::is_control);
    if ok {
        Ok(())
    } else {
        Err(SinkError::InvalidFileName {
            file_name: file_name.to_owned(),
        })
    }
}

/// The scheme of `value` when it starts with `scheme://`.
fn url_scheme(value: &str) -> Option<&str> {
    let (scheme, _) = value.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// A URL as it may appear in a message: any `user:password@` password is
/// dropped, as are the query and fragment (SAS tokens, signatures), and the
/// result goes through the redactor.
pub(crate) fn display_url(url: &str) -> String {
    let mut s = url.split(['?', '#']).next().unwrap_or(url).to_owned();
    if let Some(scheme_end) = s.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = s[auth_start..]
            .find('/')
            .map_or(s.len(), |i| auth_start + i);
        if let Some(at) = s[auth_start..auth_end].rfind('@') {
            let userinfo = &s[auth_start..auth_start + at];
            if let Some(colon) = userinfo.find(':') {
                s.replace_range(auth_start + colon..auth_start + at, "");
            }
        }
    }
    one_line(&s, 400)
}

/// Text fit for a one-line message: control characters become spaces, runs
/// of whitespace collapse, URL query strings are dropped, it is cut at `max`
/// characters, and it goes through [`crate::redact::redact_str`].
pub(crate) fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 3));
    let mut in_url_query = false;
    let mut last_space = false;
    let mut count = 0;
    for (i, c) in text.char_indices() {
        let c = if c.is_control() { ' ' } else { c };
        if c.is_whitespace() {
            in_url_query = false;
            if last_space || out.is_empty() {
                continue;
            }
            last_space = true;
        } else {
            last_space = false;
            if c == '?' && inside_url(&text[..i]) {
                in_url_query = true;
            }
            if in_url_query {
                continue;
            }
        }
        if count == max {
            out.push('…');
            break;
        }
        out.push(c);
        count += 1;
    }
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    crate::redact::redact_str(&out)
}

/// True when the last whitespace-separated word of `before` is a URL.
fn inside_url(before: &str) -> bool {
    let word = before.rsplit(char::is_whitespace).next().unwrap_or("");
    word.contains("://")
}

/// Seconds since the epoch of a file's modification time (0 if unknown).
pub(crate) fn mtime_secs(path: &Path) -> u64 {
    std::fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_dir_plain_paths_are_dirs() {
        for v in ["outputs/aws", "/tmp/x", "./a:b", "rel", "C:/x"] {
            assert_eq!(
                OutputTarget::from_output_dir(v).unwrap(),
                OutputTarget::Dir(PathBuf::from(v)),
                "{v}"
            );
        }
    }

    #[test]
    fn output_dir_accepted_schemes_are_objects() {
        for v in [
            "s3://bucket/prefix",
            "S3://bucket",
            "gs://bucket/a/b",
            "az://container/p",
            "azure://container/p",
            "abfss://container@account.dfs.core.windows.net/p",
            "file:///tmp/x",
            "memory://",
        ] {
            assert_eq!(
                OutputTarget::from_output_dir(v).unwrap(),
                OutputTarget::Object(v.to_owned()),
                "{v}"
            );
        }
    }

    #[test]
    fn output_dir_unknown_scheme_names_value_and_accepted_schemes() {
        let e = OutputTarget::from_output_dir("ftp://x").unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, SinkError::UnsupportedScheme { .. }));
        assert!(msg.starts_with("--output-dir ftp://x: "), "{msg}");
        assert!(msg.contains("`ftp://`"), "{msg}");
        for s in ["s3://", "gs://", "az://", "file://"] {
            assert!(msg.contains(s), "{msg}");
        }
        assert!(!msg.contains('\n'));
        // A password in the rejected value is not echoed.
        let msg = OutputTarget::from_output_dir("https://u:hunter2@h/x")
            .unwrap_err()
            .to_string();
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(OutputTarget::from_output_dir("").is_err());
    }

    #[test]
    fn output_flag() {
        assert_eq!(OutputTarget::from_output("-"), OutputTarget::Stdout);
        assert_eq!(
            OutputTarget::from_output("r.json"),
            OutputTarget::File(PathBuf::from("r.json"))
        );
    }

    #[test]
    fn run_ids_are_sanitized() {
        assert_eq!(
            sanitize_run_id("20261122T101500Z-3f9a"),
            "20261122T101500Z-3f9a"
        );
        assert_eq!(sanitize_run_id("../../etc"), "___.._etc");
        assert_eq!(sanitize_run_id(".."), "__");
        assert_eq!(sanitize_run_id("."), "_");
        assert_eq!(sanitize_run_id(""), "_");
        assert_eq!(sanitize_run_id("a/b\\c d\u{e9}"), "a_b_c_d_");
        assert_eq!(sanitize_run_id(&"x".repeat(500)).len(), 128);
        for id in ["../x", "..", "/abs", "a/../../b"] {
            let s = sanitize_run_id(id);
            assert!(!s.contains('/') && !s.starts_with('.'), "{id} -> {s}");
        }
    }

    #[test]
    fn history_ids() {
        assert_eq!(history_run_id(Some(br#"{"run_id":"r1"}"#), 5), "r1");
        assert_eq!(history_run_id(Some(br#"{"run_id":"../r"}"#), 5), "___r");
        assert_eq!(history_run_id(Some(b"{not json"), 5), "unknown-5");
        assert_eq!(history_run_id(Some(br#"{"run_id":""}"#), 5), "unknown-5");
        assert_eq!(history_run_id(Some(br#"{"run_id":7}"#), 5), "unknown-5");
        assert_eq!(history_run_id(None, 9), "unknown-9");
    }

    #[test]
    fn history_candidates() {
        assert_eq!(history_candidate("04_host.json", 0), "04_host.json");
        assert_eq!(history_candidate("04_host.json", 2), "04_host.2.json");
        assert_eq!(history_candidate("noext", 1), "noext.1");
        assert_eq!(history_candidate(".hidden", 1), ".hidden.1");
    }

    #[test]
    fn file_names_are_checked() {
        assert!(check_file_name("04_host_performance.json").is_ok());
        for bad in ["", ".", "..", "a/b", "../x", "history", "a\nb"] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn urls_in_messages_lose_passwords_and_queries() {
        assert_eq!(
            display_url("s3://key:secret@bucket/p?x=1"),
            "s3://key@bucket/p"
        );
        assert_eq!(
            display_url("abfss://c@acct.dfs.core.windows.net/p"),
            "abfss://c@acct.dfs.core.windows.net/p"
        );
        let msg = one_line(
            "Error performing PUT https://a.blob.core.windows.net/c/x?sv=1&sig=SECRET in 3s\n<xml>\n  body</xml>",
            400,
        );
        assert!(!msg.contains("SECRET") && !msg.contains('\n'), "{msg}");
        assert!(
            msg.contains("https://a.blob.core.windows.net/c/x in 3s <xml> body</xml>"),
            "{msg}"
        );
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
