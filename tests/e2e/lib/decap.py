#!/usr/bin/python3
"""A user-space tunnel endpoint for a tunnel-mode backend (the test kernel has no ipip or
ip6_tunnel module). Debian's /usr/bin/python3, standard library only, run as root inside
the backend's network namespace:

    decap.py [--tun NAME] [--expect-source ADDR]... [--stats FILE] [--max-seconds S]
             [--mtu N]

It creates the TUN device NAME (default decap0; IFF_TUN | IFF_NO_PI through
/dev/net/tun), turns rp_filter off on it and on all/default, enables IPv6 on it when the
namespace has IPv6, brings it up, and opens three raw sockets:

  AF_INET  SOCK_RAW IPPROTO_IPIP (4)    IPv4-in-IPv4: the data starts with the outer IPv4
                                         header; the inner packet starts at IHL * 4
  AF_INET6 SOCK_RAW 41                  IPv6-in-IPv6: the data is what follows the outer
                                         IPv6 header (and its extension headers)
  AF_INET6 SOCK_RAW IPPROTO_IPIP (4)    IPv4-in-IPv6: likewise

Each inner packet is written to the TUN device, so the namespace's kernel receives it as
if it had arrived on NAME and delivers it locally (the VIP is on lo) - exactly what the
kernel's tunl0/ip6tnl0 would do. The backend then answers the client directly.

With --expect-source (repeatable; one per address family is typical) a packet whose outer
source is not one of them is dropped and counted as wrong_source (the first few are
logged on stderr), like a tunnel device with a fixed remote.

Counters, one line, in FILE (rewritten atomically at most every 0.2 s while they change,
and at exit) and on stdout at exit:

    decapsulated=N ipip=N ip6ip6=N ip4ip6=N bytes=N largest=N wrong_source=N malformed=N
    write_errors=N

(bytes and largest: of the inner packets written to the TUN device.)

The stats file is first written once everything is set up, so its existence means ready.
SIGTERM, SIGINT and SIGHUP end it cleanly (exit 0, the TUN device disappears with it);
--max-seconds (default 900) bounds its life even if nobody stops it. Exit 1 on a setup
error (with a message on stderr), 2 on a usage error.
"""

import argparse
import fcntl
import ipaddress
import os
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCSIFMTU = 0x8922
IFF_UP = 0x1
IPPROTO_IPIP = 4
IPPROTO_IPV6 = 41  # as a payload protocol (IPv6 encapsulated)

COUNTERS = ("decapsulated", "ipip", "ip6ip6", "ip4ip6", "bytes", "largest", "wrong_source",
            "malformed", "write_errors")
MAX_LOGGED = 5


def log(msg):
    sys.stderr.write("decap: %s\n" % msg)
    sys.stderr.flush()


def write_sysctl(path, value, required):
    try:
        with open(path, "w") as f:
            f.write(value)
    except OSError as e:
        if required:
            raise
        log("cannot write %s: %s (ignored)" % (path, e))


