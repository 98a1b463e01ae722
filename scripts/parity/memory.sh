#!/usr/bin/env bash
# Memory parity: bench-host's STREAM kernels against scripts/parity/stream_ref.c
# (a small C STREAM, built here with gcc -O2, and -fopenmp for more than one
# thread) with the same array size and iteration count, at 1 thread and at
# all cores. The two run alternately (which goes first alternates too) for a
# few rounds; per-round figures go to stderr, and stdout gets one line per
# kernel and thread count
#   name ours stream_ref ratio
# with the medians of the best-time rates over the rounds (ratio = ours /
# stream_ref; the target for triad is 0.90-1.10), then `# cv ...` comment
# lines with each tool's run-to-run coefficient of variation.
#
#   bash scripts/parity/memory.sh
#
# Environment: BENCH_HOST (default target/release/bench-host, built when
# missing), PARITY_MEM_ARRAY_SIZE (bytes per array; default the larger of 4x
# the last-level cache and 80 MB, as bench-host chooses), PARITY_MEM_NTIMES
# (default 10; 5 with PARITY_QUICK=1), PARITY_MEM_THREADS (default "1 <cores>"),
# PARITY_ROUNDS (default 5; 3 quick).
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
quick="${PARITY_QUICK:-0}"
if [ "$quick" = 1 ]; then
  ntimes="${PARITY_MEM_NTIMES:-5}" rounds="${PARITY_ROUNDS:-3}"
else
  ntimes="${PARITY_MEM_NTIMES:-10}" rounds="${PARITY_ROUNDS:-5}"
fi
cores="$(nproc)"
if [ "$cores" -gt 1 ]; then default_threads="1 $cores"; else default_threads="1"; fi
threads_list="$(echo "${PARITY_MEM_THREADS:-$default_threads}" | tr ',' ' ')"

# bench-host's default: max(4 x LLC, 80 MB), the LLC being the largest data
# or unified cache of cpu0 in sysfs.
array_bytes="${PARITY_MEM_ARRAY_SIZE:-$(python3 -c '
import glob, os
best = 0
for d in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*"):
    try:
        kind = open(os.path.join(d, "type")).read().strip()
        size = open(os.path.join(d, "size")).read().strip()
    except OSError:
        continue
    if kind not in ("Data", "Unified"):
        continue
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(size[-1:], 1)
    best = max(best, int(size.rstrip("KMG")) * mult)
print(max(4 * best, 80000000) // 8 * 8)
')}"

bench_host="${BENCH_HOST:-$repo/target/release/bench-host}"
if [ ! -x "$bench_host" ]; then
  echo "memory parity: building bench-host (release)" >&2
  (cd "$repo" && cargo build --release -q -p bench-host)
  bench_host="$repo/target/release/bench-host"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM
gcc -O2 "$repo/scripts/parity/stream_ref.c" -o "$work/stream_ref" -lm
openmp=1
gcc -O2 -fopenmp "$repo/scripts/parity/stream_ref.c" -o "$work/stream_ref_omp" -lm 2>/dev/null || openmp=0
echo "memory parity: arrays of $array_bytes bytes, ntimes $ntimes, threads $threads_list, $rounds rounds, $(gcc --version | head -1)" >&2

kernels="copy scale add triad"

# ours THREADS → "copy scale add triad" best-time rates from bench-host
ours() {
  (cd "$work" && "$bench_host" -q memory --threads "$1" --array-size "$array_bytes" --ntimes "$ntimes" \
      --latency-size 4k --latency-rounds 1 --output -) |
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
if doc["errors"]:
    sys.exit("bench-host: %s" % doc["errors"])
rate = {s["labels"]["op"]: s["value"] for s in doc["samples"]
        if s["metric"] == "memory.bandwidth_bytes_per_second" and s["labels"]["threads"] == sys.argv[1]}
print(" ".join(repr(rate[k]) for k in ("copy", "scale", "add", "triad")))
' "$1"
}

# theirs THREADS → the same four rates from stream_ref
theirs() {
  local binary="$work/stream_ref"
  if [ "$1" -gt 1 ]; then
    if [ "$openmp" = 0 ]; then
      echo "memory parity: gcc -fopenmp failed; no multi-thread reference" >&2
      exit 2
    fi
    binary="$work/stream_ref_omp"
  fi
  OMP_NUM_THREADS="$1" "$binary" "$array_bytes" "$ntimes" |
    python3 -c '
import sys
kv = dict(line.strip().split("=", 1) for line in sys.stdin if "=" in line)
print(" ".join(kv[k + "_bytes_per_second"] for k in ("copy", "scale", "add", "triad")))
'
}

declare -A ours_runs theirs_runs
for round in $(seq 1 "$rounds"); do
  for t in $threads_list; do
    if [ $((round % 2)) -eq 1 ]; then
      a="$(ours "$t")"
      b="$(theirs "$t")"
    else
      b="$(theirs "$t")"
      a="$(ours "$t")"
    fi
    read -r -a av <<<"$a"
    read -r -a bv <<<"$b"
    i=0
    for k in $kernels; do
      ours_runs[$k.$t]+="${av[$i]} "
      theirs_runs[$k.$t]+="${bv[$i]} "
      i=$((i + 1))
    done
    python3 -c '
import sys
a = [float(x) for x in sys.argv[3].split()]
b = [float(x) for x in sys.argv[4].split()]
print("round %s threads %s " % (sys.argv[1], sys.argv[2]) + "  ".join(
    "%s %.3g/%.3g=%.3f" % (k, x, y, x / y) for k, x, y in zip(("copy", "scale", "add", "triad"), a, b)))
' "$round" "$t" "$a" "$b" >&2
  done
done

for t in $threads_list; do
  for k in $kernels; do
    python3 -c '
import statistics, sys
name = sys.argv[1]
ours = [float(x) for x in sys.argv[2].split()]
peer = [float(x) for x in sys.argv[3].split()]
a, b = statistics.median(ours), statistics.median(peer)
print("%s %.6g %.6g %.4f" % (name, a, b, a / b))
' "memory.bandwidth_bytes_per_second.op=$k.threads=$t" "${ours_runs[$k.$t]}" "${theirs_runs[$k.$t]}"
  done
done
for t in $threads_list; do
  for k in $kernels; do
    python3 -c '
import statistics, sys
ours = [float(x) for x in sys.argv[2].split()]
peer = [float(x) for x in sys.argv[3].split()]
cv = lambda xs: 100 * statistics.stdev(xs) / statistics.mean(xs) if len(xs) > 1 else 0.0
print("# cv %s ours=%.2f%% stream_ref=%.2f%% (%d rounds)" % (sys.argv[1], cv(ours), cv(peer), len(ours)))
' "memory.bandwidth_bytes_per_second.op=$k.threads=$t" "${ours_runs[$k.$t]}" "${theirs_runs[$k.$t]}"
  done
done
