#!/usr/bin/env bash
# Stanchion against nginx, in one run on loopback (BENCHMARKS.md, "Against nginx (stub upstream)").
#
# A stub upstream (nginx serving a recorded emulator answer: a 50-row accounts page with
# annotations, and a fixed OAuth token) is reached three ways with the same request
# (GET /api/data/v9.2/accounts?$top=50, Prefer: odata.include-annotations="*"):
#   direct   oha -> stub
#   nginx    oha -> nginx as a plain reverse proxy (keep-alive upstream) -> stub
#   stanchion oha -> `stanchion serve` (agent key, policy on all 11 tables of the schema with
#            hidden columns, two durable audit records per request on disk) -> stub
# and measured for: throughput at -c C, latency percentiles at a fixed RATE (oha -q), memory
# with CONNS open keep-alive connections (connections.py), the fsync floor of the data dir's
# filesystem (fsync_floor.py), CPU per request (perf stat task-clock and /proc utime+stime over a
# fixed run; instruction counts with callgrind when CALLGRIND=1, since this VM exposes no
# hardware counters to perf).
#
#   scripts/perf/vs-nginx.sh [--record]
#
# --record: re-record the fixture scripts/perf/accounts-top50.json from `stanchion demo` (else
# the committed one is used, so runs are repeatable). Knobs (environment):
#   N=20000          requests per target at C=32 connections (throughput)
#   RATE=1000        req/s for RATE_N=10000 requests per target (latency percentiles)
#   LOW_RATE=250     req/s (0: skip) for LOW_RATE_N=5000 requests, a rate Stanchion sustains here
#   STALLS_S=130     seconds of Stanchion alone at LOW_RATE with every request's time, to place
#                    slow requests next to the audit search catch-up (0: skip)
#   CPU_N=10000      requests per target for CPU time per request (at -c C)
#   CONNS=1000       open connections for the memory figure; MEM_LINGER=95 s to watch memory
#                    after the burst (reqwest's idle upstream connections time out after 90 s)
#   CALLGRIND=1      instructions per request with callgrind (0: skip), CALLGRIND_N=500 requests;
#                    PROFILE_DIR=DIR keeps the profiles for callgrind_annotate
#   PERF_TMPDIR      where the temporary directory goes (default /var/tmp: the audit must be on
#                    disk, not on a tmpfs)
# Needs oha, nginx (/usr/sbin/nginx), python3, perf (optional), valgrind (optional). Every process
# it starts is stopped and the temporary directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/perf
record=0
for arg in "$@"; do
    case $arg in
        --record) record=1 ;;
        -h | --help) sed -n '2,34p' "$0"; exit 0 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done
N=${N:-20000}
C=${C:-32}
RATE=${RATE:-1000}
RATE_N=${RATE_N:-10000}
CPU_N=${CPU_N:-10000}
LOW_RATE=${LOW_RATE:-250}
LOW_RATE_N=${LOW_RATE_N:-5000}
STALLS_S=${STALLS_S:-130}
CONNS=${CONNS:-1000}
MEM_LINGER=${MEM_LINGER:-95}
CALLGRIND=${CALLGRIND:-1}
CALLGRIND_N=${CALLGRIND_N:-500}
NGINX=${NGINX:-/usr/sbin/nginx}
fixture=$here/accounts-top50.json
bin=${CARGO_TARGET_DIR:-target}/release/stanchion
query='/api/data/v9.2/accounts?$top=50'
prefer='Prefer: odata.include-annotations="*"'

command -v oha >/dev/null || { echo "oha not found: cargo install oha --locked" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "nginx not found at $NGINX" >&2; exit 1; }

