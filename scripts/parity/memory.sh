#!/usr/bin/env bash
# Memory parity: bench-host's STREAM kernels against scripts/parity/stream_ref.c
# (a small C STREAM) built the common ways — gcc -O2 (scalar), gcc -O3
# -march=native (vectorised for this CPU) and gcc -O3 -march=native
# -DSTREAM_NT (vectorised, non-temporal stores, as icc's streaming stores) —
# each with -fopenmp for more than one thread, with the same array size and
# iteration count, at 1 thread and at all cores. All four run in turn (the
# order rotates every round) for a few rounds; per-round figures go to
# stderr, and stdout gets, per kernel and thread count,
#   name ours stream_ref_O2 ratio
#   name.vs=best ours best_reference ratio
# with the medians of the best-time rates over the rounds (ratio = ours /
# reference; best_reference is the highest of the builds' medians; the
# target for triad is 0.95-1.10 against the best), then `# rounds name
# min=R max=R` lines (the per-round ratios' range), `# cv ...` lines with each
# tool's run-to-run coefficient of variation, `# best name BUILD` and
# `# kernel K` (the STREAM kernel bench-host chose).
#
#   bash scripts/parity/memory.sh
#
# Environment: BENCH_HOST (default target/release/bench-host, built when
# missing), PARITY_MEM_ARRAY_SIZE (bytes per array; default the larger of 4x
# the last-level cache and 80 MB, as bench-host chooses), PARITY_MEM_NTIMES
# (default 10; 5 with PARITY_QUICK=1), PARITY_MEM_THREADS (default "1 <cores>"),
# PARITY_ROUNDS (default 5; 3 quick), PARITY_MEM_KERNEL (bench-host --kernel;
# default auto).
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
# The reference builds, by name: flags.
builds=(o2 native nt)
declare -A build_flags=([o2]="-O2" [native]="-O3 -march=native" [nt]="-O3 -march=native -DSTREAM_NT")
declare -A build_label=([o2]="gcc -O2" [native]="gcc -O3 -march=native" [nt]="gcc -O3 -march=native -DSTREAM_NT")
openmp=1
for build in "${builds[@]}"; do
  # shellcheck disable=SC2086 # the flags are words
  gcc ${build_flags[$build]} "$repo/scripts/parity/stream_ref.c" -o "$work/stream_ref_$build" -lm
  # shellcheck disable=SC2086
  gcc ${build_flags[$build]} -fopenmp "$repo/scripts/parity/stream_ref.c" -o "$work/stream_ref_${build}_omp" -lm 2>/dev/null || openmp=0
done
kernel="${PARITY_MEM_KERNEL:-auto}"
echo "memory parity: arrays of $array_bytes bytes, ntimes $ntimes, threads $threads_list, $rounds rounds, $(gcc --version | head -1)" >&2

kernels="copy scale add triad"

# ours THREADS → "copy scale add triad" best-time rates from bench-host
ours() {
  (cd "$work" && "$bench_host" -q memory --threads "$1" --array-size "$array_bytes" --ntimes "$ntimes" \
      --kernel "$kernel" --latency-size 4k --latency-rounds 1 --output -) |
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
if doc["errors"]:
    sys.exit("bench-host: %s" % doc["errors"])
rate = {s["labels"]["op"]: s["value"] for s in doc["samples"]
        if s["metric"] == "memory.bandwidth_bytes_per_second" and s["labels"]["threads"] == sys.argv[1]}
with open(sys.argv[2], "a") as chosen:
    chosen.write(doc["parameters"]["memory"]["kernel"] + "\n")
print(" ".join(repr(rate[k]) for k in ("copy", "scale", "add", "triad")))
' "$1" "$work/kernels"
}

# theirs BUILD THREADS → the same four rates from stream_ref built as BUILD (o2, native, nt)
theirs() {
  local binary="$work/stream_ref_$1"
  if [ "$2" -gt 1 ]; then
    if [ "$openmp" = 0 ]; then
      echo "memory parity: gcc -fopenmp failed; no multi-thread reference" >&2
      exit 2
    fi
    binary="${binary}_omp"
  fi
  OMP_NUM_THREADS="$2" "$binary" "$array_bytes" "$ntimes" |
    python3 -c '
import sys
kv = dict(line.strip().split("=", 1) for line in sys.stdin if "=" in line)
print(" ".join(kv[k + "_bytes_per_second"] for k in ("copy", "scale", "add", "triad")))
'
}

# The contenders, in an order that rotates every round so none is always
# first (or always right after another's caches were filled).
contenders=(ours "${builds[@]}")
count=${#contenders[@]}
declare -A runs
for round in $(seq 1 "$rounds"); do
  for t in $threads_list; do
    declare -A got=()
    for j in $(seq 0 $((count - 1))); do
      c="${contenders[$(((round + j) % count))]}"
      if [ "$c" = ours ]; then got[$c]="$(ours "$t")"; else got[$c]="$(theirs "$c" "$t")"; fi
    done
    line="round $round threads $t"
    for c in "${contenders[@]}"; do
      read -r -a v <<<"${got[$c]}"
      i=0
      for k in $kernels; do
        runs[$c.$k.$t]+="${v[$i]} "
        i=$((i + 1))
      done
      line+="  $c ${got[$c]}"
    done
    echo "$line" >&2
    unset got
  done
done

for t in $threads_list; do
  for k in $kernels; do
    args=()
    for c in "${contenders[@]}"; do args+=("$c" "${runs[$c.$k.$t]}"); done
    python3 -c '
import statistics, sys
name, labels = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2].split(";"))
series = {c: [float(x) for x in v.split()] for c, v in zip(sys.argv[3::2], sys.argv[4::2])}
ours = series.pop("ours")
med = {c: statistics.median(v) for c, v in series.items()}
best = max(med, key=med.get)
a = statistics.median(ours)
print("%s %.6g %.6g %.4f" % (name, a, med["o2"], a / med["o2"]))
print("%s.vs=best %.6g %.6g %.4f" % (name, a, med[best], a / med[best]))
cv = lambda xs: 100 * statistics.stdev(xs) / statistics.mean(xs) if len(xs) > 1 else 0.0
for suffix, peer in (("", series["o2"]), (".vs=best", series[best])):
    ratios = [x / y for x, y in zip(ours, peer)]
    print("# rounds %s%s min=%.4f max=%.4f" % (name, suffix, min(ratios), max(ratios)))
print("# cv %s ours=%.2f%% %s (%d rounds)" % (name, cv(ours), " ".join(
    "stream_ref_%s=%.2f%%" % (c, cv(v)) for c, v in series.items()), len(ours)))
print("# best %s %s" % (name, labels[best]))
' "memory.bandwidth_bytes_per_second.op=$k.threads=$t" \
      "o2=${build_label[o2]};native=${build_label[native]};nt=${build_label[nt]}" "${args[@]}"
  done
done
echo "# kernel $(sort "$work/kernels" | uniq -c | sort -rn | awk '{printf "%s%s(%s)", sep, $2, $1; sep=" "}')"
