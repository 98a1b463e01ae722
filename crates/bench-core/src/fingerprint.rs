//! What machine a document came from, collected locally with no network call.
//!
//! Sources: `uname(2)`, `/proc/cpuinfo`, `/proc/meminfo`, `/etc/os-release`,
//! the cpuid hypervisor bit and vendor leaf (x86), and the DMI strings in
//! `/sys/class/dmi/id`. The cloud vendor and instance type come from DMI
//! only: AWS puts `Amazon EC2` in `sys_vendor` and the instance type in
//! `product_name`; GCP says `Google Compute Engine`; Azure is a Hyper-V
//! `Virtual Machine` carrying Azure's fixed chassis asset tag. Asking the
//! metadata service (169.254.169.254) would also give the region, but it is
//! a network call and must be an explicit opt-in of the caller.

use std::collections::BTreeMap;
use std::path::Path;

use procfs_core::FromRead;
pub use procfs_core::Meminfo;

use crate::schema::Fingerprint;

/// The chassis asset tag every Azure VM carries (Azure documentation,
/// "Detect if a Linux VM is running in Azure").
const AZURE_ASSET_TAG: &str = "7783-7084-3265-9085-8269-3286-77";

/// DMI identification strings of interest (files of /sys/class/dmi/id).
const DMI_FIELDS: &[&str] = &[
    "sys_vendor",
    "product_name",
    "product_version",
    "bios_vendor",
    "bios_version",
    "board_vendor",
    "chassis_vendor",
    "chassis_asset_tag",
];

/// Collects the fingerprint of this machine. Never fails: what cannot be
/// read is left empty or `unknown`.
pub fn collect() -> Fingerprint {
    let cpuinfo = read("/proc/cpuinfo");
    let meminfo = meminfo(&read("/proc/meminfo"));
    let dmi = read_dmi(Path::new("/sys/class/dmi/id"));
    let uname = crate::sys::uname();
    let hypervisor_vendor = crate::sys::hypervisor_vendor();
    let hypervisor_flag =
        crate::sys::hypervisor_present() || cpu_flags(&cpuinfo).any(|f| f == "hypervisor");
    let kvm_device = Path::new("/dev/kvm").exists();
    let virtualization = virtualization(hypervisor_flag, hypervisor_vendor.as_deref(), &dmi);
    let (cloud_vendor, instance_type) = cloud_from_dmi(&dmi);
    Fingerprint {
        hostname: uname.nodename,
        kernel: uname.release,
        cpu_model: cpu_model(&cpuinfo).unwrap_or_else(|| "unknown".into()),
        cpu_count: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        memory_bytes: meminfo.map_or(0, |m| m.mem_total),
        nested_virtualization: virtualization != "none"
            && (kvm_device || cpu_flags(&cpuinfo).any(|f| f == "vmx" || f == "svm")),
        virtualization,
        cloud_vendor: cloud_vendor.to_owned(),
        instance_type,
        region: None,
        arch: std::env::consts::ARCH.to_owned(),
        os: os_pretty_name(&read("/etc/os-release")),
        hypervisor_vendor,
        kvm_device,
        dmi,
        // Set by `Settings::resolve` from `--node`.
        node: None,
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Reads the DMI fields present under `dir` (some are root-only; skipped).
pub fn read_dmi(dir: &Path) -> BTreeMap<String, String> {
    DMI_FIELDS
        .iter()
        .filter_map(|name| {
            let value = std::fs::read_to_string(dir.join(name)).ok()?;
            let value = value.trim();
            (!value.is_empty()).then(|| ((*name).to_owned(), value.to_owned()))
        })
        .collect()
}

/// `model name` of the first processor (x86), or `Hardware`/`CPU part` lines elsewhere.
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Hardware", "cpu model", "Processor"]
        .iter()
        .find_map(|key| field(cpuinfo, key))
        .map(str::to_owned)
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k.trim() == key)
            .then(|| v.trim())
            .filter(|v| !v.is_empty())
    })
}

/// CPU feature flags of the first processor.
pub fn cpu_flags(cpuinfo: &str) -> impl Iterator<Item = &str> {
    field(cpuinfo, "flags")
        .or_else(|| field(cpuinfo, "Features"))
        .unwrap_or("")
        .split_whitespace()
}

