//! RFC 3339 dates of the emulator's answers, on top of
//! [`bench_core::time::rfc3339`] (second precision): the REST API shows
//! milliseconds, envd's protobuf JSON trims nanoseconds to 0, 3, 6 or 9 digits.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The last instant RFC 3339's four-digit year can show (9999-12-31T23:59:59.999999999Z).
const LATEST: Duration = Duration::new(253_402_300_799, 999_999_999);

/// `t` as a duration since the epoch, clamped to what RFC 3339 can show:
/// a file dated before 1970 shows the epoch, an absurd timeout the year 9999.
fn since_epoch(t: SystemTime) -> Duration {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().min(LATEST)
}

/// `2025-01-02T03:04:05` + `fraction` + `Z`.
fn with_fraction(whole: Duration, fraction: &str) -> String {
    let secs = bench_core::time::rfc3339(UNIX_EPOCH + Duration::from_secs(whole.as_secs()));
    // bench-core's form always ends in `Z`: the fraction goes before it.
    let date = secs.strip_suffix('Z').unwrap_or(&secs);
    format!("{date}{fraction}Z")
}

/// UTC with milliseconds, e.g. `2025-01-02T03:04:05.678Z` (the REST API's
/// `startedAt` / `endAt`).
pub fn rfc3339_millis(t: SystemTime) -> String {
    let d = since_epoch(t);
    with_fraction(d, &format!(".{:03}", d.subsec_millis()))
}

/// UTC as protobuf JSON writes a `Timestamp`: no fraction when the
/// nanoseconds are 0, else 3, 6 or 9 digits (envd's `modifiedTime`).
pub fn rfc3339_protobuf(t: SystemTime) -> String {
    let d = since_epoch(t);
    let nanos = d.subsec_nanos();
    let fraction = if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    with_fraction(d, &fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_form() {
        assert_eq!(rfc3339_millis(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_709_251_200_123); // 2024-03-01
        assert_eq!(rfc3339_millis(t), "2024-03-01T00:00:00.123Z");
    }

    #[test]
    fn protobuf_form() {
        assert_eq!(rfc3339_protobuf(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5_000_000);
        assert_eq!(rfc3339_protobuf(t), "2023-11-14T22:13:20.005Z");
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5_000);
        assert_eq!(rfc3339_protobuf(t), "2023-11-14T22:13:20.000005Z");
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        assert_eq!(rfc3339_protobuf(t), "2023-11-14T22:13:20.000000005Z");
    }

    #[test]
    fn out_of_range_instants_are_clamped() {
        let before = UNIX_EPOCH - Duration::from_secs(86_400);
        assert_eq!(rfc3339_protobuf(before), "1970-01-01T00:00:00Z");
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(rfc3339_millis(far), "9999-12-31T23:59:59.999Z");
    }
}
