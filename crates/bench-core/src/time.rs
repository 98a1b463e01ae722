//! Wall-clock timestamps for documents and run ids.
//!
//! Documents carry RFC 3339 UTC times with second precision; run ids are the
//! compact form of the start time plus four random hex digits, so two runs
//! started in the same second on different machines do not collide and ids
//! sort by time: `20261122T101500Z-3f9a`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time as RFC 3339 UTC, e.g. `2026-11-22T10:15:00Z`.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// A time as RFC 3339 UTC with second precision.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// A fresh run id for a run starting at `t`.
pub fn run_id(t: SystemTime) -> String {
    let compact: String = rfc3339(t)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    format!("{compact}-{:04x}", random_u16())
}

/// Whether `id` may be used as a run id: it becomes a directory name under
/// `history/`, so only `[A-Za-z0-9._-]`, 1–64 characters, not starting with `.`.
pub fn is_valid_run_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// Sixteen bits that differ between processes and calls; not cryptographic
/// (run-id suffixes, DNS query ids).
pub fn random_u16() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS per process; mix in time and pid so
    // two calls in one process differ too.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    (h.finish() & 0xffff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_utc() {
        // 1_795_343_400 s after the epoch is 2026-11-22 10:30:00 UTC
        // (date -u -d @1795343400).
        let t = UNIX_EPOCH + Duration::from_secs(1_795_343_400);
        assert_eq!(rfc3339(t), "2026-11-22T10:30:00Z");
        let id = run_id(t);
        assert!(id.starts_with("20261122T103000Z-"), "{id}");
        assert_eq!(id.len(), "20261122T103000Z-3f9a".len());
        assert!(is_valid_run_id(&id));
    }

    #[test]
    fn run_id_validation() {
        for ok in ["20261122T101500Z-3f9a", "nightly-42", "a.b_c"] {
            assert!(is_valid_run_id(ok), "{ok}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "with space", &"x".repeat(65)] {
            assert!(!is_valid_run_id(bad), "{bad}");
        }
    }
}
