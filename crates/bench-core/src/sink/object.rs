//! Object-store sink (feature `object-store`): `s3://`, `gs://`, `az://`
//! (`azure://`, `abfs://`, `abfss://`), `file://` and `memory://`.
//!
//! Stores are built from each provider's standard environment variables
//! (`AWS_*`, `GOOGLE_*`, `AZURE_*`, read as object_store's `from_env`
//! builders read them, but from the list the caller passes: the process
//! environment over `.e2b_env`); the URL gives the bucket/container and the
//! prefix under which files go.
//!
//! Without explicit credentials the providers' clients would ask the cloud's
//! instance metadata service (169.254.169.254) for instance-role
//! credentials. That network call is opt-in: [`INSTANCE_CREDENTIALS_VAR`]`=1`
//! allows it; otherwise opening fails at once, saying which variables to set. The [`Sink`] trait is synchronous, so
//! requests run on a current-thread tokio runtime owned by a dedicated worker
//! thread; callers only block on a channel, which works from plain threads
//! and from inside another tokio runtime alike. Every request has a hard
//! time limit on top of the HTTP client's own timeouts and retry budget.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
};
use url::Url;

use serde_json::Value;

use super::{
    HISTORY_DIR, Sink, SinkError, check_file_name, display_url, history_candidate, history_run_id,
    one_line, previous_run_id, render_json,
};

/// Per-request HTTP timeout (connect to end of body) unless the provider's
/// `*_TIMEOUT` variable says otherwise.
const REQUEST_TIMEOUT: &str = "30s";
/// TCP/TLS connect timeout unless `*_CONNECT_TIMEOUT` says otherwise.
const CONNECT_TIMEOUT: &str = "5s";
/// Retries of a failed request (object_store backs off exponentially).
const MAX_RETRIES: usize = 3;
/// No retry starts later than this after the first attempt.
const RETRY_BUDGET: Duration = Duration::from_secs(30);
/// Hard limit on one store call as seen by the caller, whatever the HTTP
/// stack does (timeouts × retries stay well inside it).
const CALL_LIMIT: Duration = Duration::from_secs(120);
/// How many numbered names are tried in one history slot.
const MAX_HISTORY_SUFFIX: u32 = 10_000;

static PROBE_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Set to `1` (environment or `.e2b_env`) to let a store without explicit
/// credentials fetch instance-role credentials from the cloud's metadata
/// service. Off by default: no metadata call happens unless asked for.
pub const INSTANCE_CREDENTIALS_VAR: &str = "E2B_BENCH_INSTANCE_CREDENTIALS";

/// Variables that carry explicit credentials, per provider (any one suffices).
const S3_CREDENTIAL_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_SKIP_SIGNATURE",
];
const GCS_CREDENTIAL_VARS: &[&str] = &[
    "GOOGLE_SERVICE_ACCOUNT",
    "GOOGLE_SERVICE_ACCOUNT_PATH",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SERVICE_ACCOUNT",
    "GOOGLE_SKIP_SIGNATURE",
];
const AZURE_CREDENTIAL_VARS: &[&str] = &[
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_MASTER_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_STORAGE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_STORAGE_USE_EMULATOR",
    "AZURE_USE_AZURE_CLI",
    "AZURE_SKIP_SIGNATURE",
];

/// The variables a store is configured from.
type EnvVars = [(String, String)];

fn owned<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    env.into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn env_get<'a>(env: &'a EnvVars, name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// Azurite's well-known development account and its published key (not a
/// secret), which object_store's emulator mode uses by default.
const AZURITE_ACCOUNT: &str = "devstoreaccount1";
const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// object_store's emulator mode reads `AZURITE_BLOB_STORAGE_URL` from the
/// process environment only, so one set in `.e2b_env` would be reported as
/// the endpoint but not used. With it in `env`, emulator mode becomes what
/// it stands for: a path-style endpoint `<url>/<account>` over plain HTTP,
/// Azurite's account and key unless others are given; store and report
/// then name the same server.
fn azurite_from_lookup(b: MicrosoftAzureBuilder, env: &EnvVars) -> MicrosoftAzureBuilder {
    let emulator = b
        .get_config_value(&AzureConfigKey::UseEmulator)
        .is_some_and(|v| v == "true" || v == "1");
    let Some(url) = env_get(env, "AZURITE_BLOB_STORAGE_URL").filter(|_| emulator) else {
        return b;
    };
    let account = b
        .get_config_value(&AzureConfigKey::AccountName)
        .unwrap_or_else(|| AZURITE_ACCOUNT.to_owned());
    let has_credential = [
        AzureConfigKey::AccessKey,
        AzureConfigKey::SasKey,
        AzureConfigKey::Token,
    ]
    .iter()
    .any(|k| b.get_config_value(k).is_some());
    let b = b
        .with_use_emulator(false)
        .with_endpoint(format!("{}/{account}", url.trim_end_matches('/')))
        .with_account(account)
        .with_allow_http(true);
    if has_credential {
        b
    } else {
        b.with_access_key(AZURITE_KEY)
    }
}

