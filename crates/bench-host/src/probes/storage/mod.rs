//! Cloud object storage probe: what the cloud's bucket does to the requests
//! a self-hosted E2B node makes when it pulls template chunks.
//!
//! Small-object PUT latency and GET time-to-first-byte, whole-object
//! throughput (multipart upload for large objects), LIST latency, and the
//! read pattern E2B uses for template chunks: ranged GETs of 4 MiB from a
//! large object at several concurrencies. The store is built the way
//! bench-core's sinks build theirs ([`bench_core::sink::open_store`]:
//! credentials from each provider's standard environment, no metadata
//! service unless opted in).
//!
//! Every object lives under a unique run prefix
//! (`<prefix>/e2b-bench-<run_id>-<random>/`) that is deleted at the end,
//! also after an error or Ctrl-C; an in-flight multipart upload is aborted.
//! A prefix that could not be removed is an `errors` entry naming it.

mod measure;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bench_core::contract;
use bench_core::exit::Failure;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::settings::Settings;
use bench_core::sink::OpenedStore;
use bench_core::units::{format_size, parse_size};
use object_store::path::Path as ObjectPath;
use serde_json::{Value, json};

const NAME: &str = "storage";

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;

/// S3's smallest multipart part (all but the last).
const S3_MIN_PART: u64 = 5 * MIB;
const MAX_COUNT: u32 = 100_000;
const MAX_CONCURRENCY: usize = 1024;
/// Largest object the probe will create (it is held as a repeated block).
const MAX_OBJECT: u64 = 64 << 30;

/// The cloud storage document (contract: `05_cloud_storage.json`, suite
/// `cloud_storage`), which `bench-host storage` writes.
pub fn suite(quick: bool) -> bench_core::suite::Suite {
    bench_core::suite::Suite {
        file_name: contract::file::CLOUD_STORAGE.into(),
        name: contract::suite::CLOUD_STORAGE.into(),
        parameters: std::collections::BTreeMap::from([("quick".into(), json!(quick))]),
    }
}

/// Flags of the storage probe.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StorageArgs {
    /// Bucket (and prefix) to measure: s3://bucket/prefix, gs://bucket/prefix,
    /// az://container/prefix or file:///dir [default: $STORAGE_URL, else
    /// s3://$S3_BUCKET]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Endpoint of an S3-compatible server (MinIO, Ceph, ...), an Azure blob
    /// endpoint or a GCS base URL [default: from AWS_ENDPOINT_URL,
    /// AZURE_STORAGE_ENDPOINT, ...]
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Small-object PUTs and GETs to time [default: 100, --quick: 10]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub iterations: Option<String>,
    /// Size of the small objects [default: 1k]
    #[arg(long, value_name = "SIZE")]
    pub small_size: Option<String>,
    /// Whole-object throughput sizes, comma-separated [default: 1M,64M,
    /// --quick: 1M,8M]
    #[arg(long, value_name = "SIZES")]
    pub sizes: Option<String>,
    /// PUT + GET rounds per throughput size [default: 5, --quick: 2]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub transfers: Option<String>,
    /// Multipart part size; larger objects are uploaded in parts [default:
    /// 8M, --quick: 5M]
    #[arg(long, value_name = "SIZE")]
    pub part_size: Option<String>,
    /// Object the ranged reads come from [default: 256M, --quick: 16M]
    #[arg(long, value_name = "SIZE")]
    pub range_object_size: Option<String>,
    /// Bytes per ranged GET (E2B reads template chunks of 4 MiB) [default:
    /// 4M, --quick: 1M]
    #[arg(long, value_name = "SIZE")]
    pub chunk_size: Option<String>,
    /// Concurrent ranged GETs, comma-separated [default: 1,8,32]
    #[arg(long, value_name = "LIST")]
    pub concurrency: Option<String>,
    /// Ranged GETs per round at each concurrency [default: max(16, 2 ×
    /// concurrency), --quick: max(8, 2 × concurrency)]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub range_reads: Option<String>,
    /// Rounds per concurrency (throughput is measured per round; 5 or more
    /// let the report test a throughput difference) [default: 5, --quick: 1]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub range_rounds: Option<String>,
    /// LIST requests to time [default: 20, --quick: 5]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub list_iterations: Option<String>,
    /// Read-only: measure GETs and ranged reads of this existing object
    /// (a key under the URL's prefix, e.g. a template memfile) and LIST its
    /// prefix; nothing is written
    #[arg(long, value_name = "KEY")]
    pub existing_object: Option<String>,
}

