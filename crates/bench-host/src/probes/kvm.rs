//! KVM probe: can this node run Firecracker, and what does a VM exit cost?
//!
//! Reports /dev/kvm (presence, mode, owner), the API version and the
//! capabilities Firecracker relies on; times VM creation, vCPU creation and
//! the VM-exit round trip of a tiny real-mode guest that loops on an I/O-port
//! write, through `kvm-ioctls`, the crate Firecracker itself uses. Every
//! port write is one exit to this process, so the per-exit time is what a
//! sandbox pays for each device access. Nested virtualization (a VM that runs
//! VMs, as on GCP or Azure) multiplies it; bare metal does not.
//!
//! A missing or inaccessible device is an `unavailable` entry with the
//! reason and what to do, never a panic. x86-64 only (the guest is x86 code).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use bench_core::contract::metric;
use bench_core::exit::Failure;
use bench_core::probe::{Context, Probe, ProbeArgs, ProbeError, ProbeOutput};
use bench_core::schema::Sample;
use bench_core::settings::Settings;
use bench_core::units;
use kvm_ioctls::{Cap, Kvm, VcpuExit};
use serde_json::{Map, Value, json};

use crate::sys::kvm_guest::GuestVm;
use crate::sys::mmap::Mapping;

const NAME: &str = "kvm";
const DEFAULT_DEVICE: &str = "/dev/kvm";
/// `KVM_API_VERSION`: the only version Linux has ever shipped since 2.6.22.
const EXPECTED_API_VERSION: i32 = 12;
const DEFAULT_ITERATIONS: u32 = 100;
const QUICK_ITERATIONS: u32 = 20;
const MAX_ITERATIONS: u32 = 100_000;
const DEFAULT_EXITS: u32 = 20_000;
const QUICK_EXITS: u32 = 5_000;
/// About 90 s at the ~9 µs a nested exit costs.
const MAX_EXITS: u32 = 10_000_000;
/// Observations kept in `raw`; statistics and the histogram always cover
/// all of them.
const RAW_LIMIT: usize = 100_000;
/// Seed of the uniform subset `raw` keeps of a longer exit series.
const RAW_SEED: u64 = 0x6b76_6d65;

/// Guest memory: 64 KiB from guest-physical 0, zeroed.
const GUEST_MEMORY_BYTES: usize = 64 << 10;
/// Where the guest code sits (and the vCPU starts, in real mode).
const GUEST_CODE_ADDR: usize = 0x1000;
/// The I/O port the guest writes to.
const GUEST_PORT: u16 = 0x10;

/// Flags of the KVM probe.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KvmArgs {
    /// KVM device to open [default: /dev/kvm]
    #[arg(long, value_name = "PATH")]
    pub device: Option<PathBuf>,
    /// VM creations and vCPU creations to time [default: 100, --quick: 20]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub iterations: Option<String>,
    /// VM exits to time, after a discarded warm-up of 100-1000 [default:
    /// 20000, --quick: 5000]
    #[arg(long, value_name = "N", allow_hyphen_values = true)]
    pub exits: Option<String>,
}

impl ProbeArgs for KvmArgs {
    fn build(&self, quick: bool, settings: &Settings) -> Result<Box<dyn Probe>, Failure> {
        let iterations = parse_count("--iterations", self.iterations.as_deref(), MAX_ITERATIONS)?
            .unwrap_or(if quick {
                QUICK_ITERATIONS
            } else {
                DEFAULT_ITERATIONS
            });
        let exits = parse_count("--exits", self.exits.as_deref(), MAX_EXITS)?.unwrap_or(if quick {
            QUICK_EXITS
        } else {
            DEFAULT_EXITS
        });
        let fingerprint = &settings.fingerprint;
        Ok(Box::new(KvmProbe {
            device: self.device.clone().unwrap_or_else(|| DEFAULT_DEVICE.into()),
            iterations,
            exits,
            host: HostVirtualization {
                virtualization: fingerprint.virtualization.clone(),
                nested: fingerprint.nested_virtualization,
                hypervisor_vendor: fingerprint.hypervisor_vendor.clone(),
            },
        }))
    }
}