/// `(config key, value)` for every `PREFIX*` variable the provider knows,
/// exactly as object_store's `from_env` builders select them.
fn provider_config<'a, K: std::str::FromStr>(
    env: &'a EnvVars,
    prefix: &'a str,
) -> impl Iterator<Item = (K, &'a str)> + 'a {
    env.iter().filter_map(move |(k, v)| {
        let key = k
            .starts_with(prefix)
            .then(|| k.to_ascii_lowercase().parse().ok())??;
        Some((key, v.as_str()))
    })
}

/// Fails unless the provider has explicit credentials or the user opted in
/// to the instance metadata service.
fn require_credentials(p: &Parsed, env: &EnvVars) -> Result<(), SinkError> {
    let (vars, what): (&[&str], &'static str) = match p.provider {
        Provider::S3 => (
            S3_CREDENTIAL_VARS,
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_WEB_IDENTITY_TOKEN_FILE) in the environment or .e2b_env; on an instance with a role, set E2B_BENCH_INSTANCE_CREDENTIALS=1 to let the client ask the instance metadata service",
        ),
        Provider::Gcs => (
            GCS_CREDENTIAL_VARS,
            "set GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT in the environment or .e2b_env; on an instance with a service account, set E2B_BENCH_INSTANCE_CREDENTIALS=1 to let the client ask the instance metadata service",
        ),
        Provider::Azure => (
            AZURE_CREDENTIAL_VARS,
            "set AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_KEY (with AZURE_STORAGE_ACCOUNT_NAME) in the environment or .e2b_env; with a managed identity, set E2B_BENCH_INSTANCE_CREDENTIALS=1 to let the client ask the instance metadata service",
        ),
        Provider::Local | Provider::Memory => return Ok(()),
    };
    let explicit = vars.iter().any(|v| env_get(env, v).is_some());
    let opted_in = env_get(env, INSTANCE_CREDENTIALS_VAR)
        .is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let gcloud_adc = p.provider == Provider::Gcs
        && env_get(env, "HOME").is_some_and(|home| {
            std::path::Path::new(home)
                .join(".config/gcloud/application_default_credentials.json")
                .is_file()
        });
    if explicit || opted_in || gcloud_adc {
        Ok(())
    } else {
        Err(SinkError::Object {
            url: p.display.clone(),
            action: "find credentials",
            message: "no credentials in the environment".into(),
            hint: what,
        })
    }
}

/// The storage service behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    S3,
    Gcs,
    Azure,
    Local,
    Memory,
}

impl Provider {
    fn from_scheme(scheme: &str) -> Option<Self> {
        Some(match scheme {
            "s3" => Provider::S3,
            "gs" => Provider::Gcs,
            "az" | "azure" | "abfs" | "abfss" => Provider::Azure,
            "file" => Provider::Local,
            "memory" => Provider::Memory,
            _ => return None,
        })
    }

    /// What to check when a request fails.
    fn hint(self) -> &'static str {
        match self {
            Provider::S3 => {
                "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or the instance role), AWS_REGION, AWS_ENDPOINT_URL for S3-compatible stores, and that the bucket exists"
            }
            Provider::Gcs => {
                "check GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT (or the instance service account) and that the bucket exists"
            }
            Provider::Azure => {
                "check AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_KEY (or a managed identity) and that the container exists"
            }
            Provider::Local => "choose a writable directory",
            Provider::Memory => "memory:// is an in-process test store",
        }
    }
}

/// What a URL says: which provider, where files go, and how to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    provider: Provider,
    /// The URL handed to the provider's builder (query and fragment dropped).
    builder_url: String,
    /// Bucket or container (empty for file:// and memory://).
    bucket: String,
    /// Where files go inside the store.
    prefix: ObjectPath,
    /// Local directory of a file:// URL.
    local_dir: Option<PathBuf>,
    /// The URL as shown in messages and returned by `write`, no trailing `/`.
    display: String,
}

fn invalid(url: &str, reason: impl Into<String>) -> SinkError {
    SinkError::InvalidDestination {
        flag: "--output-dir",
        value: display_url(url),
        reason: reason.into(),
    }
}

fn parse(url: &str) -> Result<Parsed, SinkError> {
    let parsed = Url::parse(url).map_err(|e| {
        invalid(
            url,
            format!("not a valid URL ({e}); expected e.g. s3://bucket/prefix"),
        )
    })?;
    let scheme = parsed.scheme().to_owned();
    let provider = Provider::from_scheme(&scheme).ok_or_else(|| SinkError::UnsupportedScheme {
        value: display_url(url),
        scheme: scheme.clone(),
    })?;
    let host = parsed.host_str().unwrap_or("").to_owned();
    let mut builder_url = parsed.clone();
    builder_url.set_query(None);
    builder_url.set_fragment(None);
    let mut display = display_url(builder_url.as_str());
    while display.ends_with('/') && !display.ends_with("://") {
        display.pop();
    }
    let path_prefix = |p: &str| {
        ObjectPath::from_url_path(p)
            .map_err(|e| invalid(url, format!("invalid object prefix: {e}")))
    };
    let (bucket, prefix, local_dir) = match provider {
        Provider::S3 | Provider::Gcs | Provider::Azure => {
            if host.is_empty() {
                let what = if provider == Provider::Azure {
                    "container"
                } else {
                    "bucket"
                };
                return Err(invalid(
                    url,
                    format!("no {what} name; use {scheme}://{what}/optional/prefix"),
                ));
            }
            // abfs(s)://container@account.dfs.core.windows.net/...: the
            // container is the user part.
            let bucket = if provider == Provider::Azure && !parsed.username().is_empty() {
                parsed.username().to_owned()
            } else {
                host
            };
            (bucket, path_prefix(parsed.path())?, None)
        }
        Provider::Local => {
            let dir = parsed.to_file_path().map_err(|()| {
                invalid(
                    url,
                    "a file:// URL needs an absolute local path, e.g. file:///srv/results",
                )
            })?;
            display = format!("file://{}", dir.display());
            while display.ends_with('/') && !display.ends_with("://") {
                display.pop();
            }
            (String::new(), ObjectPath::default(), Some(dir))
        }
        Provider::Memory => {
            let prefix = path_prefix(&format!("{host}{}", parsed.path()))?;
            (String::new(), prefix, None)
        }
    };
    Ok(Parsed {
        provider,
        builder_url: builder_url.to_string(),
        bucket,
        prefix,
        local_dir,
        display,
    })
}

