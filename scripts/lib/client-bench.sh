# Shared by scripts/client-*.sh (sourced, not run): release or debug builds
# of bench-client and bench-sim, and a zero-latency emulator on loopback
# whose endpoints and a fresh API key are exported for bench-client.
#
#   client_bench_build PROFILE BUILD   sets $client and $sim (builds when BUILD=1)
#   client_bench_start_sim [FLAGS…]    starts bench-sim serve --time-scale 0 FLAGS…,
#                                      exports E2B_API_URL, E2B_SANDBOX_URL,
#                                      E2B_DOMAIN, E2B_API_KEY; stopped on exit
#
# The caller defines say() and sets $work (a scratch directory, removed on exit).

client_bench_build() {
    local profile=$1 build=$2 flag=()
    if [ "$build" = 1 ]; then
        say "building $profile bench-client and bench-sim (release: a few minutes on 2 cores)"
        [ "$profile" = release ] && flag=(--release)
        CARGO_INCREMENTAL=0 cargo build -q "${flag[@]}" -p bench-client -p e2b-sim
    fi
    client=target/$profile/bench-client
    sim=target/$profile/bench-sim
    local b
    for b in "$client" "$sim"; do
        [ -x "$b" ] || { say "$b missing: run without --no-build"; exit 1; }
    done
}

client_bench_sim_pid=""
client_bench_cleanup() {
    if [ -n "$client_bench_sim_pid" ] && kill -0 "$client_bench_sim_pid" 2>/dev/null; then
        kill "$client_bench_sim_pid" 2>/dev/null || true
        wait "$client_bench_sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}

client_bench_start_sim() {
    trap client_bench_cleanup EXIT
    trap 'exit 130' INT TERM
    local key
    key="e2b_$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    "$sim" serve --listen 127.0.0.1:0 --api-key "$key" --time-scale 0 "$@" \
        >"$work/sim.out" 2>"$work/sim.err" &
    client_bench_sim_pid=$!
    local _
    for _ in $(seq 1 100); do
        [ "$(grep -c '^E2B_' "$work/sim.out" 2>/dev/null || true)" -ge 3 ] && break
        kill -0 "$client_bench_sim_pid" 2>/dev/null ||
            { say "bench-sim exited:"; cat "$work/sim.err" >&2; exit 1; }
        sleep 0.1
    done
    [ "$(grep -c '^E2B_' "$work/sim.out" || true)" -ge 3 ] || {
        say "bench-sim printed no endpoints within 10 s"; cat "$work/sim.err" >&2; exit 1; }
    local name value
    while IFS='=' read -r name value; do
        case "$name" in E2B_API_URL|E2B_SANDBOX_URL|E2B_DOMAIN) export "$name=$value" ;; esac
    done <"$work/sim.out"
    export E2B_API_KEY="$key"
}
