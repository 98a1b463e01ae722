//! The storage probe's requests, on a tokio runtime: every store call is
//! raced against Ctrl-C and a time limit, and the run prefix is removed at
//! the end whatever happened.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::ops::Range;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bench_core::contract::metric;
use bench_core::probe::{Context, ProbeError, ProbeOutput};
use bench_core::schema::{ErrorKind, Sample};
use bench_core::sink::{OpenedStore, describe_store_error};
use bench_core::stats::Rng;
use bench_core::units::format_size;
use futures_util::future::Either;
use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use super::{NAME, Plan, url_of};

/// Limit of one ordinary request (HTTP timeouts and retries stay inside it).
const CALL_LIMIT: Duration = Duration::from_secs(120);
/// Limit of one whole large transfer (a multipart upload, a level of reads).
const TRANSFER_LIMIT: Duration = Duration::from_secs(900);
/// Limit of the whole cleanup.
const CLEANUP_LIMIT: Duration = Duration::from_secs(300);
/// How often a pending request looks at the Ctrl-C flag.
const POLL: Duration = Duration::from_millis(20);
/// Parts of one multipart upload in flight at once.
const PARALLEL_PARTS: usize = 8;

const HINT: &str = "check the credentials, the endpoint and that the bucket exists";

/// Why a step stopped.
#[derive(Debug)]
pub(crate) enum OpError {
    Interrupted,
    Failed(String),
}

/// One run of the probe.
pub(crate) struct Run<'a> {
    pub store: Arc<dyn ObjectStore>,
    pub opened: &'a OpenedStore,
    pub run_prefix: ObjectPath,
    pub plan: &'a Plan,
    pub ctx: &'a Context,
    /// A write reached the store (cleanup failures then count; a write
    /// that failed is taken as not stored).
    pub wrote: Cell<bool>,
    /// Problems found on the way that are not the step's own failure
    /// (a multipart upload that could not be aborted).
    pub problems: RefCell<Vec<String>>,
}