/// What the probe was asked to do, validated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub iterations: u32,
    pub small_size: u64,
    pub sizes: Vec<u64>,
    pub transfers: u32,
    pub part_size: u64,
    pub range_object_size: u64,
    pub chunk_size: u64,
    pub concurrency: Vec<usize>,
    /// Reads per round; None = max(min, 2 × concurrency).
    pub range_reads: Option<u32>,
    pub min_range_reads: u32,
    pub range_rounds: u32,
    pub list_iterations: u32,
    pub existing_object: Option<String>,
}

impl Plan {
    pub(crate) fn reads_per_round(&self, concurrency: usize) -> u32 {
        self.range_reads.unwrap_or_else(|| {
            self.min_range_reads
                .max(u32::try_from(concurrency.saturating_mul(2)).unwrap_or(u32::MAX))
        })
    }
}

/// Why there is nothing to measure without a URL, and what to do.
pub const NO_URL: &str = "storage: no bucket to measure; pass --url s3://bucket/prefix (or gs://, az://, file://) or set STORAGE_URL (or S3_BUCKET) in the environment or .e2b_env";

impl StorageArgs {
    /// The bucket URL: `--url`, else `STORAGE_URL`, else `s3://$S3_BUCKET`
    /// (contract); `None` when none is set.
    pub fn url(&self, settings: &Settings) -> Option<String> {
        match (
            &self.url,
            settings.env.get("STORAGE_URL"),
            settings.env.get("S3_BUCKET"),
        ) {
            (Some(u), _, _) => Some(u.trim().to_owned()),
            (None, Some(u), _) if !u.trim().is_empty() => Some(u.trim().to_owned()),
            (None, _, Some(b)) if !b.trim().is_empty() => Some(format!("s3://{}", b.trim())),
            _ => None,
        }
    }
}

impl ProbeArgs for StorageArgs {
    fn build(&self, quick: bool, settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        let plan = self.plan(quick)?;
        let Some(url) = self.url(settings) else {
            return Err(Failure::usage(NO_URL));
        };
        if url.is_empty() {
            return Err(Failure::usage(
                "--url: empty value; use e.g. s3://bucket/prefix",
            ));
        }
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        let options = endpoint_options(scheme.as_deref(), self.endpoint.as_deref())?;
        let opened = bench_core::sink::open_store(&url, "--url", &options, settings.env.iter())
            .map_err(|e| Failure::usage(e.to_string()))?;
        if opened.backend == "s3" && plan.existing_object.is_none() && plan.part_size < S3_MIN_PART
        {
            return Err(Failure::usage(format!(
                "--part-size {}: S3 needs parts of at least 5M",
                format_size(plan.part_size)
            )));
        }
        let unique = format!("e2b-bench-{}-{}", settings.run_id, random_suffix());
        let run_prefix = opened.prefix.clone().join(unique.as_str());
        Ok(Box::new(StorageProbe {
            opened,
            run_prefix,
            plan,
        }))
    }
}

