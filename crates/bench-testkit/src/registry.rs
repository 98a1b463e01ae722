//! A package registry on loopback for package-manager tests: a PEP 503
//! "simple" index for pip and uv and an npm registry, each serving one tiny
//! package built at test time. Nothing leaves 127.0.0.1, and every request
//! is recorded, so a test can prove a package was downloaded (not taken from
//! a cache).
//!
//! The wheel (`e2bbenchpkg-1.0.0-py3-none-any.whl`: module, METADATA, WHEEL,
//! RECORD) and the npm tarball (`package/package.json`, `package/index.js`,
//! gzip-compressed tar) are built by `python3` with its standard library
//! (zipfile, tarfile, hashlib), which also computes their digests: sha256
//! for the index's `#sha256=` fragments, sha512 (npm's `integrity`) and
//! sha1 (npm's `shasum`). Timestamps are fixed, so the bytes are the same
//! in every run.

use std::process::Command;

use serde_json::{Value, json};

use crate::http::{Response, StaticServer};

/// The Python package's (normalized) name.
pub const PY_PACKAGE: &str = "e2bbenchpkg";
/// The npm package's name.
pub const NPM_PACKAGE: &str = "e2b-bench-pkg";
/// The version of both.
pub const VERSION: &str = "1.0.0";

