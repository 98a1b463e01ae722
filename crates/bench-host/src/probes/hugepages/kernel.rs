//! What the kernel says about hugepages: `/proc/meminfo`, the per-size pools
//! under `/sys/kernel/mm/hugepages`, the THP mode files and `smaps`.
//!
//! Every parser takes text or a directory so tests feed fixtures.

use std::io;
use std::path::Path;

use procfs_core::FromRead;
use procfs_core::process::MemoryMaps;

/// A pool "covers the node" when it holds at least this fraction of
/// `MemTotal`. E2B preallocates most of an orchestrator's RAM as 2 MiB pages
/// for Firecracker guest memory; a pool below half of the node cannot back
/// the sandboxes the node is sized for.
pub const COVERS_NODE_FRACTION: f64 = 0.5;

/// The hugepage lines of `/proc/meminfo`, in bytes or pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meminfo {
    /// `MemTotal`.
    pub mem_total_bytes: Option<u64>,
    /// `HugePages_Total` (pages of the default size).
    pub hugepages_total: Option<u64>,
    /// `HugePages_Free`.
    pub hugepages_free: Option<u64>,
    /// `HugePages_Rsvd`: promised to mappings, not yet faulted in.
    pub hugepages_rsvd: Option<u64>,
    /// `HugePages_Surp`: allocated beyond the pool through overcommit.
    pub hugepages_surp: Option<u64>,
    /// `Hugepagesize`: the default hugepage size.
    pub hugepage_size_bytes: Option<u64>,
    /// `Hugetlb`: memory held by all hugetlb pools, every size.
    pub hugetlb_bytes: Option<u64>,
    /// `AnonHugePages`: anonymous memory backed by THP, system-wide.
    pub anon_huge_bytes: Option<u64>,
}

/// The hugepage lines of `/proc/meminfo` text, through bench-core's one
/// meminfo parser. Text that is not a whole meminfo gives all `None`.
pub fn parse_meminfo(text: &str) -> Meminfo {
    let Some(m) = bench_core::fingerprint::meminfo(text) else {
        return Meminfo::default();
    };
    Meminfo {
        mem_total_bytes: Some(m.mem_total),
        hugepages_total: m.hugepages_total,
        hugepages_free: m.hugepages_free,
        hugepages_rsvd: m.hugepages_rsvd,
        hugepages_surp: m.hugepages_surp,
        hugepage_size_bytes: m.hugepagesize,
        hugetlb_bytes: m.hugetlb,
        anon_huge_bytes: m.anon_hugepages,
    }
}

/// One hugetlb pool: `/sys/kernel/mm/hugepages/hugepages-<size>kB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool {
    /// Page size of the pool.
    pub page_bytes: u64,
    /// `nr_hugepages`: pages in the pool (surplus included).
    pub nr: u64,
    /// `free_hugepages`: not faulted in by anyone (reserved ones included).
    pub free: u64,
    /// `resv_hugepages`: free but promised to existing mappings.
    pub resv: u64,
    /// `surplus_hugepages`: allocated beyond the pool through overcommit.
    pub surplus: u64,
    /// `nr_overcommit_hugepages`: how many surplus pages may be allocated.
    pub overcommit: u64,
}

impl Pool {
    /// The `page` label: `2m`, `1g`, `64k`.
    pub fn label(&self) -> String {
        page_label(self.page_bytes)
    }

    /// Bytes the pool holds.
    pub fn bytes(&self) -> u64 {
        self.nr.saturating_mul(self.page_bytes)
    }

    /// Pages a new private mapping can get: free and not promised to
    /// anyone, plus what overcommit may still allocate.
    pub fn usable_pages(&self) -> u64 {
        self.free.saturating_sub(self.resv) + self.overcommit.saturating_sub(self.surplus)
    }
}

/// A page size as the `page` label: `4k`, `2m`, `1g`.
pub fn page_label(bytes: u64) -> String {
    bench_core::units::format_size(bytes).to_ascii_lowercase()
}

/// Page size of a pool directory name, `hugepages-2048kB` → 2 MiB.
pub fn pool_page_bytes(dir_name: &str) -> Option<u64> {
    let kb: u64 = dir_name
        .strip_prefix("hugepages-")?
        .strip_suffix("kB")?
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}

/// Reads every pool under `dir` (normally `/sys/kernel/mm/hugepages`),
/// smallest page size first. A pool missing `nr_hugepages` or
/// `free_hugepages` is an error; the other counters default to 0.
pub fn read_pools(dir: &Path) -> io::Result<Vec<Pool>> {
    let mut pools = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(page_bytes) = entry.file_name().to_str().and_then(pool_page_bytes) else {
            continue;
        };
        let path = entry.path();
        let counter = |name: &str| -> io::Result<u64> {
            let file = path.join(name);
            let text = std::fs::read_to_string(&file)?;
            text.trim().parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: not a number: {:?}", file.display(), text.trim()),
                )
            })
        };
        let optional = |name: &str| counter(name).unwrap_or(0);
        pools.push(Pool {
            page_bytes,
            nr: counter("nr_hugepages")?,
            free: counter("free_hugepages")?,
            resv: optional("resv_hugepages"),
            surplus: optional("surplus_hugepages"),
            overcommit: optional("nr_overcommit_hugepages"),
        });
    }
    pools.sort_by_key(|p| p.page_bytes);
    Ok(pools)
}

