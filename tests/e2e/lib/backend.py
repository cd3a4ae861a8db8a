#!/usr/bin/python3
"""A backend for the end-to-end topology: a small threaded HTTP server.

Run by Debian's /usr/bin/python3 (standard library only) inside a backend namespace:

    backend.py NAME [PORT...] [--ipv6]

It listens on every PORT (default 80) of every IPv4 address, or with --ipv6 of every IPv4
and IPv6 address (one dual-stack socket per port; IPv4 peers are shown as IPv4).

Paths:
  /                  "NAME\\n"                      (who served this connection)
  /whoami            "backend=NAME local=IP:PORT peer=IP:PORT\\n" from the accepted
                     socket's getsockname()/getpeername() (IPv6 as [IP]:PORT): in DR and
                     tunnel mode local is the VIP and peer is the client; in NAT mode
                     local is the backend's own address and port
  /slow?seconds=N    1 MiB streamed evenly over N seconds (0 <= N <= 60): 1024 lines of
                     1 KiB, each starting "NAME slow LINE", so a client can check that one
                     backend sent all of it
  /healthz           "ok\\n" (for health checks over the management network)
  POST /upload       reads the request body (Content-Length, at most 64 MiB) and answers
                     "received=N sha256=HEX\\n", so a client can check an upload arrived
                     whole
Every response carries "X-Backend: NAME" and a Content-Length; the connection closes
after one response (HTTP/1.0), so every request a client makes is a new flow.
"""

import hashlib
import http.server
import socket
import sys
import threading
import time
import urllib.parse

SLOW_LINES = 1024
SLOW_LINE_BYTES = 1024
SLOW_MAX_SECONDS = 60.0
UPLOAD_MAX_BYTES = 64 << 20


def show(address):
    """A socket address as text: IP:PORT, [IPv6]:PORT; IPv4-mapped IPv6 (a dual-stack
    socket's IPv4 peer) shown as IPv4."""
    host = address[0]
    if host.startswith("::ffff:") and "." in host:
        host = host[7:]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, address[1])


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "sluice-e2e-backend/1"
    name = "?"

    def log_message(self, fmt, *args):  # one line per request on stderr (the backend's log)
        sys.stderr.write("%s %s %s\n" % (self.name, self.client_address[0], fmt % args))

    def _send(self, status, body, content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", self.name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            self._send(200, (self.name + "\n").encode())
        elif url.path == "/healthz":
            self._send(200, b"ok\n")
        elif url.path == "/whoami":
            text = "backend=%s local=%s peer=%s\n" % (
                self.name, show(self.connection.getsockname()),
                show(self.connection.getpeername()))
            self._send(200, text.encode())
        elif url.path == "/slow":
            self._slow(url.query)
        else:
            self._send(404, b"not found\n")

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/upload":
            self._send(404, b"not found\n")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if not 0 <= length <= UPLOAD_MAX_BYTES:
            self._send(400, b"Content-Length must be in [0, 64 MiB]\n")
            return
        digest = hashlib.sha256()
        received = 0
        while received < length:
            chunk = self.rfile.read(min(65536, length - received))
            if not chunk:
                break
            digest.update(chunk)
            received += len(chunk)
        if received < length:  # the client went away; nobody to answer
            self.log_message("upload cut short: %d of %d bytes", received, length)
            return
        self._send(200, ("received=%d sha256=%s\n" % (received, digest.hexdigest())).encode())

    def _slow(self, query):
        try:
            seconds = float(urllib.parse.parse_qs(query).get("seconds", ["5"])[0])
        except ValueError:
            seconds = -1.0
        if not 0.0 <= seconds <= SLOW_MAX_SECONDS:
            self._send(400, b"seconds must be in [0, 60]\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(SLOW_LINES * SLOW_LINE_BYTES))
        self.send_header("X-Backend", self.name)
        self.end_headers()
        if self.command == "HEAD":
            return
        chunks = 50  # send in 50 evenly spaced bursts
        per_chunk = SLOW_LINES // chunks + 1
        start = time.monotonic()
        line = 0
        for chunk in range(chunks):
            lines = []
            while line < SLOW_LINES and len(lines) < per_chunk:
                head = "%s slow %04d " % (self.name, line)
                lines.append(head + "." * (SLOW_LINE_BYTES - len(head) - 1) + "\n")
                line += 1
            self.wfile.write("".join(lines).encode())
            self.wfile.flush()
            delay = start + seconds * (chunk + 1) / chunks - time.monotonic()
            if delay > 0:
                time.sleep(delay)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


class Server6(Server):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    args = sys.argv[1:]
    ipv6 = "--ipv6" in args
    args = [a for a in args if a != "--ipv6"]
    if not args or not all(a.isdigit() and 0 < int(a) < 65536 for a in args[1:]):
        sys.stderr.write("usage: backend.py NAME [PORT...] [--ipv6]\n")
        return 2
    Handler.name = args[0]
    ports = [int(a) for a in args[1:]] or [80]
    servers = []
    for port in ports:
        if ipv6:
            server = Server6(("::", port), Handler)
        else:
            server = Server(("0.0.0.0", port), Handler)
        server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        servers.append(server)
        sys.stderr.write("%s: listening on %s:%d\n" % (
            Handler.name, "[::]" if ipv6 else "0.0.0.0", port))
    sys.stderr.flush()
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        servers[0].serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
