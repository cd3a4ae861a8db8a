#!/usr/bin/python3
"""What a tunnel-mode load balancer sends, without one: for testing lib/decap.py (see
decap_test.sh). Debian's /usr/bin/python3, standard library only, root.

    tunnel_tool.py probe MODE INNER --outer-src A --outer-dst B --inner-src C --inner-dst D
                   [--port P] [--timeout S]
        Sends one hand-built tunnelled packet - MODE ipip (IPv4-in-IPv4, built whole with
        IP_HDRINCL), ip6ip6 (next header 41) or ip4ip6 (next header 4; the kernel writes
        the outer IPv6 header, from A, which must be a local address) - whose inner packet
        goes from C to D and is INNER: icmp (an echo request) or tcp (a SYN to port P,
        default 80). Then waits, with a raw socket, for the answer the tunnel endpoint's
        kernel sends straight back: an echo reply, or a SYN-ACK from D:P to C. Up to 3
        tries, 1 s apart (S, default 3, is the whole budget). Prints "reply: ..." and
        exits 0, or prints "no reply: ..." and exits 1.

    tunnel_tool.py encap MODE --tun NAME --backend B [--source A] [--mtu N]
                   [--max-seconds S]
        A one-backend tunnel-mode "load balancer" in the client's namespace: creates TUN
        device NAME (route the VIP into it), reads every packet the kernel routes there
        and sends it, encapsulated by MODE, to B (outer source A, if given). So a real
        TCP connection from this namespace goes through the tunnel and decap.py. The
        answers come back directly (turn rp_filter off). Ends on SIGTERM or after S s
        (default 120); prints "encapsulated=N" at exit.
"""

import argparse
import ipaddress
import os
import select
import signal
import socket
import struct
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ (as root) in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decap  # noqa: E402  (open_tun)

PROTO = {"ipip": 4, "ip6ip6": 41, "ip4ip6": 4}
INNER_VERSION = {"ipip": 4, "ip6ip6": 6, "ip4ip6": 4}


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_header(src, dst, proto, payload_len, ident=0x5151):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, 0x4000, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]


def ipv6_header(src, dst, nh, payload_len):
    return struct.pack("!IHBB16s16s", 6 << 28, payload_len, nh, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst))


def pseudo(src, dst, proto, length):
    if ":" in src:
        return (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
                + struct.pack("!IxxxB", length, proto))
    return socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", proto, length)


def l4_with_checksum(src, dst, proto, segment, offset):
    c = checksum(pseudo(src, dst, proto, len(segment)) + segment)
    return segment[:offset] + struct.pack("!H", c) + segment[offset + 2:]


def inner_packet(kind, src, dst, port, sport, isn, ident):
    v6 = ":" in src
    if kind == "icmp":
        data = b"sluice decap probe"
        if v6:
            seg = struct.pack("!BBHHH", 128, 0, 0, ident, 1) + data
            seg = l4_with_checksum(src, dst, 58, seg, 2)
            proto = 58
        else:
            seg = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + data
            seg = seg[:2] + struct.pack("!H", checksum(seg)) + seg[4:]
            proto = 1
    else:
        mss = 1220 if v6 else 1360
        seg = struct.pack("!HHIIBBHHH", sport, port, isn, 0, 6 << 4, 0x02, 64240, 0, 0)
        seg += struct.pack("!BBH", 2, 4, mss)  # MSS option
        seg = l4_with_checksum(src, dst, 6, seg, 16)
        proto = 6
    if v6:
        return ipv6_header(src, dst, proto, len(seg)) + seg
    return ipv4_header(src, dst, proto, len(seg)) + seg


