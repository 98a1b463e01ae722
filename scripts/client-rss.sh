#!/usr/bin/env bash
# bench-client's peak memory at high concurrency: `concurrency --levels 1000
# --mode burst` against the zero-latency emulator (`bench-sim serve
# --time-scale 0`, loopback only, no --max-concurrent), run under
# `/usr/bin/time -v`. Prints the peak RSS (target < 150 MB) and the level's
# sandbox.success_rate from 02_concurrency.json.
#
#   bash scripts/client-rss.sh [--debug] [--no-build] [--level N] [--proc]
#
# Builds release binaries first (`cargo build --release -p bench-client -p
# e2b-sim`); --debug uses debug builds. Without /usr/bin/time (Debian
# package `time`) the peak is read from VmHWM in /proc/<pid>/status, polled
# every 20 ms (--proc forces that). The open-file limit is raised for both
# processes: a burst of N holds about N API and N envd connections on each
# side. Exit 0 when measured, also when the target is missed (the verdict
# line says so), 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
build=1
level=1000
target_mb=150
use_proc=0
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --no-build) build=0 ;;
        --level) level=${2:?--level needs a number}; shift ;;
        --proc) use_proc=1 ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "client-rss: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$level" in
    ''|*[!0-9]*|0) echo "client-rss: --level takes a whole number >= 1" >&2; exit 2 ;;
esac

say() { echo "client-rss: $*" >&2; }

# shellcheck source=scripts/lib/client-bench.sh
source scripts/lib/client-bench.sh
client_bench_build "$profile" "$build"

# Each side: N API + N envd sockets, plus the emulator's process pipes.
want_fds=$((level * 6 + 1024))
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$want_fds" ]; then
    say "the hard open-file limit is $hard, below the $want_fds a burst of $level needs; raise it (ulimit -Hn as root) or use a smaller --level"
    exit 1
fi
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$want_fds" ] && ulimit -n "$want_fds"

work=$(mktemp -d)
client_bench_start_sim
say "emulator at $E2B_API_URL; open-file limit $(ulimit -n); burst of $level"

cmd=("$client" -q concurrency --levels "$level" --mode burst \
    --output-dir "$work/out" --cloud local --run-id "rss-$level")
started=$(date +%s.%N)
rc=0
if [ "$use_proc" = 0 ] && [ -x /usr/bin/time ]; then
    method="/usr/bin/time -v"
    /usr/bin/time -v -o "$work/time.txt" "${cmd[@]}" || rc=$?
    peak_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$work/time.txt")
else
    method="VmHWM of /proc/<pid>/status, polled every 20 ms"
    "${cmd[@]}" & pid=$!
    peak_kb=0
    # Bounded: 30 minutes at most.
    for _ in $(seq 1 90000); do
        kb=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
        [ -n "$kb" ] && [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    wait "$pid" || rc=$?
fi
elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
doc="$work/out/02_concurrency.json"
[ -f "$doc" ] || { say "bench-client exited $rc and wrote no 02_concurrency.json"; exit 1; }
[ -n "$peak_kb" ] || { say "no peak RSS measured ($method)"; exit 1; }

read -r success throughput errors < <(python3 - "$doc" "$level" <<'PY'
import json, sys
doc, level = json.load(open(sys.argv[1])), sys.argv[2]
def value(metric):
    for s in doc["samples"]:
        if s["metric"] == metric and s["labels"].get("concurrency") == level:
            return s["value"]
    return float("nan")
print(value("sandbox.success_rate"), value("sandbox.creates_per_second"), len(doc.get("errors") or []))
PY
)
# time -v and VmHWM count in KiB; the target is in MB (10^6 bytes).
peak_mib=$(awk -v k="$peak_kb" 'BEGIN { printf "%.1f", k / 1024 }')
peak_mb=$(awk -v k="$peak_kb" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }')
verdict=$(awk -v m="$peak_mb" -v t="$target_mb" 'BEGIN { print (m < t) ? "target met" : "TARGET MISSED" }')
echo "burst of $level: peak RSS $peak_mb MB = $peak_mib MiB ($method; target < $target_mb MB: $verdict)"
printf 'success rate %s, %.1f creates/s, %s error entries, exit code %s, %ss wall (%s build, %s, %s CPUs)\n' \
    "$success" "$throughput" "$errors" "$rc" "$elapsed" "$profile" \
    "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')" "$(nproc)"
[ "$errors" = 0 ] || { say "errors in 02_concurrency.json:"; python3 -c 'import json,sys; [print(" ", e["probe"], e["kind"], e["message"], file=sys.stderr) for e in json.load(open(sys.argv[1]))["errors"]]' "$doc"; }