tmp=$(mktemp -d "${PERF_TMPDIR:-/var/tmp}/stanchion-perf.XXXXXX")
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
# Stop one process we started and forget it.
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    local keep=() p
    for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
    pids=("${keep[@]}")
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_line() { # FILE: wait for the `listening …` line
    for _ in $(seq 600); do grep -q '^listening' "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "no listening line in $1" >&2; cat "$1" "$1.err" 2>/dev/null >&2; exit 1
}
wait_port() { # PORT
    for _ in $(seq 100); do python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0; sleep 0.1; done
    echo "nothing listens on $1" >&2; exit 1
}

# More than 1,000 connections need more than the usual 1,024 descriptors, for Stanchion too.
ulimit -n "$(ulimit -Hn)"

echo "== build"
nice -n 15 cargo build --release -p stanchion -q

# --- the fixture -------------------------------------------------------------------------------
if [ "$record" = 1 ] || [ ! -s "$fixture" ]; then
    echo "== recording $fixture from stanchion demo"
    demo=$tmp/demo
    mkdir -p "$demo"
    STANCHION_LISTEN_AGENTS=127.0.0.1:0 STANCHION_LISTEN_EMULATOR=127.0.0.1:0 STANCHION_LISTEN_ADMIN=127.0.0.1:0 \
        "$bin" demo --data-dir "$demo/data" --json >"$demo/out" 2>"$demo/out.err" &
    pids+=($!)
    demo_pid=$!
    for _ in $(seq 300); do [ "$(wc -l <"$demo/out")" -ge 2 ] && break; sleep 0.1; done
    emu=$(sed -n 2p "$demo/out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["emulator_url"])')
    token=$(python3 - "$emu" "$demo/data/emulator/emulator-client.json" <<'PY'
import json, sys, urllib.parse, urllib.request
emu, client = sys.argv[1], json.load(open(sys.argv[2]))
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"],
                               "client_secret": client["client_secret"], "scope": f"{emu}/.default"}).encode()
print(json.load(urllib.request.urlopen(f"{emu}/perf/oauth2/v2.0/token", form))["access_token"])
PY
)
    python3 "$here/record.py" "$emu" "$token" "$fixture"
    stop "$demo_pid"
fi

# --- the stub upstream and the nginx proxy -----------------------------------------------------
stub_port=$(free_port)
proxy_port=$(free_port)
stub=http://127.0.0.1:$stub_port
mkdir -p "$tmp/www" "$tmp/nginx-temp"
sed "s#__STUB_ORIGIN__#$stub#g" "$fixture" >"$tmp/www/accounts.json"

# Shared by both nginx instances: temp paths in the temp dir, never the system's.
nginx_common() { # NAME
    cat <<EOF
user root;
pid $tmp/$1.pid;
error_log $tmp/$1-error.log warn;
worker_processes auto;
events { worker_connections 4096; }
EOF
}
nginx_http_common() { # NAME
    cat <<EOF
    client_body_temp_path $tmp/nginx-temp/$1-body;
    proxy_temp_path $tmp/nginx-temp/$1-proxy;
    fastcgi_temp_path $tmp/nginx-temp/$1-fastcgi;
    uwsgi_temp_path $tmp/nginx-temp/$1-uwsgi;
    scgi_temp_path $tmp/nginx-temp/$1-scgi;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 75s;
    keepalive_requests 1000000;
EOF
}
{
    nginx_common stub
    echo "http {"
    nginx_http_common stub
    cat <<EOF
    access_log off;
    server {
        listen 127.0.0.1:$stub_port;
        # Entra ID's token endpoint for any tenant.
        location ~ ^/[^/]+/oauth2/v2\.0/token\$ {
            default_type application/json;
            return 200 '{"token_type":"Bearer","expires_in":3599,"access_token":"stub"}';
        }
        # The recorded page for any accounts query.
        location /api/data/v9.2/accounts {
            root $tmp/www;
            types { }
            default_type "application/json; odata.metadata=minimal";
            add_header OData-Version 4.0 always;
            etag off;
            try_files /accounts.json =404;
        }
    }
}
EOF
} >"$tmp/stub.conf"
{
    nginx_common proxy
    echo "http {"
    nginx_http_common proxy
    cat <<EOF
    access_log $tmp/proxy-access.log combined buffer=64k flush=1s;
    upstream dataverse {
        server 127.0.0.1:$stub_port;
        keepalive 64;
        keepalive_requests 1000000;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:$proxy_port;
        location / {
            proxy_pass http://dataverse;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto \$scheme;
            proxy_buffer_size 16k;
            proxy_buffers 32 16k;
            proxy_busy_buffers_size 64k;
        }
    }
}
EOF
} >"$tmp/proxy.conf"
"$NGINX" -t -q -e "$tmp/stub-error.log" -c "$tmp/stub.conf"
"$NGINX" -t -q -e "$tmp/proxy-error.log" -c "$tmp/proxy.conf"
"$NGINX" -e "$tmp/stub-error.log" -c "$tmp/stub.conf" -g 'daemon off;' &
pids+=($!)
stub_pid=$!
"$NGINX" -e "$tmp/proxy-error.log" -c "$tmp/proxy.conf" -g 'daemon off;' &
pids+=($!)
proxy_pid=$!
wait_port "$stub_port"
wait_port "$proxy_port"

