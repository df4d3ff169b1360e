#!/usr/bin/env python3
"""The fsync floor of a directory's filesystem: COUNT times append 100 bytes to a file and
os.fsync it, timing each write + fsync; prints p50, p99 and the mean in ms.

    fsync_floor.py DIR [COUNT=2000]

One durable SQLite commit in WAL mode with synchronous=FULL costs at least one such write +
fsync of the WAL file; Stanchion commits two records per forwarded request (attempt, outcome),
one after the other.
"""
import os
import statistics
import sys
import time

directory = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
path = os.path.join(directory, "fsync-floor.tmp")
times = []
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
try:
    payload = b"x" * 100
    for _ in range(count):
        t0 = time.perf_counter()
        os.write(fd, payload)
        os.fsync(fd)
        times.append(time.perf_counter() - t0)
finally:
    os.close(fd)
    os.unlink(path)
times.sort()
pct = lambda p: times[round((len(times) - 1) * p)] * 1e3
print(f"fsync floor ({count} x write 100 B + fsync in {directory}): "
      f"p50 {pct(0.50):.3f} ms, p99 {pct(0.99):.3f} ms, mean {statistics.mean(times) * 1e3:.3f} ms")
