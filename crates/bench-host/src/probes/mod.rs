//! The host probes. CPU, memory and disk are bench-core's shared workloads
//! (bench-sandbox runs the same code); hugepages and KVM exist only on a node.

pub mod hugepages;
pub mod kvm;
pub mod storage;
pub mod templates;

pub use bench_core::workloads::cpu::CpuArgs;
pub use bench_core::workloads::disk::{DiskArgs, DiskTarget};
pub use bench_core::workloads::memory::MemoryArgs;
pub use hugepages::HugepagesArgs;
pub use kvm::KvmArgs;
pub use storage::StorageArgs;
pub use templates::TemplatesArgs;
