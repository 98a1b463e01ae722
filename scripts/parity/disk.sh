#!/usr/bin/env bash
# Disk parity: bench-host's disk probe against fio with the io_uring engine,
# on files of the same size in the same directory, for the two figures the
# target names:
#   - randread 4k iodepth 32 direct: IOPS
#   - read (sequential) 1M iodepth 8 direct: bandwidth
# Every round runs fio, then bench-host, then fio again, so each of our runs
# is bracketed by two of fio's and compared with their geometric mean (drift
# of the device between runs cancels). Per-round figures go to stderr, and
# stdout gets one line per figure
#   name ours fio ratio
# with the medians over the rounds (ratio = ours / fio; the target is 1 ± 0.05),
# then for each figure
#   # rounds name min=R max=R     the range of the per-round ratios
#   # noise name min=R max=R      fio's second run ÷ its first in the same round:
#                                 how far the device moves between two runs of
#                                 the same tool, the floor under any ratio
#   # device name ours=R fio=R    bytes the block device read during the run
#                                 (/sys/dev/block/…/stat) ÷ the bytes the tool's
#                                 figure implies over ramp + runtime, medians:
#                                 ≈ 1 when a tool counts what the device did
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
# The block device under the work directory, for its read-sector counter.
dev_stat="/sys/dev/block/$(stat -c '%Hd:%Ld' "$work" 2>/dev/null)/stat"
[ -r "$dev_stat" ] || dev_stat=""
sectors_read() { if [ -n "$dev_stat" ]; then awk '{print $3}' "$dev_stat"; else echo 0; fi; }
echo "disk parity: $work, file $size, ${runtime}s + ${ramp}s ramp, $rounds rounds, $(fio --version)" >&2

# ours METRIC PATTERN BS DEPTH → the figure from bench-host's document
ours() {
  local metric=$1 pattern=$2 bs=$3 depth=$4 before
  before="$(sectors_read)"
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
' "$metric" | device_check "$before" "$metric" "$bs"
}

# device_check SECTORS_BEFORE METRIC BS: reads the figure on stdin, prints
# "figure device_bytes/implied_bytes" (0 when the device is unknown).
device_check() {
  local figure
  figure="$(cat)"
  python3 -c '
import sys
figure, before, after, metric, bs, seconds = sys.argv[1:7]
units = {"k": 1 << 10, "K": 1 << 10, "m": 1 << 20, "M": 1 << 20}
bs = int(bs[:-1]) * units[bs[-1]] if bs[-1] in units else int(bs)
per_s = float(figure) * (bs if metric in ("disk.iops", "iops") else 1)
implied = per_s * float(seconds)
device = (int(after) - int(before)) * 512
print(figure, device / implied if int(after) and implied else 0)
' "$figure" "$1" "$(sectors_read)" "$2" "$3" "$((runtime + ramp))"
}

# theirs FIELD RW BS DEPTH → the figure from fio's JSON (iops or bw_bytes).
# fio lays out a fresh file every run, as bench-host does: in a VM a file
# that was just written reads measurably slower (the host is still writing
# it back) than one read before, so reusing fio's file would favour fio.
theirs() {
  local field=$1 rw=$2 bs=$3 depth=$4 before
  rm -f "$work/fio.dat"
  before="$(sectors_read)"
  fio --name=parity --filename="$work/fio.dat" --ioengine=io_uring --direct=1 --rw="$rw" \
      --bs="$bs" --iodepth="$depth" --size="$size" --runtime="$runtime" --ramp_time="$ramp" \
      --time_based --output-format=json |
    python3 -c '
import json, sys
job = json.load(sys.stdin)["jobs"][0]
if job.get("error"):
    sys.exit("fio: error %s" % job["error"])
print(job["read"][sys.argv[1]])
' "$field" | device_check "$before" "$field" "$bs"
}

# name, our metric, fio field, pattern, block size, depth
cases=(
  "disk.randread_4k_qd32.iops disk.iops iops randread 4k 32"
  "disk.read_1m_qd8.bandwidth_bytes_per_second disk.bandwidth_bytes_per_second bw_bytes read 1M 8"
)

declare -A ours_runs theirs_runs first_runs second_runs ours_dev fio_dev
for round in $(seq 1 "$rounds"); do
  for case in "${cases[@]}"; do
    read -r name metric field pattern bs depth <<<"$case"
    read -r f1 d1 <<<"$(theirs "$field" "$pattern" "$bs" "$depth")"
    read -r a da <<<"$(ours "$metric" "$pattern" "$bs" "$depth")"
    read -r f2 d2 <<<"$(theirs "$field" "$pattern" "$bs" "$depth")"
    b="$(python3 -c 'import sys; print((float(sys.argv[1]) * float(sys.argv[2])) ** 0.5)' "$f1" "$f2")"
    ours_runs[$name]+="$a "
    theirs_runs[$name]+="$b "
    first_runs[$name]+="$f1 "
    second_runs[$name]+="$f2 "
    ours_dev[$name]+="$da "
    fio_dev[$name]+="$d1 $d2 "
    python3 -c 'import sys; a, b, f1, f2 = map(float, sys.argv[2:6]); print("round %s %s fio %.6g ours %.6g fio %.6g ratio %.3f (fio/fio %.3f)" % (sys.argv[1], sys.argv[6], f1, a, f2, a / b, f2 / f1))' \
      "$round" "$a" "$b" "$f1" "$f2" "$name" >&2
  done
done

for case in "${cases[@]}"; do
  read -r name _ <<<"$case"
  python3 -c '
import statistics, sys
name = sys.argv[1]
ours, fio, first, second, odev, fdev = ([float(x) for x in v.split()] for v in sys.argv[2:8])
a, b = statistics.median(ours), statistics.median(fio)
print("%s %.6g %.6g %.4f" % (name, a, b, a / b))
ratios = [x / y for x, y in zip(ours, fio)]
print("# rounds %s min=%.4f max=%.4f" % (name, min(ratios), max(ratios)))
noise = [y / x for x, y in zip(first, second)]
print("# noise %s min=%.4f max=%.4f" % (name, min(noise), max(noise)))
if all(odev) and all(fdev):
    print("# device %s ours=%.3f fio=%.3f" % (name, statistics.median(odev), statistics.median(fdev)))
' "$name" "${ours_runs[$name]}" "${theirs_runs[$name]}" "${first_runs[$name]}" "${second_runs[$name]}" \
    "${ours_dev[$name]}" "${fio_dev[$name]}"
done