/// A count flag from 1 to `max`; None when not given.
fn parse_count(flag: &str, text: Option<&str>, max: u32) -> Result<Option<u32>, Failure> {
    text.map(|text| units::parse_count(text, 1..=max))
        .transpose()
        .map_err(|e| Failure::usage(format!("{flag} {e}")))
}

/// What the fingerprint says about this machine being a VM.
#[derive(Debug, Clone, Default)]
struct HostVirtualization {
    virtualization: String,
    nested: bool,
    hypervisor_vendor: Option<String>,
}

/// Opens the KVM device, reports it, and times creates and exits.
#[derive(Debug)]
pub struct KvmProbe {
    device: PathBuf,
    iterations: u32,
    exits: u32,
    host: HostVirtualization,
}

impl Probe for KvmProbe {
    fn name(&self) -> &'static str {
        NAME
    }

    fn parameters(&self) -> Value {
        json!({
            "device": self.device.display().to_string(),
            "iterations": self.iterations,
            "exits": self.exits,
        })
    }

    fn run(&self, ctx: &Context) -> Result<ProbeOutput, ProbeError> {
        let mut out = ProbeOutput::default();
        out.fact("virtualization", self.host.virtualization.as_str());
        out.fact("nested_virtualization", self.host.nested);
        out.fact("hypervisor_vendor", json!(self.host.hypervisor_vendor));
        describe_device(&self.device, &mut out);
        // An unusable device is an entry, not an Err, so the mode and owner
        // facts above reach the document beside the reason.
        let kvm = match open_kvm(&self.device) {
            Ok((kvm, api_version)) => {
                out.fact("api_version", api_version);
                kvm
            }
            Err(e) => {
                out.error(NAME, e.kind(), e.to_string());
                return Ok(out);
            }
        };
        out.fact("capabilities", capabilities(&kvm));

        ctx.step(
            NAME,
            &format!("VM create latency ({} VMs)", self.iterations),
        );
        out.fact(
            "vm_create_method",
            "Kvm::create_vm (KVM_CREATE_VM + KVM_GET_VCPU_MMAP_SIZE); the VM is closed outside the timed section",
        );
        match time_vm_creates(&kvm, self.iterations, ctx) {
            Ok(us) => out
                .samples
                .push(Sample::from_series(metric::KVM_VM_CREATE_US, "us", us)),
            Err(e) => return Ok(stopped(out, "VM create", e)),
        }

        ctx.step(
            NAME,
            &format!("vCPU create latency ({} vCPUs)", self.iterations),
        );
        out.fact(
            "vcpu_create_method",
            "VmFd::create_vcpu(0) (KVM_CREATE_VCPU + mmap of kvm_run) on a fresh VM each iteration; VM creation untimed",
        );
        match time_vcpu_creates(&kvm, self.iterations, ctx) {
            Ok(us) => out
                .samples
                .push(Sample::from_series(metric::KVM_VCPU_CREATE_US, "us", us)),
            Err(e) => return Ok(stopped(out, "vCPU create", e)),
        }

        let warmup = warmup_exits(self.exits);
        ctx.step(
            NAME,
            &format!(
                "VM-exit round trip ({} exits + {warmup} warm-up)",
                self.exits
            ),
        );
        out.fact(
            "exit_guest",
            "real mode, 64 KiB of memory, code at 0x1000: mov ecx,N; out 0x10,al; dec ecx; jnz; hlt \
             (each out is one KVM_EXIT_IO to this process)",
        );
        out.fact(
            "exit_timing",
            "wall time of each KVM_RUN call: guest entry, the out instruction, exit to userspace",
        );
        out.fact("exit_warmup_discarded", warmup);
        let started = Instant::now();
        match time_exits(&kvm, self.exits, warmup, ctx) {
            Ok(ns) => {
                out.fact("exit_loop_seconds", started.elapsed().as_secs_f64());
                out.fact("exits_measured", ns.len());
                if ns.len() > RAW_LIMIT {
                    out.fact(
                        "exit_raw_sampled",
                        format!(
                            "stats and histogram over all {} exits; raw keeps a uniform reservoir sample of {RAW_LIMIT}, in measured order",
                            ns.len()
                        ),
                    );
                }
                out.samples.push(Sample::from_long_series(
                    metric::KVM_EXIT_ROUNDTRIP_NS,
                    "ns",
                    ns,
                    RAW_LIMIT,
                    RAW_SEED,
                ));
            }
            Err(e) => return Ok(stopped(out, "VM-exit round trip", e)),
        }
        Ok(out)
    }
}

