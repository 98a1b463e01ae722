/*
 * stream_ref.c: a small STREAM-style reference for e2b-bench's memory probe
 * (scripts/parity/memory.sh compares `bench-host memory` against it).
 *
 * Written from the STREAM 5.10 rules, not copied from stream.c:
 *   Copy  c = a          16 bytes counted per element
 *   Scale b = s * c      16 bytes
 *   Add   c = a + b      24 bytes
 *   Triad a = b + s * c  24 bytes      (double precision, s = 3.0)
 * NTIMES iterations of the four kernels in that order; the reported rate of
 * a kernel is bytes / (best time), the first iteration excluded; results are
 * checked against the values the same recurrence gives on scalars.
 *
 * Usage: stream_ref ARRAY_BYTES [NTIMES]   (bytes per array; NTIMES >= 2, default 10)
 * Build: gcc -O2 [-fopenmp] scripts/parity/stream_ref.c -o stream_ref
 * With -DSTREAM_NT the kernels use non-temporal (streaming) stores, as
 * icc -qopt-streaming-stores=always makes of STREAM's loops: the widest
 * vector the build targets (-march=native: AVX-512F, AVX or SSE2), with a
 * scalar head up to the store alignment, a scalar tail and an sfence.
 * With OpenMP the thread count is OMP_NUM_THREADS; each thread first-touches
 * the part of the arrays it later works on (static schedule).
 * Output: one `<kernel>_bytes_per_second=<rate>` line per kernel, plus
 * `threads=`, `array_bytes=`, `ntimes=` and `<kernel>_best_s=` lines.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef STREAM_NT
#include <immintrin.h>
#if defined(__AVX512F__)
#define VEC __m512d
#define LANES 8
#define SET1 _mm512_set1_pd
#define LOADU _mm512_loadu_pd
#define STREAM _mm512_stream_pd
#define ADD _mm512_add_pd
#define MUL _mm512_mul_pd
#elif defined(__AVX__)
#define VEC __m256d
#define LANES 4
#define SET1 _mm256_set1_pd
#define LOADU _mm256_loadu_pd
#define STREAM _mm256_stream_pd
#define ADD _mm256_add_pd
#define MUL _mm256_mul_pd
#else
#define VEC __m128d
#define LANES 2
#define SET1 _mm_set1_pd
#define LOADU _mm_loadu_pd
#define STREAM _mm_stream_pd
#define ADD _mm_add_pd
#define MUL _mm_mul_pd
#endif

/* dst[i] = x[i] + s * y[i] (op 3), x[i] + y[i] (2), s * x[i] (1), x[i] (0). */
static void kernel_nt(int op, double *restrict dst, const double *restrict x, const double *restrict y, long n,
                      double s) {
    long i = 0;
    for (; i < n && ((unsigned long)(dst + i) % sizeof(VEC)) != 0; i++)
        dst[i] = op == 0 ? x[i] : op == 1 ? s * x[i] : op == 2 ? x[i] + y[i] : x[i] + s * y[i];
    VEC sv = SET1(s);
    switch (op) {
    case 0: for (; i + LANES <= n; i += LANES) STREAM(dst + i, LOADU(x + i)); break;
    case 1: for (; i + LANES <= n; i += LANES) STREAM(dst + i, MUL(sv, LOADU(x + i))); break;
    case 2: for (; i + LANES <= n; i += LANES) STREAM(dst + i, ADD(LOADU(x + i), LOADU(y + i))); break;
    default: for (; i + LANES <= n; i += LANES) STREAM(dst + i, ADD(LOADU(x + i), MUL(sv, LOADU(y + i)))); break;
    }
    for (; i < n; i++)
        dst[i] = op == 0 ? x[i] : op == 1 ? s * x[i] : op == 2 ? x[i] + y[i] : x[i] + s * y[i];
    _mm_sfence();
}

