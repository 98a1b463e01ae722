//! Sizes and durations on the command line: `4k`, `1M`, `1GiB`, `4096`
//! (binary multiples, as fio reads them) and `30s`, `500ms`, `2m`.

use std::ops::Bound;
use std::time::Duration;

/// Parses a byte size: a number with an optional `k`, `m`, `g`, `t` suffix
/// (optionally followed by `i`/`ib`/`b`), all powers of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(split);
    if suffix.starts_with(['.', ',']) {
        return Err(format!(
            "'{text}': use a whole number with a smaller unit, e.g. 1536M for 1.5G"
        ));
    }
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a size; use e.g. 4096, 4k, 1M or 1G"))?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "ki" | "kib" => 10,
        "m" | "mb" | "mi" | "mib" => 20,
        "g" | "gb" | "gi" | "gib" => 30,
        "t" | "tb" | "ti" | "tib" => 40,
        _ => {
            return Err(format!(
                "'{text}' has an unknown unit '{suffix}'; use k, M, G or T (powers of 1024)"
            ));
        }
    };
    number
        .checked_mul(1u64 << shift)
        .ok_or_else(|| format!("'{text}' is too large"))
}

/// Parses a count: a whole number within `range`. The one parser behind
/// every count flag (`--exits`, `--ntimes`, `--dns-lookups`, ...), so they
/// all say the same thing; callers put the flag's name in front.
pub fn parse_count<T>(text: &str, range: std::ops::RangeInclusive<T>) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    match text.trim().parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}': must be a whole number from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// Parses a duration the way humantime does (`30s`, `1m30s`, `500ms`); a
/// bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Ok(Duration::from_secs_f64(secs));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("'{text}' is not a duration ({e}); use e.g. 30s, 500ms or 2m"))
}

/// The range of a duration that must be longer than zero, for
/// [`parse_duration_in`].
pub const POSITIVE_DURATION: (Bound<Duration>, Bound<Duration>) =
    (Bound::Excluded(Duration::ZERO), Bound::Unbounded);

/// [`parse_duration`] for a flag whose value must lie in `range`, with the
/// bound in the error: `'0.5ms': must be at least 1ms`. An exclusive zero
/// start reads "longer than 0". The caller puts the flag name in front.
pub fn parse_duration_in(
    text: &str,
    range: impl std::ops::RangeBounds<Duration>,
) -> Result<Duration, String> {
    use Bound::{Excluded, Included, Unbounded};
    let d = parse_duration(text)?;
    if range.contains(&d) {
        return Ok(d);
    }
    let show = |d: &Duration| humantime::format_duration(*d).to_string();
    let rule = match (range.start_bound(), range.end_bound()) {
        (Excluded(min), Unbounded) if min.is_zero() => "must be longer than 0".to_owned(),
        (Included(min), Unbounded) => format!("must be at least {}", show(min)),
        (Included(min), Included(max)) => {
            format!("must be between {} and {}", show(min), show(max))
        }
        (Unbounded, Included(max)) => format!("must be at most {}", show(max)),
        (start, end) => format!("must be within {start:?}..{end:?}"),
    };
    Err(format!("'{text}': {rule}"))
}

/// A byte count for humans: `4k`, `1M`, `1.5G` (binary), exact when it can be.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u32); 4] = [("T", 40), ("G", 30), ("M", 20), ("k", 10)];
    for (unit, shift) in UNITS {
        let scale = 1u64 << shift;
        if bytes >= scale {
            return if bytes.is_multiple_of(scale) {
                format!("{}{unit}", bytes / scale)
            } else {
                format!("{:.1}{unit}", bytes as f64 / scale as f64)
            };
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(parse_count(" 12 ", 1..=1000u32), Ok(12));
        assert_eq!(parse_count("1000", 1..=1000usize), Ok(1000));
        let message = "'0': must be a whole number from 1 to 1000";
        assert_eq!(parse_count("0", 1..=1000u32), Err(message.into()));
        for bad in ["1001", "-1", "1.5", "ten", "", "99999999999999999999"] {
            assert!(parse_count(bad, 1..=1000u64).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4k"), Ok(4096));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("2gb"), Ok(2 << 30));
        assert!(parse_size("1.5G").unwrap_err().contains("1536M"));
        assert!(parse_size("G").unwrap_err().contains("not a size"));
        assert!(parse_size("3x").unwrap_err().contains("unknown unit"));
        assert!(parse_size("").is_err());
        assert!(
            parse_size("99999999999T")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap().as_secs(), 30);
        assert_eq!(parse_duration("2").unwrap().as_secs(), 2);
        assert_eq!(parse_duration("0.5").unwrap().as_millis(), 500);
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());

        let positive = POSITIVE_DURATION;
        assert_eq!(
            parse_duration_in("2s", positive),
            Ok(Duration::from_secs(2))
        );
        assert_eq!(
            parse_duration_in("0", positive).unwrap_err(),
            "'0': must be longer than 0"
        );
        assert_eq!(
            parse_duration_in("0.5ms", Duration::from_millis(1)..).unwrap_err(),
            "'0.5ms': must be at least 1ms"
        );
        let window = Duration::from_millis(10)..=Duration::from_secs(600);
        assert_eq!(
            parse_duration_in("10ms", window.clone()),
            Ok(Duration::from_millis(10))
        );
        assert_eq!(
            parse_duration_in("11m", window.clone()).unwrap_err(),
            "'11m': must be between 10ms and 10m"
        );
        assert!(
            parse_duration_in("soon", window)
                .unwrap_err()
                .contains("not a duration")
        );
    }

    #[test]
    fn formatting() {
        assert_eq!(format_size(4096), "4k");
        assert_eq!(format_size(1 << 20), "1M");
        assert_eq!(format_size(1536 << 20), "1.5G");
        assert_eq!(format_size(512), "512");
    }
}