/// Records why measuring stopped at `phase` and returns what finished.
fn stopped(mut out: ProbeOutput, phase: &str, error: ProbeError) -> ProbeOutput {
    let message = match &error {
        ProbeError::Interrupted => {
            format!("interrupted during {phase}; it and later measurements were not kept")
        }
        other => format!("{phase}: {other}"),
    };
    out.error(NAME, error.kind(), message);
    out
}

/// Mode, type and owner of the device node, as facts.
fn describe_device(path: &Path, out: &mut ProbeOutput) {
    out.fact("device", path.display().to_string());
    let Ok(meta) = std::fs::metadata(path) else {
        out.fact("device_exists", false);
        return;
    };
    out.fact("device_exists", true);
    out.fact("device_mode", format!("{:04o}", meta.mode() & 0o7777));
    let kind = meta.file_type();
    let rdev = meta.rdev();
    let kind = if kind.is_char_device() {
        format!(
            "character device {}:{}",
            libc::major(rdev),
            libc::minor(rdev)
        )
    } else if kind.is_dir() {
        "directory".to_owned()
    } else if kind.is_file() {
        "regular file".to_owned()
    } else {
        "other".to_owned()
    };
    out.fact("device_type", kind);
    let user = name_of(meta.uid(), "/etc/passwd").unwrap_or_else(|| meta.uid().to_string());
    let group = name_of(meta.gid(), "/etc/group").unwrap_or_else(|| meta.gid().to_string());
    out.fact("device_owner", format!("{user}:{group}"));
}

/// The name of a numeric id in a passwd/group-format file.
fn name_of(id: u32, file: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    id_name(&text, id).map(str::to_owned)
}

/// `name:x:id:...` lines → the name whose third field is `id`.
fn id_name(text: &str, id: u32) -> Option<&str> {
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let found: u32 = fields.nth(1)?.parse().ok()?;
        (found == id).then_some(name)
    })
}

/// Opens the device and checks it speaks KVM API 12.
fn open_kvm(path: &Path) -> Result<(Kvm, i32), ProbeError> {
    let shown = path.display();
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| ProbeError::Unavailable(format!("{shown}: the path contains a NUL byte")))?;
    let kvm = Kvm::new_with_path(&c_path).map_err(|e| open_error(path, e.errno()))?;
    match kvm.get_api_version() {
        EXPECTED_API_VERSION => Ok((kvm, EXPECTED_API_VERSION)),
        v if v < 0 => Err(ProbeError::Unavailable(format!(
            "{shown}: not a KVM device (KVM_GET_API_VERSION failed); point --device at /dev/kvm"
        ))),
        v => Err(ProbeError::Unavailable(format!(
            "{shown}: KVM API version {v}, expected {EXPECTED_API_VERSION}; Firecracker cannot use this kernel's KVM"
        ))),
    }
}

