#!/usr/bin/env bash
# The quick start: one command, about 5 minutes on a fresh 2-core machine,
# most of it the build.
#
#   scripts/quickstart.sh                 # build, measure, report
#   scripts/quickstart.sh --no-build      # reuse the binaries of an earlier run
#   scripts/quickstart.sh --time-scale 1  # the emulator's start delays unscaled (about a minute more)
#
# 1. builds bench-host, bench-client, bench-sandbox, bench-sim and
#    bench-report with the `quickstart` profile (Cargo.toml: release without
#    LTO, bench-core's workloads at opt-level 3; every document records it
#    in tool.build_profile), in one cargo invocation;
# 2. runs `bench-host run --quick` on this machine;
# 3. starts `bench-sim serve` (the local E2B emulator) on free loopback
#    ports with a fresh random API key, and runs `bench-client run --quick`
#    against it: lifecycle, concurrency, pause and the in-sandbox suite;
# 4. renders outputs/ into outputs/reports/ and prints a summary table.
# Results go to outputs/local-sim/ (one run id for host and client); an
# earlier run's files move to outputs/local-sim/history/<run id>/. The report
# badges local-sim as emulated. Nothing reads .e2b_env, so a real cluster's
# settings there are never used. Everything it starts is stopped when it
# ends, fails or is interrupted (Ctrl-C), by the PIDs it started.
# docs/quickstart.md says more.
set -euo pipefail
cd "$(dirname "$0")/.."

CLOUD=local-sim
time_scale=0.1
build=1
usage() {
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) build=0 ;;
        --time-scale)
            [ $# -ge 2 ] || { echo "quickstart: --time-scale needs a value, e.g. --time-scale 1" >&2; exit 2; }
            time_scale=$2
            shift
            ;;
        -h | --help) usage; exit 0 ;;
        *) echo "quickstart: unknown argument '$1'; try --help" >&2; exit 2 ;;
    esac
    shift
done
case "$time_scale" in
    '' | *[!0-9.]* | *.*.* | .) echo "quickstart: --time-scale $time_scale: give a number >= 0, e.g. 0.1" >&2; exit 2 ;;
esac

say() { printf 'quickstart: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

started=$SECONDS
target_dir=${CARGO_TARGET_DIR:-target}
bin=$target_dir/quickstart
work=$(mktemp -d "${TMPDIR:-/tmp}/e2b-quickstart.XXXXXX")
: >"$work/empty.env"

# Every process this script starts, by role; the cleanup stops exactly these.
host_pid="" client_pid="" sim_pid="" api_port=""

# Sends TERM to $1 and waits for it to end (it writes what finished and, for
# bench-client, kills its sandboxes first); KILL after $2 tenths of a second.
stop_pid() {
    local pid=$1 tenths=$2 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < tenths; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "process $pid did not stop on SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# GET $1 from the emulator's API over bash's /dev/tcp (no curl needed).
sim_get() {
    local reply
    exec 3<>"/dev/tcp/127.0.0.1/$api_port" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
    reply=$(cat <&3)
    exec 3<&-
    printf '%s' "${reply#*$'\r\n\r\n'}"
}

# Sandboxes the emulator holds now, or "" when it does not answer.
sim_live() {
    sim_get /_sim/stats 2>/dev/null | sed -n 's/.*"live":\([0-9]*\).*/\1/p'
}

cleanup() {
    local rc=$? live
    trap - EXIT INT TERM
    stop_pid "$client_pid" 600
    stop_pid "$host_pid" 300
    if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
        live=$(sim_live || true)
        if [ "$live" != 0 ]; then
            say "the emulator still holds ${live:-an unknown number of} sandboxes; stopping it kills them"
            [ "$rc" = 0 ] && rc=1
        fi
        stop_pid "$sim_pid" 100
    fi
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
trap 'say "interrupted; stopping what it started"; exit 130' INT
trap 'say "terminated; stopping what it started"; exit 143' TERM

# Runs "$@" in its own session (so a Ctrl-C reaches only this script, which
# then stops it in order) and in the background (so a signal is handled at
# once); sets $last_pid.
spawn() {
    if command -v setsid >/dev/null 2>&1; then
        setsid "$@" &
    else
        "$@" &
    fi
    last_pid=$!
}

# How tier binary $1 ended with exit code $2 (started at $3): 0 done, 3 done
# but some probes failed or were unavailable ($4 says what to read), 130/143
# interrupted; anything else ends the quick start.
ended() {
    local took=$((SECONDS - $3))
    case "$2" in
        0) say "$1 done in $took s" ;;
        3) say "$1 done in $took s; $4" ;;
        130 | 143) exit 130 ;;
        *) die "$1 run failed (exit $2; see its message above)" ;;
    esac
}

