//! `GET /sandboxes` and `GET /v2/sandboxes` (state filter, `metadata`
//! filter, pages with `x-next-token`), and the `ListedSandbox` object.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{CLIENT_ID, CPU_COUNT, DISK_SIZE_MB, MEMORY_MB, Sim, error, lock};
use crate::dates::rfc3339_millis;
use crate::state::{Sandbox, SandboxState};

/// The `ListedSandbox` object (plus `detail` fields for `GET /sandboxes/{id}`).
pub(super) fn listed_body(sim: &Sim, sb: &Sandbox, detail: bool) -> Value {
    let life = lock(&sb.life).clone();
    let mut v = json!({
        "templateID": sb.template_id,
        "alias": sb.alias,
        "sandboxID": sb.id,
        "clientID": CLIENT_ID,
        "startedAt": rfc3339_millis(sb.started_at),
        "endAt": rfc3339_millis(life.end_at),
        "cpuCount": CPU_COUNT,
        "memoryMB": MEMORY_MB,
        "diskSizeMB": DISK_SIZE_MB,
        "metadata": sb.metadata,
        "state": state_name(life.state),
        "envdVersion": sim.config.envd_version,
    });
    if detail {
        if let Some(t) = &sb.access_token {
            v["envdAccessToken"] = json!(t);
        }
        v["domain"] = Value::Null;
    }
    v
}

fn state_name(s: SandboxState) -> &'static str {
    match s {
        SandboxState::Running => "running",
        SandboxState::Paused => "paused",
    }
}

/// Query pairs, percent-decoded (`+` is a space; invalid escapes stay as
/// they are, invalid UTF-8 becomes U+FFFD).
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The `metadata` filter: `k=v&k2=v2`, itself URL-encoded in the query.
fn metadata_filter(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .filter(|(k, _)| k == "metadata")
        .flat_map(|(_, v)| query_pairs(Some(v)))
        .collect()
}

fn matches(sb: &Sandbox, filter: &[(String, String)]) -> bool {
    filter.iter().all(|(k, v)| sb.metadata.get(k) == Some(v))
}

pub(super) async fn list_v1(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let filter = metadata_filter(&query_pairs(q.as_deref()));
    let mut all = sim.registry.all();
    all.sort_by(|a, b| {
        b.started_at
            .cmp(&a.started_at)
            .then_with(|| a.id.cmp(&b.id))
    });
    let items: Vec<Value> = all
        .iter()
        .filter(|sb| lock(&sb.life).state == SandboxState::Running && matches(sb, &filter))
        .map(|sb| listed_body(&sim, sb, false))
        .collect();
    axum::Json(items).into_response()
}

fn nanos(t: SystemTime) -> u128 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

pub(super) async fn list_v2(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let filter = metadata_filter(&pairs);
    let mut want_running = false;
    let mut want_paused = false;
    let mut any_state = false;
    let mut limit = 100usize;
    let mut after: Option<(u128, String)> = None;
    for (k, v) in &pairs {
        match k.as_str() {
            "state" => {
                for s in v.split(',').filter(|s| !s.is_empty()) {
                    any_state = true;
                    match s {
                        "running" => want_running = true,
                        "paused" => want_paused = true,
                        other => {
                            return error(
                                StatusCode::BAD_REQUEST,
                                format!("Invalid state: {other}"),
                            );
                        }
                    }
                }
            }
            "limit" => match v.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => {
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Invalid limit: must be between 1 and 100",
                    );
                }
            },
            "nextToken" => {
                let parsed = v
                    .split_once('-')
                    .and_then(|(n, id)| Some((n.parse::<u128>().ok()?, id.to_owned())));
                match parsed {
                    Some(p) => after = Some(p),
                    None => return error(StatusCode::BAD_REQUEST, "Invalid next token"),
                }
            }
            _ => {}
        }
    }
    if !any_state {
        want_running = true;
        want_paused = true;
    }
    // Newest first, then by id: a total order the token can point into.
    let mut all: Vec<(u128, Arc<Sandbox>)> = sim
        .registry
        .all()
        .into_iter()
        .map(|s| (nanos(s.started_at), s))
        .collect();
    all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    let mut page = Vec::new();
    let mut more = None;
    for (n, sb) in &all {
        if let Some((an, aid)) = &after
            && (*n > *an || (*n == *an && sb.id <= *aid))
        {
            continue;
        }
        let state = lock(&sb.life).state;
        let keep = match state {
            SandboxState::Running => want_running,
            SandboxState::Paused => want_paused,
        };
        if !keep || !matches(sb, &filter) {
            continue;
        }
        if page.len() == limit {
            more = page
                .last()
                .map(|(n, sb): &(u128, &Arc<Sandbox>)| format!("{n}-{}", sb.id));
            break;
        }
        page.push((*n, sb));
    }
    let items: Vec<Value> = page
        .iter()
        .map(|(_, sb)| listed_body(&sim, sb, false))
        .collect();
    let mut resp = axum::Json(items).into_response();
    if let Some(token) = more
        && let Ok(v) = HeaderValue::from_str(&token)
    {
        resp.headers_mut().insert("x-next-token", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_decoding_and_metadata_filter() {
        assert_eq!(
            query_pairs(Some("k=a%3Db%26c+d%zz%4&&flag")),
            vec![
                ("k".to_owned(), "a=b&c d%zz%4".to_owned()),
                ("flag".to_owned(), String::new())
            ]
        );
        let pairs = query_pairs(Some("metadata=user%3Dalice%26app%3Dx&state=running"));
        assert_eq!(
            metadata_filter(&pairs),
            vec![
                ("user".to_owned(), "alice".to_owned()),
                ("app".to_owned(), "x".to_owned())
            ]
        );
    }
}
