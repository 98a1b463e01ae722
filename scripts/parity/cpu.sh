#!/usr/bin/env bash
# CPU parity: bench-host's cpu probe against sysbench's cpu test on the same
# machine, same thread count, same --cpu-max-prime and run time. The two run
# alternately (which goes first alternates too) for a few rounds; per-round
# figures go to stderr, and stdout gets one line per thread count
#   name ours sysbench ratio
# with the medians over the rounds (ratio = ours / sysbench; the target is
# 0.95-1.10), then a `# cv ...` comment line with the run-to-run coefficient
# of variation of each tool (the target for ours is <= 3%).
#
#   bash scripts/parity/cpu.sh
#
# Environment: BENCH_HOST (default target/release/bench-host, built when
# missing), PARITY_CPU_THREADS (space- or comma-separated, default 1),
# PARITY_CPU_MAX_PRIME (default 10000), PARITY_CPU_TIME (seconds, default 10;
# 3 with PARITY_QUICK=1), PARITY_ROUNDS (default 5; 3 quick).
# Installs sysbench from Debian when it is missing.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
quick="${PARITY_QUICK:-0}"
if [ "$quick" = 1 ]; then
  time_s="${PARITY_CPU_TIME:-3}" rounds="${PARITY_ROUNDS:-3}"
else
  time_s="${PARITY_CPU_TIME:-10}" rounds="${PARITY_ROUNDS:-5}"
fi
max_prime="${PARITY_CPU_MAX_PRIME:-10000}"
threads_list="$(echo "${PARITY_CPU_THREADS:-1}" | tr ',' ' ')"

bench_host="${BENCH_HOST:-$repo/target/release/bench-host}"
if [ ! -x "$bench_host" ]; then
  echo "cpu parity: building bench-host (release)" >&2
  (cd "$repo" && cargo build --release -q -p bench-host)
  bench_host="$repo/target/release/bench-host"
fi

if ! command -v sysbench >/dev/null; then
  echo "cpu parity: installing sysbench from Debian" >&2
  if ! { apt-get install -y -qq sysbench >/dev/null 2>&1 ||
         { apt-get update -qq && apt-get install -y -qq sysbench >/dev/null; }; }; then
    echo "cpu parity: could not install sysbench; install it and run again" >&2
    exit 2
  fi
fi
echo "cpu parity: max prime $max_prime, ${time_s}s per run, $rounds rounds, $(sysbench --version)" >&2

# Run bench-host in a scratch directory so nothing is left behind.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT INT TERM

# ours THREADS → events/s from bench-host's document
ours() {
  (cd "$work" && "$bench_host" -q cpu --threads "$1" --max-prime "$max_prime" --time "$time_s" --output -) |
    python3 -c '
import json, sys
doc = json.load(sys.stdin)
if doc["errors"]:
    sys.exit("bench-host: %s" % doc["errors"])
print(next(s["value"] for s in doc["samples"]
           if s["metric"] == "cpu.events_per_second" and s["labels"]["threads"] == sys.argv[1]))
' "$1"
}

# theirs THREADS → sysbench's "events per second"
theirs() {
  sysbench cpu --threads="$1" --cpu-max-prime="$max_prime" --time="$time_s" run |
    python3 -c '
import re, sys
m = re.search(r"events per second:\s*([0-9.]+)", sys.stdin.read())
if not m:
    sys.exit("sysbench: no events per second in its output")
print(m.group(1))
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
    ours_runs[$t]+="$a "
    theirs_runs[$t]+="$b "
    python3 -c 'import sys; a, b = float(sys.argv[3]), float(sys.argv[4]); print("round %s threads %s ours %.2f sysbench %.2f ratio %.3f" % (sys.argv[1], sys.argv[2], a, b, a / b))' \
      "$round" "$t" "$a" "$b" >&2
  done
done

for t in $threads_list; do
  python3 -c '
import statistics, sys
name = sys.argv[1]
ours = [float(x) for x in sys.argv[2].split()]
peer = [float(x) for x in sys.argv[3].split()]
a, b = statistics.median(ours), statistics.median(peer)
cv = lambda xs: 100 * statistics.stdev(xs) / statistics.mean(xs) if len(xs) > 1 else 0.0
print("%s %.6g %.6g %.4f" % (name, a, b, a / b))
print("# cv %s ours=%.2f%% sysbench=%.2f%% (%d rounds)" % (name, cv(ours), cv(peer), len(ours)))
' "cpu.events_per_second.threads=$t.max_prime=$max_prime" "${ours_runs[$t]}" "${theirs_runs[$t]}"
done
