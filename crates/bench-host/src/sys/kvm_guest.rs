//! A KVM virtual machine with its guest memory and one vCPU, owned together.
//!
//! `KVM_SET_USER_MEMORY_REGION` hands the kernel a raw address of our
//! process; the guest then writes there whenever it runs. Keeping the memory,
//! the VM and the vCPU in one value (dropped vCPU first, memory last) makes
//! registering the region safe: no guest can run once the memory is gone.

#![allow(unsafe_code)]

use kvm_bindings::kvm_userspace_memory_region;
use kvm_ioctls::{Kvm, VcpuFd, VmFd};

use super::mmap::Mapping;

/// A VM whose guest-physical memory from address 0 is one [`Mapping`]
/// (memory slot 0), with vCPU 0 created.
#[derive(Debug)]
pub struct GuestVm {
    // Field order is drop order: both file descriptors close before the
    // memory they refer to is unmapped.
    vcpu: VcpuFd,
    _vm: VmFd,
    _memory: Mapping,
}

impl GuestVm {
    /// Creates the VM, maps `memory` at guest-physical 0 and creates vCPU 0.
    pub fn new(kvm: &Kvm, memory: Mapping) -> Result<Self, kvm_ioctls::Error> {
        let vm = kvm.create_vm()?;
        let region = kvm_userspace_memory_region {
            slot: 0,
            guest_phys_addr: 0,
            memory_size: memory.len() as u64,
            userspace_addr: memory.addr() as u64,
            flags: 0,
        };
        // SAFETY: the region is exactly `memory`, a live read-write mapping
        // that the returned value owns and unmaps only after the VM and vCPU
        // file descriptors are closed (field order), so the guest can never
        // write to an address that was unmapped or reused. Slot 0 is the only
        // slot of this new VM, so it overlaps nothing.
        unsafe { vm.set_user_memory_region(region)? };
        let vcpu = vm.create_vcpu(0)?;
        Ok(GuestVm {
            vcpu,
            _vm: vm,
            _memory: memory,
        })
    }

    /// vCPU 0, to set registers and run.
    pub fn vcpu(&mut self) -> &mut VcpuFd {
        &mut self.vcpu
    }
}
