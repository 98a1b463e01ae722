//! moto_server, a local S3, for the object-store tests: started on a free
//! loopback port with a bucket made, and objects read back over plain HTTP.

use crate::client::{Reply, http};
use crate::service::{self, Server};

/// A SigV4-shaped `Authorization` header: moto refuses anonymous reads but
/// checks only that a signature is present, not its value.
const ANY_SIGNATURE: &str = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";

/// What a client of the moto at `endpoint` exports: test credentials with
/// `secret` as the secret key (so a test can check it is never shown), the
/// region and the endpoint. No AWS_ALLOW_HTTP: an http:// endpoint implies
/// it.
pub fn client_env(endpoint: &str, secret: &str) -> [(&'static str, String); 4] {
    [
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", secret.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ENDPOINT_URL", endpoint.to_owned()),
    ]
}

/// Starts moto_server (`E2B_BENCH_MOTO_SERVER` or PATH) with `bucket`
/// created; `None` when it is absent and the test is skipped
/// ([`service::service`]).
pub fn start(bucket: &str) -> Option<Server> {
    let exe = service::service("moto_server", "E2B_BENCH_MOTO_SERVER")?;
    let port = service::free_port();
    let server = Server::start(&exe, &["-H", "127.0.0.1", "-p", &port.to_string()], port);
    let r = http(port, "PUT", &format!("/{bucket}"), &[], b"").expect("create bucket request");
    assert_eq!(
        r.status,
        200,
        "create bucket {bucket}: {}",
        String::from_utf8_lossy(&r.body)
    );
    Some(server)
}

/// `GET path` (`/<bucket>/<key>` or a listing query), signed well enough
/// for moto; the reply whatever its status.
pub fn get(port: u16, path: &str) -> Reply {
    http(
        port,
        "GET",
        path,
        &[("Authorization", ANY_SIGNATURE.to_owned())],
        b"",
    )
    .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// The body of `GET path`, which must answer 200.
pub fn get_ok(port: u16, path: &str) -> Vec<u8> {
    let r = get(port, path);
    assert_eq!(
        r.status,
        200,
        "GET {path}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.body
}
