//! Azurite (Azure Blob) for the object-store tests: started on a free
//! loopback port, and requests signed with its published development key
//! (SharedKey) for what object_store does not do: creating a container.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::client::{Reply, http};
use crate::service::{self, Server};

/// Azurite's well-known development account.
pub const ACCOUNT: &str = "devstoreaccount1";
/// Its published key (not a secret).
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Starts azurite-blob (`E2B_BENCH_AZURITE_BLOB` or PATH) in memory with
/// `container` created; `None` when it is absent and the test is skipped
/// ([`service::service`]).
pub fn start(container: &str) -> Option<Server> {
    let exe = service::service("azurite-blob", "E2B_BENCH_AZURITE_BLOB")?;
    let port = service::free_port();
    let port_arg = port.to_string();
    let server = Server::start(
        &exe,
        &[
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            &port_arg,
            "--inMemoryPersistence",
            "--disableTelemetry",
            // object_store may speak a newer API version than this Azurite.
            "--skipApiVersionCheck",
        ],
        port,
    );
    create_container(port, container);
    Some(server)
}

/// A SharedKey-signed request to Azurite (path-style:
/// `/devstoreaccount1/<container>[/<blob>]`), `query` as `(name, value)`.
pub fn request(
    port: u16,
    method: &str,
    resource: &str,
    query: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Reply> {
    let date = httpdate::fmt_http_date(SystemTime::now());
    let version = "2021-08-06";
    let length = if body.is_empty() {
        String::new()
    } else {
        body.len().to_string()
    };
    let mut canonical_query: Vec<(String, &str)> = query
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), *v))
        .collect();
    canonical_query.sort();
    let mut canonical_resource = format!("/{ACCOUNT}/{ACCOUNT}/{resource}");
    for (k, v) in &canonical_query {
        canonical_resource.push_str(&format!("\n{k}:{v}"));
    }
    // VERB, Content-Encoding, -Language, -Length, -MD5, -Type, Date,
    // If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range,
    // then the x-ms- headers (sorted) and the resource.
    let string_to_sign = format!(
        "{method}\n\n\n{length}\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{version}\n{canonical_resource}"
    );
    let key = ring::hmac::Key::new(
        ring::hmac::HMAC_SHA256,
        &STANDARD.decode(KEY).expect("valid base64 key"),
    );
    let signature = STANDARD.encode(ring::hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    let mut path = format!("/{ACCOUNT}/{resource}");
    if !query.is_empty() {
        let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        path.push('?');
        path.push_str(&q.join("&"));
    }
    http(
        port,
        method,
        &path,
        &[
            ("x-ms-date", date),
            ("x-ms-version", version.to_owned()),
            ("Authorization", format!("SharedKey {ACCOUNT}:{signature}")),
        ],
        body,
    )
}

/// Creates a blob container in Azurite (201, or 409 if it exists).
pub fn create_container(port: u16, container: &str) {
    let r = request(port, "PUT", container, &[("restype", "container")], b"")
        .expect("container request");
    assert!(
        r.status == 201 || r.status == 409,
        "create container: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
}
