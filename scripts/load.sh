#!/usr/bin/env bash
# Load run on loopback: the same query sent (a) straight to the emulator with an emulator token
# and (b) through the gateway with an agent key, in one run, so the gateway's overhead (auth,
# parse, policy, two committed audit records, re-printing, link rewriting) is measured against
# the bare upstream. Bounded: N requests per target at concurrency C. Needs `oha` on PATH.
#
#   scripts/load.sh [N=2000] [C=8]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
C=${2:-8}
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 1; }
trap 'kill ${pid:-} 2>/dev/null || true; wait ${pid:-} 2>/dev/null || true; rm -rf "${dir:-}"' EXIT
source scripts/demo-env.sh
emu=$EMU agents=$AGENTS key=$KEY token=$TOKEN
query='accounts?$select=name,revenue&$filter=statecode%20eq%200&$orderby=name&$top=10'
echo "== emulator direct ($N requests, concurrency $C)"
oha -n "$N" -c "$C" --no-tui -H "Authorization: Bearer $token" "$emu/api/data/v9.2/$query"
echo "== through the gateway ($N requests, concurrency $C)"
oha -n "$N" -c "$C" --no-tui -H "Authorization: Bearer $key" "$agents/api/data/v9.2/$query"
echo "== audit records written: $(./target/release/stanchion audit tail --data-dir "$dir" -n 100000 --json | wc -l)"