/// The probe error for a failed `open` of the device.
fn open_error(path: &Path, errno: i32) -> ProbeError {
    let shown = path.display();
    ProbeError::Unavailable(match errno {
        libc::ENOENT | libc::ENOTDIR => format!(
            "{shown}: not found; this node cannot run Firecracker (enable virtualization / nested virtualization)"
        ),
        libc::EACCES | libc::EPERM => {
            format!("{shown}: permission denied; run as root or add the user to the kvm group")
        }
        libc::ENXIO | libc::ENODEV => format!(
            "{shown}: no KVM driver behind this device ({}); load kvm_intel or kvm_amd",
            std::io::Error::from_raw_os_error(errno)
        ),
        _ => format!(
            "{shown}: cannot open: {}",
            std::io::Error::from_raw_os_error(errno)
        ),
    })
}

/// Capabilities Firecracker and other VMMs rely on: presence as booleans,
/// limits as numbers.
fn capabilities(kvm: &Kvm) -> Value {
    const PRESENCE: &[(&str, Cap)] = &[
        ("user_memory", Cap::UserMemory),
        ("irqchip", Cap::Irqchip),
        ("ioeventfd", Cap::Ioeventfd),
        ("irqfd", Cap::Irqfd),
        ("irq_routing", Cap::IrqRouting),
        ("one_reg", Cap::OneReg),
        ("ext_cpuid", Cap::ExtCpuid),
        ("xsave", Cap::Xsave),
        ("xcrs", Cap::Xcrs),
        ("tsc_deadline_timer", Cap::TscDeadlineTimer),
        ("tsc_control", Cap::TscControl),
        ("immediate_exit", Cap::ImmediateExit),
        ("set_tss_addr", Cap::SetTssAddr),
        ("pit2", Cap::Pit2),
        ("split_irqchip", Cap::SplitIrqchip),
        ("kvmclock_ctrl", Cap::KvmclockCtrl),
        ("adjust_clock", Cap::AdjustClock),
        ("readonly_mem", Cap::ReadonlyMem),
        ("coalesced_mmio", Cap::CoalescedMmio),
        ("sync_mmu", Cap::SyncMmu),
        ("vcpu_events", Cap::VcpuEvents),
        ("debugregs", Cap::Debugregs),
        ("nested_state", Cap::NestedState),
        ("x2apic_api", Cap::X2ApicApi),
        ("dirty_log_ring", Cap::DirtyLogRing),
        ("guest_memfd", Cap::GuestMemfd),
    ];
    let mut caps = Map::new();
    for (name, cap) in PRESENCE {
        caps.insert((*name).to_owned(), json!(kvm.check_extension_int(*cap) > 0));
    }
    caps.insert("nr_vcpus".into(), json!(kvm.get_nr_vcpus()));
    caps.insert("max_vcpus".into(), json!(kvm.get_max_vcpus()));
    caps.insert("max_vcpu_id".into(), json!(kvm.get_max_vcpu_id()));
    caps.insert("nr_memslots".into(), json!(kvm.get_nr_memslots()));
    if let Ok(size) = kvm.get_vcpu_mmap_size() {
        caps.insert("vcpu_mmap_size".into(), json!(size));
    }
    Value::Object(caps)
}

/// Microseconds of each `create_vm`.
fn time_vm_creates(kvm: &Kvm, iterations: u32, ctx: &Context) -> Result<Vec<f64>, ProbeError> {
    let mut us = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations {
        ctx.check()?;
        let started = Instant::now();
        let vm = kvm
            .create_vm()
            .map_err(|e| ProbeError::Failed(format!("KVM_CREATE_VM failed: {e}")))?;
        us.push(started.elapsed().as_secs_f64() * 1e6);
        drop(vm);
    }
    Ok(us)
}

