//! STREAM's four kernels written with x86-64 vector intrinsics, one set per
//! vector width (SSE2, AVX2, AVX-512F), each with ordinary or non-temporal
//! (streaming) stores. `workloads::memory::stream` picks one set per run; the
//! portable loops there stay the fallback and the SSE2 ordinary-store choice.
//!
//! Why intrinsics rather than `#[target_feature]` on plain loops: the
//! non-temporal stores have no safe or auto-vectorised form, and writing the
//! ordinary-store kernels the same way keeps both variants identical except
//! for the store instruction.
//!
//! The `unsafe` here is of two kinds, both checked in the safe entry point
//! [`run`]: the CPU must support the width's instructions (checked with
//! `is_x86_feature_detected!`, cached by std), and every pointer offset stays
//! below the destination's length, which no source is shorter than.
#![allow(unsafe_code)]

/// A vector instruction set of the kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Width {
    /// 128-bit `xmm`, part of every x86-64 CPU.
    Sse2,
    /// 256-bit `ymm`.
    Avx2,
    /// 512-bit `zmm`.
    Avx512,
}

impl Width {
    /// Whether this CPU runs the width's instructions.
    pub(crate) fn detected(self) -> bool {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Width::Sse2 => true,
                Width::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
                Width::Avx512 => std::arch::is_x86_feature_detected!("avx512f"),
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    }
}

/// One STREAM operation on a chunk: `dst = f(x, y)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `dst = x`
    Copy,
    /// `dst = s·x`
    Scale,
    /// `dst = x + y`
    Add,
    /// `dst = x + s·y`
    Triad,
}

/// Runs `op` over `dst` with the `width` kernels, streaming stores when
/// `nontemporal`. `y` is ignored by Copy and Scale. Returns false, touching
/// nothing, when this CPU lacks `width` or a source is shorter than `dst`.
pub(crate) fn run(
    width: Width,
    nontemporal: bool,
    op: Op,
    dst: &mut [f64],
    x: &[f64],
    y: &[f64],
    scalar: f64,
) -> bool {
    let uses_y = matches!(op, Op::Add | Op::Triad);
    if !width.detected() || x.len() < dst.len() || (uses_y && y.len() < dst.len()) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let (d, n, x, y) = (dst.as_mut_ptr(), dst.len(), x.as_ptr(), y.as_ptr());
        // SAFETY: the width was detected on this CPU just above, and the
        // sources are at least `n` long, which is all the kernels read.
        unsafe {
            match (width, nontemporal) {
                (Width::Sse2, false) => x86::sse2::run::<false>(op, d, n, x, y, scalar),
                (Width::Sse2, true) => x86::sse2::run::<true>(op, d, n, x, y, scalar),
                (Width::Avx2, false) => x86::avx2::run::<false>(op, d, n, x, y, scalar),
                (Width::Avx2, true) => x86::avx2::run::<true>(op, d, n, x, y, scalar),
                (Width::Avx512, false) => x86::avx512::run::<false>(op, d, n, x, y, scalar),
                (Width::Avx512, true) => x86::avx512::run::<true>(op, d, n, x, y, scalar),
            }
        }
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (nontemporal, op, scalar);
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    /// One module per width: the same body over that width's vector type.
    /// Non-temporal stores need the destination aligned to the vector size,
    /// so a scalar head runs up to the first aligned element (the chunks of a
    /// multi-threaded run start anywhere); a scalar tail finishes the rest.
    /// An `sfence` afterwards orders the weakly-ordered streaming stores
    /// before the barrier that hands the arrays to the next kernel.
    macro_rules! kernels {
        ($name:ident, $feature:literal, $vector:ty, $lanes:literal,
         $set1:ident, $loadu:ident, $storeu:ident, $stream:ident, $add:ident, $mul:ident) => {
            pub(super) mod $name {
                #[allow(clippy::wildcard_imports)]
                use std::arch::x86_64::*;

                use super::super::Op;

                /// # Safety
                /// The CPU supports `$feature`; `dst` is valid for `n`
                /// writes and `x` (and `y` for Add and Triad) for `n` reads.
                #[target_feature(enable = $feature)]
                pub(in super::super) unsafe fn run<const NT: bool>(
                    op: Op,
                    dst: *mut f64,
                    n: usize,
                    x: *const f64,
                    y: *const f64,
                    s: f64,
                ) {
                    let sv: $vector = $set1(s);
                    let element = |i: usize| -> f64 {
                        // SAFETY: callers pass i < n.
                        unsafe {
                            match op {
                                Op::Copy => *x.add(i),
                                Op::Scale => s * *x.add(i),
                                Op::Add => *x.add(i) + *y.add(i),
                                Op::Triad => *x.add(i) + s * *y.add(i),
                            }
                        }
                    };
                    // SAFETY: the caller guarantees the feature and `n`;
                    // every offset below is `< n` (`i + lanes <= n` in the
                    // vector loop), and `dst` is only streamed to once the
                    // head loop has aligned it to the vector size.
                    unsafe {
                        let mut i = 0;
                        if NT {
                            let align = std::mem::size_of::<$vector>();
                            while i < n && (dst.add(i) as usize) % align != 0 {
                                *dst.add(i) = element(i);
                                i += 1;
                            }
                        }
                        // One loop per op keeps the match out of the hot loop.
                        macro_rules! body {
                            (|$j:ident| $value:expr) => {
                                while i + $lanes <= n {
                                    let $j = i;
                                    let v: $vector = $value;
                                    if NT {
                                        $stream(dst.add($j), v);
                                    } else {
                                        $storeu(dst.add($j), v);
                                    }
                                    i += $lanes;
                                }
                            };
                        }
                        match op {
                            Op::Copy => body!(|j| $loadu(x.add(j))),
                            Op::Scale => body!(|j| $mul(sv, $loadu(x.add(j)))),
                            Op::Add => body!(|j| $add($loadu(x.add(j)), $loadu(y.add(j)))),
                            Op::Triad => {
                                body!(|j| $add($loadu(x.add(j)), $mul(sv, $loadu(y.add(j)))))
                            }
                        }
                        while i < n {
                            *dst.add(i) = element(i);
                            i += 1;
                        }
                    }
                    if NT {
                        _mm_sfence();
                    }
                }
            }
        };
    }

    kernels!(
        sse2,
        "sse2",
        __m128d,
        2,
        _mm_set1_pd,
        _mm_loadu_pd,
        _mm_storeu_pd,
        _mm_stream_pd,
        _mm_add_pd,
        _mm_mul_pd
    );
    kernels!(
        avx2,
        "avx2",
        __m256d,
        4,
        _mm256_set1_pd,
        _mm256_loadu_pd,
        _mm256_storeu_pd,
        _mm256_stream_pd,
        _mm256_add_pd,
        _mm256_mul_pd
    );
    kernels!(
        avx512,
        "avx512f",
        __m512d,
        8,
        _mm512_set1_pd,
        _mm512_loadu_pd,
        _mm512_storeu_pd,
        _mm512_stream_pd,
        _mm512_add_pd,
        _mm512_mul_pd
    );
}

