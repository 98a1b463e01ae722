//! `GET /templates`: the one template the emulator serves.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{BASE_ALIAS, BASE_BUILD_ID, BASE_TEMPLATE_ID, CPU_COUNT, DISK_SIZE_MB, MEMORY_MB, Sim};

pub(super) async fn templates(State(sim): State<Arc<Sim>>) -> Response {
    let created = "2025-01-01T00:00:00.000Z";
    axum::Json(json!([{
        "templateID": BASE_TEMPLATE_ID,
        "buildID": BASE_BUILD_ID,
        "cpuCount": CPU_COUNT,
        "memoryMB": MEMORY_MB,
        "diskSizeMB": DISK_SIZE_MB,
        "public": true,
        "aliases": [BASE_ALIAS],
        "names": [BASE_ALIAS],
        "createdAt": created,
        "updatedAt": created,
        "lastSpawnedAt": Value::Null,
        "spawnCount": sim.registry.counters.created.load(Ordering::Relaxed),
        "buildCount": 1,
        "envdVersion": sim.config.envd_version,
        "buildStatus": "ready",
    }]))
    .into_response()
}