# ---------------------------------------------------------------- build
if [ "$build" = 1 ]; then
    command -v cargo >/dev/null 2>&1 ||
        die "cargo not found: install Rust with rustup (https://rustup.rs), then run this again"
    say "building (most of the time: about 2-3 minutes on 2 cores the first time, plus fetching crates; seconds after that);"
    say "then: bench-host on this machine (~20 s), bench-client against the local emulator (~30 s), the report"
    # Incremental caches help nobody on a first build (and the profile has none).
    CARGO_INCREMENTAL=0 cargo build --profile quickstart --locked \
        -p bench-host -p bench-client -p bench-sandbox -p e2b-sim -p bench-report ||
        die "the build failed (see cargo's message above)"
    # cargo calls the profile "unoptimized" because its default opt-level is 0;
    # bench-core, whose workloads are measured, is at 3 (Cargo.toml).
    say "built in $((SECONDS - started)) s (the quickstart profile: bench-core's measured code at opt-level 3)"
fi
for b in bench-host bench-client bench-sandbox bench-sim bench-report; do
    [ -x "$bin/$b" ] || die "$bin/$b is missing: run without --no-build"
done

run_id="$(date -u +%Y%m%dT%H%M%SZ)-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')"
key="e2b_$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
out_dir=outputs/$CLOUD
# Settings of a real cluster in the environment must not leak into a run
# against the emulator (or send bench-host to a real bucket).
isolated=(env -u STORAGE_URL -u S3_BUCKET -u DATABASE_URL -u E2B_STORAGE_DIR -u E2B_TEMPLATES
    -u CLOUD_PROVIDER -u E2B_API_KEY -u E2B_API_URL -u E2B_SANDBOX_URL -u E2B_DOMAIN)

# ------------------------------------------------------------ bench-host
step_started=$SECONDS
say "bench-host run --quick: this machine's CPU, memory, disk, hugepages and KVM → $out_dir/04_host_performance.json"
spawn "${isolated[@]}" "$bin/bench-host" run --quick --cloud "$CLOUD" --run-id "$run_id" \
    --env-file "$work/empty.env" --output-dir "$out_dir"
host_pid=$last_pid
rc=0
wait "$host_pid" || rc=$?
host_pid=""
ended bench-host "$rc" "$step_started" \
    "some probes could not run here (e.g. no hugepages or /dev/kvm): their reasons are in the document's errors, the rest is measured"

# ------------------------------------------------------------- bench-sim
say "starting bench-sim (the local E2B emulator) on free loopback ports, start delays × $time_scale"
spawn "$bin/bench-sim" serve --listen 127.0.0.1:0 --api-key "$key" \
    --time-scale "$time_scale" --max-starting 3 >"$work/sim.env" 2>"$work/sim.log"
sim_pid=$last_pid
# It prints its three E2B_* lines once both listeners are bound.
for _ in $(seq 1 100); do
    [ "$(grep -c '^E2B_' "$work/sim.env" 2>/dev/null || true)" -ge 3 ] && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; sim_pid=""; die "bench-sim exited at start (its log is above)"; }
    sleep 0.1
done
[ "$(grep -c '^E2B_' "$work/sim.env" || true)" -ge 3 ] ||
    { cat "$work/sim.log" >&2; die "bench-sim printed no endpoints within 10 s (its log is above)"; }
api_url="" sandbox_url="" domain=""
while IFS='=' read -r name value; do
    case "$name" in
        E2B_API_URL) api_url=$value ;;
        E2B_SANDBOX_URL) sandbox_url=$value ;;
        E2B_DOMAIN) domain=$value ;;
    esac
