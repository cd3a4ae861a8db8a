#!/usr/bin/python3
"""A stand-in for systemd's notification socket (sd_notify(3)), for notify_test.sh.

notify_listener.py SOCKET LOG SLUICE_LOG METRICS_URL

Binds a unix datagram socket at SOCKET and appends one line per datagram to LOG:

    MONOTONIC_US FIELD=VALUE|FIELD=VALUE... [at_ready log=0|1 metrics=0|1]

(the message's newlines as '|'). MONOTONIC_US is CLOCK_MONOTONIC when it arrived, the
clock MONOTONIC_USEC= is read on. For each message with READY=1 it also records, at that
moment, whether SLUICE_LOG already holds Sluice's 'sluice: ready' line and whether
METRICS_URL answers: READY must not come before either. Runs until killed (SIGTERM).
Standard library only.
"""
import os
import signal
import socket
import sys
import time
import urllib.request


def metrics_answer(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def main():
    path, log_path, sluice_log, metrics_url = sys.argv[1:5]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with open(log_path, "a", buffering=1) as log:
        while True:
            data = sock.recv(65536)
            now_us = time.monotonic_ns() // 1000
            fields = data.decode(errors="replace").strip("\n").split("\n")
            line = "%d %s" % (now_us, "|".join(fields))
            if "READY=1" in fields:
                try:
                    with open(sluice_log, errors="replace") as f:
                        logged = "sluice: ready" in f.read()
                except OSError:
                    logged = False
                line += " [at_ready log=%d metrics=%d]" % (logged, metrics_answer(metrics_url))
            log.write(line + "\n")


if __name__ == "__main__":
    main()
