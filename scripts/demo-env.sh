# Sourced by the load scripts: starts `stanchion demo` (release build) on free loopback ports in a
# temporary directory and exports AGENTS, EMU, KEY (the first demo agent's key) and TOKEN (an
# emulator token for the floor). The caller's EXIT trap must stop "$pid" and remove "$dir".
cargo build --release -p stanchion -q
dir=$(mktemp -d)
# Per-agent limits and the upstream budget off: the load runs send thousands of requests with
# one key, more than the default budget of 5,000 per 5 minutes towards the org.
STANCHION_LISTEN_AGENTS=127.0.0.1:0 STANCHION_LISTEN_EMULATOR=127.0.0.1:0 STANCHION_LISTEN_ADMIN=127.0.0.1:0 \
    STANCHION_LIMITS_PER_AGENT_REQUESTS_PER_MINUTE=0 STANCHION_LIMITS_PER_AGENT_CONCURRENCY=0 \
    STANCHION_LIMITS_UPSTREAM_REQUESTS_PER_5MIN=0 STANCHION_LIMITS_UPSTREAM_CONCURRENCY=0 \
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
