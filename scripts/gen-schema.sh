#!/usr/bin/env bash
# Regenerates docs/schema/result-v1.json from bench-core's serde types.
# The schema test fails whenever the committed file differs from the types.
set -euo pipefail
cd "$(dirname "$0")/.."
BLESS=1 cargo test -q -p bench-core --features schema --test schema committed_schema_is_current
echo "wrote docs/schema/result-v1.json"