impl Run<'_> {
    fn backend(&self) -> &'static str {
        self.opened.backend
    }

    fn key(&self, relative: &str) -> ObjectPath {
        relative
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(self.run_prefix.clone(), |p, part| p.join(part))
    }

    fn url(&self, key: &ObjectPath) -> String {
        url_of(self.opened, key)
    }

    /// Every step, then the cleanup.
    pub async fn all(self) -> Result<ProbeOutput, ProbeError> {
        let mut out = ProbeOutput::default();
        let result = if self.plan.existing_object.is_some() {
            self.read_only(&mut out).await
        } else {
            out.fact("run_prefix", self.url(&self.run_prefix));
            let r = self.read_write(&mut out).await;
            self.cleanup(&mut out).await;
            r
        };
        for p in self.problems.borrow().iter() {
            out.error(NAME, ErrorKind::Failed, p.clone());
        }
        match result {
            Ok(()) => Ok(out),
            Err(OpError::Interrupted) if out.samples.is_empty() && out.errors.is_empty() => {
                Err(ProbeError::Interrupted)
            }
            Err(OpError::Interrupted) => {
                out.error(
                    NAME,
                    ErrorKind::Interrupted,
                    "interrupted; what finished is kept and the run prefix was removed",
                );
                Ok(out)
            }
            Err(OpError::Failed(m)) if out.samples.is_empty() && out.errors.is_empty() => {
                Err(ProbeError::Failed(m))
            }
            Err(OpError::Failed(m)) => {
                out.error(NAME, ErrorKind::Failed, m);
                Ok(out)
            }
        }
    }

    /// Runs `fut` unless Ctrl-C comes first or `limit` passes.
    async fn guard<T>(
        &self,
        what: impl FnOnce() -> String,
        limit: Duration,
        fut: impl Future<Output = object_store::Result<T>>,
    ) -> Result<T, OpError> {
        if self.ctx.interrupted() {
            return Err(OpError::Interrupted);
        }
        let interrupt = self.ctx.interrupt().clone();
        let watch = pin!(async move {
            while !interrupt.is_set() {
                tokio::time::sleep(POLL).await;
            }
        });
        let timed = pin!(tokio::time::timeout(limit, fut));
        match futures_util::future::select(timed, watch).await {
            Either::Left((Ok(Ok(v)), _)) => Ok(v),
            Either::Left((Ok(Err(e)), _)) => Err(OpError::Failed(format!(
                "{} failed: {}; {HINT}",
                what(),
                describe_store_error(&e)
            ))),
            Either::Left((Err(_), _)) => Err(OpError::Failed(format!(
                "{} did not finish within {} s; check the network path to the endpoint",
                what(),
                limit.as_secs()
            ))),
            Either::Right(_) => Err(OpError::Interrupted),
        }
    }

    async fn read_write(&self, out: &mut ProbeOutput) -> Result<(), OpError> {
        let plan = self.plan;
        let block_len = plan.part_size.max(plan.small_size).max(1 << 20);
        let block = random_block(block_len as usize, 0x0e2b_be4c);

        // The first step also proves the bucket reachable and writable: its
        // failure stops the probe with one message.
        self.small_objects(out, &block).await?;
        let steps = [Step::List, Step::Throughput, Step::Ranged];
        for step in steps {
            let r = match step {
                Step::List => self.list(out, &self.key("small"), plan.iterations).await,
                Step::Throughput => self.throughput(out, &block).await,
                Step::Ranged => self.ranged(out, &block).await,
            };
            match r {
                Ok(()) => {}
                Err(OpError::Interrupted) => return Err(OpError::Interrupted),
                Err(OpError::Failed(m)) => out.error(NAME, ErrorKind::Failed, m),
            }
        }
        Ok(())
    }

    /// `--iterations` PUTs of small objects, then a GET of each.
    async fn small_objects(&self, out: &mut ProbeOutput, block: &[u8]) -> Result<(), OpError> {
        let plan = self.plan;
        let size = plan.small_size;
        self.ctx.step(
            NAME,
            &format!(
                "PUT and GET of {} {} objects",
                plan.iterations,
                format_size(size)
            ),
        );
        let payload = PutPayload::from(block[..size as usize].to_vec());
        let mut put_ms = Vec::new();
        let keys: Vec<ObjectPath> = (0..plan.iterations)
            .map(|i| self.key(&format!("small/{i:06}")))
            .collect();
        for key in &keys {
            let started = Instant::now();
            self.guard(
                || format!("PUT {}", self.url(key)),
                CALL_LIMIT,
                self.store.put(key, payload.clone()),
            )
            .await?;
            self.wrote.set(true);
            put_ms.push(ms(started.elapsed()));
        }
        out.samples.push(
            Sample::from_series(metric::STORAGE_PUT_LATENCY_MS, "ms", put_ms)
                .label("backend", self.backend())
                .label("object_size", size)
                .label("concurrency", 1)
                .label("method", "single"),
        );
        let mut ttfb = Vec::new();
        for key in &keys {
            let t = self.timed_get(key, None, size).await?;
            ttfb.push(ms(t.ttfb));
        }
        out.samples.push(
            Sample::from_series(metric::STORAGE_GET_TTFB_MS, "ms", ttfb)
                .label("backend", self.backend())
                .label("object_size", size)
                .label("concurrency", 1),
        );
        Ok(())
    }

    /// LIST of `prefix` (which holds `expected` objects, if known).
    async fn list(
        &self,
        out: &mut ProbeOutput,
        prefix: &ObjectPath,
        expected: u32,
    ) -> Result<(), OpError> {
        self.ctx.step(
            NAME,
            &format!(
                "LIST of {} ({} times)",
                self.url(prefix),
                self.plan.list_iterations
            ),
        );
        let mut list_ms = Vec::new();
        let mut found = 0;
        for _ in 0..self.plan.list_iterations {
            let started = Instant::now();
            let listing = self
                .guard(
                    || format!("LIST {}", self.url(prefix)),
                    CALL_LIMIT,
                    self.store.list_with_delimiter(Some(prefix)),
                )
                .await?;
            list_ms.push(ms(started.elapsed()));
            found = listing.objects.len();
        }
        if expected > 0 && found != expected as usize {
            return Err(OpError::Failed(format!(
                "LIST {} found {found} objects where {expected} were written",
                self.url(prefix)
            )));
        }
        out.samples.push(
            Sample::from_series(metric::STORAGE_LIST_LATENCY_MS, "ms", list_ms)
                .label("backend", self.backend())
                .label("object_count", found)
                .label("concurrency", 1),
        );
        Ok(())
    }

    /// PUT then GET of each `--sizes` object, `--transfers` times.
    async fn throughput(&self, out: &mut ProbeOutput, block: &[u8]) -> Result<(), OpError> {
        let plan = self.plan;
        for &size in &plan.sizes {
            let multipart = size > plan.part_size;
            let method = if multipart { "multipart" } else { "single" };
            self.ctx.step(
                NAME,
                &format!(
                    "PUT ({method}) and GET of a {} object, {} times",
                    format_size(size),
                    plan.transfers
                ),
            );
            let key = self.key(&format!("objects/{size}"));
            let (mut put_ms, mut put_bw, mut ttfb, mut get_bw) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..plan.transfers {
                let elapsed = self.upload(&key, size, block).await?;
                put_ms.push(ms(elapsed));
                put_bw.push(size as f64 / elapsed.as_secs_f64());
                let t = self.timed_get(&key, None, size).await?;
                ttfb.push(ms(t.ttfb));
                get_bw.push(size as f64 / t.total.as_secs_f64());
            }
            let labels = |s: Sample| {
                s.label("backend", self.backend())
                    .label("object_size", size)
                    .label("concurrency", 1)
            };
            out.samples.push(
                labels(Sample::from_series(
                    metric::STORAGE_PUT_LATENCY_MS,
                    "ms",
                    put_ms,
                ))
                .label("method", method),
            );
            out.samples.push(
                labels(Sample::from_series(
                    metric::STORAGE_PUT_BANDWIDTH,
                    "bytes/s",
                    put_bw,
                ))
                .label("method", method),
            );
            out.samples.push(labels(Sample::from_series(
                metric::STORAGE_GET_TTFB_MS,
                "ms",
                ttfb,
            )));
            out.samples.push(
                labels(Sample::from_series(
                    metric::STORAGE_GET_BANDWIDTH,
                    "bytes/s",
                    get_bw,
                ))
                .label("access", "whole"),
            );
        }
        Ok(())
    }

    /// Uploads the ranged-read source object, then reads it.
    async fn ranged(&self, out: &mut ProbeOutput, block: &[u8]) -> Result<(), OpError> {
        let plan = self.plan;
        let size = plan.range_object_size;
        let key = self.key("range/source");
        let method = if size > plan.part_size {
            "multipart"
        } else {
            "single"
        };
        self.ctx.step(
            NAME,
            &format!(
                "uploading the {} range source object ({method})",
                format_size(size)
            ),
        );
        let elapsed = self.upload(&key, size, block).await?;
        out.samples.push(
            Sample::from_series(metric::STORAGE_PUT_LATENCY_MS, "ms", vec![ms(elapsed)])
                .label("backend", self.backend())
                .label("object_size", size)
                .label("concurrency", 1)
                .label("method", method),
        );
        self.read_ranges(out, &key, size).await
    }

    /// Ranged GETs of `--chunk-size` at random chunk-aligned offsets of
    /// `key` (`size` bytes), at each `--concurrency`.
    async fn read_ranges(
        &self,
        out: &mut ProbeOutput,
        key: &ObjectPath,
        size: u64,
    ) -> Result<(), OpError> {
        let plan = self.plan;
        let chunk = plan.chunk_size;
        let chunks = (size / chunk).max(1);
        let mut rng = Rng::seed_from_u64(0x4d1b_c4a3);
        for &concurrency in &plan.concurrency {
            let reads = plan.reads_per_round(concurrency);
            self.ctx.step(
                NAME,
                &format!(
                    "ranged GETs of {} at concurrency {concurrency} ({reads} reads × {} rounds)",
                    format_size(chunk),
                    plan.range_rounds
                ),
            );
            let mut latencies = Vec::new();
            let mut round_bw = Vec::new();
            let (mut bytes, mut wall) = (0u64, Duration::ZERO);
            for _ in 0..plan.range_rounds {
                let offsets: Vec<u64> = (0..reads).map(|_| rng.below(chunks) * chunk).collect();
                let store = Arc::clone(&self.store);
                let path = key.clone();
                let started = Instant::now();
                let reads_done = futures_util::stream::iter(offsets)
                    .map(move |offset| {
                        let store = Arc::clone(&store);
                        let path = path.clone();
                        async move {
                            let range = offset..(offset + chunk).min(size);
                            let want = range.end - range.start;
                            let t = Instant::now();
                            let got = store.get_range(&path, range).await?;
                            let took = t.elapsed();
                            if got.len() as u64 != want {
                                return Err(object_store::Error::Generic {
                                    store: "storage probe",
                                    source: format!(
                                        "a ranged GET returned {} bytes, not {want}",
                                        got.len()
                                    )
                                    .into(),
                                });
                            }
                            Ok((ms(took), want))
                        }
                    })
                    .buffer_unordered(concurrency)
                    .try_collect::<Vec<(f64, u64)>>();
                let done = self
                    .guard(
                        || format!("ranged GET of {}", self.url(key)),
                        TRANSFER_LIMIT,
                        reads_done,
                    )
                    .await?;
                let took = started.elapsed();
                let round_bytes: u64 = done.iter().map(|(_, b)| b).sum();
                round_bw.push(round_bytes as f64 / took.as_secs_f64());
                bytes += round_bytes;
                wall += took;
                latencies.extend(done.into_iter().map(|(l, _)| l));
            }
            let labels = |s: Sample| {
                s.label("backend", self.backend())
                    .label("object_size", chunk)
                    .label("source_size", size)
                    .label("concurrency", concurrency)
            };
            out.samples.push(labels(Sample::from_series(
                metric::STORAGE_RANGE_GET_LATENCY_MS,
                "ms",
                latencies,
            )));
            out.samples.push(
                labels(
                    Sample::from_series(metric::STORAGE_GET_BANDWIDTH, "bytes/s", round_bw)
                        .with_value(bytes as f64 / wall.as_secs_f64()),
                )
                .label("access", "range"),
            );
        }
        Ok(())
    }

    /// Read-only mode: GETs, ranged reads and LIST of an existing object.
    async fn read_only(&self, out: &mut ProbeOutput) -> Result<(), OpError> {
        let plan = self.plan;
        let relative = plan.existing_object.as_deref().unwrap_or_default();
        let key = relative
            .split('/')
            .filter(|s| !s.is_empty())
            .fold(self.opened.prefix.clone(), |p, part| p.join(part));
        out.fact("existing_object_url", self.url(&key));
        self.ctx
            .step(NAME, &format!("read-only: HEAD {}", self.url(&key)));
        let meta = self
            .guard(
                || format!("HEAD {}", self.url(&key)),
                CALL_LIMIT,
                self.store.head(&key),
            )
            .await?;
        out.fact("existing_object_size", meta.size);
        if meta.size == 0 {
            return Err(OpError::Failed(format!(
                "{} is empty; choose an object of at least --chunk-size",
                self.url(&key)
            )));
        }
        let first = plan.small_size.min(meta.size);
        self.ctx.step(
            NAME,
            &format!(
                "GET of its first {} ({} times)",
                format_size(first),
                plan.iterations
            ),
        );
        let mut ttfb = Vec::new();
        for _ in 0..plan.iterations {
            let t = self.timed_get(&key, Some(0..first), first).await?;
            ttfb.push(ms(t.ttfb));
        }
        out.samples.push(
            Sample::from_series(metric::STORAGE_GET_TTFB_MS, "ms", ttfb)
                .label("backend", self.backend())
                .label("object_size", first)
                .label("concurrency", 1)
                .label("access", "range"),
        );
        let parent: ObjectPath = {
            let parts: Vec<_> = key.parts().collect();
            parts[..parts.len().saturating_sub(1)]
                .iter()
                .cloned()
                .collect()
        };
        let steps = [Step::Ranged, Step::List];
        for step in steps {
            let r = match step {
                Step::Ranged => self.read_ranges(out, &key, meta.size).await,
                _ => self.list(out, &parent, 0).await,
            };
            match r {
                Ok(()) => {}
                Err(OpError::Interrupted) => return Err(OpError::Interrupted),
                Err(OpError::Failed(m)) => out.error(NAME, ErrorKind::Failed, m),
            }
        }
        Ok(())
    }

    /// PUT of `size` bytes of `block` (repeated): one request up to
    /// `--part-size`, a multipart upload above it. Returns its duration.
    async fn upload(&self, key: &ObjectPath, size: u64, block: &[u8]) -> Result<Duration, OpError> {
        let part = self.plan.part_size;
        if size <= part {
            let payload = PutPayload::from(block[..size as usize].to_vec());
            let started = Instant::now();
            self.guard(
                || format!("PUT {}", self.url(key)),
                TRANSFER_LIMIT,
                self.store.put(key, payload),
            )
            .await?;
            self.wrote.set(true);
            return Ok(started.elapsed());
        }
        let started = Instant::now();
        let upload = self
            .guard(
                || format!("starting a multipart upload of {}", self.url(key)),
                CALL_LIMIT,
                self.store.put_multipart(key),
            )
            .await?;
        self.wrote.set(true);
        let mut writer = WriteMultipart::new_with_chunk_size(upload, part as usize);
        let mut left = size;
        while left > 0 {
            let capacity = self
                .guard(
                    || format!("multipart upload of {}", self.url(key)),
                    TRANSFER_LIMIT,
                    writer.wait_for_capacity(PARALLEL_PARTS),
                )
                .await;
            if let Err(e) = capacity {
                self.abort(writer, key).await;
                return Err(e);
            }
            let n = left.min(block.len() as u64);
            writer.write(&block[..n as usize]);
            left -= n;
        }
        // Not raced against Ctrl-C: dropping a completing upload would leave
        // its parts behind; it has its time limit.
        match tokio::time::timeout(TRANSFER_LIMIT, writer.finish()).await {
            Ok(Ok(_)) => Ok(started.elapsed()),
            Ok(Err(e)) => Err(OpError::Failed(format!(
                "completing the multipart upload of {} failed: {}; {HINT}",
                self.url(key),
                describe_store_error(&e)
            ))),
            Err(_) => Err(OpError::Failed(format!(
                "completing the multipart upload of {} did not finish within {} s",
                self.url(key),
                TRANSFER_LIMIT.as_secs()
            ))),
        }
    }

    /// Aborts an unfinished multipart upload (its parts are not objects and
    /// LIST does not show them, but the bucket keeps and bills them).
    async fn abort(&self, writer: WriteMultipart, key: &ObjectPath) {
        match tokio::time::timeout(CALL_LIMIT, writer.abort()).await {
            Ok(Ok(())) => tracing::debug!("aborted the multipart upload of {}", self.url(key)),
            Ok(Err(e)) => self.problems.borrow_mut().push(format!(
                "could not abort the multipart upload of {}: {}; abort it by hand (aws s3api list-multipart-uploads) or let a lifecycle rule remove it",
                self.url(key),
                describe_store_error(&e)
            )),
            Err(_) => self.problems.borrow_mut().push(format!(
                "aborting the multipart upload of {} did not finish within {} s; abort it by hand or let a lifecycle rule remove it",
                self.url(key),
                CALL_LIMIT.as_secs()
            )),
        }
    }

    /// GET (of `range`, or the whole object) with the time to the first
    /// body byte and to the last; checks that `want` bytes arrived.
    async fn timed_get(
        &self,
        key: &ObjectPath,
        range: Option<Range<u64>>,
        want: u64,
    ) -> Result<Timing, OpError> {
        let store = Arc::clone(&self.store);
        let path = key.clone();
        let fut = async move {
            let options = GetOptions {
                range: range.map(GetRange::Bounded),
                ..GetOptions::default()
            };
            let started = Instant::now();
            let result = store.get_opts(&path, options).await?;
            let mut stream = result.into_stream();
            let mut ttfb = None;
            let mut bytes = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                if ttfb.is_none() && !chunk.is_empty() {
                    ttfb = Some(started.elapsed());
                }
                bytes += chunk.len() as u64;
            }
            let total = started.elapsed();
            Ok((ttfb.unwrap_or(total), total, bytes))
        };
        let (ttfb, total, bytes) = self
            .guard(|| format!("GET {}", self.url(key)), TRANSFER_LIMIT, fut)
            .await?;
        if bytes != want {
            return Err(OpError::Failed(format!(
                "GET {} returned {bytes} bytes, not {want}",
                self.url(key)
            )));
        }
        Ok(Timing { ttfb, total })
    }

    /// Deletes everything under the run prefix and checks that nothing is
    /// left. Runs after errors and Ctrl-C alike (not raced against Ctrl-C).
    async fn cleanup(&self, out: &mut ProbeOutput) {
        let url = self.url(&self.run_prefix);
        self.ctx.step(NAME, &format!("deleting {url}"));
        let store = Arc::clone(&self.store);
        let prefix = self.run_prefix.clone();
        let work = async move {
            let found: Vec<ObjectPath> = store
                .list(Some(&prefix))
                .map_ok(|m| m.location)
                .try_collect()
                .await?;
            let count = found.len();
            let locations = futures_util::stream::iter(found.into_iter().map(Ok)).boxed();
            let failures: Vec<object_store::Error> = store
                .delete_stream(locations)
                .filter_map(|r| async move {
                    match r {
                        Err(object_store::Error::NotFound { .. }) | Ok(_) => None,
                        Err(e) => Some(e),
                    }
                })
                .collect()
                .await;
            if let Some(e) = failures.into_iter().next() {
                return Err(e);
            }
            let left: Vec<ObjectPath> = store
                .list(Some(&prefix))
                .map_ok(|m| m.location)
                .try_collect()
                .await?;
            Ok((count, left.len()))
        };
        let outcome = tokio::time::timeout(CLEANUP_LIMIT, work).await;
        if let Some(dir) = &self.opened.local_dir {
            remove_empty_dirs(&dir.join(self.run_prefix.as_ref()));
        }
        let problem = match outcome {
            Ok(Ok((count, 0))) => {
                out.fact("deleted_objects", count);
                None
            }
            Ok(Ok((_, left))) => Some(format!("{left} objects are still there")),
            Ok(Err(e)) => Some(describe_store_error(&e)),
            Err(_) => Some(format!(
                "it did not finish within {} s",
                CLEANUP_LIMIT.as_secs()
            )),
        };
        if let Some(problem) = problem {
            if self.wrote.get() {
                out.error(
                    NAME,
                    ErrorKind::Failed,
                    format!(
                        "could not delete the run prefix {url}: {problem}; delete what is left under it by hand"
                    ),
                );
            } else {
                tracing::debug!("cleanup of {url} (nothing was written): {problem}");
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    List,
    Throughput,
    Ranged,
}

/// How long a GET took.
#[derive(Debug, Clone, Copy)]
struct Timing {
    ttfb: Duration,
    total: Duration,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `len` incompressible bytes.
pub(crate) fn random_block(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::seed_from_u64(seed);
    let mut block = Vec::with_capacity(len + 8);
    while block.len() < len {
        block.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    block.truncate(len);
    block
}

/// Removes `dir` and the empty directories below it (file:// leaves the
/// directories of deleted objects behind); anything non-empty stays.
fn remove_empty_dirs(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_empty_dirs(&entry.path());
        }
    }
    let _ = std::fs::remove_dir(dir);
}
