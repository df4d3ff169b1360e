#!/usr/bin/env python3
"""Memory of a server holding many open keep-alive connections.

Opens N TCP connections (default 1,000) to URL, sends one authenticated HTTP/1.1 GET on each
(at most P at once; default all N at once), reads each answer completely and keeps every
connection open; then reads VmRSS and VmHWM of PID from /proc and prints them, with VmRSS
before the first connection was opened (idle). Every answer must be 200 on a connection the
server keeps open (no `Connection: close`), else the script says so and exits 1.

    connections.py URL KEY PID [--connections N] [--parallel P] [--hold SECONDS] [--linger SECONDS]

URL is the full request URL (http only), e.g.
http://127.0.0.1:8080/api/data/v9.2/accounts?$top=50. Raises its own open-files limit to N + 64
(the server's limit is the caller's business: vs-nginx.sh raises it before starting Stanchion).
"""
import argparse
import asyncio
import resource
import sys
import time
import urllib.parse


def status_kib(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def fds(pid):
    import os
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


async def read_response(reader):
    """Reads one HTTP/1.1 response; returns (status, keeps_alive, body_length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    length = 0
    if "content-length" in headers:
        length = int(headers["content-length"])
        await reader.readexactly(length)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            length += size
            if size == 0:
                break
    keeps_alive = headers.get("connection", "").lower() != "close"
    return status, keeps_alive, length


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("url")
    ap.add_argument("key")
    ap.add_argument("pid", type=int)
    ap.add_argument("--connections", type=int, default=1000)
    ap.add_argument("--parallel", type=int, default=0, help="requests in flight at once (0: all)")
    ap.add_argument("--hold", type=float, default=2.0, help="seconds to hold the connections before reading memory")
    ap.add_argument("--linger", type=float, default=0, help="then, after closing them, wait this long and read memory again")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.connections + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard != resource.RLIM_INFINITY else want, hard))

    u = urllib.parse.urlsplit(args.url)
    target = u.path + ("?" + u.query if u.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {u.netloc}\r\nAuthorization: Bearer {args.key}\r\n"
        'Accept: application/json\r\nOData-Version: 4.0\r\nOData-MaxVersion: 4.0\r\n'
        'Prefer: odata.include-annotations="*"\r\n\r\n'
    ).encode()

    idle = status_kib(args.pid)
    idle_threads = threads(args.pid)
    idle_fds = fds(args.pid)
    conns = []
    for _ in range(args.connections):
        conns.append(await asyncio.open_connection(u.hostname, u.port))
    opened = status_kib(args.pid)

    gate = asyncio.Semaphore(args.parallel or args.connections)

    async def one(conn):
        reader, writer = conn
        async with gate:
            writer.write(request)
            await writer.drain()
            return await read_response(reader)

    t0 = time.monotonic()
    results = await asyncio.gather(*(one(c) for c in conns))
    answered = time.monotonic() - t0
    await asyncio.sleep(args.hold)
    # Still open? A closed connection reads EOF at once; an open one times out.
    still_open = 0
    for reader, _ in conns:
        try:
            data = await asyncio.wait_for(reader.read(1), timeout=0.001)
            if data:
                still_open += 1  # unexpected bytes, but open
        except asyncio.TimeoutError:
            still_open += 1
    held = status_kib(args.pid)
    held_threads = threads(args.pid)
    held_fds = fds(args.pid)

    statuses = {}
    for status, _, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    closing = sum(1 for _, keeps, _ in results if not keeps)
    body = results[0][2] if results else 0
    mib = lambda kib: kib / 1024
    print(f"connections: {args.connections} opened, one GET each ({args.parallel or args.connections} at once), "
          f"answered in {answered:.2f} s; statuses {statuses}; answers asking to close: {closing}; "
          f"body {body} bytes; still open after {args.hold:.0f} s: {still_open}")
    print(f"RSS idle before: {mib(idle['VmRSS']):.1f} MiB (VmHWM {mib(idle['VmHWM']):.1f} MiB, {idle_threads} threads)")
    print(f"RSS with {args.connections} connections open, before any request: {mib(opened['VmRSS']):.1f} MiB")
    print(f"RSS with {still_open} connections open after their requests: {mib(held['VmRSS']):.1f} MiB; "
          f"VmHWM (peak since start) {mib(held['VmHWM']):.1f} MiB; {held_threads} threads")
    for _, writer in conns:
        writer.close()
    await asyncio.sleep(args.hold)
    closed = status_kib(args.pid)
    print(f"open file descriptors of the server with the connections open: {held_fds} (idle before: {idle_fds}); "
          f"{args.hold:.0f} s after closing them: {fds(args.pid)}; RSS then {mib(closed['VmRSS']):.1f} MiB")
    if args.linger:
        await asyncio.sleep(args.linger)
        later = status_kib(args.pid)
        print(f"{args.hold + args.linger:.0f} s after closing them: {fds(args.pid)} file descriptors, "
              f"RSS {mib(later['VmRSS']):.1f} MiB")
    ok = statuses == {200: args.connections} and closing == 0 and still_open == args.connections
    if not ok:
        print("connections: NOT every request got 200 on a connection kept open", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
