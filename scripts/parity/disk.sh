#!/usr/bin/env bash
# Disk parity: bench-host's disk probe against fio with the io_uring engine,
# on files of the same size in the same directory, for the two figures the
# target names:
#   - randread 4k iodepth 32 direct: IOPS
#   - read (sequential) 1M iodepth 8 direct: bandwidth
# The two tools run side by side, alternating which goes first, for a few
# rounds; per-round figures go to stderr, and stdout gets one line per figure
#   name ours fio ratio
# with the medians over the rounds (ratio = ours / fio; the target is 1 ± 0.05),
# and `# rounds name min=R max=R`, the range of the per-round ratios.
#
#   bash scripts/parity/disk.sh
#
# Environment: BENCH_HOST (default target/release/bench-host, built when
# missing), PARITY_DIR (scratch directory; default a temporary directory in
# the current directory, so the file system under test is the current one),
# PARITY_DISK_SIZE (default 1G; 256M with PARITY_QUICK=1), PARITY_DISK_RUNTIME
# (seconds, default 10; 3 quick), PARITY_ROUNDS (default 5; 2 quick).
# Installs fio from Debian when it is missing.
set -euo pipefail

start_dir="$PWD"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
quick="${PARITY_QUICK:-0}"
if [ "$quick" = 1 ]; then
  size="${PARITY_DISK_SIZE:-256M}" runtime="${PARITY_DISK_RUNTIME:-3}" rounds="${PARITY_ROUNDS:-2}"
else
  size="${PARITY_DISK_SIZE:-1G}" runtime="${PARITY_DISK_RUNTIME:-10}" rounds="${PARITY_ROUNDS:-5}"
fi
ramp=1

bench_host="${BENCH_HOST:-$repo/target/release/bench-host}"
if [ ! -x "$bench_host" ]; then
  echo "disk parity: building bench-host (release)" >&2
  (cd "$repo" && cargo build --release -q -p bench-host)
  bench_host="$repo/target/release/bench-host"
fi

if ! command -v fio >/dev/null; then
  echo "disk parity: installing fio from Debian" >&2
  if ! { apt-get install -y -qq fio >/dev/null 2>&1 ||
         { apt-get update -qq && apt-get install -y -qq fio >/dev/null; }; }; then
    echo "disk parity: could not install fio; install it and run again" >&2
    exit 2
  fi
fi

if [ -n "${PARITY_DIR:-}" ]; then
  mkdir -p "$PARITY_DIR"
  work="$(mktemp -d "$PARITY_DIR/parity-disk.XXXXXX")"
else
  work="$(mktemp -d "$start_dir/.parity-disk.XXXXXX")"
fi
trap 'rm -rf "$work"' EXIT INT TERM
echo "disk parity: $work, file $size, ${runtime}s + ${ramp}s ramp, $rounds rounds, $(fio --version)" >&2

# ours METRIC PATTERN BS DEPTH → the figure from bench-host's document
ours() {
  local metric=$1 pattern=$2 bs=$3 depth=$4
  "$bench_host" -q disk --dir "$work" --pattern "$pattern" --block-size "$bs" --iodepth "$depth" \
      --direct true --size "$size" --runtime "$runtime" --ramp "$ramp" --fsync-ops 0 \
      --engine io_uring --output - |
    python3 -c '
import json, sys
metric = sys.argv[1]
doc = json.load(sys.stdin)
if doc["errors"]:
    sys.exit("bench-host: %s" % doc["errors"])
print(next(s["value"] for s in doc["samples"] if s["metric"] == metric))
' "$metric"
}

# theirs FIELD RW BS DEPTH → the figure from fio's JSON (iops or bw_bytes).
# fio lays out a fresh file every run, as bench-host does: in a VM a file
# that was just written reads measurably slower (the host is still writing
# it back) than one read before, so reusing fio's file would favour fio.
theirs() {
  local field=$1 rw=$2 bs=$3 depth=$4
  rm -f "$work/fio.dat"
  fio --name=parity --filename="$work/fio.dat" --ioengine=io_uring --direct=1 --rw="$rw" \
      --bs="$bs" --iodepth="$depth" --size="$size" --runtime="$runtime" --ramp_time="$ramp" \
      --time_based --output-format=json |
    python3 -c '
import json, sys
job = json.load(sys.stdin)["jobs"][0]
if job.get("error"):
    sys.exit("fio: error %s" % job["error"])
print(job["read"][sys.argv[1]])
' "$field"
}

# name, our metric, fio field, pattern, block size, depth
cases=(
  "disk.randread_4k_qd32.iops disk.iops iops randread 4k 32"
  "disk.read_1m_qd8.bandwidth_bytes_per_second disk.bandwidth_bytes_per_second bw_bytes read 1M 8"
)

declare -A ours_runs theirs_runs
for round in $(seq 1 "$rounds"); do
  for case in "${cases[@]}"; do
    read -r name metric field pattern bs depth <<<"$case"
    if [ $((round % 2)) -eq 1 ]; then
      a="$(ours "$metric" "$pattern" "$bs" "$depth")"
      b="$(theirs "$field" "$pattern" "$bs" "$depth")"
    else
      b="$(theirs "$field" "$pattern" "$bs" "$depth")"
      a="$(ours "$metric" "$pattern" "$bs" "$depth")"
    fi
    ours_runs[$name]+="$a "
    theirs_runs[$name]+="$b "
    python3 -c 'import sys; a, b = float(sys.argv[2]), float(sys.argv[3]); print("round %s %s ours %.6g fio %.6g ratio %.3f" % (sys.argv[1], sys.argv[4], a, b, a / b))' \
      "$round" "$a" "$b" "$name" >&2
  done
done

for case in "${cases[@]}"; do
  read -r name _ <<<"$case"
  python3 -c '
import statistics, sys
name = sys.argv[1]
ours = [float(x) for x in sys.argv[2].split()]
fio = [float(x) for x in sys.argv[3].split()]
a, b = statistics.median(ours), statistics.median(fio)
print("%s %.6g %.6g %.4f" % (name, a, b, a / b))
ratios = [x / y for x, y in zip(ours, fio)]
print("# rounds %s min=%.4f max=%.4f" % (name, min(ratios), max(ratios)))
' "$name" "${ours_runs[$name]}" "${theirs_runs[$name]}"
done
