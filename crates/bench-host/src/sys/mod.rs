//! The only place in bench-host with `unsafe`: small wrappers around mmap
//! and KVM memory regions, each block with its SAFETY argument.

pub mod kvm_guest;
pub mod mmap;
