#!/usr/bin/env bash
# Checks bench-sandbox's targets side by side on this machine and prints a
# table (Markdown with --markdown FILE):
#   - the static binary is <= 2 MiB, its paste snippet <= 1.5 MiB of text;
#   - it starts in under 5 ms (median wall time of `bench-sandbox --version`
#     over many runs; `info` is shown too, as it reads /proc and /sys);
#   - its cpu probe gives the same events/s as bench-host's on the same
#     machine (ratio 0.97-1.03): the same code, so any gap is a tool bug.
#     The two alternate, one round each, for PARITY_ROUNDS rounds (default 5)
#     of PARITY_CPU_TIME seconds (default 5); the ratio is of the medians.
#
#   bash scripts/sandbox-targets.sh [--markdown FILE]
#
# Uses the static binaries of scripts/build-static.sh (built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

markdown=""
[ "${1:-}" = --markdown ] && markdown=${2:?--markdown needs a file}
static=target/static
if [ ! -x "$static/bench-sandbox" ] || [ ! -x "$static/bench-host" ]; then
    bash scripts/build-static.sh bench-host bench-sandbox >/dev/null
fi
snippet=$(mktemp)
trap 'rm -f "$snippet"' EXIT
bash scripts/paste-bundle.sh --binary "$static/bench-sandbox" --output "$snippet" --no-run 2>/dev/null || true

python3 - "$static/bench-sandbox" "$static/bench-host" "$snippet" "${PARITY_ROUNDS:-5}" "${PARITY_CPU_TIME:-5}" "$markdown" <<'PY'
import json, os, statistics, subprocess, sys, time

sandbox, host, snippet, rounds, cpu_time, markdown = sys.argv[1:]
rounds, cpu_time = int(rounds), float(cpu_time)

def wall_ms(cmd, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)

def cpu_eps(binary):
    out = subprocess.run(
        [binary, "cpu", "--threads", "1", "--time", f"{cpu_time}s", "--output", "-", "-q", "--cloud", "local"],
        capture_output=True, check=True, text=True).stdout
    doc = json.loads(out)
    return next(s["value"] for s in doc["samples"] if s["metric"] == "cpu.events_per_second")

size = os.path.getsize(sandbox)
snippet_size = os.path.getsize(snippet)
start = wall_ms([sandbox, "--version"], 300)
info = wall_ms([sandbox, "info", "--output", "/dev/null", "-q"], 50)
pairs = []
for r in range(rounds):
    order = [(sandbox, "sandbox"), (host, "host")]
    if r % 2:
        order.reverse()
    got = {name: cpu_eps(b) for b, name in order}
    pairs.append(got)
    print(f"round {r + 1}: sandbox {got['sandbox']:.1f} host {got['host']:.1f} events/s", file=sys.stderr)
s_med = statistics.median(p["sandbox"] for p in pairs)
h_med = statistics.median(p["host"] for p in pairs)
ratio = s_med / h_med
rows = [
    ("bench-sandbox static binary", f"{size} bytes ({size / 2**20:.2f} MiB)", "<= 2 MiB", size <= 2 * 2**20),
    ("paste snippet", f"{snippet_size} bytes ({snippet_size / 2**20:.2f} MiB)", "<= 1.5 MiB", 0 < snippet_size <= 1.5 * 2**20),
    ("start (`--version`, median of 300)", f"{start:.2f} ms", "< 5 ms", start < 5),
    ("`info` (median of 50)", f"{info:.2f} ms", "-", True),
    (f"cpu events/s, 1 thread, sandbox / host (medians of {rounds} alternating rounds of {cpu_time:g} s)",
     f"{s_med:.1f} / {h_med:.1f} = {ratio:.3f}", "0.97-1.03", 0.97 <= ratio <= 1.03),
]
lines = ["| figure | measured | target | result |", "|---|---|---|---|"]
lines += [f"| {a} | {b} | {c} | {'met' if ok else 'MISSED'} |" for a, b, c, ok in rows]
print("\n".join(lines))
if markdown:
    with open(markdown, "w") as f:
        f.write("\n".join(lines) + "\n")
sys.exit(0 if all(r[3] for r in rows) else 1)
PY