/// Builds both packages; prints one JSON object with the bytes in hex.
const BUILD_SCRIPT: &str = r#"
import base64, hashlib, io, json, sys, tarfile, zipfile
name, npm_name, version = sys.argv[1:4]
dist = "%s-%s.dist-info" % (name, version)
files = {
    name + "/__init__.py": b"VALUE = 42\n",
    dist + "/METADATA": ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: e2b-bench test package\n" % (name, version)).encode(),
    dist + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: e2b-bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
def record_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
record = "".join("%s,%s,%d\n" % (p, record_hash(d), len(d)) for p, d in files.items())
files[dist + "/RECORD"] = (record + dist + "/RECORD,,\n").encode()
wheel = io.BytesIO()
with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
    for path, data in files.items():
        info = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        z.writestr(info, data, zipfile.ZIP_DEFLATED)
wheel = wheel.getvalue()
package_json = json.dumps({"name": npm_name, "version": version, "main": "index.js",
                           "description": "e2b-bench test package", "license": "Apache-2.0"}).encode()
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for path, data in [("package/package.json", package_json), ("package/index.js", b"module.exports = 42;\n")]:
        info = tarfile.TarInfo(path)
        info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
        t.addfile(info, io.BytesIO(data))
import gzip
tgz = gzip.compress(raw.getvalue(), mtime=0)
print(json.dumps({
    "wheel": wheel.hex(),
    "wheel_sha256": hashlib.sha256(wheel).hexdigest(),
    "metadata": files[dist + "/METADATA"].hex(),
    "metadata_sha256": hashlib.sha256(files[dist + "/METADATA"]).hexdigest(),
    "tgz": tgz.hex(),
    "tgz_sha1": hashlib.sha1(tgz).hexdigest(),
    "tgz_integrity": "sha512-" + base64.b64encode(hashlib.sha512(tgz).digest()).decode(),
}))
"#;

/// The running registry; stops when dropped.
pub struct Registry {
    server: StaticServer,
    /// The wheel's file name.
    pub wheel_name: String,
    /// The npm tarball's file name.
    pub tarball_name: String,
}

impl Registry {
    /// Builds the packages (needs `python3` on PATH) and serves them:
    ///
    /// - `/simple/` and `/simple/e2bbenchpkg/` (PEP 503 HTML, the wheel's
    ///   link carrying `#sha256=` and its PEP 658 metadata hash),
    ///   `/files/<wheel>` and `/files/<wheel>.metadata`;
    /// - `/e2b-bench-pkg` (the packument: absolute `dist.tarball`,
    ///   `dist.integrity`, `dist.shasum`), `/e2b-bench-pkg/-/<tarball>`.
    ///
    /// Every other path is a 404 (an unknown package, for pip and npm alike).
    pub fn start() -> Registry {
        let out = Command::new("python3")
            .args(["-c", BUILD_SCRIPT, PY_PACKAGE, NPM_PACKAGE, VERSION])
            .output()
            .expect("the test registry needs python3 on PATH to build its packages");
        assert!(
            out.status.success(),
            "building the test packages failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let built: Value = serde_json::from_slice(&out.stdout).expect("the build script's JSON");
        let text = |key: &str| {
            built[key]
                .as_str()
                .unwrap_or_else(|| panic!("'{key}' missing from the build output"))
                .to_owned()
        };
        let wheel_name = format!("{PY_PACKAGE}-{VERSION}-py3-none-any.whl");
        let tarball_name = format!("{NPM_PACKAGE}-{VERSION}.tgz");

        let server = StaticServer::start(Vec::new());
        let base = server.url();
        server.route(
            "/simple/",
            html(&format!(
                "<a href=\"/simple/{PY_PACKAGE}/\">{PY_PACKAGE}</a>"
            )),
        );
        // PEP 658/714 metadata, as PyPI serves it: installers read it
        // instead of the wheel while resolving, then fetch the wheel once.
        let metadata = format!("sha256={}", text("metadata_sha256"));
        server.route(
            &format!("/simple/{PY_PACKAGE}/"),
            html(&format!(
                "<a href=\"{base}/files/{wheel_name}#sha256={}\" data-dist-info-metadata=\"{metadata}\" data-core-metadata=\"{metadata}\">{wheel_name}</a>",
                text("wheel_sha256")
            )),
        );
        server.route(
            &format!("/files/{wheel_name}.metadata"),
            Response::ok("application/octet-stream", from_hex(&text("metadata"))),
        );
        server.route(
            &format!("/files/{wheel_name}"),
            Response::ok("application/octet-stream", from_hex(&text("wheel"))),
        );
        let tarball_path = format!("/{NPM_PACKAGE}/-/{tarball_name}");
        let version = json!({
            "name": NPM_PACKAGE,
            "version": VERSION,
            "main": "index.js",
            "dist": {
                "tarball": format!("{base}{tarball_path}"),
                "integrity": text("tgz_integrity"),
                "shasum": text("tgz_sha1"),
            },
        });
        let packument = json!({
            "name": NPM_PACKAGE,
            "dist-tags": {"latest": VERSION},
            "versions": {VERSION: version},
        });
        server.route(
            &format!("/{NPM_PACKAGE}"),
            Response::ok("application/json", packument.to_string()),
        );
        server.route(
            &tarball_path,
            Response::ok("application/octet-stream", from_hex(&text("tgz"))),
        );
        Registry {
            server,
            wheel_name,
            tarball_name,
        }
    }

    /// The simple index, for `PIP_INDEX_URL` / `UV_DEFAULT_INDEX`
    /// (`http://127.0.0.1:PORT/simple/`).
    pub fn pypi_url(&self) -> String {
        format!("{}/simple/", self.server.url())
    }

    /// The npm registry, for `NPM_CONFIG_REGISTRY` (`http://127.0.0.1:PORT/`).
    pub fn npm_url(&self) -> String {
        format!("{}/", self.server.url())
    }

    /// The server (its request log).
    pub fn server(&self) -> &StaticServer {
        &self.server
    }

    /// How many GETs of `path` came from a client whose User-Agent starts
    /// with `agent` (`pip/`, `npm/`, `uv/`; "" for any).
    pub fn downloads(&self, path: &str, agent: &str) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.target.split('?').next() == Some(path))
            .filter(|r| {
                r.headers
                    .iter()
                    .any(|(n, v)| n == "user-agent" && v.starts_with(agent))
                    || agent.is_empty()
            })
            .count()
    }

    /// The wheel's path on the server.
    pub fn wheel_path(&self) -> String {
        format!("/files/{}", self.wheel_name)
    }

    /// The npm tarball's path on the server.
    pub fn tarball_path(&self) -> String {
        format!("/{NPM_PACKAGE}/-/{}", self.tarball_name)
    }
}

fn html(links: &str) -> Response {
    Response::ok(
        "text/html",
        format!("<!DOCTYPE html>\n<html><body>\n{links}\n</body></html>\n"),
    )
}

fn from_hex(hex: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => panic!("not a hex digit: {}", c as char),
    };
    hex.as_bytes()
        .chunks(2)
        .map(|pair| digit(pair[0]) << 4 | digit(pair[1]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_decodes() {
        assert_eq!(from_hex("00ff10a7"), [0x00, 0xff, 0x10, 0xa7]);
        assert!(from_hex("").is_empty());
    }
}