done <"$work/sim.env"
api_port=${api_url##*:}

# ---------------------------------------------------------- bench-client
step_started=$SECONDS
say "bench-client run --quick against it: lifecycle, concurrency, pause, the in-sandbox suite → $out_dir/"
say "(bench-sandbox is this build, not the static one: the emulator's sandboxes are local processes, so it runs; bench-client warns that it is dynamically linked)"
# network and pkg would measure this machine's internet, not a sandbox.
spawn "${isolated[@]}" E2B_API_KEY="$key" E2B_API_URL="$api_url" E2B_SANDBOX_URL="$sandbox_url" \
    E2B_DOMAIN="$domain" "$bin/bench-client" run --quick --cloud "$CLOUD" --run-id "$run_id" \
    --env-file "$work/empty.env" --output-dir "$out_dir" --template base \
    --bench-sandbox "$bin/bench-sandbox" -- --skip network,pkg
client_pid=$last_pid
rc=0
wait "$client_pid" || rc=$?
client_pid=""
ended bench-client "$rc" "$step_started" \
    "some probes failed: see errors in $out_dir/*.json and the report's Probe errors"
live=$(sim_live || true)
[ "$live" = 0 ] || die "the emulator still holds ${live:-an unknown number of} sandboxes after bench-client ended"
stop_pid "$sim_pid" 100
sim_pid=""

# ---------------------------------------------------------------- report
rc=0
"$bin/bench-report" --input outputs render --output-dir outputs/reports -q || rc=$?
case "$rc" in
    0 | 3) ;;
    *) die "bench-report render failed (exit $rc; see its message above)" ;;
esac
reports=$(cd outputs/reports && pwd)
say "done in $((SECONDS - started)) s"
echo
echo "Report:   $reports/report.html"
echo "Markdown: $reports/visual_report.md"
echo "Results:  $(cd "$out_dir" && pwd)/ (summary_report.json: the headline figures)"
echo

# The summary table, read from the summary and the result documents.
if ! command -v python3 >/dev/null 2>&1; then
    say "python3 not found: no summary table here; the report above has every figure"
    exit 0
fi
python3 - "$out_dir" "$time_scale" <<'EOF' || say "could not print the summary table; the report above has every figure"
import json, os, sys

out, scale = sys.argv[1], sys.argv[2]

def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def ms(v):
    return "—" if v is None else (f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.1f} ms")

summary = load("summary_report.json") or {}
emulator = summary.get("emulator")
print(f"{summary.get('cloud') or 'local-sim'}"
      + (f" (emulated: {emulator}, start delays × {scale})" if emulator else "")
      + f", run {summary.get('run_id')}")
rows = []
for template, t in sorted((summary.get("templates") or {}).items()):
    for mode in ("cold", "warm"):
        tti = ((t.get(mode) or {}).get("time_to_interactive_ms")) or {}
        n = tti.get("n")
        rows.append((f"{template} {mode} time to interactive",
                     f"p50 {ms(tti.get('p50'))}", f"p95 {ms(tti.get('p95'))}",
                     f"{n} start{'s' if n != 1 else ''}" if n else ""))
    sweep = t.get("concurrency") or {}
    knee = sweep.get("knee") or {}
    if knee.get("concurrency"):
        rows.append((f"{template} concurrency knee", f"{knee['concurrency']} at once",
                     f"{knee.get('creates_per_second') or 0:.1f} creates/s", ""))
    elif sweep:
        top = max(sweep.get("levels") or [0])
        rows.append((f"{template} concurrency knee", "not reached",
                     f"creates/s still grew ≥ 10% up to {top} at once", ""))

def values(doc, metric):
    """(labels without template) -> value, for one metric."""
    got = {}
    for s in (doc or {}).get("samples", []):
        if s.get("metric") == metric and isinstance(s.get("value"), (int, float)):
            labels = {k: v for k, v in (s.get("labels") or {}).items() if k != "template"}
            got.setdefault(tuple(sorted(labels.items())), s["value"])
    return got

sandbox, host = load("03_sandbox_performance.json"), load("04_host_performance.json")
# CPU, and STREAM's triad as memory's headline, at each thread count.
for metric, what, only in (("cpu.events_per_second", "cpu", {}),
                           ("memory.bandwidth_bytes_per_second", "memory triad", {"op": "triad"})):
    s, h = values(sandbox, metric), values(host, metric)
    common = [l for l in set(s) & set(h) if h[l] and all(dict(l).get(k) == v for k, v in only.items())]
    for labels in sorted(common, key=lambda l: int(dict(l).get("threads", "0") or 0)):
        threads = dict(labels).get("threads", "?")
        rows.append((f"sandbox ÷ host {what}, {threads} thread{'s' if threads != '1' else ''}",
                     f"{s[labels] / h[labels]:.2f}×", "", ""))
if not any(r[0].startswith("sandbox") for r in rows):
    rows.append(("sandbox ÷ host", "—", "(no cpu/memory figures from both tiers)", ""))
width = max(len(r[0]) for r in rows)
for r in rows:
    print("  " + f"{r[0]:<{width}}  {r[1]:<14} {r[2]:<18} {r[3]}".rstrip())
EOF
