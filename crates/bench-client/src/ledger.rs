//! The one list of sandboxes this run has alive. Every create registers
//! here before anything else happens to it, every kill removes it, and the
//! runner kills whatever is left on every way out: normal end, error,
//! panic, phase timeout, Ctrl-C or SIGTERM. A `kill -9` of bench-client
//! cannot run that code, so every sandbox is also created with a short
//! timeout (`--sandbox-timeout`, default 120 s) that [`refresh_loop`]
//! keeps pushing forward only while we are alive.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::ControlPlane;

/// Metadata key every sandbox of ours carries; its value is the run id.
pub const RUN_METADATA_KEY: &str = "e2b-bench-run";

/// Kill attempts per sandbox before giving up (5xx, resets).
const KILL_ATTEMPTS: u32 = 3;

/// Live sandbox ids.
#[derive(Debug, Default)]
pub struct Ledger {
    live: Mutex<BTreeSet<String>>,
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a created sandbox.
    pub fn add(&self, id: &str) {
        self.lock().insert(id.to_owned());
    }

    /// Forgets a killed sandbox.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
    }

    /// The ids alive now.
    pub fn ids(&self) -> Vec<String> {
        self.lock().iter().cloned().collect()
    }

    /// Kills every live sandbox (concurrently, each retried); returns how
    /// many could not be killed.
    pub async fn kill_all(&self, api: &Arc<ControlPlane>) -> usize {
        let kills = self.ids().into_iter().map(|id| {
            let api = api.clone();
            async move {
                let ok = kill_with_retries(&api, &id).await;
                (id, ok)
            }
        });
        let mut failed = 0;
        for (id, ok) in join_all(kills).await {
            if ok {
                self.remove(&id);
            } else {
                failed += 1;
            }
        }
        failed
    }
}

/// Kills one sandbox, retrying transient failures; a 404 (already gone)
/// counts as killed.
pub async fn kill_with_retries(api: &ControlPlane, id: &str) -> bool {
    for attempt in 1..=KILL_ATTEMPTS {
        match tokio::time::timeout(Duration::from_secs(30), api.kill(id)).await {
            Ok(Ok(_)) => return true,
            Ok(Err(crate::api::ApiError::RateLimited { retry_after, .. })) => {
                let wait = retry_after.unwrap_or(Duration::from_secs(1));
                tracing::debug!("killing sandbox {id}: 429, waiting {wait:?}");
                tokio::time::sleep(wait.min(Duration::from_secs(10))).await;
                continue;
            }
            Ok(Err(e)) => {
                tracing::warn!("killing sandbox {id} (attempt {attempt}): {e}");
            }
            Err(_) => tracing::warn!("killing sandbox {id} (attempt {attempt}): no answer in 30 s"),
        }
        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
    }
    false
}

/// Runs futures concurrently and collects their outputs in order.
pub async fn join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        match h.await {
            Ok(v) => out.push(v),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    out
}

/// Every `timeout / 3`, moves the end of every live sandbox to `timeout`
/// from now, so a sandbox in use never expires and one we lost track of
/// (bench-client killed) expires soon.
pub async fn refresh_loop(ledger: &Ledger, api: &ControlPlane, timeout: Duration) {
    let period = (timeout / 3).max(Duration::from_secs(1));
    loop {
        tokio::time::sleep(period).await;
        for id in ledger.ids() {
            if let Err(e) = api.set_timeout(&id, timeout).await {
                tracing::debug!("refreshing the timeout of {id}: {e}");
            }
        }
    }
}
