#!/usr/bin/env bash
# A 100-part $batch against the same 100 requests one by one, through the gateway and straight
# to the emulator, in one run (scripts/batch_load.py does the timing). Release build, demo data.
#
#   ROUNDS=20 scripts/batch-load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p stanchion -q
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
STANCHION_LISTEN_AGENTS=127.0.0.1:0 STANCHION_LISTEN_EMULATOR=127.0.0.1:0 \
    ./target/release/stanchion demo --data-dir "$dir" --json > "$dir/out" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ "$(wc -l < "$dir/out")" -ge 2 ] && break; sleep 0.1; done
facts=$(sed -n 2p "$dir/out")
export AGENTS EMU KEY TOKEN
AGENTS=$(echo "$facts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents_url"])')
EMU=$(echo "$facts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["emulator_url"])')
KEY=$(echo "$facts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["agents"][0]["key"])')
client=$(cat "$dir/emulator/emulator-client.json")
id=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
secret=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
TOKEN=$(curl -s -X POST "$EMU/load/oauth2/v2.0/token" --data-urlencode grant_type=client_credentials \
    --data-urlencode "client_id=$id" --data-urlencode "client_secret=$secret" --data-urlencode "scope=$EMU/.default" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
python3 scripts/batch_load.py