/// The selected word of a sysfs mode file (bench-core has the one copy).
pub use bench_core::fingerprint::selected_mode;

/// How much of the node the hugetlb pools hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Bytes in every pool together.
    pub pool_bytes: u64,
    /// `pool_bytes / MemTotal`, when MemTotal is known and not zero.
    pub fraction: Option<f64>,
    /// `fraction >= COVERS_NODE_FRACTION`.
    pub covers_node: bool,
}

/// The pools' share of `mem_total_bytes` and whether it covers the node
/// (see [`COVERS_NODE_FRACTION`]).
pub fn coverage(pools: &[Pool], mem_total_bytes: Option<u64>) -> Coverage {
    let pool_bytes = pools.iter().map(Pool::bytes).sum();
    let fraction = mem_total_bytes
        .filter(|&total| total > 0)
        .map(|total| pool_bytes as f64 / total as f64);
    Coverage {
        pool_bytes,
        fraction,
        covers_node: fraction.is_some_and(|f| f >= COVERS_NODE_FRACTION),
    }
}

/// Bytes of `AnonHugePages` in the `smaps` entries that overlap
/// `[start, end)`, capped at the range length (a neighbouring region merged
/// into the same entry must not count). Text procfs-core cannot parse as
/// smaps counts 0, like an unreadable file.
pub fn anon_huge_bytes_in(smaps: &str, start: usize, end: usize) -> u64 {
    let Ok(maps) = MemoryMaps::from_read(smaps.as_bytes()) else {
        return 0;
    };
    let (start64, end64) = (start as u64, end as u64);
    let total = maps
        .iter()
        .filter(|m| m.address.0 < end64 && start64 < m.address.1)
        .filter_map(|m| m.extension.map.get("AnonHugePages"))
        .fold(0u64, |sum, &bytes| sum.saturating_add(bytes));
    total.min(end.saturating_sub(start) as u64)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The lines every kernel writes that the hugepage fixtures leave out
    /// (procfs-core wants a whole meminfo).
    pub(crate) const MEMINFO_REST: &str = "\
MemFree:         1000000 kB
Buffers:            8032 kB
Cached:          2168124 kB
SwapCached:            0 kB
Active:           920428 kB
Inactive:        1548012 kB
SwapTotal:             0 kB
SwapFree:              0 kB
Dirty:               280 kB
Writeback:             0 kB
Mapped:           188792 kB
Slab:             550064 kB
Committed_AS:     488300 kB
VmallocTotal:   34359738367 kB
VmallocUsed:       15132 kB
VmallocChunk:          0 kB
";

    const MEMINFO: &str = "\
MemTotal:       24682416 kB
AnonHugePages:      4096 kB
ShmemHugePages:        0 kB
HugePages_Total:    6000
HugePages_Free:     5990
HugePages_Rsvd:        3
HugePages_Surp:        1
Hugepagesize:       2048 kB
Hugetlb:        14680064 kB
";

    #[test]
    fn meminfo_hugepage_fields_in_bytes_and_pages() {
        let m = parse_meminfo(&format!("{MEMINFO}{MEMINFO_REST}"));
        assert_eq!(m.mem_total_bytes, Some(24_682_416 * 1024));
        assert_eq!(m.hugepages_total, Some(6000));
        assert_eq!(m.hugepages_free, Some(5990));
        assert_eq!(m.hugepages_rsvd, Some(3));
        assert_eq!(m.hugepages_surp, Some(1));
        assert_eq!(m.hugepage_size_bytes, Some(2 << 20));
        assert_eq!(m.hugetlb_bytes, Some(14_680_064 * 1024));
        assert_eq!(m.anon_huge_bytes, Some(4 << 20));
        assert_eq!(
            parse_meminfo("garbage\nMemTotal: lots\n"),
            Meminfo::default()
        );
    }

    fn write_pool(root: &Path, dir: &str, nr: u64, free: u64, resv: u64, surplus: u64) {
        let path = root.join(dir);
        std::fs::create_dir_all(&path).unwrap();
        for (name, value) in [
            ("nr_hugepages", nr),
            ("free_hugepages", free),
            ("resv_hugepages", resv),
            ("surplus_hugepages", surplus),
            ("nr_overcommit_hugepages", 0),
        ] {
            std::fs::write(path.join(name), format!("{value}\n")).unwrap();
        }
    }

    #[test]
    fn sysfs_pools_of_2m_and_1g() {
        let dir = tempfile::tempdir().unwrap();
        write_pool(dir.path(), "hugepages-1048576kB", 4, 4, 0, 0);
        write_pool(dir.path(), "hugepages-2048kB", 512, 500, 10, 2);
        std::fs::create_dir(dir.path().join("not-a-pool")).unwrap();
        let pools = read_pools(dir.path()).unwrap();
        assert_eq!(pools.len(), 2);
        assert_eq!(
            pools[0],
            Pool {
                page_bytes: 2 << 20,
                nr: 512,
                free: 500,
                resv: 10,
                surplus: 2,
                overcommit: 0
            }
        );
        assert_eq!(
            (pools[0].label(), pools[1].label()),
            ("2m".into(), "1g".into())
        );
        assert_eq!(pools[1].bytes(), 4 << 30);
        assert_eq!(pools[0].usable_pages(), 490);

        std::fs::write(dir.path().join("hugepages-2048kB/free_hugepages"), "x\n").unwrap();
        let err = read_pools(dir.path()).unwrap_err();
        assert!(err.to_string().contains("free_hugepages"), "{err}");
        assert!(read_pools(&dir.path().join("absent")).is_err());
    }

    #[test]
    fn pool_directory_names() {
        assert_eq!(pool_page_bytes("hugepages-2048kB"), Some(2 << 20));
        assert_eq!(pool_page_bytes("hugepages-1048576kB"), Some(1 << 30));
        assert_eq!(pool_page_bytes("hugepages-64kB"), Some(64 << 10));
        assert_eq!(pool_page_bytes("hugepages-xkB"), None);
        assert_eq!(pool_page_bytes("other-2048kB"), None);
        assert_eq!(page_label(4096), "4k");
    }

    #[test]
    fn thp_mode_is_the_bracketed_word() {
        assert_eq!(selected_mode("always [madvise] never\n"), Some("madvise"));
        assert_eq!(selected_mode("[always] madvise never"), Some("always"));
        assert_eq!(
            selected_mode("always defer defer+madvise [madvise] never"),
            Some("madvise")
        );
        assert_eq!(selected_mode("always madvise [never]"), Some("never"));
        assert_eq!(selected_mode("always madvise never"), None);
    }

    fn pool(page_bytes: u64, nr: u64) -> Pool {
        Pool {
            page_bytes,
            nr,
            free: nr,
            resv: 0,
            surplus: 0,
            overcommit: 0,
        }
    }

    #[test]
    fn pool_covers_the_node_from_half_of_memtotal() {
        let gib = 1u64 << 30;
        let node = Some(16 * gib);
        let half = coverage(&[pool(2 << 20, 4096)], node);
        assert_eq!(half.pool_bytes, 8 * gib);
        assert_eq!(half.fraction, Some(0.5));
        assert!(half.covers_node);

        let below = coverage(&[pool(2 << 20, 4095)], node);
        assert!(!below.covers_node);

        let mixed = coverage(&[pool(2 << 20, 2048), pool(1 << 30, 6)], node);
        assert_eq!(mixed.pool_bytes, 10 * gib);
        assert!(mixed.covers_node);

        let none = coverage(&[], node);
        assert_eq!((none.pool_bytes, none.fraction), (0, Some(0.0)));
        assert!(!none.covers_node);
        assert_eq!(coverage(&[pool(2 << 20, 1)], None).fraction, None);
    }

    #[test]
    fn overcommit_headroom_counts_as_usable() {
        let p = Pool {
            overcommit: 8,
            surplus: 3,
            ..pool(2 << 20, 0)
        };
        assert_eq!(p.usable_pages(), 5);
    }

    #[test]
    fn smaps_anon_huge_bytes_of_one_range() {
        // Header lines end in a space after the inode, as the kernel
        // writes them for anonymous mappings.
        let smaps = "\
7f0000000000-7f0000400000 rw-p 00000000 00:00 0 \n\
Size:               4096 kB\n\
AnonHugePages:      4096 kB\n\
7f0000400000-7f0000800000 rw-p 00000000 00:00 0 \n\
Size:               4096 kB\n\
AnonHugePages:      2048 kB\n\
VmFlags: rd wr mr mw me ac hg\n\
7f0000800000-7f0000a00000 rw-p 00000000 00:00 0 \n\
AnonHugePages:      2048 kB\n";
        assert_eq!(
            anon_huge_bytes_in(smaps, 0x7f00_0040_0000, 0x7f00_0080_0000),
            2 << 20
        );
        assert_eq!(
            anon_huge_bytes_in(smaps, 0x7f00_0040_0000, 0x7f00_00a0_0000),
            4 << 20
        );
        // A range inside a merged entry is capped at its own length.
        assert_eq!(
            anon_huge_bytes_in(smaps, 0x7f00_0000_0000, 0x7f00_0020_0000),
            2 << 20
        );
        assert_eq!(anon_huge_bytes_in(smaps, 0x1000, 0x2000), 0);
    }

    /// This process's own smaps parses (a format drift would make every THP
    /// check read 0 bytes).
    #[test]
    fn real_smaps_parses() {
        let text = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let maps = MemoryMaps::from_read(text.as_bytes()).unwrap();
        assert!(maps.len() > 1);
        assert!(maps.iter().any(|m| m.extension.map.contains_key("Rss")));
    }
}
