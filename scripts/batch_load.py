"""A 100-part $batch against the same 100 requests sent one by one, on one keep-alive
connection, through the gateway and straight to the emulator (issue: writes and $batch).

Env: AGENTS (gateway root), KEY (agent key), EMU (emulator root), TOKEN (emulator token),
ROUNDS (default 20). Prints the median and p90 wall time per 100 operations.
"""
import http.client
import json
import os
import statistics
import time
import urllib.parse

ROUNDS = int(os.environ.get("ROUNDS", "20"))
QUERY = "accounts?$select=name,revenue&$filter=statecode%20eq%200&$orderby=name&$top=10"


def conn(root):
    u = urllib.parse.urlparse(root)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def send(c, method, path, auth, body=None, headers=None):
    h = {"Authorization": f"Bearer {auth}", "Accept": "application/json", "OData-Version": "4.0"}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return data


def part(method, target, body=None, cid=None):
    s = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if cid:
        s += f"Content-ID: {cid}\r\n"
    s += f"\r\n{method} {target} HTTP/1.1\r\nAccept: application/json\r\n"
    if body is None:
        return s + "\r\n\r\n"
    return s + f"Content-Type: application/json\r\n\r\n{body}\r\n"


def batch_of(parts, change_set):
    out = ""
    if change_set:
        out += "--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n"
        for p in parts:
            out += "--cs\r\n" + p
        out += "--cs--\r\n"
    else:
        for p in parts:
            out += "--b\r\n" + p
    return (out + "--b--\r\n").encode()


def timed(fn):
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def report(label, samples):
    s = sorted(samples)
    p90 = s[min(len(s) - 1, int(len(s) * 0.9))]
    print(f"{label:<58} median {statistics.median(s):8.1f} ms   p90 {p90:8.1f} ms   (n={len(s)})", flush=True)


def run(name, root, auth):
    c = conn(root)
    base = "/api/data/v9.2/"
    reads = batch_of([part("GET", QUERY) for _ in range(100)], False)
    ct = {"Content-Type": "multipart/mixed; boundary=b"}
    send(c, "GET", base + QUERY, auth)  # warm up
    send(c, "POST", base + "$batch", auth, reads, ct)
    one, many = [], []
    for _ in range(ROUNDS):
        many.append(timed(lambda: send(c, "POST", base + "$batch", auth, reads, ct)))
        one.append(timed(lambda: [send(c, "GET", base + QUERY, auth) for _ in range(100)]))
    report(f"{name}: 100 queries in one $batch", many)
    report(f"{name}: the same 100 queries one by one", one)
    one, many = [], []
    for r in range(ROUNDS):
        creates = [part("POST", "accounts", json.dumps({"name": f"Load {r}-{i}", "revenue": i}), str(i + 1)) for i in range(100)]
        many.append(timed(lambda: send(c, "POST", base + "$batch", auth, batch_of(creates, True), ct)))
        one.append(timed(lambda: [send(c, "POST", base + "accounts", auth, json.dumps({"name": f"Single {r}-{i}"}), {"Content-Type": "application/json"}) for i in range(100)]))
    report(f"{name}: 100 creates in one change set", many)
    report(f"{name}: the same 100 creates one by one", one)


run("emulator", os.environ["EMU"], os.environ["TOKEN"])
run("gateway", os.environ["AGENTS"], os.environ["KEY"])
