#!/usr/bin/env python3
"""Prints vs-nginx.sh's summary from the files it left in its temporary directory.

    summary.py TMP N C RATE RATE_N CPU_N CALLGRIND_N CLK_TCK [LOW_RATE LOW_RATE_N]
"""
import json
import os
import re
import sys

tmp, n, c, rate, rate_n, cpu_n, cg_n, clk = sys.argv[1:9]
n, c, rate, rate_n, cpu_n, cg_n, clk = int(n), int(c), int(rate), int(rate_n), int(cpu_n), int(cg_n), int(clk)
low_rate, low_n = (int(sys.argv[9]), int(sys.argv[10])) if len(sys.argv) > 10 else (0, 0)
targets = ["direct", "nginx", "stanchion"]
names = {"direct": "stub direct", "nginx": "nginx proxy", "stanchion": "Stanchion"}


def oha(kind, t):
    with open(f"{tmp}/{kind}-{t}.json") as f:
        return json.load(f)


def ms(seconds):
    return seconds * 1e3


def statuses(r):
    codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["statusCodeDistribution"].items()))
    errors = r.get("errorDistribution") or {}
    if errors:
        codes += "; errors " + ", ".join(f"{k}: {v}" for k, v in errors.items())
    return codes


tput = {t: oha("tput", t) for t in targets}
lat = {t: oha("rate", t) for t in targets}

print(f"Throughput: {n} requests per target at -c {c}; latency: {rate_n} requests at -q {rate} (--latency-correction)")
print(f"| target | req/s at -c {c} | p50 | p99 | statuses | achieved req/s at -q {rate} | p50 | p99 | p99.9 | statuses |")
print("|---|---|---|---|---|---|---|---|---|---|")
for t in targets:
    a, b = tput[t], lat[t]
    pa, pb = a["latencyPercentiles"], b["latencyPercentiles"]
    print(f"| {names[t]} | {a['summary']['requestsPerSec']:,.0f} | {ms(pa['p50']):.2f} ms | {ms(pa['p99']):.2f} ms | "
          f"{statuses(a)} | {b['summary']['requestsPerSec']:,.0f} | {ms(pb['p50']):.2f} ms | {ms(pb['p99']):.2f} ms | "
          f"{ms(pb['p99.9']):.2f} ms | {statuses(b)} |")

if low_rate and os.path.exists(f"{tmp}/low-stanchion.json"):
    low = {t: oha("low", t) for t in targets}
    print(f"\nBelow saturation: {low_n} requests per target at -q {low_rate} (-c {c}, --latency-correction)")
    print(f"| target | achieved req/s | p50 | p99 | p99.9 | statuses |")
    print("|---|---|---|---|---|---|")
    for t in targets:
        pl = low[t]["latencyPercentiles"]
        print(f"| {names[t]} | {low[t]['summary']['requestsPerSec']:,.0f} | {ms(pl['p50']):.2f} ms | "
              f"{ms(pl['p99']):.2f} ms | {ms(pl['p99.9']):.2f} ms | {statuses(low[t])} |")
    lp99 = {t: ms(low[t]["latencyPercentiles"]["p99"]) for t in targets}
    print(f"added p99 at {low_rate} req/s: Stanchion {lp99['stanchion'] - lp99['direct']:.2f} ms over the stub direct, "
          f"nginx {lp99['nginx'] - lp99['direct']:.2f} ms")

ratio = tput["stanchion"]["summary"]["requestsPerSec"] / tput["nginx"]["summary"]["requestsPerSec"]
print(f"\nStanchion / nginx throughput at -c {c}: {ratio:.3f} (goal >= 0.8: {'met' if ratio >= 0.8 else 'NOT met'})")

fsync = open(f"{tmp}/fsync.out").read().strip()
m = re.search(r"p50 ([\d.]+) ms, p99 ([\d.]+) ms", fsync)
f50, f99 = float(m.group(1)), float(m.group(2))
p99 = {t: ms(lat[t]["latencyPercentiles"]["p99"]) for t in targets}
added = p99["stanchion"] - p99["direct"]
added_nginx = p99["nginx"] - p99["direct"]
print(fsync)
print(f"added p99 at {rate} req/s: Stanchion {added:.2f} ms over the stub direct "
      f"({p99['stanchion'] - p99['nginx']:.2f} ms over nginx; nginx adds {added_nginx:.2f} ms); "
      f"goal <= fsync p99 + 1 ms = {f99 + 1:.2f} ms: {'met' if added <= f99 + 1 else 'NOT met'}; "
      f"two sequential commits per request: 2 x fsync p99 + 1 ms = {2 * f99 + 1:.2f} ms")

print(f"\nCPU per request ({cpu_n} requests at -c {c}; server processes only, threads included)")
print("| target | processes | CPU (utime+stime, /proc) per request | perf task-clock per request | stub's CPU per request in the same run | statuses |")
print("|---|---|---|---|---|---|")
for line in open(f"{tmp}/cpu.out"):
    t, pids, ticks, stub_ticks, task = line.split()
    proc = int(ticks) / clk * 1e3 / cpu_n
    stub = int(stub_ticks) / clk * 1e3 / cpu_n
    perf = f"{float(task) / cpu_n * 1e3:.1f} µs" if task not in ("none", "") else "n/a"
    what = {"direct": "the stub nginx", "nginx": "proxy nginx", "stanchion": "stanchion"}[t]
    print(f"| {names[t]} | {what} ({pids.count(',') + 1}) | {proc * 1e3:.1f} µs | {perf} | "
          f"{stub * 1e3:.1f} µs | {statuses(oha('cpu', t))} |")

cg = [l.split(None, 3) for l in open(f"{tmp}/callgrind.out")] if os.path.exists(f"{tmp}/callgrind.out") else []
if cg:
    print(f"\nInstructions per request (callgrind, {cg_n} requests at -c 8, user space only)")
    for name, i, ir, codes in cg:
        per = f"{int(ir) / cg_n:,.0f}" if ir.isdigit() else "?"
        print(f"  {name} run {i}: {ir} instructions = {per} per request; statuses {codes.strip()}")
for f in ("mem1.out", "mem2.out"):
    if os.path.exists(f"{tmp}/{f}"):
        print(f"\n{f}: " + open(f"{tmp}/{f}").read().strip())
