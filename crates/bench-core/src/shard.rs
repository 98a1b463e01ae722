//! Shards and nodes: how several machines write one run to one destination
//! without overwriting each other.
//!
//! A [`Shard`] (`--shard i/N`, 1-based like Playwright and Jest) is one of N
//! jump boxes loading one cluster together: it runs its [`share`](Shard::share)
//! of every count (iterations, concurrent starts), interleaved so that the
//! shares of all N add up to the whole. A node name (`--node`, default the
//! hostname) and the shard qualify every file name a tier writes
//! ([`qualified_file_name`]), and [`parse_file_name`] reads them back, so
//! `bench-report` can merge them.
//!
//! ```
//! use bench_core::shard::{Shard, parse_file_name, qualified_file_name};
//!
//! // 10 iterations over 3 shards: 4, 3, 3.
//! let shard: Shard = "2/3".parse().unwrap();
//! assert_eq!(shard.share(10), 3);
//! let name = qualified_file_name("01_cold_start.json", "jump-1", Some(shard));
//! assert_eq!(name, "01_cold_start.jump-1.shard-2-of-3.json");
//! let parsed = parse_file_name(&name);
//! assert_eq!(parsed.base, "01_cold_start.json");
//! assert_eq!(parsed.node.as_deref(), Some("jump-1"));
//! assert_eq!(parsed.shard, Some(shard));
//! ```

use std::fmt;
use std::str::FromStr;

/// Most shards one run may have: far more jump boxes than any cluster needs,
/// small enough that a typo (`1/10000`) is caught.
pub const MAX_SHARDS: u32 = 1024;

/// Longest node name (it is part of file names).
pub const MAX_NODE_LEN: usize = 128;

/// Node name used when the hostname has nothing usable in it.
pub const UNKNOWN_NODE: &str = "unknown";

