#!/usr/bin/env bash
# Renders the demo fixture set (3 clouds, the tests' generator) and takes the
# screenshot of report.html kept in docs/report-screenshot.png, with Debian's
# headless Chromium.
#
#   scripts/report-screenshot.sh [OUT.png]      (default docs/report-screenshot.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/report-screenshot.png}"
chromium="${E2B_BENCH_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}"
if [ -z "$chromium" ]; then
    echo "report-screenshot: no chromium on PATH; apt-get install chromium (or set E2B_BENCH_CHROMIUM)" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build -q --release --locked -p bench-report --bin bench-report --example gen_report_inputs
target/release/examples/gen_report_inputs "$work/outputs" 3 20000
target/release/bench-report -q --input "$work/outputs" render --output-dir "$work/reports"
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
    --force-device-scale-factor=1 --user-data-dir="$work/profile" --window-size=1280,2300 \
    --screenshot="$work/shot.png" "file://$work/reports/report.html" >/dev/null 2>&1
mv "$work/shot.png" "$out"
echo "report-screenshot: wrote $out ($(wc -c <"$out") bytes)" >&2