/// An object_store error on one line: its message and the distinct messages
/// of its sources (where "connection refused" hides), with an XML error body
/// reduced to its `Code: Message`, without query strings or secrets.
fn describe(e: &object_store::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    if let Some(start) = text.find("<?xml").or_else(|| text.find("<Error>")) {
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let from = text[start..].find(&open)? + start + open.len();
            let to = text[from..].find(&format!("</{name}>"))? + from;
            Some(
                text[from..to]
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_owned(),
            )
        };
        let summary = match (tag("Code"), tag("Message")) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c,
            _ => String::new(),
        };
        if !summary.is_empty() {
            let end = text[start..]
                .find("</Error>")
                .map_or(text.len(), |i| start + i + "</Error>".len());
            text.replace_range(start..end, &summary);
        }
    }
    one_line(&text, 600)
}

fn retry_config() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: MAX_RETRIES,
        retry_timeout: RETRY_BUDGET,
    }
}

/// Builds the store for `p`: provider environment, then the URL, then our
/// timeout and retry defaults, then `options` (provider config keys such as
/// `aws_endpoint`), which win.
fn build_store(
    p: &Parsed,
    options: &[(String, String)],
    env: &EnvVars,
) -> Result<Arc<dyn ObjectStore>, SinkError> {
    // Options name config keys (`aws_access_key_id`): as variables they
    // count as credentials too.
    let with_options: Vec<(String, String)> = env
        .iter()
        .cloned()
        .chain(
            options
                .iter()
                .map(|(k, v)| (k.to_ascii_uppercase(), v.clone())),
        )
        .collect();
    let env_set = |name: &str| env_get(env, name).is_some();
    let build_err = |e: object_store::Error| SinkError::Object {
        url: p.display.clone(),
        action: "configure the store",
        message: describe(&e),
        hint: p.provider.hint(),
    };
    let option_err = |key: &str| {
        invalid(
            &p.display,
            format!("unknown storage option `{key}` for this provider"),
        )
    };
    match p.provider {
        Provider::S3 => {
            crate::tls::install_crypto_provider();
            let mut b = provider_config::<AmazonS3ConfigKey>(env, "AWS_")
                .fold(AmazonS3Builder::new(), |b, (k, v)| b.with_config(k, v))
                .with_url(&p.builder_url)
                .with_retry(retry_config());
            if !env_set("AWS_TIMEOUT") {
                b = b.with_config(
                    AmazonS3ConfigKey::Client(ClientConfigKey::Timeout),
                    REQUEST_TIMEOUT,
                );
            }
            if !env_set("AWS_CONNECT_TIMEOUT") {
                b = b.with_config(
                    AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout),
                    CONNECT_TIMEOUT,
                );
            }
            let mut allow_http_set = env_set("AWS_ALLOW_HTTP");
            for (k, v) in options {
                let key: AmazonS3ConfigKey =
                    k.to_ascii_lowercase().parse().map_err(|_| option_err(k))?;
                allow_http_set |= key == AmazonS3ConfigKey::Client(ClientConfigKey::AllowHttp);
                b = b.with_config(key, v);
            }
            // An explicit http:// endpoint (AWS_ENDPOINT_URL, e.g. MinIO or
            // moto) implies plain HTTP unless AWS_ALLOW_HTTP says otherwise.
            let endpoint = b
                .get_config_value(&AmazonS3ConfigKey::S3Endpoint)
                .or_else(|| b.get_config_value(&AmazonS3ConfigKey::Endpoint));
            if !allow_http_set && endpoint.is_some_and(|e| e.starts_with("http://")) {
                b = b.with_allow_http(true);
            }
            require_credentials(p, &with_options)?;
            Ok(Arc::new(b.build().map_err(build_err)?))
        }
        Provider::Gcs => {
            crate::tls::install_crypto_provider();
            let mut b = provider_config::<GoogleConfigKey>(env, "GOOGLE_")
                .fold(GoogleCloudStorageBuilder::new(), |b, (k, v)| {
                    b.with_config(k, v)
                })
                .with_url(&p.builder_url)
                .with_retry(retry_config());
            if !env_set("GOOGLE_TIMEOUT") {
                b = b.with_config(
                    GoogleConfigKey::Client(ClientConfigKey::Timeout),
                    REQUEST_TIMEOUT,
                );
            }
            if !env_set("GOOGLE_CONNECT_TIMEOUT") {
                b = b.with_config(
                    GoogleConfigKey::Client(ClientConfigKey::ConnectTimeout),
                    CONNECT_TIMEOUT,
                );
            }
            for (k, v) in options {
                let key: GoogleConfigKey =
                    k.to_ascii_lowercase().parse().map_err(|_| option_err(k))?;
                b = b.with_config(key, v);
            }
            require_credentials(p, &with_options)?;
            Ok(Arc::new(b.build().map_err(build_err)?))
        }
        Provider::Azure => {
            crate::tls::install_crypto_provider();
            let mut b = provider_config::<AzureConfigKey>(env, "AZURE_")
                .fold(MicrosoftAzureBuilder::new(), |b, (k, v)| {
                    b.with_config(k, v)
                })
                .with_url(&p.builder_url)
                .with_retry(retry_config());
            if !env_set("AZURE_TIMEOUT") {
                b = b.with_config(
                    AzureConfigKey::Client(ClientConfigKey::Timeout),
                    REQUEST_TIMEOUT,
                );
            }
            if !env_set("AZURE_CONNECT_TIMEOUT") {
                b = b.with_config(
                    AzureConfigKey::Client(ClientConfigKey::ConnectTimeout),
                    CONNECT_TIMEOUT,
                );
            }
            for (k, v) in options {
                let key: AzureConfigKey =
                    k.to_ascii_lowercase().parse().map_err(|_| option_err(k))?;
                b = b.with_config(key, v);
            }
            let b = azurite_from_lookup(b, env);
            require_credentials(p, &with_options)?;
            Ok(Arc::new(b.build().map_err(build_err)?))
        }
        Provider::Local => {
            let dir = p
                .local_dir
                .as_ref()
                .expect("file:// URLs carry a directory");
            std::fs::create_dir_all(dir).map_err(|source| SinkError::CreateDir {
                flag: "--output-dir",
                path: dir.clone(),
                source,
            })?;
            let fs = LocalFileSystem::new_with_prefix(dir)
                .map_err(build_err)?
                .with_fsync(true);
            Ok(Arc::new(fs))
        }
        Provider::Memory => Ok(Arc::new(InMemory::new())),
    }
}

