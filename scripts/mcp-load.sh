#!/usr/bin/env bash
# Tool-call latency through /mcp against the same request sent as REST through the gateway, in
# one run: `query_records` (table account, select name,revenue, filter statecode eq 0, orderby
# name, top 10) becomes exactly the REST query below with the same Prefer header, so the
# difference is MCP's own cost (JSON-RPC, rmcp's stateless service, the tool's argument
# handling and result shaping). Bounded: N requests per target at concurrency C. Needs `oha`.
#
#   scripts/mcp-load.sh [N=2000] [C=1]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
C=${2:-1}
command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 1; }
trap 'kill ${pid:-} 2>/dev/null || true; wait ${pid:-} 2>/dev/null || true; rm -rf "${dir:-}"' EXIT
source scripts/demo-env.sh
agents=$AGENTS key=$KEY
query='accounts?$select=name,revenue&$filter=statecode%20eq%200&$orderby=name&$top=10'
prefer='odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query_records","arguments":{"table":"account","select":"name,revenue","filter":"statecode eq 0","orderby":"name","top":10}}}'
# The answers must be the rows, not refusals, before anything is timed.
curl -sf -H "Authorization: Bearer $key" -H "Prefer: $prefer" "$agents/api/data/v9.2/$query" | grep -q '"value"'
curl -sf -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2025-11-25' -d "$call" "$agents/mcp" | grep -q '"isError":false'
echo "== REST through the gateway ($N requests, concurrency $C)"
oha -n "$N" -c "$C" --no-tui -H "Authorization: Bearer $key" -H "Prefer: $prefer" "$agents/api/data/v9.2/$query"
echo "== MCP tools/call query_records through /mcp ($N requests, concurrency $C)"
oha -n "$N" -c "$C" --no-tui -m POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2025-11-25' -d "$call" "$agents/mcp"
# Every timed request must have been forwarded (an attempt and an outcome record each), not
# refused by a limit: a refusal is also a 200 for MCP (a tool error).
records=$(./target/release/stanchion audit tail --data-dir "$dir" -n 100000000 --json | grep -c '"decision":"allowed"')
echo "== allowed audit records: $records (expected at least $((4 * N)): attempt + outcome per request, both targets)"
