#!/usr/bin/env bash
# The test command of the README and of CI (.ci/run).
# Installs what the tests need when it is missing, then runs formatting,
# lints and the whole test suite. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*" >&2; }

step "toolchain"
# rust-toolchain.toml pins the compiler; rustup installs it and its
# components on first use when they are missing.
cargo --version >&2
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

step "test services (S3 server, Azure blob emulator)"
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

step "bench-sandbox stays free of tokio and object storage"
# Built alone, so it gets only the bench-core features it asks for.
if cargo tree -p bench-sandbox -e normal --locked | grep -E '^[^a-z]*(tokio|object_store|reqwest) v' >&2; then
    echo "bench-sandbox depends on tokio/object_store/reqwest: keep it small (see docs/architecture.md)" >&2
    exit 1
fi
cargo build -p bench-sandbox --locked

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
