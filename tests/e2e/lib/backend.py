#!/usr/bin/python3
"""A backend for the end-to-end topology: a small threaded HTTP server.

Run by Debian's /usr/bin/python3 (standard library only) inside a backend namespace:

    backend.py NAME [PORT]

Paths:
  /                  "NAME\\n"                      (who served this connection)
  /whoami            "backend=NAME local=IP:PORT peer=IP:PORT\\n" from the accepted
                     socket's getsockname()/getpeername(): in DR mode local is the VIP
                     and peer is the client
  /slow?seconds=N    1 MiB streamed evenly over N seconds (0 <= N <= 60): 1024 lines of
                     1 KiB, each starting "NAME slow LINE", so a client can check that one
                     backend sent all of it
  /healthz           "ok\\n" (for health checks over the management network)
Every response carries "X-Backend: NAME" and a Content-Length; the connection closes
after one response (HTTP/1.0), so every request a client makes is a new flow.
"""

import http.server
import socket
import sys
import time
import urllib.parse

SLOW_LINES = 1024
SLOW_LINE_BYTES = 1024
SLOW_MAX_SECONDS = 60.0


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
            local = self.connection.getsockname()
            peer = self.connection.getpeername()
            text = "backend=%s local=%s:%d peer=%s:%d\n" % (
                self.name, local[0], local[1], peer[0], peer[1])
            self._send(200, text.encode())
        elif url.path == "/slow":
            self._slow(url.query)
        else:
            self._send(404, b"not found\n")

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


def main():
    if len(sys.argv) not in (2, 3):
        sys.stderr.write("usage: backend.py NAME [PORT]\n")
        return 2
    Handler.name = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) == 3 else 80
    server = Server(("0.0.0.0", port), Handler)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sys.stderr.write("%s: listening on 0.0.0.0:%d\n" % (Handler.name, port))
    sys.stderr.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
