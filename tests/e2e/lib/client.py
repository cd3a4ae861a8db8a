#!/usr/bin/python3
"""HTTP client for the end-to-end tests (Debian's /usr/bin/python3, standard library).

    client.py burst URL COUNT [--timeout S] [--deadline S] [--max-failures N]
        COUNT requests, each on a new TCP connection (so each is a new flow through the
        load balancer), one after the other; stops early at the deadline or after N
        failures (the rest count as failed). Prints
          served NAME N          for each distinct response body (the backend's name)
          error REASON           for the first 5 failures
          total ok=N failed=N seconds=S
        Exit 0 when all COUNT requests got a 200, 1 otherwise.

    client.py get URL [--timeout S] [--out FILE]
        One request. Prints "status=N backend=X-BACKEND length=N seconds=S" and the body
        (or writes the body to FILE). Exit 0 on a complete 200 response, 1 otherwise.

    client.py post URL --bytes N [--timeout S]
        Uploads N bytes (a fixed pseudo-random pattern) in one POST on a new connection
        (to backend.py's /upload, which answers "received=N sha256=HEX"). Prints
        "status=N backend=X-BACKEND sent=N received=N sha256=match|mismatch seconds=S".
        Exit 0 when the backend got exactly what was sent, 1 otherwise.

URLs may name IPv6 addresses: http://[fd00::1]/.
"""

import argparse
import collections
import hashlib
import http.client
import sys
import time
import urllib.parse


def fetch(url, timeout):
    """Returns (status, x_backend, body) of a GET on a fresh connection."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()  # raises IncompleteRead when the body is cut short
        return resp.status, resp.getheader("X-Backend", ""), body
    finally:
        conn.close()


def pattern(n):
    """n bytes that compress badly and are the same on every run."""
    block = b"".join(hashlib.sha256(b"sluice %d" % i).digest() for i in range(2048))  # 64 KiB
    return (block * (n // len(block) + 1))[:n]


def post(args):
    parts = urllib.parse.urlsplit(args.url)
    body = pattern(args.bytes)
    want = hashlib.sha256(body).hexdigest()
    start = time.monotonic()
    conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=args.timeout)
    try:
        conn.request("POST", parts.path or "/", body=body,
                     headers={"Connection": "close", "Content-Type": "application/octet-stream"})
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace").strip()
        status, backend = resp.status, resp.getheader("X-Backend", "")
    except Exception as e:  # noqa: BLE001
        print("error %s: %s seconds=%.2f" % (type(e).__name__, e, time.monotonic() - start))
        return 1
    finally:
        conn.close()
    got = dict(kv.split("=", 1) for kv in text.split() if "=" in kv)
    match = got.get("sha256") == want
    print("status=%d backend=%s sent=%d received=%s sha256=%s seconds=%.2f" % (
        status, backend or "-", len(body), got.get("received", "?"),
        "match" if match else "mismatch", time.monotonic() - start))
    return 0 if status == 200 and got.get("received") == str(len(body)) and match else 1


def burst(args):
    served = collections.Counter()
    errors = []
    ok = failed = 0
    start = time.monotonic()
    for i in range(args.count):
        stop = None
        if time.monotonic() - start > args.deadline:
            stop = "deadline of %gs reached" % args.deadline
        elif failed >= args.max_failures:
            stop = "%d failures" % failed
        if stop:
            errors.insert(0, "%s: gave up after %d of %d requests" % (stop, i, args.count))
            failed += args.count - i
            break
        try:
            status, _, body = fetch(args.url, args.timeout)
            if status == 200:
                ok += 1
                served[body.decode(errors="replace").strip()] += 1
            else:
                failed += 1
                errors.append("request %d: HTTP %d" % (i, status))
        except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
            failed += 1
            errors.append("request %d: %s: %s" % (i, type(e).__name__, e))
    for name, n in sorted(served.items()):
        print("served %s %d" % (name, n))
    for e in errors[:5]:
        print("error %s" % e)
    print("total ok=%d failed=%d seconds=%.2f" % (ok, failed, time.monotonic() - start))
    return 0 if ok == args.count else 1


def get(args):
    start = time.monotonic()
    try:
        status, backend, body = fetch(args.url, args.timeout)
    except Exception as e:  # noqa: BLE001
        print("error %s: %s seconds=%.2f" % (type(e).__name__, e, time.monotonic() - start))
        return 1
    print("status=%d backend=%s length=%d seconds=%.2f" % (
        status, backend or "-", len(body), time.monotonic() - start))
    if args.out:
        with open(args.out, "wb") as f:
            f.write(body)
    else:
        sys.stdout.write(body.decode(errors="replace"))
    return 0 if status == 200 else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("burst")
    b.add_argument("url")
    b.add_argument("count", type=int)
    b.add_argument("--timeout", type=float, default=2.0)
    b.add_argument("--deadline", type=float, default=30.0)
    b.add_argument("--max-failures", type=int, default=1000000)
    g = sub.add_parser("get")
    g.add_argument("url")
    g.add_argument("--timeout", type=float, default=5.0)
    g.add_argument("--out")
    o = sub.add_parser("post")
    o.add_argument("url")
    o.add_argument("--bytes", type=int, required=True)
    o.add_argument("--timeout", type=float, default=10.0)
    args = p.parse_args()
    return {"burst": burst, "get": get, "post": post}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