/// `/proc/meminfo` text parsed by procfs-core: sizes in bytes, counts (the
/// `HugePages_*` lines) as they are. The one parser of it in the workspace
/// (the fingerprint, memory sizing and bench-host's hugepages probe use it).
/// `None` when the text is not a whole meminfo: a line that is not
/// `Key: number [unit]`, or a field every Linux kernel writes is missing.
pub fn meminfo(text: &str) -> Option<Meminfo> {
    Meminfo::from_read(text.as_bytes()).ok()
}

/// The selected word of a sysfs mode file such as
/// `/sys/kernel/mm/transparent_hugepage/enabled`: `always [madvise] never`
/// → `madvise`. None when no word is bracketed.
pub fn selected_mode(text: &str) -> Option<&str> {
    text.split_whitespace()
        .find_map(|word| word.strip_prefix('[')?.strip_suffix(']'))
}

/// `PRETTY_NAME` of /etc/os-release, unquoted.
pub fn os_pretty_name(os_release: &str) -> Option<String> {
    os_release.lines().find_map(|line| {
        let value = line.strip_prefix("PRETTY_NAME=")?;
        Some(value.trim_matches(['"', '\'']).to_owned())
    })
}

/// Names the hypervisor: `none` without the hypervisor bit; otherwise from
/// the cpuid vendor signature, else from DMI, else `unknown`.
pub fn virtualization(
    hypervisor_flag: bool,
    vendor_signature: Option<&str>,
    dmi: &BTreeMap<String, String>,
) -> String {
    if !hypervisor_flag && vendor_signature.is_none() {
        return "none".into();
    }
    let by_signature = vendor_signature.and_then(|sig| {
        Some(match sig.trim_end_matches('\0').trim() {
            "KVMKVMKVM" | "Linux KVM Hv" => "kvm",
            "Microsoft Hv" => "hyperv",
            "VMwareVMware" => "vmware",
            "XenVMMXenVMM" => "xen",
            "TCGTCGTCGTCG" => "qemu",
            "bhyve bhyve" => "bhyve",
            "ACRNACRNACRN" => "acrn",
            "VBoxVBoxVBox" => "virtualbox",
            "lrpepyh  vr" | "prl hyperv" => "parallels",
            _ => return None,
        })
    });
    let by_dmi = || {
        let text = format!(
            "{} {}",
            dmi.get("sys_vendor").map_or("", String::as_str),
            dmi.get("product_name").map_or("", String::as_str)
        )
        .to_ascii_lowercase();
        [
            ("amazon ec2", "kvm"),
            ("google", "kvm"),
            ("microsoft", "hyperv"),
            ("vmware", "vmware"),
            ("xen", "xen"),
            ("qemu", "kvm"),
        ]
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map(|(_, name)| *name)
    };
    by_signature.or_else(by_dmi).unwrap_or("unknown").into()
}

