#!/usr/bin/env bash
# The test command of the README and of CI (.ci/run).
# Installs what the tests need when it is missing, then runs formatting,
# lints and the whole test suite. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

# Incremental caches add ~1.5 GiB and help nobody on a clean clone.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

step "disk"
# The whole check needs about 3 GiB under target/; say so up front rather
# than failing half-way with rustc's "No space left on device".
df -h . >&2 || true
free_kib="$(df -Pk . | awk 'NR == 2 { print $4 }')"
if [ -n "$free_kib" ] && [ "$free_kib" -lt $((3 * 1024 * 1024)) ]; then
    echo "test: only $((free_kib / 1024)) MiB free here; the build needs about 3 GiB (target/ and .test-tools/)" >&2
fi

step "toolchain"
# rust-toolchain.toml pins the compiler; rustup installs it and its
# components on first use when they are missing.
cargo --version >&2
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

step "system packages (curl: the network probe's https path; musl-tools: static builds; chromium: the report's browser test)"
need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v musl-gcc >/dev/null 2>&1 || need+=(musl-tools)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 ||
            { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; }
    else
        echo "test: install the Debian packages ${need[*]} and re-run" >&2
        exit 1
    fi
fi

step "Postgres (bench-host templates: the audit's throwaway cluster)"
# tests/templates.rs starts its own cluster from Debian's postgresql
# (initdb + pg_ctl on a loopback port, as the postgres user when root).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends postgresql >&2 ||
            { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >&2; }
    else
        echo "test: install the Debian package postgresql and re-run" >&2
        exit 1
    fi
fi

step "test services (S3 server, Azure blob emulator, uv)"
# Exports E2B_BENCH_MOTO_SERVER, E2B_BENCH_AZURITE_BLOB and
# E2B_BENCH_REQUIRE_SERVICES=1, so service tests fail rather than skip here.
# shellcheck source=scripts/test-tools.sh
source scripts/test-tools.sh

step "E2B's Python SDK, two versions (the emulator's proof)"
bash scripts/sdk-venvs.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The pasteable build has no built-in TLS; it must lint clean too.
cargo clippy -p bench-sandbox --no-default-features --all-targets --locked -- -D warnings

step "rustdoc: no broken intra-doc links"
# Module docs point at each other; a rename that breaks a link fails here.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked

step "no unused dependencies (cargo machete)"
# A declared-but-unused dependency costs build time everywhere and hides what
# a crate really needs; an intentional one goes in the crate's
# [package.metadata.cargo-machete] ignored list with the reason beside it.
command -v cargo-machete >/dev/null 2>&1 || cargo install --locked cargo-machete@0.9.2 >&2
cargo machete

step "bench-sandbox stays free of tokio and object storage"
# Built alone, so it gets only the bench-core features it asks for.
if cargo tree -p bench-sandbox -e normal --locked | grep -E '^[^a-z]*(tokio|object_store|reqwest) v' >&2 ||
    cargo tree -p bench-sandbox --no-default-features -e normal --locked | grep -E '^[^a-z]*(rustls|rustls-webpki) v' >&2; then
    echo "bench-sandbox depends on tokio/object_store/reqwest: keep it small (see docs/architecture.md)" >&2
    exit 1
fi
cargo build -p bench-sandbox --locked

step "static bench-sandbox: <= 2 MiB, paste snippet <= 1.5 MiB, paste -> import (before the tests: bench-client uploads this build)"
# build-static.sh and paste-bundle.sh fail when a size target is missed.
bash scripts/build-static.sh bench-sandbox
paste_dir="$(mktemp -d)"
trap 'rm -rf "$paste_dir"' EXIT
bash scripts/paste-bundle.sh --binary target/static/bench-sandbox --output "$paste_dir/bundle.sh" \
    --dest "$paste_dir/sandbox" -- cpu --threads 1 --time 300ms --paste -q
sh "$paste_dir/bundle.sh" >"$paste_dir/paste.txt"
cargo run -q --locked -p bench-report -- --input "$paste_dir/outputs" import --cloud ci "$paste_dir/paste.txt"
test -s "$paste_dir/outputs/ci/sandbox_performance_manual.json"

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast
else
    cargo test --workspace --locked --no-fail-fast
fi
# bench-core as bench-sandbox builds it (no object store, no schema).
cargo test -p bench-core --no-default-features --lib --locked -q
# nextest does not run doc tests.
cargo test --workspace --doc --locked

