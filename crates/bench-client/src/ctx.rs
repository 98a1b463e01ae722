//! What every scenario works with: the HTTP client, the API, the
//! endpoints, the ledger, the interruption signal and the run's limits.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::api::{ApiError, ControlPlane};
use crate::endpoints::Endpoints;
use crate::ledger::Ledger;

/// The flag behind [`Ctx::phase_timeout`], named in timeout messages.
pub const PHASE_TIMEOUT_FLAG: &str = "--phase-timeout";

/// Set once by Ctrl-C or SIGTERM; every wait selects on it.
#[derive(Debug, Clone)]
pub struct Cancel(watch::Receiver<bool>);

impl Cancel {
    /// A signal and the sender that fires it.
    pub fn new() -> (watch::Sender<bool>, Cancel) {
        let (tx, rx) = watch::channel(false);
        (tx, Cancel(rx))
    }

    /// True once fired.
    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves when fired.
    pub async fn cancelled(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// The shared context of a run.
#[derive(Debug)]
pub struct Ctx {
    /// The one HTTP client.
    pub http: reqwest::Client,
    /// The control plane.
    pub api: Arc<ControlPlane>,
    /// Where envd answers.
    pub endpoints: Endpoints,
    /// Sandboxes alive.
    pub ledger: Arc<Ledger>,
    /// Ctrl-C / SIGTERM.
    pub cancel: Cancel,
    /// This run's id (also the metadata value of its sandboxes).
    pub run_id: String,
    /// Longest wait for one phase (`--phase-timeout`).
    pub phase_timeout: Duration,
    /// Sandbox timeout at create, refreshed while in use (`--sandbox-timeout`).
    pub sandbox_timeout: Duration,
}

impl Ctx {
    /// Runs `fut` under the phase timeout and the interruption signal.
    pub async fn phase<T>(
        &self,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        self.within(what, self.phase_timeout, PHASE_TIMEOUT_FLAG, fut)
            .await
    }

    /// Runs `fut` under `limit` and the interruption signal.
    /// `limit_name` says where `limit` comes from, for the timeout's message.
    pub async fn within<T>(
        &self,
        what: &str,
        limit: Duration,
        limit_name: &'static str,
        fut: impl std::future::Future<Output = Result<T, ApiError>>,
    ) -> Result<T, ApiError> {
        tokio::select! {
            r = tokio::time::timeout(limit, fut) => match r {
                Ok(r) => r,
                Err(_) => Err(ApiError::Timeout { what: what.to_owned(), limit, limit_name }),
            },
            _ = self.cancel.cancelled() => Err(ApiError::Interrupted),
        }
    }
}