/// Shard `index` of `count` (1 ≤ index ≤ count ≤ [`MAX_SHARDS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` of `count`, or why not (a message without the flag name).
    pub fn new(index: u32, count: u32) -> Result<Self, String> {
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("N must be between 1 and {MAX_SHARDS}"));
        }
        if index == 0 || index > count {
            return Err(format!(
                "i must be between 1 and N ({count}); shards are numbered from 1"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The 1-based index `i`.
    pub fn index(self) -> u32 {
        self.index
    }

    /// The number of shards `N`.
    pub fn count(self) -> u32 {
        self.count
    }

    /// This shard's part of `total`: ⌊total/N⌋, plus one for the first
    /// `total mod N` shards, so the parts of all shards add up to `total`.
    pub fn share(self, total: u32) -> u32 {
        total / self.count + u32::from(self.index <= total % self.count)
    }

    /// True when the `j`th (0-based) of a series of items is this shard's:
    /// items are dealt round-robin, shard 1 taking item 0. Consistent with
    /// [`share`](Self::share): shard i owns exactly `share(total)` of the
    /// first `total` items.
    pub fn owns(self, j: u32) -> bool {
        j % self.count == self.index - 1
    }

    /// `shard-<i>-of-<N>`, the file-name part.
    pub fn file_part(self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

    /// Reads a [`file_part`](Self::file_part) back.
    pub fn from_file_part(part: &str) -> Option<Self> {
        let rest = part.strip_prefix("shard-")?;
        let (i, n) = rest.split_once("-of-")?;
        if !all_digits(i) || !all_digits(n) {
            return None;
        }
        Shard::new(i.parse().ok()?, n.parse().ok()?).ok()
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// `i/N`, e.g. `1/4`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (i, n) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| "expected i/N, e.g. 1/4".to_owned())?;
        let parse = |part: &str| -> Result<u32, String> {
            let part = part.trim();
            if all_digits(part) {
                part.parse()
                    .map_err(|_| format!("{part} is too large (at most {MAX_SHARDS})"))
            } else {
                Err("expected i/N with whole numbers, e.g. 1/4".to_owned())
            }
        };
        Shard::new(parse(i)?, parse(n)?)
    }
}

/// Checks a node name given by the user: 1-[`MAX_NODE_LEN`] of
/// `[A-Za-z0-9._-]`, not starting with `.` or `-`, and not ending in what
/// reads as a shard (`.shard-1-of-2`). Returns what is wrong.
pub fn check_node(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NODE_LEN {
        return Err(format!("use 1-{MAX_NODE_LEN} characters"));
    }
    if !name.chars().all(is_node_char) {
        return Err("use only letters, digits, '.', '_' or '-' (it is part of file names)".into());
    }
    if name.starts_with(['.', '-']) {
        return Err("must not start with '.' or '-'".into());
    }
    if name
        .rsplit('.')
        .next()
        .and_then(Shard::from_file_part)
        .is_some()
    {
        return Err(
            "must not end in .shard-I-of-N (that part of a file name names the shard)".into(),
        );
    }
    Ok(())
}

fn is_node_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

/// A hostname made into a valid node name, never an error: characters
/// outside `[A-Za-z0-9._-]` become `-`, a leading `.` or `-` is dropped,
/// it is cut at [`MAX_NODE_LEN`], and an empty result is [`UNKNOWN_NODE`].
pub fn sanitize_node(hostname: &str) -> String {
    let replaced: String = hostname
        .trim()
        .chars()
        .map(|c| if is_node_char(c) { c } else { '-' })
        .collect();
    let mut name: String = replaced
        .trim_start_matches(['.', '-'])
        .chars()
        .take(MAX_NODE_LEN)
        .collect();
    if name
        .rsplit('.')
        .next()
        .and_then(Shard::from_file_part)
        .is_some()
    {
        name = name.replace('.', "-");
    }
    if name.is_empty() {
        UNKNOWN_NODE.to_owned()
    } else {
        name
    }
}

/// `file_name` with the node and shard in it: `04_host_performance.json` →
/// `04_host_performance.node-a.json`, `01_cold_start.jump-1.shard-1-of-2.json`.
/// The qualifier goes before the last extension (after the whole name when
/// there is none).
pub fn qualified_file_name(file_name: &str, node: &str, shard: Option<Shard>) -> String {
    let mut qualifier = node.to_owned();
    if let Some(s) = shard {
        qualifier.push('.');
        qualifier.push_str(&s.file_part());
    }
    match file_name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => format!("{stem}.{qualifier}.{ext}"),
        _ => format!("{file_name}.{qualifier}"),
    }
}

/// A file name read back by [`parse_file_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFileName {
    /// The contract's name (`04_host_performance.json`).
    pub base: String,
    /// The node part, when the name has one.
    pub node: Option<String>,
    /// The shard part, when the name has one.
    pub shard: Option<Shard>,
}

/// Splits a (possibly qualified) file name into the contract's name, the
/// node and the shard. The contract's stems have no `.`, so everything
/// between the first `.` and the extension is the qualifier (a node name
/// may itself contain dots, e.g. `ip-10-0-0-1.ec2.internal`).
pub fn parse_file_name(file_name: &str) -> ParsedFileName {
    let plain = || ParsedFileName {
        base: file_name.to_owned(),
        node: None,
        shard: None,
    };
    let Some((rest, ext)) = file_name.rsplit_once('.') else {
        return plain();
    };
    let Some((stem, qualifier)) = rest.split_once('.') else {
        return plain();
    };
    if stem.is_empty() || qualifier.is_empty() {
        return plain();
    }
    let (node, shard) = match qualifier.rsplit_once('.') {
        Some((node, last)) => match Shard::from_file_part(last) {
            Some(s) => (Some(node), Some(s)),
            None => (Some(qualifier), None),
        },
        None => match Shard::from_file_part(qualifier) {
            Some(s) => (None, Some(s)),
            None => (Some(qualifier), None),
        },
    };
    ParsedFileName {
        base: format!("{stem}.{ext}"),
        node: node.filter(|n| !n.is_empty()).map(str::to_owned),
        shard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_shards() {
        let s: Shard = "1/4".parse().unwrap();
        assert_eq!((s.index(), s.count(), s.to_string()), (1, 4, "1/4".into()));
        assert_eq!(" 4/4 ".parse::<Shard>().unwrap().index(), 4);
        assert!("1024/1024".parse::<Shard>().is_ok());
        for bad in [
            "", "1", "0/2", "3/2", "1/0", "1/1025", "a/b", "-1/2", "1/2/3", "1.5/2", "+1/2",
        ] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert!(
            "99999999999/2"
                .parse::<Shard>()
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn shares_add_up_and_match_round_robin() {
        for n in 1..=7u32 {
            for total in 0..=30u32 {
                let shards: Vec<Shard> = (1..=n).map(|i| Shard::new(i, n).unwrap()).collect();
                let sum: u32 = shards.iter().map(|s| s.share(total)).sum();
                assert_eq!(sum, total, "{total} over {n}");
                for s in &shards {
                    let owned = (0..total).filter(|&j| s.owns(j)).count() as u32;
                    assert_eq!(owned, s.share(total), "{s} of {total}");
                    // Shares differ by at most one, the larger ones first.
                    assert!(s.share(total) <= shards[0].share(total));
                    assert!(s.share(total) + 1 >= shards[0].share(total));
                }
            }
        }
        let s = Shard::new(3, 4).unwrap();
        assert_eq!(
            (s.share(1), s.share(2), s.share(3), s.share(10)),
            (0, 0, 1, 2)
        );
    }

    #[test]
    fn node_names() {
        for ok in [
            "node-a",
            "ip-10-0-0-1.ec2.internal",
            "N_1",
            "a",
            &"x".repeat(128),
        ] {
            assert!(check_node(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".a",
            "-a",
            "a/b",
            "a b",
            "ü",
            &"x".repeat(129),
            "a.shard-1-of-2",
        ] {
            assert!(check_node(bad).is_err(), "{bad}");
        }
        assert_eq!(sanitize_node("my host/é"), "my-host--");
        assert_eq!(sanitize_node("..-x"), "x");
        assert_eq!(sanitize_node(""), UNKNOWN_NODE);
        assert_eq!(sanitize_node("***"), UNKNOWN_NODE);
        assert_eq!(sanitize_node(&"y".repeat(300)).len(), MAX_NODE_LEN);
        assert_eq!(sanitize_node("a.shard-1-of-2"), "a-shard-1-of-2");
        for h in [
            "my host/é",
            "..-x",
            "",
            "a.shard-1-of-2",
            "ip-1.ec2.internal",
        ] {
            assert!(check_node(&sanitize_node(h)).is_ok(), "{h}");
        }
    }

    #[test]
    fn file_names_round_trip() {
        let s = Shard::new(1, 2).unwrap();
        for (node, shard, want) in [
            ("node-a", None, "04_host_performance.node-a.json"),
            (
                "jump-1",
                Some(s),
                "04_host_performance.jump-1.shard-1-of-2.json",
            ),
            (
                "ip-1.ec2.internal",
                Some(s),
                "04_host_performance.ip-1.ec2.internal.shard-1-of-2.json",
            ),
            (
                "ip-1.ec2.internal",
                None,
                "04_host_performance.ip-1.ec2.internal.json",
            ),
        ] {
            let name = qualified_file_name("04_host_performance.json", node, shard);
            assert_eq!(name, want);
            let p = parse_file_name(&name);
            assert_eq!(p.base, "04_host_performance.json");
            assert_eq!(p.node.as_deref(), Some(node));
            assert_eq!(p.shard, shard);
        }
        let plain = parse_file_name("summary_report.json");
        assert_eq!(
            (plain.base.as_str(), plain.node, plain.shard),
            ("summary_report.json", None, None)
        );
        let only_shard = parse_file_name("01_cold_start.shard-2-of-2.json");
        assert_eq!(only_shard.base, "01_cold_start.json");
        assert_eq!(
            (only_shard.node, only_shard.shard),
            (None, Some(Shard::new(2, 2).unwrap()))
        );
        assert_eq!(qualified_file_name("noext", "n", None), "noext.n");
        assert_eq!(parse_file_name("noext").base, "noext");
        assert_eq!(parse_file_name(".hidden.json").base, ".hidden.json");
    }
}
