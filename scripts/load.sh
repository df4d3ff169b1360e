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
cargo build --release -p stanchion -q
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
STANCHION_LISTEN_AGENTS=127.0.0.1:0 STANCHION_LISTEN_EMULATOR=127.0.0.1:0 \
    ./target/release/stanchion demo --data-dir "$dir" --json > "$dir/out" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ "$(wc -l < "$dir/out")" -ge 2 ] && break; sleep 0.1; done
facts=$(sed -n 2p "$dir/out")
agents=$(echo "$facts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents_url"])')
emu=$(echo "$facts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["emulator_url"])')
key=$(echo "$facts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents"][0]["key"])')
client=$(cat "$dir/emulator/emulator-client.json")
id=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
secret=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
token=$(curl -s -X POST "$emu/load/oauth2/v2.0/token" --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$id" --data-urlencode "client_secret=$secret" --data-urlencode "scope=$emu/.default" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
query='accounts?$select=name,revenue&$filter=statecode%20eq%200&$orderby=name&$top=10'
echo "== emulator direct ($N requests, concurrency $C)"
oha -n "$N" -c "$C" --no-tui -H "Authorization: Bearer $token" "$emu/api/data/v9.2/$query"
echo "== through the gateway ($N requests, concurrency $C)"
oha -n "$N" -c "$C" --no-tui -H "Authorization: Bearer $key" "$agents/api/data/v9.2/$query"
echo "== audit records written: $(./target/release/stanchion audit tail --data-dir "$dir" -n 100000 --json | wc -l)"
