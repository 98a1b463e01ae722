#!/usr/bin/env bash
# How long bench-client takes to put bench-sandbox into a sandbox, beside the
# in-sandbox suite it starts: `bench-client sandbox` against the zero-latency
# emulator (`bench-sim serve --time-scale 0`, loopback only), with the static
# bench-sandbox (target/static/, built by scripts/build-static.sh when
# missing, or --binary PATH).
#
#   bash scripts/client-upload.sh [--debug] [--no-build] [--rounds R] [--binary PATH]
#
# R rounds upload the binary and run only bench-sandbox's cpu probe
# (--quick), for the upload's median (envd POST /files, streamed from disk);
# one more round runs the whole quick suite except network and pkg (which
# would leave loopback) for the suite's own time. Prints every round, the
# median upload in ms and MB/s, and the upload as a share of that suite.
# Exit 0 when measured, 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
build=1
rounds=5
binary=target/static/bench-sandbox
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --no-build) build=0 ;;
        --rounds) rounds=${2:?--rounds needs a number}; shift ;;
        --binary) binary=${2:?--binary needs a path}; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "client-upload: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$rounds" in
    ''|*[!0-9]*|0) echo "client-upload: --rounds takes a whole number >= 1" >&2; exit 2 ;;
esac

say() { echo "client-upload: $*" >&2; }

# shellcheck source=scripts/lib/client-bench.sh
source scripts/lib/client-bench.sh
client_bench_build "$profile" "$build"
if [ ! -f "$binary" ]; then
    [ "$binary" = target/static/bench-sandbox ] || { say "$binary: no such file"; exit 1; }
    say "building the static bench-sandbox (scripts/build-static.sh bench-sandbox)"
    bash scripts/build-static.sh bench-sandbox >&2
fi

work=$(mktemp -d)
client_bench_start_sim
say "emulator at $E2B_API_URL; uploading $binary ($(stat -c %s "$binary") bytes), $rounds rounds"

# One round: prints upload_ms upload_bytes suite_ms from 03_sandbox_performance.json.
round() {
    local name=$1; shift
    "$client" -q sandbox --bench-sandbox "$binary" --quick --output-dir "$work/$name" \
        --cloud local --run-id "upload-$name" -- "$@" ||
        { say "bench-client sandbox failed (round $name)"; exit 1; }
    python3 - "$work/$name/03_sandbox_performance.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
if doc["errors"]:
    sys.exit(f"{sys.argv[1]}: errors {doc['errors']}")
r = doc["parameters"]["client"]["sandboxes"]["base"]
print(f"{r['upload_ms']:.3f} {r['upload_bytes']} {r['suite_ms']:.1f}")
PY
}

uploads=()
echo "round  upload_ms  MB/s     suite_ms (cpu probe only)"
for r in $(seq 1 "$rounds"); do
    read -r ms bytes suite <<<"$(round "r$r" --skip memory,disk,network,python,pkg)"
    uploads+=("$ms")
    printf '%-6s %-10s %-8s %s\n' "$r" "$ms" \
        "$(awk -v b="$bytes" -v m="$ms" 'BEGIN { printf "%.1f", b / 1e6 / (m / 1e3) }')" "$suite"
done
read -r full_ms full_bytes full_suite <<<"$(round full --skip network,pkg)"
median=$(printf '%s\n' "${uploads[@]}" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
echo "full quick suite (no network, pkg): upload ${full_ms} ms, suite ${full_suite} ms"
awk -v m="$median" -v b="$full_bytes" -v s="$full_suite" 'BEGIN {
    printf "median upload of %d bytes: %s ms (%.1f MB/s), %.2f%% of the quick suite\n", b, m, b / 1e6 / (m / 1e3), 100 * m / s }'
echo "($profile build, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs)"
