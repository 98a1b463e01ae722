#!/usr/bin/env bash
# bench-client's own overhead, side by side with E2B's Python SDK on one
# zero-latency emulator (`bench-sim serve --time-scale 0`, loopback only):
#
#   bench-client  `lifecycle --iterations N`: per warm sandbox,
#                 create_ms + envd_ready_ms + kill_ms (raw[i] of each,
#                 from 01_warm_start.json), median over the N sandboxes;
#   SDK           e2b==2.63.0: Sandbox.create(template="base") →
#                 sbx.is_running() (envd GET /health) → sbx.kill(), each
#                 cycle timed with time.perf_counter, median over N cycles
#                 (one untimed cycle first, as bench-client's cold start).
#
# A third column, SDK+true, runs the same SDK cycle with an untimed
# sbx.commands.run("true") before the kill, as bench-client's lifecycle runs
# its first command there (left out of its sum too): the emulator's kill is
# slower for a sandbox that ran a process, so this is the like-for-like
# figure. They alternate (odd rounds bench-client first, even rounds last)
# for --rounds rounds. Prints each round's medians and ratios, then the
# median ratio bench-client/SDK (target <= 0.3) and bench-client/SDK+true.
# All talk to the same emulator, whose own time is in every figure.
#
#   bash scripts/client-overhead.sh [--debug] [--no-build] [--rounds R] [--iterations N]
#
# Builds release binaries first (`cargo build --release -p bench-client -p
# e2b-sim`, a few minutes on 2 cores); --debug uses debug builds (a quick
# try; the figures then mean little). The SDK venv comes from
# scripts/sdk-venvs.sh (installed when missing). Exit 0 when measured, also
# when the target is missed (the verdict line says so), 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=release
build=1
rounds=5
iterations=200
target_ratio=0.3
while [ $# -gt 0 ]; do
    case "$1" in
        --debug) profile=debug ;;
        --no-build) build=0 ;;
        --rounds) rounds=${2:?--rounds needs a number}; shift ;;
        --iterations) iterations=${2:?--iterations needs a number}; shift ;;
        -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "client-overhead: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$rounds$iterations" in
    *[!0-9]*) echo "client-overhead: --rounds and --iterations take whole numbers" >&2; exit 2 ;;
esac
[ "$rounds" -ge 1 ] && [ "$iterations" -ge 2 ] || {
    echo "client-overhead: need --rounds >= 1 and --iterations >= 2" >&2; exit 2; }

say() { echo "client-overhead: $*" >&2; }

# shellcheck source=scripts/lib/client-bench.sh
source scripts/lib/client-bench.sh
client_bench_build "$profile" "$build"

bash scripts/sdk-venvs.sh
python=.test-tools/sdk-latest/bin/python
sdk_version=$("$python" -c 'import importlib.metadata as m; print(m.version("e2b"))')

work=$(mktemp -d)
client_bench_start_sim
say "emulator at $E2B_API_URL (envd $E2B_SANDBOX_URL); $rounds rounds of $iterations cycles each; SDK e2b $sdk_version"

cat >"$work/sdk.py" <<'PY'
import os, statistics, sys, time
from e2b import Sandbox

n, key = int(sys.argv[1]), os.environ["E2B_API_KEY"]
with_command = sys.argv[2:] == ["with-command"]

def cycle():
    t0 = time.perf_counter()
    sbx = Sandbox.create(template="base", api_key=key, timeout=120,
                         metadata={"e2b-bench-run": "sdk-overhead"})
    t1 = time.perf_counter()
    if not sbx.is_running():
        sys.exit(f"sandbox {sbx.sandbox_id}: is_running() is false")
    t2_ready = time.perf_counter()
    if with_command:  # like bench-client's first command; not timed, as it is not in its sum
        sbx.commands.run("true")
    t2 = time.perf_counter()
    sbx.kill()
    t3 = time.perf_counter()
    phases = [(b - a) * 1e3 for a, b in ((t0, t1), (t1, t2_ready), (t2, t3))]
    return [sum(phases)] + phases

cycle()  # connection set-up and imports, like bench-client's cold start
cycles = [cycle() for _ in range(n)]
# total, then the phases (create, is_running, kill), each a median
print(" ".join(f"{statistics.median(c[i] for c in cycles):.3f}" for i in range(4)))
PY

cat >"$work/client.py" <<'PY'
import json, statistics, sys

doc = json.load(open(sys.argv[1]))
raw = {s["metric"]: s.get("raw") or [] for s in doc["samples"]}
parts = [raw.get(m, []) for m in ("sandbox.create_ms", "sandbox.envd_ready_ms", "sandbox.kill_ms")]
n = int(sys.argv[2])
if doc.get("errors") or any(len(p) != n for p in parts):
    sys.exit(f"{sys.argv[1]}: expected {n} complete lifecycles, got "
             f"{[len(p) for p in parts]} and errors {doc.get('errors')}")
# total, then the phases (create, envd_ready, kill), each a median
total = statistics.median(c + e + k for c, e, k in zip(*parts))
print(" ".join(f"{v:.3f}" for v in [total] + [statistics.median(p) for p in parts]))
PY

run_client() {
    local dir="$work/client-$1"
    "$client" -q lifecycle --iterations "$iterations" --output-dir "$dir" \
        --cloud local --run-id "overhead-r$1" \
        || { say "bench-client lifecycle failed (round $1)"; exit 1; }
    "$python" "$work/client.py" "$dir/01_warm_start.json" "$iterations"
}
run_sdk() {
    "$python" "$work/sdk.py" "$iterations" "$2" \
        || { say "the SDK cycle failed (round $1)"; exit 1; }
}
ratio() { awk -v c="$1" -v s="$2" 'BEGIN { printf "%.3f", c / s }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ratios=()
like_ratios=()
echo "median ms per cycle, in brackets the phase medians (bench-client create/envd_ready/kill; SDK create/is_running/kill)"
echo "SDK+true: the SDK cycle also runs commands.run(\"true\") before the kill, untimed, as bench-client runs its first command"
printf '%-6s %-28s %-28s %-6s %-28s %s\n' round bench-client SDK ratio SDK+true ratio
for r in $(seq 1 "$rounds"); do
    if [ $((r % 2)) = 1 ]; then
        c=$(run_client "$r"); s=$(run_sdk "$r" plain); w=$(run_sdk "$r" with-command)
    else
        w=$(run_sdk "$r" with-command); s=$(run_sdk "$r" plain); c=$(run_client "$r")
    fi
    read -r ct c1 c2 c3 <<<"$c"
    read -r st s1 s2 s3 <<<"$s"
    read -r wt w1 w2 w3 <<<"$w"
    ratios+=("$(ratio "$ct" "$st")")
    like_ratios+=("$(ratio "$ct" "$wt")")
    printf '%-6s %-28s %-28s %-6s %-28s %s\n' "$r" "$ct ($c1/$c2/$c3)" "$st ($s1/$s2/$s3)" \
        "$(ratio "$ct" "$st")" "$wt ($w1/$w2/$w3)" "$(ratio "$ct" "$wt")"
done
m=$(median "${ratios[@]}")
ml=$(median "${like_ratios[@]}")
verdict=$(awk -v m="$m" -v t="$target_ratio" 'BEGIN { print (m <= t) ? "target met" : "TARGET MISSED" }')
echo "median ratio bench-client/SDK: $m (target <= $target_ratio: $verdict); bench-client/SDK+true: $ml"
echo "($profile build, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, e2b $sdk_version)"
