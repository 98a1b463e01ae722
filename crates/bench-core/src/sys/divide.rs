//! The CPU's 64-bit integer divide instruction, for the CPU workload.
//!
//! sysbench's prime loop divides `unsigned long long`s, and gcc compiles
//! `c % l` to one 64-bit `div`. LLVM instead guards every 64-bit division
//! with a test that takes the faster 32-bit `div` when both operands fit
//! (all of them do for `--max-prime 10000`), which made the same loop ~25%
//! faster than sysbench on the same machine. Issuing the 64-bit instruction
//! ourselves keeps the event the work sysbench does, and events/s
//! comparable with it.
#![allow(unsafe_code)]

use std::num::NonZeroU64;

/// `dividend % divisor` computed by one 64-bit `div` instruction.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn remainder_u64(dividend: u64, divisor: NonZeroU64) -> u64 {
    let remainder: u64;
    // SAFETY: `div r64` divides rdx:rax by the operand. The divisor is
    // non-zero (NonZeroU64) and rdx is 0, so the quotient is at most
    // `dividend` and fits in rax: no #DE fault is possible. The instruction
    // reads and writes only rax, rdx and the flags (declared clobbered by
    // default), touches no memory and no stack.
    unsafe {
        std::arch::asm!(
            "div {divisor}",
            divisor = in(reg) divisor.get(),
            inout("rax") dividend => _,
            inout("rdx") 0u64 => remainder,
            options(pure, nomem, nostack),
        );
    }
    remainder
}

/// `dividend % divisor`; other architectures have no 32-bit shortcut to avoid.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(crate) fn remainder_u64(dividend: u64, divisor: NonZeroU64) -> u64 {
    dividend % divisor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_remainder_operator() {
        let divisors = [1u64, 2, 3, 7, 10, 255, 1 << 32, u64::MAX];
        let dividends = [0u64, 1, 9, 10_000, (1 << 32) + 5, u64::MAX - 1, u64::MAX];
        for &d in &divisors {
            for &x in &dividends {
                let nz = NonZeroU64::new(d).unwrap();
                assert_eq!(remainder_u64(x, nz), x % d, "{x} % {d}");
            }
        }
    }
}