/// Microseconds of each `create_vcpu(0)`, each on a fresh VM.
fn time_vcpu_creates(kvm: &Kvm, iterations: u32, ctx: &Context) -> Result<Vec<f64>, ProbeError> {
    let mut us = Vec::with_capacity(iterations as usize);
    for _ in 0..iterations {
        ctx.check()?;
        let vm = kvm
            .create_vm()
            .map_err(|e| ProbeError::Failed(format!("KVM_CREATE_VM failed: {e}")))?;
        let started = Instant::now();
        let vcpu = vm
            .create_vcpu(0)
            .map_err(|e| ProbeError::Failed(format!("KVM_CREATE_VCPU failed: {e}")))?;
        us.push(started.elapsed().as_secs_f64() * 1e6);
        drop(vcpu);
        drop(vm);
    }
    Ok(us)
}

/// Exits discarded before timing: a tenth of the measured ones, at least
/// 100 (the first entries set up the vCPU and fault in its state) and at
/// most 1000.
fn warmup_exits(exits: u32) -> u32 {
    (exits / 10).clamp(100, 1000)
}

/// The guest: `mov ecx, count; out 0x10, al; dec ecx; jnz out; hlt`, in
/// 16-bit real mode (0x66 selects 32-bit operands). `count` must be ≥ 1.
fn exit_loop_code(count: u32) -> [u8; 13] {
    let n = count.to_le_bytes();
    [
        0x66,
        0xB9,
        n[0],
        n[1],
        n[2],
        n[3], // mov ecx, imm32
        0xE6,
        GUEST_PORT as u8, // out 0x10, al
        0x66,
        0x49, // dec ecx
        0x75,
        0xFA, // jnz -6 (back to out)
        0xF4, // hlt
    ]
}

/// Nanoseconds of each KVM_RUN that ended in the guest's port write, after
/// discarding `warmup` of them.
fn time_exits(kvm: &Kvm, exits: u32, warmup: u32, ctx: &Context) -> Result<Vec<f64>, ProbeError> {
    let failed = |what: &str, e: kvm_ioctls::Error| ProbeError::Failed(format!("{what}: {e}"));
    let total = exits + warmup;
    let mut memory = Mapping::anonymous(GUEST_MEMORY_BYTES)
        .map_err(|e| ProbeError::io("mmap of guest memory", &e))?;
    let code = exit_loop_code(total);
    memory.as_mut_slice()[GUEST_CODE_ADDR..GUEST_CODE_ADDR + code.len()].copy_from_slice(&code);
    let mut guest = GuestVm::new(kvm, memory).map_err(|e| failed("creating the guest VM", e))?;
    let vcpu = guest.vcpu();
    // Real mode at 0:0x1000. The reset values (cs.base 0xffff0000, selector
    // 0xf000) point at the reset vector, outside our memory.
    let mut sregs = vcpu.get_sregs().map_err(|e| failed("KVM_GET_SREGS", e))?;
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    vcpu.set_sregs(&sregs)
        .map_err(|e| failed("KVM_SET_SREGS", e))?;
    let mut regs = vcpu.get_regs().map_err(|e| failed("KVM_GET_REGS", e))?;
    regs.rip = GUEST_CODE_ADDR as u64;
    regs.rflags = 2; // bit 1 is reserved and must be set
    vcpu.set_regs(&regs)
        .map_err(|e| failed("KVM_SET_REGS", e))?;

    let mut ns = Vec::with_capacity(exits as usize);
    let mut port_writes: u32 = 0;
    loop {
        let started = Instant::now();
        let exit = vcpu.run();
        let elapsed = started.elapsed().as_nanos() as f64;
        match exit {
            Ok(VcpuExit::IoOut(GUEST_PORT, _)) => {
                port_writes += 1;
                if port_writes > warmup {
                    ns.push(elapsed);
                }
            }
            Ok(VcpuExit::Hlt) => break,
            Ok(other) => {
                return Err(ProbeError::Failed(format!(
                    "unexpected VM exit {other:?} after {port_writes} port writes"
                )));
            }
            // A signal interrupted KVM_RUN: stop if it was Ctrl-C, else resume.
            Err(e) if e.errno() == libc::EINTR => ctx.check()?,
            Err(e) => return Err(failed("KVM_RUN", e)),
        }
        if port_writes.is_multiple_of(1024) {
            ctx.check()?;
        }
    }
    if port_writes != total {
        return Err(ProbeError::Failed(format!(
            "the guest halted after {port_writes} port writes, expected {total}"
        )));
    }
    Ok(ns)
}