/// An object store opened for a probe that measures the store itself
/// (`bench-host storage`): built exactly as the sinks build theirs (provider
/// environment through object_store's config keys, then the URL, then our
/// timeouts and retries, then `options`), with no request made yet.
#[derive(Debug, Clone)]
pub struct OpenedStore {
    /// The store.
    pub store: Arc<dyn ObjectStore>,
    /// `s3`, `gcs`, `azure`, `file` or `memory`.
    pub backend: &'static str,
    /// Bucket or container (empty for file:// and memory://).
    pub bucket: String,
    /// The prefix inside the store the URL names.
    pub prefix: ObjectPath,
    /// The URL for messages (no credentials, no trailing `/`).
    pub display: String,
    /// The configured region (S3), if any.
    pub region: Option<String>,
    /// The configured endpoint (S3, Azure, GCS base URL), if any.
    pub endpoint: Option<String>,
    /// The local directory of a file:// URL (object keys are paths under it).
    pub local_dir: Option<PathBuf>,
}

/// Opens the store a URL names without touching it: `flag` is the flag the
/// URL came from (for messages), `options` are provider config keys
/// (`aws_endpoint`, `azure_storage_endpoint`, `google_base_url`) that win
/// over `env` (normally the process environment over `.e2b_env`). Missing
/// credentials fail here, before any request ([`INSTANCE_CREDENTIALS_VAR`]).
pub fn open_store<'a>(
    url: &str,
    flag: &'static str,
    options: &[(String, String)],
    env: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<OpenedStore, SinkError> {
    let env = owned(env);
    let p = parse(url).map_err(|e| match e {
        SinkError::InvalidDestination { value, reason, .. } => SinkError::InvalidDestination {
            flag,
            value,
            reason,
        },
        SinkError::UnsupportedScheme { value, scheme } => SinkError::InvalidDestination {
            flag,
            value,
            reason: format!(
                "unsupported scheme `{scheme}://`; use s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or file:///dir"
            ),
        },
        other => other,
    })?;
    let store = build_store(&p, options, &env)?;
    let (region, endpoint) = store_details(&p, options, &env);
    Ok(OpenedStore {
        store,
        backend: match p.provider {
            Provider::S3 => "s3",
            Provider::Gcs => "gcs",
            Provider::Azure => "azure",
            Provider::Local => "file",
            Provider::Memory => "memory",
        },
        bucket: p.bucket.clone(),
        prefix: p.prefix.clone(),
        display: p.display.clone(),
        region,
        endpoint,
        local_dir: p.local_dir.clone(),
    })
}

