#!/usr/bin/env python3
"""Where a steady run's slow requests fall in time, next to the audit search catch-up.

    stalls.py watch DB SECONDS > LOG      # polls audit_search_state / max(rowid) every 50 ms
    stalls.py report OHA_CSV START LOG    # START: epoch seconds when oha started

Stanchion indexes committed audit records for `audit search` once a minute, in a write
transaction of up to 20,000 records at a time (`Store::catch_up_search`), while the audit writer
waits for the same write lock. `watch` logs when the indexed position moves; `report` prints
the latency percentiles of oha's per-request CSV, the seconds in which requests took over 30 ms,
and the catch-ups on the same clock.
"""
import csv
import sqlite3
import sys
import time


def watch(db_path, seconds):
    db = sqlite3.connect(db_path, timeout=30)
    t0, last = time.time(), None
    while time.time() - t0 < seconds:
        try:
            v = db.execute("select indexed_rowid from audit_search_state where id = 1").fetchone()[0]
            m = db.execute("select max(rowid) from audit_records").fetchone()[0]
        except sqlite3.Error as e:
            v, m = f"error: {e}", None
        if v != last:
            print(f"{time.time():.3f} indexed_rowid={v} max_rowid={m}", flush=True)
            last = v
        time.sleep(0.05)


def report(csv_path, start, log_path):
    rows = list(csv.DictReader(open(csv_path)))
    durs = sorted(float(r["request-duration"]) for r in rows)
    pct = lambda p: durs[round((len(durs) - 1) * p)] * 1e3
    statuses = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    print(f"{len(rows)} requests; p50 {pct(.5):.2f} ms, p99 {pct(.99):.2f} ms, p99.9 {pct(.999):.2f} ms, "
          f"max {durs[-1] * 1e3:.1f} ms; statuses {statuses}")
    by_second = {}
    for r in rows:
        d = float(r["request-duration"])
        if d > 0.03:
            by_second.setdefault(int(float(r["request-start"])), []).append(d)
    print("seconds (since oha started) with requests over 30 ms:")
    for s in sorted(by_second):
        print(f"  {s:4d} s: {len(by_second[s]):4d} requests over 30 ms, slowest {max(by_second[s]) * 1e3:.0f} ms")
    print("audit search catch-up (indexed position moving; seconds since oha started):")
    for line in open(log_path):
        t, rest = line.split(" ", 1)
        print(f"  {float(t) - start:7.2f} s  {rest.strip()}")


if __name__ == "__main__":
    if sys.argv[1] == "watch":
        watch(sys.argv[2], float(sys.argv[3]))
    else:
        report(sys.argv[2], float(sys.argv[3]), sys.argv[4])