#[cfg(test)]
#[cfg(target_arch = "x86_64")]
mod tests {
    use super::*;

    /// What an operation computes from one element of `x` and `y`.
    type Formula = fn(f64, f64) -> f64;

    /// Every width and store type, at lengths and offsets that exercise the
    /// aligned head and the scalar tail, computes STREAM's formulas.
    #[test]
    fn every_detected_kernel_computes_streams_formulas() {
        let widths = [Width::Sse2, Width::Avx2, Width::Avx512];
        let mut ran = 0;
        for width in widths.into_iter().filter(|w| w.detected()) {
            for nontemporal in [false, true] {
                for (offset, n) in [(0, 0), (0, 1), (1, 7), (3, 64), (5, 1001)] {
                    let x: Vec<f64> = (0..offset + n).map(|i| i as f64).collect();
                    let y: Vec<f64> = (0..offset + n).map(|i| 2.0 * i as f64 + 1.0).collect();
                    let (x, y) = (&x[offset..], &y[offset..]);
                    let cases: [(Op, Formula); 4] = [
                        (Op::Copy, |x, _| x),
                        (Op::Scale, |x, _| 3.0 * x),
                        (Op::Add, |x, y| x + y),
                        (Op::Triad, |x, y| x + 3.0 * y),
                    ];
                    for (op, want) in cases {
                        let mut storage = vec![-1.0; offset + n];
                        let dst = &mut storage[offset..];
                        assert!(run(width, nontemporal, op, dst, x, y, 3.0));
                        let expected: Vec<f64> =
                            x.iter().zip(y).map(|(&a, &b)| want(a, b)).collect();
                        assert_eq!(
                            dst,
                            &expected[..],
                            "{width:?} nt={nontemporal} {op:?} n={n}"
                        );
                        assert!(
                            storage[..offset].iter().all(|&v| v == -1.0),
                            "wrote before dst"
                        );
                    }
                    ran += 1;
                }
            }
        }
        assert!(ran >= 10, "SSE2 is on every x86-64 CPU");
    }

    #[test]
    fn a_short_source_is_refused_untouched() {
        let mut dst = [0.0; 4];
        assert!(!run(
            Width::Sse2,
            false,
            Op::Triad,
            &mut dst,
            &[1.0; 4],
            &[1.0; 3],
            3.0
        ));
        assert!(!run(
            Width::Sse2,
            true,
            Op::Copy,
            &mut dst,
            &[1.0; 3],
            &[],
            3.0
        ));
        assert_eq!(dst, [0.0; 4]);
        // Copy and Scale never read `y`.
        assert!(run(
            Width::Sse2,
            false,
            Op::Scale,
            &mut dst,
            &[1.0; 4],
            &[],
            3.0
        ));
        assert_eq!(dst, [3.0; 4]);
    }
}