/// The region and endpoint the store was configured with, read back from a
/// builder configured the same way (no secrets: only these two keys).
fn store_details(
    p: &Parsed,
    options: &[(String, String)],
    env: &EnvVars,
) -> (Option<String>, Option<String>) {
    let option = |names: &[&str]| {
        options
            .iter()
            .rev()
            .find(|(k, _)| names.contains(&k.to_ascii_lowercase().as_str()))
            .map(|(_, v)| v.clone())
    };
    match p.provider {
        Provider::S3 => {
            let b = provider_config::<AmazonS3ConfigKey>(env, "AWS_")
                .fold(AmazonS3Builder::new(), |b, (k, v)| b.with_config(k, v))
                .with_url(&p.builder_url);
            let region = option(&["aws_region", "region"])
                .or_else(|| b.get_config_value(&AmazonS3ConfigKey::Region))
                .or_else(|| Some("us-east-1".to_owned()));
            let endpoint = option(&["aws_endpoint", "aws_endpoint_url", "endpoint"])
                .or_else(|| b.get_config_value(&AmazonS3ConfigKey::Endpoint));
            (region, endpoint.map(|e| display_url(&e)))
        }
        Provider::Azure => {
            let b = provider_config::<AzureConfigKey>(env, "AZURE_")
                .fold(MicrosoftAzureBuilder::new(), |b, (k, v)| {
                    b.with_config(k, v)
                })
                .with_url(&p.builder_url);
            let b = azurite_from_lookup(b, env);
            let emulator = b
                .get_config_value(&AzureConfigKey::UseEmulator)
                .is_some_and(|v| v == "true" || v == "1");
            let endpoint = option(&["azure_storage_endpoint", "azure_endpoint", "endpoint"])
                .or_else(|| b.get_config_value(&AzureConfigKey::Endpoint))
                .or_else(|| {
                    emulator.then(|| {
                        env_get(env, "AZURITE_BLOB_STORAGE_URL")
                            .unwrap_or("http://127.0.0.1:10000")
                            .to_owned()
                    })
                });
            (None, endpoint.map(|e| display_url(&e)))
        }
        Provider::Gcs => {
            let b = provider_config::<GoogleConfigKey>(env, "GOOGLE_")
                .fold(GoogleCloudStorageBuilder::new(), |b, (k, v)| {
                    b.with_config(k, v)
                });
            let endpoint = option(&["google_base_url", "base_url"])
                .or_else(|| b.get_config_value(&GoogleConfigKey::BaseUrl));
            (None, endpoint.map(|e| display_url(&e)))
        }
        Provider::Local | Provider::Memory => (None, None),
    }
}

/// An object_store error on one line (sources included, XML error bodies
/// reduced to `Code: Message`, no query strings or secrets), as the sinks
/// report them.
pub fn describe_error(e: &object_store::Error) -> String {
    describe(e)
}

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A thread that owns a current-thread tokio runtime and runs one job at a
/// time. Dropping it ends the thread once its current job is done.
#[derive(Debug)]
struct Worker {
    jobs: mpsc::Sender<Job>,
}

enum CallError {
    TimedOut,
    Stopped,
}

impl Worker {
    fn start() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("e2b-bench-sink".to_owned())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    runtime.block_on(job);
                }
            })?;
        Ok(Worker { jobs })
    }

    /// Runs `fut` on the worker and waits for it at most `limit`.
    fn call<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
        limit: Duration,
    ) -> Result<T, CallError> {
        let (tx, rx) = mpsc::sync_channel(1);
        let job: Job = Box::pin(async move {
            let _ = tx.send(fut.await);
        });
        self.jobs.send(job).map_err(|_| CallError::Stopped)?;
        rx.recv_timeout(limit).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => CallError::TimedOut,
            mpsc::RecvTimeoutError::Disconnected => CallError::Stopped,
        })
    }
}

/// Writes result documents under an object-store prefix, keeping an earlier
/// object of another run under `<prefix>/history/<run_id>/`.
#[derive(Debug)]
pub struct ObjectSink {
    parsed: Parsed,
    store: Arc<dyn ObjectStore>,
    worker: Worker,
    /// Serializes writes so history copies of one file cannot interleave.
    lock: Mutex<()>,
}

impl ObjectSink {
    /// Builds the store for `url` from the process environment and proves
    /// the prefix writable (put, head and delete of a probe object).
    pub fn open(url: &str) -> Result<Self, SinkError> {
        Self::open_with_options(url, std::iter::empty::<(String, String)>())
    }

    /// Like [`open`](Self::open), configured from `env` (e.g. the process
    /// environment over `.e2b_env`) instead of the process environment.
    pub fn open_with_env<'a>(
        url: &str,
        env: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, SinkError> {
        Self::open_configured(url, &[], &owned(env), true)
    }

    /// Like [`open_with_env`](Self::open_with_env) for a reader (bench-report):
    /// no probe object is written, so read-only credentials are enough. The
    /// first [`list`](Self::list) or [`read`](Self::read) shows whether the
    /// store is reachable.
    pub fn open_for_reading_with_env<'a>(
        url: &str,
        env: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, SinkError> {
        Self::open_configured(url, &[], &owned(env), false)
    }

    /// Like [`open`](Self::open), with provider configuration keys applied
    /// after the environment — the keys of object_store's
    /// `AmazonS3ConfigKey`, `GoogleConfigKey` or `AzureConfigKey`, e.g.
    /// `("aws_endpoint", "http://127.0.0.1:9000")`.
    pub fn open_with_options<K, V>(
        url: &str,
        options: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, SinkError>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let options: Vec<(String, String)> = options
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::open_configured(url, &options, &env, true)
    }