/// `(cloud_vendor, instance_type)` from DMI strings alone.
pub fn cloud_from_dmi(dmi: &BTreeMap<String, String>) -> (&'static str, Option<String>) {
    let get = |k: &str| dmi.get(k).map_or("", String::as_str);
    let lower = |k: &str| get(k).to_ascii_lowercase();
    if get("sys_vendor") == "Amazon EC2"
        || lower("bios_vendor").contains("amazon")
        || lower("product_version").contains("amazon")
    {
        // Nitro instances put the instance type (`m5.large`, `c6i.metal`) in
        // product_name; old Xen ones say `HVM domU`.
        let product = get("product_name");
        let looks_like_type = product.contains('.')
            && product
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        return ("aws", looks_like_type.then(|| product.to_owned()));
    }
    if get("product_name") == "Google Compute Engine"
        || get("sys_vendor") == "Google"
        || get("bios_vendor") == "Google"
    {
        return ("gcp", None);
    }
    if get("chassis_asset_tag") == AZURE_ASSET_TAG {
        return ("azure", None);
    }
    ("unknown", None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// This machine's /proc/meminfo when the parser moved to procfs-core (a
    /// Firecracker guest, Linux 6.18, with its `Balloon` line).
    pub(crate) const MEMINFO_SNAPSHOT: &str =
        include_str!("sys/testdata/meminfo-firecracker-6.18.txt");

    #[test]
    fn meminfo_of_a_real_snapshot() {
        let m = meminfo(MEMINFO_SNAPSHOT).expect("whole meminfo parses");
        assert_eq!(m.mem_total, 24_683_784 * 1024);
        assert_eq!(m.mem_available, Some(23_728_952 * 1024));
        assert_eq!(m.hugepages_total, Some(0), "counts stay counts");
        assert_eq!(m.hugepagesize, Some(2 << 20));
        assert_eq!(m.anon_hugepages, Some(0));
        // Partial or garbled text is not a meminfo: unknown, never a guess.
        assert!(meminfo("MemTotal:       24585856 kB\nMemFree: 1 kB\n").is_none());
        assert!(meminfo("garbage").is_none());
        assert!(meminfo(&MEMINFO_SNAPSHOT.replace("Slab:", "Slab: lots")).is_none());
    }

    fn dmi(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    // DMI strings below are as /sys/class/dmi/id shows them on each cloud
    // (AWS "Identify EC2 Linux instances", GCP "Detect if running in Compute
    // Engine", Azure's asset-tag documentation).
    #[test]
    fn clouds_from_dmi() {
        let aws = dmi(&[("sys_vendor", "Amazon EC2"), ("product_name", "m5.large")]);
        assert_eq!(cloud_from_dmi(&aws), ("aws", Some("m5.large".into())));
        let aws_metal = dmi(&[("sys_vendor", "Amazon EC2"), ("product_name", "c5.metal")]);
        assert_eq!(cloud_from_dmi(&aws_metal), ("aws", Some("c5.metal".into())));
        let aws_xen = dmi(&[
            ("product_version", "4.11.amazon"),
            ("product_name", "HVM domU"),
        ]);
        assert_eq!(cloud_from_dmi(&aws_xen), ("aws", None));
        let gcp = dmi(&[
            ("sys_vendor", "Google"),
            ("product_name", "Google Compute Engine"),
        ]);
        assert_eq!(cloud_from_dmi(&gcp), ("gcp", None));
        let azure = dmi(&[
            ("sys_vendor", "Microsoft Corporation"),
            ("product_name", "Virtual Machine"),
            ("chassis_asset_tag", AZURE_ASSET_TAG),
        ]);
        assert_eq!(cloud_from_dmi(&azure), ("azure", None));
        // Plain Hyper-V on premises is not Azure.
        let hyperv = dmi(&[
            ("sys_vendor", "Microsoft Corporation"),
            ("product_name", "Virtual Machine"),
        ]);
        assert_eq!(cloud_from_dmi(&hyperv), ("unknown", None));
        assert_eq!(cloud_from_dmi(&BTreeMap::new()), ("unknown", None));
    }

    #[test]
    fn virtualization_names() {
        let none = BTreeMap::new();
        assert_eq!(virtualization(false, None, &none), "none");
        assert_eq!(virtualization(true, Some("KVMKVMKVM\0\0\0"), &none), "kvm");
        assert_eq!(virtualization(true, Some("Microsoft Hv"), &none), "hyperv");
        assert_eq!(
            virtualization(true, None, &dmi(&[("sys_vendor", "Amazon EC2")])),
            "kvm"
        );
        assert_eq!(virtualization(true, Some("SomethingNew"), &none), "unknown");
    }

    #[test]
    fn proc_parsers() {
        let cpuinfo = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\nflags\t\t: fpu vme hypervisor vmx\n\nprocessor\t: 1\n";
        assert_eq!(
            cpu_model(cpuinfo).as_deref(),
            Some("Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz")
        );
        assert!(cpu_flags(cpuinfo).any(|f| f == "hypervisor"));
        assert_eq!(
            meminfo(MEMINFO_SNAPSHOT).map(|m| m.mem_total),
            Some(24_683_784 * 1024)
        );
        assert_eq!(selected_mode("always [madvise] never\n"), Some("madvise"));
        assert_eq!(selected_mode("always madvise never"), None);
        assert_eq!(
            os_pretty_name("NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn dmi_reader_skips_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sys_vendor"), "Amazon EC2\n").unwrap();
        std::fs::write(dir.path().join("product_name"), "  \n").unwrap();
        assert_eq!(read_dmi(dir.path()), dmi(&[("sys_vendor", "Amazon EC2")]));
    }

    #[test]
    fn collects_this_machine() {
        let fp = collect();
        assert!(!fp.kernel.is_empty());
        assert!(!fp.hostname.is_empty());
        assert!(fp.cpu_count >= 1);
        assert!(fp.memory_bytes > 0);
        assert!(["aws", "gcp", "azure", "unknown"].contains(&fp.cloud_vendor.as_str()));
        assert_eq!(fp.region, None);
    }
}
