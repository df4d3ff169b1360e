#!/usr/bin/env bash
# A 100-part $batch against the same 100 requests one by one, through the gateway and straight
# to the emulator, in one run (scripts/batch_load.py does the timing). Release build, demo data.
#
#   ROUNDS=20 scripts/batch-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'kill ${pid:-} 2>/dev/null || true; wait ${pid:-} 2>/dev/null || true; rm -rf "${dir:-}"' EXIT
source scripts/demo-env.sh
python3 scripts/batch_load.py
