//! The sandbox probes. CPU, memory and disk are bench-core's shared
//! workloads (bench-host runs the same code, so the report can show the
//! sandbox/host ratio); network, python and pkg exist only here.

mod child;
pub mod network;
pub mod pkg;
pub mod python;

pub use bench_core::workloads::cpu::CpuArgs;
pub use bench_core::workloads::disk::{DiskArgs, DiskTarget};
pub use bench_core::workloads::memory::MemoryArgs;
pub use network::NetworkArgs;
pub use pkg::PkgArgs;
pub use python::PythonArgs;