#[cfg(test)]
mod tests {
    use bench_core::interrupt::Interrupt;
    use bench_core::schema::ErrorKind;

    use super::*;

    fn probe(device: &str, iterations: u32, exits: u32) -> KvmProbe {
        KvmProbe {
            device: device.into(),
            iterations,
            exits,
            host: HostVirtualization::default(),
        }
    }

    fn kvm_usable() -> bool {
        let usable = open_kvm(Path::new(DEFAULT_DEVICE)).is_ok();
        if !usable {
            eprintln!("skipped: /dev/kvm cannot be opened here");
        }
        usable
    }

    #[test]
    fn guest_code_is_the_exit_loop() {
        assert_eq!(
            exit_loop_code(0x0102_0304),
            [
                0x66, 0xB9, 0x04, 0x03, 0x02, 0x01, 0xE6, 0x10, 0x66, 0x49, 0x75, 0xFA, 0xF4
            ]
        );
        // jnz's rel8 is relative to the next instruction (offset 12): it
        // must land on the out at offset 6.
        let code = exit_loop_code(1);
        assert_eq!(12 + i64::from(code[11] as i8), 6);
        assert_eq!(code[6], 0xE6);
        assert!(GUEST_CODE_ADDR + code.len() <= GUEST_MEMORY_BYTES);
    }

    #[test]
    fn warmup_is_a_tenth_within_100_and_1000() {
        assert_eq!(warmup_exits(1), 100);
        assert_eq!(warmup_exits(2000), 200);
        assert_eq!(warmup_exits(5000), 500);
        assert_eq!(warmup_exits(20_000), 1000);
        assert_eq!(warmup_exits(MAX_EXITS), 1000);
    }

    #[test]
    fn open_errors_say_what_to_do() {
        let path = Path::new("/dev/kvm");
        assert_eq!(
            open_error(path, libc::ENOENT).to_string(),
            "/dev/kvm: not found; this node cannot run Firecracker (enable virtualization / nested virtualization)"
        );
        assert_eq!(
            open_error(path, libc::EACCES).to_string(),
            "/dev/kvm: permission denied; run as root or add the user to the kvm group"
        );
        assert!(
            open_error(path, libc::ENXIO)
                .to_string()
                .contains("load kvm_intel or kvm_amd")
        );
        assert!(
            open_error(path, libc::EISDIR)
                .to_string()
                .starts_with("/dev/kvm: cannot open: ")
        );
        assert_eq!(open_error(path, libc::EPERM).kind(), ErrorKind::Unavailable);
    }

    #[test]
    fn owner_names_from_passwd_format() {
        let text = "root:x:0:0:root:/root:/bin/sh\nkvm:x:993:\nbad line\n";
        assert_eq!(id_name(text, 0), Some("root"));
        assert_eq!(id_name(text, 993), Some("kvm"));
        assert_eq!(id_name(text, 5), None);
    }