/* One kernel over the arrays, each thread on its static-schedule chunk. */
static void run_nt(int op, double *dst, const double *x, const double *y, long n, double s) {
#pragma omp parallel
    {
        long t = 0, nt = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        nt = omp_get_num_threads();
#endif
        long base = n / nt, extra = n % nt;
        long lo = t * base + (t < extra ? t : extra);
        long len = base + (t < extra ? 1 : 0);
        kernel_nt(op, dst + lo, x + lo, y ? y + lo : 0, len, s);
    }
}
#endif

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s ARRAY_BYTES [NTIMES]\n", argv[0]);
        return 2;
    }
    long n = atol(argv[1]) / (long)sizeof(double);
    int ntimes = argc > 2 ? atoi(argv[2]) : 10;
    if (n < 1 || ntimes < 2) {
        fprintf(stderr, "ARRAY_BYTES must be >= 8 and NTIMES >= 2\n");
        return 2;
    }
    /* malloc, not calloc-and-touch: pages are first touched by the threads below. */
    double *restrict a = malloc((size_t)n * sizeof(double));
    double *restrict b = malloc((size_t)n * sizeof(double));
    double *restrict c = malloc((size_t)n * sizeof(double));
    double *times = malloc((size_t)ntimes * 4 * sizeof(double));
    if (!a || !b || !c || !times) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    const double scalar = 3.0;
    int threads = 1;
#ifdef _OPENMP
#pragma omp parallel
#pragma omp master
    threads = omp_get_num_threads();
#endif

#pragma omp parallel for schedule(static)
    for (long j = 0; j < n; j++) {
        a[j] = 1.0;
        b[j] = 2.0;
        c[j] = 0.0;
    }

    for (int k = 0; k < ntimes; k++) {
        double t;
#ifdef STREAM_NT
        t = now_seconds();
        run_nt(0, c, a, 0, n, scalar);
        times[k * 4 + 0] = now_seconds() - t;
        t = now_seconds();
        run_nt(1, b, c, 0, n, scalar);
        times[k * 4 + 1] = now_seconds() - t;
        t = now_seconds();
        run_nt(2, c, a, b, n, scalar);
        times[k * 4 + 2] = now_seconds() - t;
        t = now_seconds();
        run_nt(3, a, b, c, n, scalar);
        times[k * 4 + 3] = now_seconds() - t;
#else
        t = now_seconds();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) c[j] = a[j];
        times[k * 4 + 0] = now_seconds() - t;

        t = now_seconds();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) b[j] = scalar * c[j];
        times[k * 4 + 1] = now_seconds() - t;

        t = now_seconds();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) c[j] = a[j] + b[j];
        times[k * 4 + 2] = now_seconds() - t;

        t = now_seconds();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) a[j] = b[j] + scalar * c[j];
        times[k * 4 + 3] = now_seconds() - t;
#endif
    }

    /* Expected values: the same recurrence on scalars. */
    double ea = 1.0, eb = 2.0, ec = 0.0;
    for (int k = 0; k < ntimes; k++) {
        ec = ea;
        eb = scalar * ec;
        ec = ea + eb;
        ea = eb + scalar * ec;
    }
    double ea_err = 0, eb_err = 0, ec_err = 0;
    for (long j = 0; j < n; j++) {
        ea_err += fabs(a[j] - ea);
        eb_err += fabs(b[j] - eb);
        ec_err += fabs(c[j] - ec);
    }
    const double epsilon = 1e-13;
    if (ea_err / n / fabs(ea) > epsilon || eb_err / n / fabs(eb) > epsilon || ec_err / n / fabs(ec) > epsilon) {
        fprintf(stderr, "validation failed: average errors a=%g b=%g c=%g\n", ea_err / n, eb_err / n, ec_err / n);
        return 1;
    }

    static const char *names[4] = {"copy", "scale", "add", "triad"};
    static const double words[4] = {2, 2, 3, 3};
    printf("threads=%d\narray_bytes=%ld\nntimes=%d\n", threads, n * (long)sizeof(double), ntimes);
    for (int j = 0; j < 4; j++) {
        double best = times[1 * 4 + j];
        for (int k = 2; k < ntimes; k++)
            if (times[k * 4 + j] < best) best = times[k * 4 + j];
        double bytes = words[j] * sizeof(double) * (double)n;
        printf("%s_best_s=%.9f\n%s_bytes_per_second=%.6e\n", names[j], best, names[j], bytes / best);
    }
    free(a);
    free(b);
    free(c);
    free(times);
    return 0;
}
