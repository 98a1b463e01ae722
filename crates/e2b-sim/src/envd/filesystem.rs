//! `filesystem.Filesystem`: `Stat`, `ListDir`, `MakeDir`, `Remove`, with
//! envd's `EntryInfo` JSON and error codes.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::connect::{self, ConnectError};
use super::{SandboxPath, User, require_user, resolve_path};
use crate::dates::rfc3339_protobuf;
use crate::state::Sandbox;

/// Go's `FileMode.String()` for the common types.
fn permissions(is_dir: bool, is_link: bool, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(if is_dir {
        'd'
    } else if is_link {
        'L'
    } else {
        '-'
    });
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        s.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    s
}

/// The `EntryInfo` of a path (proto3 JSON: int64 as string, zeros omitted).
fn entry_info(path: &SandboxPath) -> Result<Value, ConnectError> {
    let meta = std::fs::symlink_metadata(&path.host).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            ConnectError::not_found(format!(
                "file not found: stat {}: no such file or directory",
                path.virtual_path
            ))
        } else {
            ConnectError::internal(format!("error getting file info: {e}"))
        }
    })?;
    let is_link = meta.file_type().is_symlink();
    let target_meta = if is_link {
        std::fs::metadata(&path.host).ok()
    } else {
        None
    };
    let effective = target_meta.as_ref().unwrap_or(&meta);
    let is_dir = effective.is_dir();
    let perm = meta.permissions().mode() & 0o777;
    let mode = if is_dir {
        perm | 0x8000_0000
    } else if is_link {
        perm | 0x0800_0000
    } else {
        perm
    };
    let name = path
        .virtual_path
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    let owner = if meta.uid() == 0 { "root" } else { "user" };
    let group = if meta.gid() == 0 { "root" } else { "user" };
    let mut entry = Map::new();
    entry.insert(
        "name".into(),
        json!(if name.is_empty() { "/" } else { &name }),
    );
    let kind = if is_dir {
        "FILE_TYPE_DIRECTORY"
    } else {
        "FILE_TYPE_FILE"
    };
    entry.insert("type".into(), json!(kind));
    entry.insert("path".into(), json!(path.virtual_path));
    if meta.len() != 0 {
        entry.insert("size".into(), json!(meta.len().to_string()));
    }
    entry.insert("mode".into(), json!(mode));
    entry.insert(
        "permissions".into(),
        json!(permissions(is_dir, is_link, perm)),
    );
    entry.insert("owner".into(), json!(owner));
    entry.insert("group".into(), json!(group));
    if let Ok(modified) = meta.modified() {
        entry.insert("modifiedTime".into(), json!(rfc3339_protobuf(modified)));
    }
    if is_link && let Ok(target) = std::fs::read_link(&path.host) {
        entry.insert("symlinkTarget".into(), json!(target.to_string_lossy()));
    }
    Ok(Value::Object(entry))
}

fn request(headers: &HeaderMap, body: &[u8]) -> Result<(Value, User), Response> {
    let (_, req) = connect::decode_request(headers, body)?;
    let user = require_user(headers).map_err(|e| e.unary_response())?;
    Ok((req, user))
}

fn path_of(sandbox: &Sandbox, req: &Value, user: User) -> Result<SandboxPath, ConnectError> {
    let path = req.get("path").and_then(Value::as_str).unwrap_or("");
    resolve_path(&sandbox.workdir, path, user).map_err(ConnectError::invalid_argument)
}

macro_rules! rpc {
    ($name:ident, $doc:literal, $body:expr) => {
        #[doc = $doc]
        pub async fn $name(
            Extension(sandbox): Extension<Arc<Sandbox>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Response {
            let (req, user) = match request(&headers, &body) {
                Ok(v) => v,
                Err(r) => return r,
            };
            let f: fn(&Sandbox, &Value, User) -> Result<Value, ConnectError> = $body;
            connect::unary(f(&sandbox, &req, user))
        }
    };
}

rpc!(
    stat,
    "`filesystem.Filesystem/Stat`: `{\"entry\":EntryInfo}`.",
    |sandbox, req, user| {
        let path = path_of(sandbox, req, user)?;
        Ok(json!({ "entry": entry_info(&path)? }))
    }
);

rpc!(
    list_dir,
    "`filesystem.Filesystem/ListDir` with `depth` (default 1).",
    |sandbox, req, user| {
        let path = path_of(sandbox, req, user)?;
        let depth = req.get("depth").and_then(Value::as_u64).unwrap_or(0).max(1);
        match std::fs::metadata(&path.host) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConnectError::not_found(format!(
                    "directory not found: stat {}: no such file or directory",
                    path.virtual_path
                )));
            }
            Err(e) => {
                return Err(ConnectError::internal(format!(
                    "error getting file info: {e}"
                )));
            }
            Ok(m) if !m.is_dir() => {
                return Err(ConnectError::invalid_argument(format!(
                    "path is not a directory: {}",
                    path.virtual_path
                )));
            }
            Ok(_) => {}
        }
        let mut entries = Vec::new();
        walk(&path, depth, &mut entries)?;
        Ok(json!({ "entries": entries }))
    }
);

fn walk(dir: &SandboxPath, depth: u64, out: &mut Vec<Value>) -> Result<(), ConnectError> {
    let read = std::fs::read_dir(&dir.host).map_err(|e| {
        ConnectError::internal(format!("error reading directory {}: {e}", dir.virtual_path))
    })?;
    let mut names: Vec<String> = read
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let child = SandboxPath {
            virtual_path: if dir.virtual_path == "/" {
                format!("/{name}")
            } else {
                format!("{}/{name}", dir.virtual_path)
            },
            host: dir.host.join(&name),
        };
        let Ok(info) = entry_info(&child) else {
            continue;
        };
        let is_real_dir = std::fs::symlink_metadata(&child.host).is_ok_and(|m| m.is_dir());
        out.push(info);
        if depth > 1 && is_real_dir {
            walk(&child, depth - 1, out)?;
        }
    }
    Ok(())
}

rpc!(
    make_dir,
    "`filesystem.Filesystem/MakeDir`: creates parents; `already_exists` if present.",
    |sandbox, req, user| {
        let path = path_of(sandbox, req, user)?;
        match std::fs::metadata(&path.host) {
            Ok(m) if m.is_dir() => {
                return Err(ConnectError::new(
                    "already_exists",
                    format!("directory already exists: {}", path.virtual_path),
                ));
            }
            Ok(_) => {
                return Err(ConnectError::invalid_argument(format!(
                    "path already exists but it is not a directory: {}",
                    path.virtual_path
                )));
            }
            Err(_) => {}
        }
        std::fs::create_dir_all(&path.host)
            .map_err(|e| ConnectError::internal(format!("error creating directory: {e}")))?;
        Ok(json!({ "entry": entry_info(&path)? }))
    }
);

rpc!(
    remove,
    "`filesystem.Filesystem/Remove`: like `os.RemoveAll` (absent is fine).",
    |sandbox, req, user| {
        let path = path_of(sandbox, req, user)?;
        if path.virtual_path == "/" {
            return Err(ConnectError::invalid_argument(
                "refusing to remove the sandbox root",
            ));
        }
        let result = match std::fs::symlink_metadata(&path.host) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path.host),
            Ok(_) => std::fs::remove_file(&path.host),
            Err(_) => Ok(()),
        };
        result.map_err(|e| {
            ConnectError::internal(format!("error removing file or directory: {e}"))
        })?;
        Ok(json!({}))
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_permissions() {
        assert_eq!(permissions(true, false, 0o755), "drwxr-xr-x");
    }
}