def probe(args):
    v6_inner = ":" in args.inner_src
    if v6_inner != (INNER_VERSION[args.mode] == 6):
        sys.stderr.write("inner addresses do not match mode %s\n" % args.mode)
        return 2
    ident = os.getpid() & 0xFFFF
    sport = 40000 + (os.getpid() % 20000)
    isn = 0x51000000 + os.getpid()
    inner = inner_packet(args.inner, args.inner_src, args.inner_dst, args.port, sport, isn,
                         ident)

    family = socket.AF_INET6 if v6_inner else socket.AF_INET
    if args.inner == "icmp":
        lproto = socket.IPPROTO_ICMPV6 if v6_inner else socket.IPPROTO_ICMP
    else:
        lproto = socket.IPPROTO_TCP
    listener = socket.socket(family, socket.SOCK_RAW, lproto)

    if args.mode == "ipip":
        sender = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # HDRINCL
        packet = ipv4_header(args.outer_src, args.outer_dst, 4, len(inner)) + inner
    else:
        sender = socket.socket(socket.AF_INET6, socket.SOCK_RAW, PROTO[args.mode])
        sender.bind((args.outer_src, 0))
        packet = inner

    what = "%s %s %s -> %s (outer %s -> %s)" % (
        args.mode, "echo request" if args.inner == "icmp" else "SYN to port %d" % args.port,
        args.inner_src, args.inner_dst, args.outer_src, args.outer_dst)
    want_src = ipaddress.ip_address(args.inner_dst)
    start = time.monotonic()
    deadline = start + args.timeout
    tries = 0
    next_send = start
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_send and tries < 3:
            sender.sendto(packet, (args.outer_dst, 0))
            tries += 1
            next_send = now + 1.0
        ready, _, _ = select.select([listener], [], [], min(deadline, next_send) - now
                                    if tries < 3 else deadline - now)
        if not ready:
            continue
        data, addr = listener.recvfrom(65535)
        if not v6_inner:  # IPv4 raw sockets see the IP header
            src = ipaddress.ip_address(data[12:16])
            dst = ipaddress.ip_address(data[16:20])
            data = data[(data[0] & 0xF) * 4:]
        else:
            src = ipaddress.ip_address(addr[0].split("%")[0])
            dst = None
        if src != want_src:
            continue
        if dst is not None and dst != ipaddress.ip_address(args.inner_src):
            continue
        if args.inner == "icmp":
            rtype = 129 if v6_inner else 0
            if len(data) >= 8 and data[0] == rtype and struct.unpack("!H", data[4:6])[0] == ident:
                print("reply: echo reply from %s to %s after %.2f s (%d tries) for %s" % (
                    src, args.inner_src, time.monotonic() - start, tries, what))
                return 0
        elif len(data) >= 20:
            s, d, _, ack, _, flags = struct.unpack("!HHIIBB", data[:14])
            if s == args.port and d == sport and flags & 0x12 == 0x12 and ack == isn + 1:
                print("reply: SYN-ACK from %s:%d to %s:%d after %.2f s (%d tries) for %s" % (
                    src, s, args.inner_src, d, time.monotonic() - start, tries, what))
                return 0
    print("no reply in %.1f s (%d tries) for %s" % (args.timeout, tries, what))
    return 1


def encap(args):
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: stop.append(signum))
    tun = decap.open_tun(args.tun, args.mtu)
    family = socket.AF_INET if args.mode == "ipip" else socket.AF_INET6
    sender = socket.socket(family, socket.SOCK_RAW, PROTO[args.mode])
    if args.source:
        sender.bind((args.source, 0))
    want = INNER_VERSION[args.mode]
    sent = skipped = 0
    deadline = time.monotonic() + args.max_seconds
    sys.stderr.write("encap: ready: %s on %s to %s\n" % (args.mode, args.tun, args.backend))
    sys.stderr.flush()
    while not stop and time.monotonic() < deadline:
        try:
            ready, _, _ = select.select([tun], [], [], 0.25)
        except InterruptedError:
            continue
        if not ready:
            continue
        packet = os.read(tun, 65535)
        if not packet or packet[0] >> 4 != want:
            skipped += 1  # e.g. IPv6 router solicitations on an IPv4 tunnel
            continue
        try:
            sender.sendto(packet, (args.backend, 0))
            sent += 1
        except OSError as e:
            sys.stderr.write("encap: sending %d bytes: %s\n" % (len(packet), e))
    print("encapsulated=%d skipped=%d" % (sent, skipped), flush=True)
    os.close(tun)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("probe")
    pr.add_argument("mode", choices=sorted(PROTO))
    pr.add_argument("inner", choices=["icmp", "tcp"])
    for a in ("--outer-src", "--outer-dst", "--inner-src", "--inner-dst"):
        pr.add_argument(a, required=True)
    pr.add_argument("--port", type=int, default=80)
    pr.add_argument("--timeout", type=float, default=3.0)
    en = sub.add_parser("encap")
    en.add_argument("mode", choices=sorted(PROTO))
    en.add_argument("--tun", required=True)
    en.add_argument("--backend", required=True)
    en.add_argument("--source")
    en.add_argument("--mtu", type=int)
    en.add_argument("--max-seconds", type=float, default=120.0)
    args = p.parse_args()
    if args.cmd == "encap" and args.mtu is None:
        args.mtu = 1480 if args.mode == "ipip" else 1460  # the outer packet fits 1500
    return probe(args) if args.cmd == "probe" else encap(args)


if __name__ == "__main__":
    sys.exit(main())