    fn open_configured(
        url: &str,
        options: &[(String, String)],
        env: &EnvVars,
        probe: bool,
    ) -> Result<Self, SinkError> {
        let parsed = parse(url)?;
        let store = build_store(&parsed, options, env)?;
        let worker = Worker::start().map_err(|e| SinkError::Object {
            url: parsed.display.clone(),
            action: "start the object-store worker thread",
            message: e.to_string(),
            hint: "the process may be out of threads or memory",
        })?;
        let sink = ObjectSink {
            parsed,
            store,
            worker,
            lock: Mutex::new(()),
        };
        if probe {
            sink.probe()?;
        }
        Ok(sink)
    }

    /// Writes, checks and removes a probe object.
    fn probe(&self) -> Result<(), SinkError> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            ".e2b-bench-probe-{}-{nanos}-{}",
            std::process::id(),
            PROBE_COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let key = self.parsed.prefix.clone().join(name.as_str());
        let store = self.store.clone();
        let k = key.clone();
        self.run("write a probe object", &name, async move {
            store.put(&k, PutPayload::from_static(b"probe\n")).await
        })?;
        let store = self.store.clone();
        let k = key.clone();
        self.run("read back a probe object", &name, async move {
            store.head(&k).await
        })?;
        let store = self.store.clone();
        if let Err(e) = self.run("delete a probe object", &name, async move {
            store.delete(&key).await
        }) {
            // Writing is what matters; a store that forbids deletes keeps
            // one small probe object.
            tracing::warn!("{e}");
        }
        Ok(())
    }

    /// Runs one store request on the worker, mapping its errors.
    fn run<T: Send + 'static>(
        &self,
        action: &'static str,
        relative: &str,
        fut: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> Result<T, SinkError> {
        let url = self.url_of(relative);
        match self.worker.call(fut, CALL_LIMIT) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(SinkError::Object {
                url,
                action,
                message: describe(&e),
                hint: self.parsed.provider.hint(),
            }),
            Err(CallError::TimedOut) => Err(SinkError::Timeout {
                url,
                action,
                secs: CALL_LIMIT.as_secs(),
            }),
            Err(CallError::Stopped) => Err(SinkError::Object {
                url,
                action,
                message: "the object-store worker thread stopped".to_owned(),
                hint: "this is a bug, please report it",
            }),
        }
    }

    /// The object key of a path relative to the prefix (`a/b/c.json`).
    fn key(&self, relative: &str) -> ObjectPath {
        relative
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(self.parsed.prefix.clone(), |p, part| p.join(part))
    }

    /// The URL of a path relative to the prefix.
    fn url_of(&self, relative: &str) -> String {
        if relative.is_empty() {
            self.parsed.display.clone()
        } else if self.parsed.display.ends_with("://") {
            format!("{}{relative}", self.parsed.display)
        } else {
            format!("{}/{relative}", self.parsed.display)
        }
    }

    /// Reads an object by its path relative to the prefix (e.g.
    /// `04_host_performance.json` or `history/<run_id>/04_host_performance.json`);
    /// `None` when it does not exist.
    pub fn read(&self, relative: &str) -> Result<Option<Vec<u8>>, SinkError> {
        let store = self.store.clone();
        let key = self.key(relative);
        self.run("read", relative, async move {
            match store.get(&key).await {
                Ok(r) => Ok(Some(r.bytes().await?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// Every object under the prefix, as sorted paths relative to it.
    pub fn list(&self) -> Result<Vec<String>, SinkError> {
        let store = self.store.clone();
        let prefix = self.parsed.prefix.clone();
        let found = self.run("list", "", async move {
            let mut found = Vec::new();
            let mut pending = vec![prefix.clone()];
            while let Some(dir) = pending.pop() {
                let at = (dir.parts().count() > 0).then_some(&dir);
                let listing = store.list_with_delimiter(at).await?;
                pending.extend(listing.common_prefixes);
                found.extend(listing.objects.into_iter().map(|m| m.location));
            }
            Ok(found)
        })?;
        let mut relative: Vec<String> = found
            .iter()
            .filter_map(|location| {
                let parts = location.prefix_match(&self.parsed.prefix)?;
                Some(
                    parts
                        .map(|p| p.as_ref().to_owned())
                        .collect::<Vec<_>>()
                        .join("/"),
                )
            })
            .collect();
        relative.sort();
        Ok(relative)
    }

    /// Bucket or container name (empty for `file://` and `memory://`).
    pub fn bucket(&self) -> &str {
        &self.parsed.bucket
    }

    /// The prefix inside the store under which files go (`""` for none).
    pub fn prefix(&self) -> String {
        self.parsed.prefix.to_string()
    }
}

impl Sink for ObjectSink {
    fn write_json(&self, file_name: &str, value: &Value) -> Result<String, SinkError> {
        check_file_name(file_name)?;
        let (bytes, run_id) = render_json(value)?;
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let key = self.key(file_name);

        let store = self.store.clone();
        let k = key.clone();
        let previous = self.run("read the earlier result", file_name, async move {
            match store.get(&k).await {
                Ok(r) => {
                    let modified = r.meta.last_modified.timestamp().max(0).unsigned_abs();
                    Ok(Some((r.bytes().await?.to_vec(), modified)))
                }
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;

        if let Some((old, modified)) = previous
            && previous_run_id(&old).as_deref() != Some(run_id.as_str())
        {
            self.keep_in_history(file_name, &history_run_id(Some(&old), modified), old)?;
        }

        let store = self.store.clone();
        let payload = PutPayload::from(bytes);
        self.run(
            "write",
            file_name,
            async move { store.put(&key, payload).await },
        )?;
        Ok(self.url_of(file_name))
    }

    fn location(&self) -> String {
        self.parsed.display.clone()
    }
}

impl ObjectSink {
    /// Stores `old` as `history/<id>/<file_name>` (or a free numbered name).
    fn keep_in_history(&self, file_name: &str, id: &str, old: Vec<u8>) -> Result<(), SinkError> {
        for n in 0..MAX_HISTORY_SUFFIX {
            let relative = format!("{HISTORY_DIR}/{id}/{}", history_candidate(file_name, n));
            let slot = self.key(&relative);
            let store = self.store.clone();
            let exists = self.run("check the history slot", &relative, async move {
                match store.head(&slot).await {
                    Ok(_) => Ok(true),
                    Err(object_store::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e),
                }
            })?;
            if exists {
                continue;
            }
            let store = self.store.clone();
            let slot = self.key(&relative);
            let payload = PutPayload::from(old);
            self.run(
                "keep the earlier result in history",
                &relative,
                async move { store.put(&slot, payload).await },
            )?;
            return Ok(());
        }
        Err(SinkError::Object {
            url: self.url_of(&format!("{HISTORY_DIR}/{id}")),
            action: "keep the earlier result in history",
            message: format!("{MAX_HISTORY_SUFFIX} earlier copies already there"),
            hint: "move old history away",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let p = parse("s3://bucket/some/prefix/").unwrap();
        assert_eq!(p.provider, Provider::S3);
        assert_eq!(p.bucket, "bucket");
        assert_eq!(p.prefix.as_ref(), "some/prefix");
        assert_eq!(p.display, "s3://bucket/some/prefix");

        let p = parse("gs://b").unwrap();
        assert_eq!(
            (p.provider, p.bucket.as_str(), p.prefix.as_ref()),
            (Provider::Gcs, "b", "")
        );
        assert_eq!(p.display, "gs://b");

        let p = parse("gs://my-bucket/runs/aws%20x?ignored=1").unwrap();
        assert_eq!(p.prefix.as_ref(), "runs/aws x");
        assert_eq!(p.builder_url, "gs://my-bucket/runs/aws%20x");
        assert_eq!(p.display, "gs://my-bucket/runs/aws%20x");

        for u in ["az://c/p", "azure://c/p", "abfs://c/p"] {
            let p = parse(u).unwrap();
            assert_eq!(
                (p.provider, p.bucket.as_str(), p.prefix.as_ref()),
                (Provider::Azure, "c", "p"),
                "{u}"
            );
        }
        let p = parse("abfss://cont@acct.dfs.core.windows.net/x/y").unwrap();
        assert_eq!((p.bucket.as_str(), p.prefix.as_ref()), ("cont", "x/y"));

        let p = parse("memory://scratch/a").unwrap();
        assert_eq!(
            (p.provider, p.prefix.as_ref()),
            (Provider::Memory, "scratch/a")
        );
        let p = parse("memory://").unwrap();
        assert_eq!(p.prefix.as_ref(), "");

        let p = parse("file:///tmp/e2b/out/").unwrap();
        assert_eq!(p.local_dir, Some(PathBuf::from("/tmp/e2b/out/")));
        assert_eq!(p.display, "file:///tmp/e2b/out");
    }

    #[test]
    fn rejects_bad_urls_with_one_line() {
        for u in [
            "s3:///prefix",
            "gs://",
            "az:///x",
            "file://remotehost/x",
            "ftp://h/x",
        ] {
            let e = parse(u).unwrap_err().to_string();
            assert!(e.contains("--output-dir"), "{u}: {e}");
            assert!(!e.contains('\n'), "{u}: {e}");
        }
        let e = parse("gs:///p").unwrap_err().to_string();
        assert!(e.contains("no bucket name"), "{e}");
    }

    #[test]
    fn gcs_store_builds_without_network() {
        // An explicit key with OAuth disabled: build() must not touch the
        // network; the probe then fails fast against a closed port with a
        // one-line message naming the URL and what to check.
        let key = r#"{"gcs_base_url":"http://127.0.0.1:9","disable_oauth":true,"client_email":"","private_key":"","private_key_id":""}"#;
        let p = parse("gs://bucket/prefix").unwrap();
        let store = build_store(
            &p,
            &[("google_service_account_key".into(), key.into())],
            &[],
        );
        assert!(store.is_ok());
        let started = std::time::Instant::now();
        let e = ObjectSink::open_with_options(
            "gs://bucket/prefix",
            [("google_service_account_key", key)],
        )
        .expect_err("nothing listens on port 9");
        let msg = e.to_string();
        assert!(
            msg.starts_with("gs://bucket/prefix/.e2b-bench-probe-"),
            "{msg}"
        );
        assert!(msg.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn instance_metadata_needs_an_explicit_opt_in() {
        for url in ["s3://bucket/x", "gs://bucket/x", "az://container/x"] {
            let p = parse(url).unwrap();
            let e = require_credentials(&p, &vars(&[("HOME", "/nonexistent")]))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with(&format!("{url}: find credentials failed")),
                "{e}"
            );
            assert!(e.contains(INSTANCE_CREDENTIALS_VAR), "{e}");
            assert!(!e.contains('\n'), "{e}");
            let opted_in = vars(&[(INSTANCE_CREDENTIALS_VAR, "1")]);
            assert!(require_credentials(&p, &opted_in).is_ok(), "{url}");
            let off = vars(&[(INSTANCE_CREDENTIALS_VAR, "0")]);
            assert!(require_credentials(&p, &off).is_err(), "{url}");
        }
        let s3 = parse("s3://bucket/x").unwrap();
        assert!(require_credentials(&s3, &vars(&[("AWS_ACCESS_KEY_ID", "a")])).is_ok());
        assert!(require_credentials(&s3, &vars(&[("AWS_ACCESS_KEY_ID", "")])).is_err());
        let az = parse("az://container/x").unwrap();
        assert!(require_credentials(&az, &vars(&[("AZURE_STORAGE_USE_EMULATOR", "true")])).is_ok());
        for url in ["file:///tmp/x", "memory:///x"] {
            assert!(require_credentials(&parse(url).unwrap(), &[]).is_ok());
        }
    }

    #[test]
    fn stores_are_configured_from_the_given_variables_only() {
        // No credentials in the list: refused before any request, whatever
        // the process environment holds.
        let started = std::time::Instant::now();
        let e = ObjectSink::open_with_env("s3://bucket/x", [("HOME", "/nonexistent")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("find credentials failed"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(1));
        // Credentials and endpoint from the list (as from .e2b_env) are used:
        // the failure is now the probe against the closed loopback port.
        let e = ObjectSink::open_with_env(
            "s3://bucket/x",
            [
                ("AWS_ACCESS_KEY_ID", "id"),
                ("AWS_SECRET_ACCESS_KEY", "zq-listed-secret"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                ("AWS_MAX_RETRIES", "0"),
            ],
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("s3://bucket/x/.e2b-bench-probe-"), "{e}");
        assert!(!e.contains("zq-listed-secret"), "{e}");
    }

    #[test]
    fn open_store_names_the_flag_and_reads_back_region_and_endpoint() {
        let e = open_store("ftp://h/x", "--url", &[], [])
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--url ftp://h/x: unsupported scheme `ftp://`"),
            "{e}"
        );
        let e = open_store("s3:///x", "--url", &[], [])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--url s3:///x: no bucket name"), "{e}");
        let e = open_store("s3://b/x", "--url", &[], [("HOME", "/nonexistent")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("find credentials failed"), "{e}");
        let s3 = open_store(
            "s3://b/some/prefix",
            "--url",
            &[("aws_endpoint".into(), "http://127.0.0.1:9".into())],
            [
                ("AWS_ACCESS_KEY_ID", "id"),
                ("AWS_SECRET_ACCESS_KEY", "zq-secret"),
                ("AWS_REGION", "eu-west-1"),
            ],
        )
        .unwrap();
        assert_eq!(
            (s3.backend, s3.bucket.as_str(), s3.prefix.as_ref()),
            ("s3", "b", "some/prefix")
        );
        assert_eq!(s3.region.as_deref(), Some("eu-west-1"));
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        let az = open_store(
            "az://c/p",
            "--url",
            &[],
            [("AZURE_STORAGE_USE_EMULATOR", "true")],
        )
        .unwrap();
        assert_eq!(az.backend, "azure");
        assert_eq!(az.endpoint.as_deref(), Some("http://127.0.0.1:10000"));
        let dir = tempfile::tempdir().unwrap();
        let local = open_store(
            &format!("file://{}", dir.path().display()),
            "--url",
            &[],
            [],
        )
        .unwrap();
        assert_eq!(local.local_dir.as_deref(), Some(dir.path()));
        assert_eq!((local.region, local.endpoint), (None, None));
    }

    #[test]
    fn xml_error_bodies_are_summarized() {
        let e = object_store::Error::Generic {
            store: "S3",
            source: "Error performing PUT http://h/b/k?X-Amz-Signature=abc in 6ms - 404 Not Found: <?xml version=\"1.0\"?>\n<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist\nRequestId: 1</Message></Error> trailing".into(),
        };
        let msg = describe(&e);
        assert_eq!(
            msg,
            "Generic S3 error: Error performing PUT http://h/b/k in 6ms - 404 Not Found: NoSuchBucket: The specified bucket does not exist trailing"
        );
    }

    #[test]
    fn unknown_options_are_rejected() {
        let e = ObjectSink::open_with_options("s3://b/p", [("no_such_option", "1")])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("no_such_option"), "{e}");
    }

    #[test]
    fn a_hung_call_times_out() {
        let worker = Worker::start().unwrap();
        let started = std::time::Instant::now();
        let r = worker.call(std::future::pending::<()>(), Duration::from_millis(200));
        assert!(matches!(r, Err(CallError::TimedOut)));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn works_inside_a_tokio_runtime() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let sink = ObjectSink::open("memory://p").unwrap();
            assert_eq!(sink.list().unwrap(), Vec::<String>::new());
        });
    }
}
