#!/usr/bin/env bash
# Side-by-side parity of bench-host against the tools it replaces, in one run
# on one machine: sysbench cpu, fio (io_uring) and a C STREAM reference.
# Prints every comparison and a summary table with the targets; with
# --markdown FILE it also writes that table (date and machine included) so it
# can be pasted into docs/parity.md.
#
#   scripts/parity.sh [--quick] [--markdown FILE]
#
# Installs fio, sysbench (Debian) and builds bench-host --release when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
markdown=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --markdown) markdown="${2:?--markdown needs a file}"; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "parity.sh: unknown argument '$1' (use --quick or --markdown FILE)" >&2; exit 2 ;;
  esac
  shift
done
export PARITY_QUICK=$quick

need_pkgs=()
command -v fio >/dev/null || need_pkgs+=(fio)
command -v sysbench >/dev/null || need_pkgs+=(sysbench)
command -v gcc >/dev/null || need_pkgs+=(gcc)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "parity: installing ${need_pkgs[*]} from Debian" >&2
  if ! { apt-get install -y -qq "${need_pkgs[@]}" >/dev/null 2>&1 ||
         { apt-get update -qq && apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; }; }; then
    echo "parity: could not install ${need_pkgs[*]}; install them and run again" >&2
    exit 2
  fi
fi

export BENCH_HOST="${BENCH_HOST:-$PWD/target/release/bench-host}"
echo "parity: building bench-host (release)" >&2
cargo build --release -q -p bench-host

results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for part in cpu memory disk; do
  echo "== $part ==" >&2
  bash "scripts/parity/$part.sh" | tee -a "$results"
done

python3 scripts/parity/summarize.py "$results" ${markdown:+--markdown "$markdown"}
