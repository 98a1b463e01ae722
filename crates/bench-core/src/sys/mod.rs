//! Thin, platform-specific system queries. Platform `cfg`s live here so the
//! rest of the crate reads as plain logic.

/// Host name and kernel release.
pub(crate) struct Uname {
    pub nodename: String,
    pub release: String,
}

/// What `uname -n` and `uname -r` print (uname(2), through nix). Empty
/// strings if the call fails, which Linux documents only for a bad pointer.
pub(crate) fn uname() -> Uname {
    let text = |s: &std::ffi::OsStr| s.to_string_lossy().trim().to_owned();
    match nix::sys::utsname::uname() {
        Ok(u) => Uname {
            nodename: text(u.nodename()),
            release: text(u.release()),
        },
        Err(_) => Uname {
            nodename: String::new(),
            release: String::new(),
        },
    }
}

/// The cpuid "hypervisor present" bit (leaf 1, ECX bit 31), which every
/// hypervisor sets for its guests and real CPUs leave clear.
#[cfg(target_arch = "x86_64")]
pub(crate) fn hypervisor_present() -> bool {
    let leaf1 = std::arch::x86_64::__cpuid(1);
    leaf1.ecx & (1 << 31) != 0
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn hypervisor_present() -> bool {
    false
}

/// The 12-byte hypervisor vendor signature of cpuid leaf 0x4000_0000
/// (`KVMKVMKVM`, `Microsoft Hv`, …). Only meaningful with the hypervisor bit
/// set: on bare metal that leaf returns unrelated data.
#[cfg(target_arch = "x86_64")]
pub(crate) fn hypervisor_vendor() -> Option<String> {
    if !hypervisor_present() {
        return None;
    }
    let leaf = std::arch::x86_64::__cpuid(0x4000_0000);
    let bytes: Vec<u8> = [leaf.ebx, leaf.ecx, leaf.edx]
        .iter()
        .flat_map(|r| r.to_le_bytes())
        .collect();
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_end_matches('\0').to_owned();
    (!text.is_empty()).then_some(text)
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) fn hypervisor_vendor() -> Option<String> {
    None
}

pub(crate) mod aligned;
pub(crate) mod divide;
pub(crate) mod fs;
pub(crate) mod signal;
pub(crate) mod simd;
pub(crate) mod uring;
