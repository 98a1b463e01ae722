#!/usr/bin/env bash
# Installs E2B's official Python SDK (PyPI `e2b`) at the two versions the
# e2b-sim SDK proof (crates/e2b-sim/tests/sdk.rs) drives, each in its own
# virtualenv under <repo>/.test-tools/. Idempotent: a venv whose installed
# `e2b` already has the pinned version is left alone.
#
#   .test-tools/sdk-2.45/    e2b==2.45.1  (creates with POST /sandboxes, secure: true)
#   .test-tools/sdk-latest/  e2b==2.63.0  (creates with POST /v2/sandboxes, connect via /v2/.../connect)
#
# Needs python3 with the venv module and network access to PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.test-tools"
mkdir -p "$tools"

install() {
    local name="$1" version="$2"
    local venv="$tools/$name"
    local have=""
    if [ -x "$venv/bin/python" ]; then
        have="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("e2b"))' 2>/dev/null || true)"
    fi
    if [ "$have" = "$version" ]; then
        echo "sdk-venvs: $venv has e2b $version" >&2
        return 0
    fi
    echo "sdk-venvs: installing e2b==$version into $venv" >&2
    if ! command -v python3 >/dev/null 2>&1; then
        echo "sdk-venvs: python3 not found; install python3 and python3-venv, then re-run" >&2
        return 1
    fi
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "e2b==$version"
    "$venv/bin/python" -c 'import importlib.metadata as m, sys; v = m.version("e2b"); sys.exit(0 if v == sys.argv[1] else f"installed e2b {v}, wanted {sys.argv[1]}")' "$version"
}

install sdk-2.45 2.45.1
install sdk-latest 2.63.0
