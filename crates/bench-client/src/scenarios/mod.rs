//! The subcommands that talk to a cluster. Each takes the shared context
//! and the run, measures, and writes its documents as they complete.

pub mod cleanup;
pub mod concurrency;
pub mod doctor;
pub mod lifecycle;
pub mod pause;
pub mod run_all;
pub mod sandbox;
pub mod watch;

use std::sync::Arc;

use bench_core::exit::{Failure, Status};

use crate::api::ApiError;
use crate::cli::Command;
use crate::ctx::Ctx;
use crate::runner::Run;

/// Dispatches a subcommand.
pub async fn run(command: Command, ctx: Arc<Ctx>, run: Arc<Run>) -> Result<Status, Failure> {
    match command {
        Command::Info | Command::Summary => {
            unreachable!("info and summary run without a cluster")
        }
        Command::Lifecycle(a) => lifecycle::run(ctx, run, a).await,
        Command::Concurrency(a) => concurrency::run(ctx, run, a).await,
        Command::Pause(a) => pause::run(ctx, run, a).await,
        Command::Sandbox(a) => sandbox::run(ctx, run, a.quick, a.target).await,
        Command::Run(a) => run_all::run(ctx, run, a).await,
        Command::Doctor => doctor::run(ctx, run).await,
        Command::Cleanup(a) => cleanup::run(ctx, run, a).await,
        Command::Watch(a) => watch::run(ctx, run, a).await,
    }
}

/// A failure that will not go away by trying again (bad key, unknown
/// template, routing): the rest of that template is skipped.
pub fn is_permanent(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::Unauthorized { .. }
            | ApiError::EnvdUnauthorized { .. }
            | ApiError::Routing { .. }
            | ApiError::Dns { .. }
            | ApiError::Tls { .. }
            | ApiError::Refused { .. }
    ) || matches!(e.status(), Some(400 | 403 | 404))
}