def read_sysctl(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def open_tun(name, mtu):
    """Creates (or attaches to) TUN device NAME; returns its fd. The device is not
    persistent: it disappears when the fd is closed (when this process ends)."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    ifr = struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI)
    fcntl.ioctl(fd, TUNSETIFF, ifr)
    # The kernel drops what arrives on an interface whose reverse path is elsewhere (the
    # client is reached through eth0, not the tun): rp_filter off (the effective value is
    # the maximum of all and the interface).
    for conf in ("all", "default", name):
        write_sysctl("/proc/sys/net/ipv4/conf/%s/rp_filter" % conf, "0", required=True)
    if read_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6") == "0":
        write_sysctl("/proc/sys/net/ipv6/conf/%s/accept_dad" % name, "0", required=False)
        write_sysctl("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % name, "0", required=True)
    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        fcntl.ioctl(ctl, SIOCSIFMTU, struct.pack("16si20x", name.encode(), mtu))
        flags = struct.unpack("16sH22x", fcntl.ioctl(ctl, SIOCGIFFLAGS,
                                                      struct.pack("16sH22x", name.encode(), 0)))[1]
        fcntl.ioctl(ctl, SIOCSIFFLAGS, struct.pack("16sH22x", name.encode(), flags | IFF_UP))
    finally:
        ctl.close()
    return fd


SO_RCVBUFFORCE = 33


def open_raw(family, proto):
    s = socket.socket(family, socket.SOCK_RAW, proto)
    # Room for bursts (a TCP window of full-size packets) while Python catches up; root
    # may exceed net.core.rmem_max.
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setblocking(False)
    return s


class Decap:
    def __init__(self, args):
        self.args = args
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.expect = {ipaddress.ip_address(a) for a in args.expect_source}
        self.logged = 0
        self.dirty = True
        self.last_write = 0.0

    def line(self):
        return " ".join("%s=%d" % (k, self.counts[k]) for k in COUNTERS)

    def write_stats(self, force=False):
        if not self.args.stats or not (self.dirty or force):
            return
        now = time.monotonic()
        if not force and now - self.last_write < 0.2:
            return
        tmp = self.args.stats + ".tmp"
        with open(tmp, "w") as f:
            f.write(self.line() + "\n")
        os.replace(tmp, self.args.stats)
        self.dirty = False
        self.last_write = now

    def note(self, what, detail):
        self.counts[what] += 1
        self.dirty = True
        if self.logged < MAX_LOGGED:
            self.logged += 1
            log("%s: %s" % (what, detail))

    def handle(self, kind, data, outer_src):
        """kind: ipip | ip6ip6 | ip4ip6; data: the inner packet; outer_src: text."""
        if self.expect and ipaddress.ip_address(outer_src) not in self.expect:
            self.note("wrong_source", "%s packet from %s (expected %s)" % (
                kind, outer_src, " or ".join(sorted(str(a) for a in self.expect))))
            return
        want = 6 if kind == "ip6ip6" else 4
        if len(data) < (40 if want == 6 else 20) or data[0] >> 4 != want:
            self.note("malformed", "%s from %s: inner packet of %d bytes, version %d" % (
                kind, outer_src, len(data), data[0] >> 4 if data else -1))
            return
        try:
            os.write(self.tun, data)
        except OSError as e:
            self.note("write_errors", "%s from %s: writing %d bytes to the tun: %s" % (
                kind, outer_src, len(data), e))
            return
        self.counts["decapsulated"] += 1
        self.counts[kind] += 1
        self.counts["bytes"] += len(data)
        self.counts["largest"] = max(self.counts["largest"], len(data))
        self.dirty = True

    def receive(self, sock, kind):
        """Drains a raw socket (non-blocking); returns when it would block."""
        for _ in range(256):
            try:
                data, addr = sock.recvfrom(65535)
            except BlockingIOError:
                return
            except InterruptedError:
                continue
            if kind == "ipip":
                if len(data) < 20 or data[0] >> 4 != 4 or (data[0] & 0xF) < 5:
                    self.note("malformed", "outer IPv4 header of %d bytes" % len(data))
                    continue
                ihl = (data[0] & 0xF) * 4
                total = struct.unpack("!H", data[2:4])[0]
                # Linux hands raw IPv4 sockets the whole datagram; total length is
                # authoritative if shorter (padding).
                end = total if ihl <= total <= len(data) else len(data)
                self.handle(kind, data[ihl:end], socket.inet_ntoa(data[12:16]))
            else:
                self.handle(kind, data, addr[0])

    def run(self):
        args = self.args
        stop = []
        rfd, wfd = socket.socketpair()
        rfd.setblocking(False)
        wfd.setblocking(False)
        signal.set_wakeup_fd(wfd.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda signum, frame: stop.append(signum))

        try:
            self.tun = open_tun(args.tun, args.mtu)
        except OSError as e:
            log("cannot set up tun device %s: %s" % (args.tun, e))
            return 1
        socks = {}
        try:
            socks[open_raw(socket.AF_INET, IPPROTO_IPIP)] = "ipip"
        except OSError as e:
            log("cannot open an IPv4 raw socket for protocol 4: %s" % e)
            return 1
        for proto, kind in ((IPPROTO_IPV6, "ip6ip6"), (IPPROTO_IPIP, "ip4ip6")):
            try:
                socks[open_raw(socket.AF_INET6, proto)] = kind
            except OSError as e:  # no IPv6 at all in this kernel: IPv4 only
                log("no IPv6 raw socket for protocol %d: %s (IPv4 only)" % (proto, e))
        self.write_stats(force=True)
        log("ready: tun %s, %s, outer source %s, pid %d" % (
            args.tun, "/".join(socks.values()),
            " or ".join(args.expect_source) if args.expect_source else "any", os.getpid()))

        deadline = time.monotonic() + args.max_seconds
        rlist = list(socks) + [rfd]
        while not stop:
            left = deadline - time.monotonic()
            if left <= 0:
                log("--max-seconds %g reached" % args.max_seconds)
                break
            try:
                ready, _, _ = select.select(rlist, [], [], min(left, 0.25))
            except InterruptedError:
                continue
            for s in ready:
                if s is rfd:
                    try:
                        rfd.recv(64)
                    except BlockingIOError:
                        pass
                else:
                    self.receive(s, socks[s])
            self.write_stats()
        self.write_stats(force=True)
        print(self.line(), flush=True)
        os.close(self.tun)
        return 0


def main():
    p = argparse.ArgumentParser(description="user-space IPIP / IPv6 tunnel decapsulator")
    p.add_argument("--tun", default="decap0", help="TUN device name (default decap0)")
    p.add_argument("--expect-source", action="append", default=[], metavar="ADDR",
                   help="accept only this outer source (repeatable)")
    p.add_argument("--stats", help="write the counters to this file")
    p.add_argument("--max-seconds", type=float, default=900.0,
                   help="exit after this long (default 900)")
    p.add_argument("--mtu", type=int, default=1500, help="TUN device MTU (default 1500)")
    args = p.parse_args()
    if len(args.tun.encode()) > 15:
        p.error("--tun: at most 15 bytes")
    try:
        for a in args.expect_source:
            ipaddress.ip_address(a)
    except ValueError as e:
        p.error("--expect-source: %s" % e)
    return Decap(args).run()


if __name__ == "__main__":
    sys.exit(main())
