#!/usr/bin/env bash
# Turns the static bench-sandbox binary into a shell snippet that can be
# pasted into a terminal inside a sandbox (`e2b sandbox spawn`): it recreates
# the binary from gzip + base64 text, checks its SHA-256, and runs it.
#
#   scripts/paste-bundle.sh > bundle.sh                     # run --paste after unpacking
#   scripts/paste-bundle.sh --output bundle.sh -- run --quick --paste
#   scripts/paste-bundle.sh --binary PATH --dest DIR --no-run
#
# Options:
#   --binary PATH   the binary to bundle [default: target/static/bench-sandbox,
#                   made by scripts/build-static.sh bench-sandbox]
#   --dest DIR      where the snippet recreates it inside the sandbox [default: /tmp/e2b-bench]
#   --output FILE   write the snippet here instead of stdout
#   --no-run        only unpack and verify; print the command to run
#   --no-limit      do not fail over 1.5 MiB (tests bundle debug builds)
#   -- ARGS...      arguments for bench-sandbox [default: run --paste]
#
# The snippet only needs sh, base64, gzip and sha256sum (coreutils or
# busybox). It runs in a subshell, so a failure never closes the terminal.
# Prints the snippet's size on stderr; it must stay within 1.5 MiB of text.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=target/static/bench-sandbox
dest=/tmp/e2b-bench
output=-
run=1
limit=$((3 * 1024 * 1024 / 2))
args=(run --paste)
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --dest) dest=${2:?--dest needs a directory}; shift 2 ;;
        --output) output=${2:?--output needs a file}; shift 2 ;;
        --no-run) run=0; shift ;;
        --no-limit) limit=0; shift ;;
        --) shift; args=("$@"); break ;;
        -h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "paste-bundle: unknown option '$1'; see --help" >&2; exit 2 ;;
    esac
done
if [ ! -f "$binary" ]; then
    echo "paste-bundle: --binary $binary: not found; build it with scripts/build-static.sh bench-sandbox" >&2
    exit 2
fi
case "$dest" in
    *"'"* | "") echo "paste-bundle: --dest '$dest': give a plain directory path without quotes" >&2; exit 2 ;;
esac
for tool in gzip base64 sha256sum; do
    command -v "$tool" >/dev/null || { echo "paste-bundle: $tool not found; install coreutils/gzip" >&2; exit 1; }
done

sha=$(sha256sum "$binary" | cut -d' ' -f1)
bytes=$(stat -c %s "$binary")
version=$("$binary" --version 2>/dev/null || echo "bench-sandbox (unknown version)")
quoted_args=""
for a in "${args[@]}"; do quoted_args+=" '${a//\'/\'\\\'\'}'"; done
marker=E2B_BENCH_PAYLOAD_${sha:0:12}

emit() {
    cat <<HEAD
# e2b-bench paste bundle: $version, $bytes bytes, sha256 $sha
# Paste all of it into a shell inside the sandbox. It recreates the binary as
# $dest/bench-sandbox, checks its SHA-256 and runs: bench-sandbox$quoted_args
(
d='$dest'
mkdir -p "\$d" || exit 1
base64 -d > "\$d/bench-sandbox.gz" <<'$marker' || { echo "e2b-bench: the pasted text is damaged (base64 failed); paste the whole bundle again" >&2; exit 1; }
HEAD
    gzip -9 -n -c "$binary" | base64 -w 76
    cat <<TAIL
$marker
gzip -dc "\$d/bench-sandbox.gz" > "\$d/bench-sandbox.new" || { echo "e2b-bench: the pasted text is damaged or cut short (gzip failed); paste the whole bundle again" >&2; rm -f "\$d/bench-sandbox.gz" "\$d/bench-sandbox.new"; exit 1; }
rm -f "\$d/bench-sandbox.gz"
echo "$sha  \$d/bench-sandbox.new" | sha256sum -c - >/dev/null 2>&1 || { echo "e2b-bench: checksum mismatch: the binary is not the one bundled; paste the whole bundle again" >&2; rm -f "\$d/bench-sandbox.new"; exit 1; }
chmod 755 "\$d/bench-sandbox.new" && mv -f "\$d/bench-sandbox.new" "\$d/bench-sandbox" || exit 1
echo "e2b-bench: \$d/bench-sandbox ready (sha256 $sha)" >&2
TAIL
    if [ "$run" = 1 ]; then
        echo "\"\$d/bench-sandbox\"$quoted_args"
    else
        echo "echo \"e2b-bench: run it with: \$d/bench-sandbox$quoted_args\" >&2"
    fi
    echo ")"
}

# Through a temporary file, so the size is judged before anything is handed out.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
emit >"$tmp"
size=$(stat -c %s "$tmp")
echo "paste-bundle: $binary ($bytes bytes, sha256 $sha) -> snippet of $size bytes (limit $((3 * 1024 * 1024 / 2)))" >&2
if [ "$limit" -gt 0 ] && [ "$size" -gt "$limit" ]; then
    echo "paste-bundle: the snippet is over 1.5 MiB, too long to paste comfortably; nothing written (--no-limit to force)" >&2
    exit 1
fi
if [ "$output" = - ]; then
    cat "$tmp"
else
    cp "$tmp" "$output"
fi