/// `--endpoint` as the provider's config key.
fn endpoint_options(
    scheme: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Vec<(String, String)>, Failure> {
    let Some(endpoint) = endpoint else {
        return Ok(Vec::new());
    };
    let endpoint = endpoint.trim();
    if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
        return Err(Failure::usage(format!(
            "--endpoint '{endpoint}': use an http:// or https:// URL, e.g. http://127.0.0.1:9000"
        )));
    }
    let key = match scheme {
        Some("s3") => "aws_endpoint",
        Some("az" | "azure" | "abfs" | "abfss") => "azure_storage_endpoint",
        Some("gs") => "google_base_url",
        _ => {
            return Err(Failure::usage(
                "--endpoint: only s3://, az:// and gs:// URLs talk to an endpoint",
            ));
        }
    };
    let mut options = vec![(key.to_owned(), endpoint.to_owned())];
    if key == "azure_storage_endpoint" && endpoint.starts_with("http://") {
        options.push(("azure_allow_http".to_owned(), "true".to_owned()));
    }
    Ok(options)
}

impl StorageArgs {
    fn plan(&self, quick: bool) -> Result<Plan, Failure> {
        let pick = |q: u64, d: u64| if quick { q } else { d };
        let iterations =
            count("--iterations", self.iterations.as_deref())?.unwrap_or(pick(10, 100) as u32);
        let small_size = size("--small-size", self.small_size.as_deref())?.unwrap_or(KIB);
        let sizes = match &self.sizes {
            Some(list) => split(list)
                .map(|s| size("--sizes", Some(s)).map(Option::unwrap_or_default))
                .collect::<Result<Vec<u64>, Failure>>()?,
            None if quick => vec![MIB, 8 * MIB],
            None => vec![MIB, 64 * MIB],
        };
        let transfers =
            count("--transfers", self.transfers.as_deref())?.unwrap_or(pick(2, 5) as u32);
        let part_size =
            size("--part-size", self.part_size.as_deref())?.unwrap_or(pick(S3_MIN_PART, 8 * MIB));
        let range_object_size = size("--range-object-size", self.range_object_size.as_deref())?
            .unwrap_or(pick(16 * MIB, 256 * MIB));
        let chunk_size =
            size("--chunk-size", self.chunk_size.as_deref())?.unwrap_or(pick(MIB, 4 * MIB));
        let concurrency = match &self.concurrency {
            Some(list) => split(list)
                .map(|c| {
                    c.parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_CONCURRENCY).contains(n))
                        .ok_or_else(|| {
                            Failure::usage(format!(
                                "--concurrency '{list}': use whole numbers from 1 to {MAX_CONCURRENCY}, e.g. 1,8,32"
                            ))
                        })
                })
                .collect::<Result<Vec<usize>, Failure>>()?,
            None => vec![1, 8, 32],
        };
        if concurrency.is_empty() {
            return Err(Failure::usage("--concurrency: give at least one level"));
        }
        let range_reads = count("--range-reads", self.range_reads.as_deref())?;
        let range_rounds =
            count("--range-rounds", self.range_rounds.as_deref())?.unwrap_or(pick(1, 5) as u32);
        let list_iterations = count("--list-iterations", self.list_iterations.as_deref())?
            .unwrap_or(pick(5, 20) as u32);
        if chunk_size > range_object_size {
            return Err(Failure::usage(format!(
                "--chunk-size {} is larger than --range-object-size {}",
                format_size(chunk_size),
                format_size(range_object_size)
            )));
        }
        for (flag, v) in [
            ("--small-size", small_size),
            ("--part-size", part_size),
            ("--range-object-size", range_object_size),
            ("--chunk-size", chunk_size),
        ]
        .into_iter()
        .chain(sizes.iter().map(|s| ("--sizes", *s)))
        {
            if v == 0 || v > MAX_OBJECT {
                return Err(Failure::usage(format!(
                    "{flag} {}: must be from 1 byte to {}",
                    format_size(v),
                    format_size(MAX_OBJECT)
                )));
            }
        }
        let existing_object = match &self.existing_object {
            Some(k) if k.trim().trim_matches('/').is_empty() => {
                return Err(Failure::usage(
                    "--existing-object: empty key; give the object's key under the URL's prefix",
                ));
            }
            Some(k) => Some(k.trim().trim_matches('/').to_owned()),
            None => None,
        };
        Ok(Plan {
            iterations,
            small_size,
            sizes,
            transfers,
            part_size,
            range_object_size,
            chunk_size,
            concurrency,
            range_reads,
            min_range_reads: pick(8, 16) as u32,
            range_rounds,
            list_iterations,
            existing_object,
        })
    }
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn count(flag: &str, text: Option<&str>) -> Result<Option<u32>, Failure> {
    let Some(text) = text else { return Ok(None) };
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_COUNT).contains(n))
        .map(Some)
        .ok_or_else(|| {
            Failure::usage(format!(
                "{flag} '{text}': must be a whole number from 1 to {MAX_COUNT}"
            ))
        })
}