# --- Stanchion -----------------------------------------------------------------------------------
cat >"$tmp/stanchion.toml" <<EOF
[upstream]
org_url = "$stub"
authority = "$stub"
tenant_id = "perf-tenant"
client_id = "perf-client"

[listen]
agents = "127.0.0.1:0"
admin = "127.0.0.1:0"

[store]
data_dir = "$tmp/stanchion-data"

[limits]
# The budget towards the org (Dataverse's is 6,000 per 5 minutes) must not refuse the load.
upstream_requests_per_5min = 1000000000
upstream_concurrency = 100000
EOF
export STANCHION_UPSTREAM_CLIENT_SECRET=perf-stub-secret
export STANCHION_LIMITS_PER_AGENT_REQUESTS_PER_MINUTE=0 STANCHION_LIMITS_PER_AGENT_CONCURRENCY=0
st() { "$bin" --config "$tmp/stanchion.toml" "$@"; }
key=$(st agent create "Perf Agent" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
# Every table of the schema (11), hidden columns on accounts and three other tables.
cat >"$tmp/policy.toml" <<'EOF'
[agents."Perf Agent"]
delete_records = false
[agents."Perf Agent".tables]
account = "full"
contact = "full"
lead = "full"
opportunity = "full"
incident = "read"
task = "full"
annotation = "read"
systemuser = "read"
team = "read"
businessunit = "read"
transactioncurrency = "read"
[agents."Perf Agent".hidden_columns]
account = ["revenue", "creditlimit", "emailaddress1", "telephone2", "fax", "numberofemployees", "description"]
contact = ["emailaddress1", "mobilephone", "birthdate"]
lead = ["emailaddress1", "revenue"]
opportunity = ["estimatedvalue"]
EOF
st policy apply "$tmp/policy.toml" >"$tmp/policy-apply.out"
policy_counts=$(st policy export "Perf Agent" | python3 -c '
import sys, tomllib
a = next(iter(tomllib.load(sys.stdin.buffer)["agents"].values()))
print(len([l for l in a["tables"].values() if l != "off"]), "tables not Off,",
      sum(len(c) for c in a.get("hidden_columns", {}).values()), "hidden columns")')

start_stanchion() {
    "$bin" --config "$tmp/stanchion.toml" serve >"$tmp/serve.out" 2>"$tmp/serve.out.err" &
    pids+=($!)
    st_pid=$!
    wait_line "$tmp/serve.out"
    agents=$(sed -n 's/^listening agents=\([^ ]*\).*/\1/p' "$tmp/serve.out")
}
start_stanchion

# Each target answers 200; Stanchion's answer lacks the hidden columns.
check() { # NAME URL AUTH
    local code
    code=$(curl -s -o "$tmp/check-$1.json" -w '%{http_code}' -H "Authorization: Bearer $3" -H "$prefer" "$2$query")
    [ "$code" = 200 ] || { echo "$1 answered $code:" >&2; head -c 600 "$tmp/check-$1.json" >&2; exit 1; }
}
check direct "$stub" stub
check nginx "http://127.0.0.1:$proxy_port" stub
check stanchion "$agents" "$key"
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
pages = {n: json.load(open(f"{d}/check-{n}.json")) for n in ("direct", "nginx", "stanchion")}
rows = {n: p["value"] for n, p in pages.items()}
assert len(rows["stanchion"]) == 50 and rows["direct"] == rows["nginx"], "nginx changed the page"
hidden = {"revenue", "creditlimit", "emailaddress1", "telephone2", "fax", "numberofemployees", "description"}
leaked = [k for r in rows["stanchion"] for k in r if k.split("@")[0].removesuffix("_base") in hidden]
assert not leaked, f"hidden columns in Stanchion's answer: {leaked[:5]}"
size = lambda n: len(open(f"{d}/check-{n}.json", "rb").read())
print(f"answers: stub {size('direct')} bytes, nginx {size('nginx')} bytes, Stanchion {size('stanchion')} bytes "
      f"(hidden columns dropped: {len(rows['direct'][0]) - len(rows['stanchion'][0])} members per row)")
PY
echo "policy of Perf Agent (policy export): $policy_counts"

echo "== machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(uname -r); $("$NGINX" -v 2>&1); $(oha --version)"

# --- memory with CONNS open connections (fresh process) ------------------------------------------
echo "== memory: $CONNS keep-alive connections to Stanchion, one GET each"
python3 "$here/connections.py" "$agents$query" "$key" "$st_pid" --connections "$CONNS" --parallel "$C" | tee "$tmp/mem1.out"
echo "-- again, all $CONNS requests at once; then memory once the upstream pool's idle connections have timed out (reqwest: 90 s)"
python3 "$here/connections.py" "$agents$query" "$key" "$st_pid" --connections "$CONNS" --linger "$MEM_LINGER" | tee "$tmp/mem2.out"

# --- fsync floor ---------------------------------------------------------------------------------
echo "== fsync floor of the data dir's filesystem ($(df --output=fstype,source "$tmp" | tail -1 | tr -s ' '))"
python3 "$here/fsync_floor.py" "$tmp/stanchion-data" 2000 | tee "$tmp/fsync.out"

# --- load ------------------------------------------------------------------------------------------
declare -A url=([direct]=$stub [nginx]=http://127.0.0.1:$proxy_port [stanchion]=$agents)
declare -A auth=([direct]=stub [nginx]=stub [stanchion]=$key)
targets=(direct nginx stanchion)
hey() { # TARGET OUT ARGS...
    local t=$1 out=$2
    shift 2
    oha --no-tui --output-format json "$@" -H "Authorization: Bearer ${auth[$t]}" -H "$prefer" \
        -H 'Accept: application/json' -H 'OData-MaxVersion: 4.0' -H 'OData-Version: 4.0' "${url[$t]}$query" >"$out"
}
echo "== warm-up (2,000 requests per target at -c $C)"
for t in "${targets[@]}"; do hey "$t" "$tmp/warm-$t.json" -n 2000 -c "$C"; done
echo "== throughput: $N requests per target at -c $C"
for t in "${targets[@]}"; do
    echo "   $t (load average $(cut -d' ' -f1 /proc/loadavg))"
    hey "$t" "$tmp/tput-$t.json" -n "$N" -c "$C"
done
echo "== latency: $RATE_N requests per target at $RATE req/s (-q $RATE, -c $C, --latency-correction)"
for t in "${targets[@]}"; do
    echo "   $t (load average $(cut -d' ' -f1 /proc/loadavg))"
    hey "$t" "$tmp/rate-$t.json" -n "$RATE_N" -c "$C" -q "$RATE" --latency-correction
done

if [ "$LOW_RATE" != 0 ]; then
    echo "== latency below saturation: $LOW_RATE_N requests per target at $LOW_RATE req/s (-q $LOW_RATE, -c $C, --latency-correction)"
    for t in "${targets[@]}"; do
        echo "   $t (load average $(cut -d' ' -f1 /proc/loadavg))"
        hey "$t" "$tmp/low-$t.json" -n "$LOW_RATE_N" -c "$C" -q "$LOW_RATE" --latency-correction
    done
fi

# --- CPU per request ----------------------------------------------------------------------------
children() { pgrep -d, -P "$1" || true; }
cputicks() { # PID,PID…: utime+stime in clock ticks, threads (also exited ones) included
    local total=0 p
    for p in ${1//,/ }; do
        total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$total"
}
perf_ok=0
perf stat -e task-clock true >/dev/null 2>&1 && perf_ok=1
if perf stat -e instructions true 2>&1 | grep -q 'not supported'; then
    echo "== perf: hardware counters (instructions) not supported here; task-clock only (instructions from callgrind)"
fi
declare -A cpu_pids=([direct]=$stub_pid,$(children "$stub_pid") [nginx]=$proxy_pid,$(children "$proxy_pid") [stanchion]=$st_pid)
stub_all=$stub_pid,$(children "$stub_pid")
# Index the audit records of the runs above now (`audit search` catches up first), so that the
# once-a-minute catch-up in the server indexes only what the measured run adds.
catch_up() { st audit search --text perf --limit 1 >/dev/null; }
catch_up
echo "== CPU: $CPU_N requests per target at -c $C"
: >"$tmp/cpu.out"
for t in "${targets[@]}"; do
    pidlist=${cpu_pids[$t]%,}
    before=$(cputicks "$pidlist")
    stub_before=$(cputicks "$stub_all")
    perf_pid=
    if [ "$perf_ok" = 1 ]; then
        perf stat -x, -e task-clock -p "$pidlist" -o "$tmp/perf-$t.csv" &
        perf_pid=$!
        sleep 0.3
    fi
    hey "$t" "$tmp/cpu-$t.json" -n "$CPU_N" -c "$C"
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
    fi
    after=$(cputicks "$pidlist")
    stub_after=$(cputicks "$stub_all")
    task_ms=$( [ -n "$perf_pid" ] && awk -F, '/task-clock/ {print $1}' "$tmp/perf-$t.csv" || echo "")
    echo "$t $pidlist $((after - before)) $((stub_after - stub_before)) ${task_ms:-none}" >>"$tmp/cpu.out"
done

# --- stalls: a steady run at LOW_RATE with each request's time, next to the index catch-up ---------
if [ "$STALLS_S" != 0 ]; then
    echo "== stalls: Stanchion at $LOW_RATE req/s for $STALLS_S s (-c $C, --latency-correction), per-request times"
    catch_up
    python3 "$here/stalls.py" watch "$tmp/stanchion-data/stanchion.sqlite" "$((STALLS_S + 5))" >"$tmp/index.log" &
    pids+=($!)
    watch_pid=$!
    start=$(date +%s.%N)
    oha --no-tui --output-format csv -z "${STALLS_S}s" -c "$C" -q "$LOW_RATE" --latency-correction \
        -H "Authorization: Bearer $key" -H "$prefer" -H 'Accept: application/json' -H 'OData-MaxVersion: 4.0' \
        -H 'OData-Version: 4.0' "$agents$query" >"$tmp/stalls.csv"
    wait "$watch_pid" || true
    python3 "$here/stalls.py" report "$tmp/stalls.csv" "$start" "$tmp/index.log" | tee "$tmp/stalls.out"
fi

# --- audit records and Stanchion's log ----------------------------------------------------------
records=$(python3 -c "import sqlite3,sys; print(dict(sqlite3.connect(sys.argv[1]).execute('select record_type, count(*) from audit_records group by record_type').fetchall()))" "$tmp/stanchion-data/stanchion.sqlite")
rss_after=$(awk '/VmRSS|VmHWM/ {printf "%s %.1f MiB  ", $1, $2/1024}' "/proc/$st_pid/status")

# --- instructions per request (callgrind) -------------------------------------------------------
: >"$tmp/callgrind.out"
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null; then
    echo "== callgrind: instructions per request ($CALLGRIND_N requests at -c 8, twice; instrumentation on only during each run)"
    cg_run() { # NAME TARGET PID
        local i ir
        callgrind_control -i on "$3" >/dev/null 2>&1
        for i in 1 2; do
            hey "$2" "$tmp/cg-warm-$1.json" -n 200 -c 8
            callgrind_control -z "$3" >/dev/null 2>&1
            hey "$2" "$tmp/cg-$1-$i.json" -n "$CALLGRIND_N" -c 8
            callgrind_control --dump="$1-run$i" "$3" >/dev/null 2>&1
            sleep 1
            # The i-th dump is cg-NAME.out.PID.i; its `summary:` line is the total (all threads).
            ir=$(grep -h '^summary:' "$tmp"/cg-"$1".out.*."$i" 2>/dev/null | awk '{s += $2} END {print s}')
            echo "$1 $i ${ir:-?} $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["statusCodeDistribution"])' "$tmp/cg-$1-$i.json")" >>"$tmp/callgrind.out"
        done
    }
    catch_up
    # nginx proxy: one process (master_process off), same configuration otherwise.
    stop "$proxy_pid"
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg-nginx.out.%p" \
        "$NGINX" -e "$tmp/proxy-error.log" -c "$tmp/proxy.conf" -g 'daemon off; master_process off;' 2>"$tmp/cg-nginx.err" &
    pids+=($!)
    cg_pid=$!
    wait_port "$proxy_port"
    cg_run nginx nginx "$cg_pid"
    stop "$cg_pid"
    # Stanchion: the same configuration and data dir.
    stop "$st_pid"
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg-stanchion.out.%p" \
        "$bin" --config "$tmp/stanchion.toml" serve >"$tmp/serve.out" 2>"$tmp/cg-stanchion.err" &
    pids+=($!)
    cg_pid=$!
    wait_line "$tmp/serve.out"
    agents=$(sed -n 's/^listening agents=\([^ ]*\).*/\1/p' "$tmp/serve.out")
    url[stanchion]=$agents
    cg_run stanchion stanchion "$cg_pid"
    stop "$cg_pid"
    # Keep the profiles for callgrind_annotate when asked (PROFILE_DIR=/some/dir).
    if [ -n "${PROFILE_DIR:-}" ]; then mkdir -p "$PROFILE_DIR" && cp "$tmp"/cg-*.out.* "$PROFILE_DIR"/; fi
fi

# --- summary ------------------------------------------------------------------------------------
echo
python3 "$here/summary.py" "$tmp" "$N" "$C" "$RATE" "$RATE_N" "$CPU_N" "$CALLGRIND_N" "$(getconf CLK_TCK)" "$LOW_RATE" "$LOW_RATE_N"
echo "audit records in Stanchion's store by type, before the callgrind runs (admin: agent and policy set-up): $records"
echo "Stanchion RSS after the load runs: $rss_after"
echo "Stanchion's log (warnings and errors, stderr of serve): $(grep -c . "$tmp/serve.out.err" || true) lines"
grep -v '^$' "$tmp/serve.out.err" | sed 's/^/   /' | sort | uniq -c | sort -rn | head -5 || true
echo "nginx error logs: $(cat "$tmp"/stub-error.log "$tmp"/proxy-error.log 2>/dev/null | grep -vc 'could not open error log\|^$' || true) lines"