    #[test]
    fn a_long_exit_series_keeps_a_subset_and_a_histogram() {
        // What `run` writes for more exits than RAW_LIMIT (integer ns, as
        // measured): exact stats, a seeded subset in measured order, and
        // every exit in the histogram, whole nanoseconds below 2048.
        let ns: Vec<f64> = (0..RAW_LIMIT as u32 + 5_000)
            .map(|i| f64::from(1_000 + i % 900))
            .collect();
        let s = Sample::from_long_series(
            "kvm.exit_roundtrip_ns",
            "ns",
            ns.clone(),
            RAW_LIMIT,
            RAW_SEED,
        );
        assert_eq!(s.raw.len(), RAW_LIMIT);
        assert_eq!(s.stats.as_ref().unwrap().n, ns.len() as u64);
        let h = s.histogram.as_ref().unwrap();
        assert_eq!(
            (h.unit_scale, h.count(), h.bins.len()),
            (1, ns.len() as u64, 900)
        );
        let exact = bench_core::stats::quantile(&ns, 0.999).unwrap();
        assert_eq!(h.quantile(0.999), Some(exact));
        assert_eq!(
            s,
            Sample::from_long_series("kvm.exit_roundtrip_ns", "ns", ns, RAW_LIMIT, RAW_SEED),
            "seeded"
        );
    }

    #[test]
    fn missing_device_is_unavailable_with_the_reason() {
        let out = probe("/nonexistent/kvm", 1, 1)
            .run(&Context::uninterruptible())
            .unwrap();
        assert!(out.samples.is_empty());
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].kind, ErrorKind::Unavailable);
        assert!(
            out.errors[0]
                .message
                .starts_with("/nonexistent/kvm: not found; ")
        );
        assert_eq!(out.facts["device_exists"], false);
    }

    #[test]
    fn a_char_device_that_is_not_kvm_is_unavailable() {
        let out = probe("/dev/null", 1, 1)
            .run(&Context::uninterruptible())
            .unwrap();
        assert!(out.samples.is_empty());
        assert_eq!(out.errors[0].kind, ErrorKind::Unavailable);
        assert!(
            out.errors[0].message.contains("not a KVM device"),
            "{:?}",
            out.errors
        );
        assert_eq!(out.facts["device_type"], "character device 1:3");
    }

    #[test]
    fn real_run_times_creates_and_exits() {
        if !kvm_usable() {
            return;
        }
        let out = probe(DEFAULT_DEVICE, 3, 500)
            .run(&Context::uninterruptible())
            .unwrap();
        assert!(out.errors.is_empty(), "{:?}", out.errors);
        assert_eq!(out.facts["api_version"], 12);
        assert_eq!(out.facts["capabilities"]["user_memory"], true);
        assert!(out.facts["capabilities"]["nr_memslots"].as_u64().unwrap() > 0);
        let metric = |name: &str| out.samples.iter().find(|s| s.metric == name).unwrap();
        for name in ["kvm.vm_create_us", "kvm.vcpu_create_us"] {
            let s = metric(name);
            assert_eq!((s.unit.as_str(), s.raw.len()), ("us", 3));
            assert!(
                s.raw.iter().all(|&us| us > 0.0 && us < 1e6),
                "{name}: {:?}",
                s.raw
            );
        }
        let exits = metric("kvm.exit_roundtrip_ns");
        assert_eq!((exits.unit.as_str(), exits.raw.len()), ("ns", 500));
        assert_eq!(out.facts["exit_warmup_discarded"], 100);
        // An exit costs more than a syscall and far less than a second.
        assert!(
            exits.raw.iter().all(|&ns| ns > 100.0 && ns < 1e9),
            "{:?}",
            exits.stats
        );
        assert_eq!(exits.value, exits.stats.as_ref().unwrap().p50);
    }

    #[test]
    fn interrupted_before_creating_keeps_the_device_facts() {
        if !kvm_usable() {
            return;
        }
        let interrupt = Interrupt::new();
        interrupt.trigger();
        let out = probe(DEFAULT_DEVICE, 5, 100)
            .run(&Context::new(interrupt))
            .unwrap();
        assert!(out.samples.is_empty());
        assert_eq!(out.errors[0].kind, ErrorKind::Interrupted);
        assert!(out.errors[0].message.contains("VM create"));
        assert_eq!(out.facts["api_version"], 12);
    }
}