fn size(flag: &str, text: Option<&str>) -> Result<Option<u64>, Failure> {
    let Some(text) = text else { return Ok(None) };
    parse_size(text)
        .map(Some)
        .map_err(|e| Failure::usage(format!("{flag} {e}")))
}

/// Eight hex digits that differ between runs started in the same second.
fn random_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut rng =
        bench_core::stats::Rng::seed_from_u64(nanos ^ (u64::from(std::process::id()) << 32));
    format!("{:08x}", rng.next_u64() as u32)
}

/// Measures one bucket under a unique run prefix, then deletes it.
#[derive(Debug)]
pub struct StorageProbe {
    opened: OpenedStore,
    run_prefix: ObjectPath,
    plan: Plan,
}

impl StorageProbe {
    /// The run prefix as a URL, for messages.
    fn run_url(&self) -> String {
        url_of(&self.opened, &self.run_prefix)
    }
}

/// The URL of a key in the store.
pub(crate) fn url_of(opened: &OpenedStore, key: &ObjectPath) -> String {
    match &opened.local_dir {
        Some(dir) => format!("file://{}", dir.join(key.as_ref()).display()),
        None => {
            let scheme = match opened.backend {
                "gcs" => "gs",
                "azure" => "az",
                other => other,
            };
            format!("{scheme}://{}/{key}", opened.bucket)
        }
    }
}

impl Probe for StorageProbe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parameters(&self) -> Value {
        let p = &self.plan;
        json!({
            "backend": self.opened.backend,
            "url": self.opened.display,
            "bucket": self.opened.bucket,
            "region": self.opened.region,
            "endpoint": self.opened.endpoint,
            // Read-only runs write nothing, so they have no run prefix.
            "run_prefix": p.existing_object.is_none().then(|| self.run_url()),
            "iterations": p.iterations,
            "small_size": p.small_size,
            "sizes": p.sizes,
            "transfers": p.transfers,
            "part_size": p.part_size,
            "range_object_size": p.range_object_size,
            "chunk_size": p.chunk_size,
            "concurrency": p.concurrency,
            "range_reads": p.concurrency.iter().map(|c| p.reads_per_round(*c)).collect::<Vec<_>>(),
            "range_rounds": p.range_rounds,
            "list_iterations": p.list_iterations,
            "existing_object": p.existing_object,
        })
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(2, 16);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("e2b-bench-storage")
            .enable_all()
            .build()
            .map_err(|e| ProbeError::io("start the storage runtime", &e))?;
        let store = Arc::clone(&self.opened.store);
        let run = measure::Run {
            store,
            opened: &self.opened,
            run_prefix: self.run_prefix.clone(),
            plan: &self.plan,
            ctx,
            wrote: std::cell::Cell::new(false),
            problems: std::cell::RefCell::new(Vec::new()),
        };
        let out = runtime.block_on(run.all());
        runtime.shutdown_timeout(Duration::from_secs(5));
        out
    }
}

#[cfg(test)]
mod tests;
