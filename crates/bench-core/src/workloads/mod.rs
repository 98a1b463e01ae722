//! Workloads shared by bench-host and bench-sandbox. The same code runs on
//! the node and inside the microVM, so their ratio is the cost of the VM and
//! nothing else. Each module has its clap `…Args` (the same flags in both
//! binaries), a validated `…Config`, the measuring code, and a [`Probe`]
//! implementation.
//!
//! [`Probe`]: crate::probe::Probe
/// CPU: sysbench's `cpu` prime loop, events/s per thread count and scaling efficiency.
pub mod cpu;
/// Disk: IOPS, bandwidth and latency (io_uring or threads) and fsync latency on a scratch file.
pub mod disk;
/// Memory: STREAM copy/scale/add/triad bandwidth and random pointer-chase latency.
pub mod memory;
