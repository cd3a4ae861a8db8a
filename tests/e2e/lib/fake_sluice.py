#!/usr/bin/python3
"""A stand-in for Sluice, to test the end-to-end TESTS (not Sluice): a slow, simple model
of the dataplane the tests expect, in Python on an AF_PACKET socket. It is never used by
tests/run.sh; run a test against it by hand to check the topology, the backends'
setup and the assertions before (or apart from) the real dataplane:

    sudo tests/e2e/tunnel_test.sh tests/e2e/lib/fake_sluice.py

It takes Sluice's command line (--config FILE [--check] [-- EAL...]) and reads the subset
of the config the tests write (one port, whose device must be
"net_af_packet0,iface=IFNAME"; routes; tunnel_source; services with dr, tunnel or nat
and backends). Its YAML reader knows only the shapes those files use. What it does:

  - ARP: answers requests for the port address and the IPv4 VIPs; resolves backends and
    gateways (requests every 1 s, 3 tries, holding up to 64 packets).
  - ND: answers neighbour solicitations for address6 and the IPv6 VIPs; resolves IPv6
    next hops.
  - ICMP / ICMPv6 echo for the port's addresses and the VIPs.
  - Forwarding, backend = crc32(5-tuple) mod N (no weights, no health):
      dr      destination MAC rewrite;
      tunnel  IPv4-in-IPv4 (4), IPv6-in-IPv6 (41) or IPv4-in-IPv6 (4), outer source
              tunnel_source if of the backend's family, else the port's address; when
              the result exceeds the port MTU: IPv4 with DF -> ICMP fragmentation needed
              (next-hop MTU = MTU - outer header) from the VIP to the client, IPv6 ->
              ICMPv6 packet too big; IPv4 without DF -> dropped (no fragmentation here);
      nat     destination rewritten to the backend's address and port; replies from the
              backend get the VIP and service port back as source and go to the MAC the
              client's packets came from.
  - Next hops: on-link on the port's subnets, else the longest matching route's via.
  - Prints "sluice: ready", and on SIGTERM "sluice: stopped" and
    "workers: rx N, injected 0, tx N, slow path N, dropped N; ..." and exits 0.
"""

import ipaddress
import select
import signal
import socket
import struct
import sys
import time
import zlib

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
BROADCAST = b"\xff" * 6


# ---- a reader for the YAML the tests write -------------------------------------------

def _scalar(text):
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text.isdigit():
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    return text


def _flow(text, i=0):
    """Parses a flow value (mapping, list or scalar) at text[i:]; returns (value, i)."""
    while text[i] == " ":
        i += 1
    if text[i] in "{[":
        close = "}" if text[i] == "{" else "]"
        out = {} if close == "}" else []
        i += 1
        while True:
            while text[i] in " ,":
                i += 1
            if text[i] == close:
                return out, i + 1
            if close == "}":
                j = text.index(": ", i) if ": " in text[i:] else text.index(":", i)
                key = _scalar(text[i:j])
                value, i = _flow(text, j + 1)
                out[key] = value
            else:
                value, i = _flow(text, i)
                out.append(value)
    if text[i] in "\"'":
        j = text.index(text[i], i + 1)
        return text[i + 1:j], j + 1
    j = i
    while j < len(text) and text[j] not in ",}]":
        j += 1
    return _scalar(text[i:j]), j


def _strip_comment(line):
    quote = None
    for k, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (k == 0 or line[k - 1] == " "):
            return line[:k].rstrip()
    return line.rstrip()


def _block(lines, i, indent):
    """Parses the block starting at lines[i] with this indent; returns (value, i)."""
    if lines[i][1].startswith("- "):
        out = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            rest = lines[i][1][2:]
            if ":" in rest and not rest.startswith(("{", "[", "\"")):
                # "- key: value" starts a mapping indented by 2 more
                lines[i] = (indent + 2, rest)
                value, i = _block(lines, i, indent + 2)
            else:
                value, _ = _flow(rest)
                i += 1
            out.append(value)
        return out, i
    out = {}
    while i < len(lines) and lines[i][0] == indent:
        text = lines[i][1]
        key, _, rest = text.partition(":")
        rest = rest.strip()
        i += 1
        if rest:
            out[key.strip()] = _flow(rest)[0]
        elif i < len(lines) and lines[i][0] > indent:
            out[key.strip()], i = _block(lines, i, lines[i][0])
        elif i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            out[key.strip()], i = _block(lines, i, indent)
        else:
            out[key.strip()] = None
    return out, i


def read_config(path):
    lines = []
    with open(path) as f:
        for raw in f:
            line = _strip_comment(raw.rstrip("\n"))
            if line.strip():
                lines.append((len(line) - len(line.lstrip()), line.strip()))
    value, _ = _block(lines, 0, 0)
    return value


# ---- packets -----------------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0, df=True, ttl=64):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000 if df else 0,
                      ttl, proto, 0, src.packed, dst.packed)
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, hops=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hops, src.packed,
                       dst.packed) + payload


def l4_csum(src, dst, proto, seg, off):
    """seg with its checksum (at off) computed over the pseudo-header."""
    seg = seg[:off] + b"\0\0" + seg[off + 2:]
    if src.version == 4:
        ph = src.packed + dst.packed + struct.pack("!xBH", proto, len(seg))
    else:
        ph = src.packed + dst.packed + struct.pack("!IxxxB", len(seg), proto)
    c = csum(ph + seg)
    if proto == 17 and c == 0:
        c = 0xFFFF
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


CSUM_OFFSET = {6: 16, 17: 6}


class Fake:
    def __init__(self, cfg):
        dp = cfg["dataplane"]
        port = dp["ports"][0]
        dev = port["device"]
        if "iface=" not in dev:
            raise SystemExit("fake_sluice: device must be net_af_packet0,iface=NAME")
        self.ifname = dev.split("iface=")[1].split(",")[0]
        self.mtu = int(port.get("mtu") or 1500)
        self.net4 = ipaddress.ip_interface(port["address"]) if port.get("address") else None
        self.net6 = ipaddress.ip_interface(port["address6"]) if port.get("address6") else None
        self.addr4 = self.net4.ip if self.net4 else None
        self.addr6 = self.net6.ip if self.net6 else None
        self.routes = []
        for r in dp.get("routes") or []:
            self.routes.append((ipaddress.ip_network(r["prefix"]), int(r.get("metric") or 0),
                                ipaddress.ip_address(r["via"])))
        ts = dp.get("tunnel_source")
        self.tunnel_source = ipaddress.ip_address(ts) if ts else None
        self.services = {}
        self.vips = set()
        for s in cfg["services"]:
            vip = ipaddress.ip_address(s["vip"])
            proto = 6 if (s.get("protocol") or "tcp") == "tcp" else 17
            backends = [(ipaddress.ip_address(b["address"]), int(b.get("port") or s["port"]))
                        for b in s["backends"]]
            self.services[(vip, int(s["port"]), proto)] = (s["forwarding"], backends)
            self.vips.add(vip)
        self.nat = {}  # (client, cport, backend, bport, proto) -> (vip, vport, client MAC)
        self.neigh = {}  # ip -> MAC
        self.pending = {}  # ip -> [tries, next time, [(ethertype, l3)]]
        self.counts = dict(rx=0, tx=0, slow=0, dropped=0, flows=0)
        self.flows = set()

    # -- plumbing
    def open(self):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((self.ifname, 0))
        ifindex = socket.if_nametoindex(self.ifname)
        self.sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                             struct.pack("iHH8s", ifindex, PACKET_MR_PROMISC, 0, b""))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        with open("/sys/class/net/%s/address" % self.ifname) as f:
            self.mac = bytes.fromhex(f.read().strip().replace(":", ""))

    def send(self, dst_mac, ethertype, l3):
        self.sock.send(dst_mac + self.mac + struct.pack("!H", ethertype) + l3)

    def on_link(self, ip):
        net = self.net4 if ip.version == 4 else self.net6
        return net is not None and ip in net.network

    def next_hop(self, ip):
        if self.on_link(ip):
            return ip
        best = None
        for net, metric, via in self.routes:
            if net.version == ip.version and ip in net:
                key = (-net.prefixlen, metric)
                if best is None or key < best[0]:
                    best = (key, via)
        return best[1] if best else None

    def send_ip(self, ip, ethertype, l3):
        """Sends to the next hop for ip, resolving it first if needed. False if no route."""
        hop = self.next_hop(ip)
        if hop is None:
            return False
        mac = self.neigh.get(hop)
        if mac:
            self.send(mac, ethertype, l3)
            return True
        entry = self.pending.setdefault(hop, [0, 0.0, []])
        if len(entry[2]) < 64:
            entry[2].append((ethertype, l3))
        if entry[0] == 0:
            self.solicit(hop)
            entry[0], entry[1] = 1, time.monotonic() + 1.0
        return True

    def solicit(self, ip):
        if ip.version == 4:
            arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, self.mac, self.addr4.packed,
                              b"\0" * 6, ip.packed)
            self.send(BROADCAST, ETH_P_ARP, arp)
        else:
            snm = ipaddress.ip_address(b"\xff\x02" + b"\0" * 9 + b"\x01\xff" + ip.packed[13:])
            ns = struct.pack("!BBHI16sBB6s", 135, 0, 0, 0, ip.packed, 1, 1, self.mac)
            ns = l4_csum(self.addr6, snm, 58, ns, 2)
            self.send(b"\x33\x33" + snm.packed[12:], ETH_P_IPV6, ipv6(self.addr6, snm, 58, ns, 255))

    def learn(self, ip, mac):
        self.neigh[ip] = mac
        entry = self.pending.pop(ip, None)
        if entry:
            for ethertype, l3 in entry[2]:
                self.send(mac, ethertype, l3)

    def timers(self):
        now = time.monotonic()
        for ip, entry in list(self.pending.items()):
            if now >= entry[1]:
                if entry[0] >= 3:
                    self.counts["dropped"] += len(entry[2])
                    self.counts["tx"] -= len(entry[2])
                    del self.pending[ip]
                else:
                    entry[0] += 1
                    entry[1] = now + 1.0
                    self.solicit(ip)

    # -- receive
    def frame(self, data, src_mac):
        if len(data) < 14:
            self.counts["dropped"] += 1
            return
        ethertype = struct.unpack("!H", data[12:14])[0]
        l3 = data[14:]
        if ethertype == ETH_P_ARP:
            self.arp(l3)
        elif ethertype == ETH_P_IP:
            self.ip4(l3, src_mac)
        elif ethertype == ETH_P_IPV6:
            self.ip6(l3, src_mac)
        else:
            self.counts["dropped"] += 1

    def arp(self, l3):
        if len(l3) < 28:
            self.counts["dropped"] += 1
            return
        _, _, _, _, op, sha, spa, _, tpa = struct.unpack("!HHBBH6s4s6s4s", l3[:28])
        sender = ipaddress.ip_address(spa)
        target = ipaddress.ip_address(tpa)
        if int(sender) != 0:
            self.learn(sender, sha)
        if op == 1 and (target == self.addr4 or target in self.vips):
            reply = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 2, self.mac, tpa, sha, spa)
            self.send(sha, ETH_P_ARP, reply)
        self.counts["slow"] += 1

    def ip4(self, l3, src_mac):
        if len(l3) < 20 or l3[0] >> 4 != 4:
            self.counts["dropped"] += 1
            return
        ihl = (l3[0] & 0xF) * 4
        total = struct.unpack("!H", l3[2:4])[0]
        pkt = l3[:total]
        proto = pkt[9]
        src = ipaddress.ip_address(pkt[12:16])
        dst = ipaddress.ip_address(pkt[16:20])
        l4 = pkt[ihl:]
        if proto == 1 and (dst == self.addr4 or dst in self.vips) and l4[:1] == b"\x08":
            echo = b"\0" + l4[1:2] + b"\0\0" + l4[4:]
            echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
            self.send(src_mac, ETH_P_IP, ipv4(dst, src, 1, echo))
            self.counts["slow"] += 1
            return
        if proto in (6, 17) and len(l4) >= 8:
            sport, dport = struct.unpack("!HH", l4[:4])
            svc = self.services.get((dst, dport, proto))
            if svc:
                self.forward(pkt, src, dst, sport, dport, proto, svc, src_mac)
                return
            back = self.nat.get((dst, dport, src, sport, proto))
            if back:
                vip, vport, client_mac = back
                seg = struct.pack("!H", vport) + l4[2:]
                seg = l4_csum(vip, dst, proto, seg, CSUM_OFFSET[proto])
                out = pkt[:12] + vip.packed + pkt[16:ihl]
                out = out[:10] + b"\0\0" + out[12:]
                out = out[:10] + struct.pack("!H", csum(out)) + out[12:]
                self.send(client_mac, ETH_P_IP, out + seg)
                self.counts["tx"] += 1
                return
        self.counts["dropped"] += 1

    def ip6(self, l3, src_mac):
        if len(l3) < 40 or l3[0] >> 4 != 6:
            self.counts["dropped"] += 1
            return
        plen, nh = struct.unpack("!HB", l3[4:7])
        src = ipaddress.ip_address(l3[8:24])
        dst = ipaddress.ip_address(l3[24:40])
        pkt = l3[:40 + plen]
        l4 = pkt[40:]
        mine = dst == self.addr6 or dst in self.vips
        if nh == 58 and len(l4) >= 4:
            t = l4[0]
            if t == 135 and len(l4) >= 24:  # neighbour solicitation
                target = ipaddress.ip_address(l4[8:24])
                if int(src) != 0:
                    self.learn_from_options(src, l4[24:])
                if target == self.addr6 or target in self.vips:
                    na = struct.pack("!BBHI16sBB6s", 136, 0, 0, 0x60000000, target.packed, 2, 1,
                                     self.mac)
                    reply_to = src if int(src) != 0 else ipaddress.ip_address("ff02::1")
                    na = l4_csum(target, reply_to, 58, na, 2)
                    self.send(src_mac, ETH_P_IPV6, ipv6(target, reply_to, 58, na, 255))
                self.counts["slow"] += 1
                return
            if t == 136 and len(l4) >= 24:  # neighbour advertisement
                target = ipaddress.ip_address(l4[8:24])
                mac = self.option_mac(l4[24:], 2) or src_mac
                self.learn(target, mac)
                self.counts["slow"] += 1
                return
            if t == 128 and mine:
                echo = l4_csum(dst, src, 58, b"\x81" + l4[1:], 2)
                self.send(src_mac, ETH_P_IPV6, ipv6(dst, src, 58, echo))
                self.counts["slow"] += 1
                return
        if nh in (6, 17) and len(l4) >= 8:
            sport, dport = struct.unpack("!HH", l4[:4])
            svc = self.services.get((dst, dport, nh))
            if svc:
                self.forward(pkt, src, dst, sport, dport, nh, svc, src_mac)
                return
        self.counts["dropped"] += 1

    @staticmethod
    def option_mac(options, kind):
        i = 0
        while i + 8 <= len(options):
            t, n = options[i], options[i + 1] * 8
            if n == 0:
                return None
            if t == kind:
                return options[i + 2:i + 8]
            i += n
        return None

    def learn_from_options(self, src, options):
        mac = self.option_mac(options, 1)
        if mac:
            self.learn(src, mac)

    # -- forwarding
    def forward(self, pkt, src, dst, sport, dport, proto, svc, src_mac):
        mode, backends = svc
        key = "%s %d %s %d %d" % (src, sport, dst, dport, proto)
        backend, bport = backends[zlib.crc32(key.encode()) % len(backends)]
        if key not in self.flows:
            self.flows.add(key)
            self.counts["flows"] += 1
        v4 = src.version == 4
        ethertype = ETH_P_IP if v4 else ETH_P_IPV6
        if mode == "dr":
            ok = self.send_ip(backend, ethertype, pkt)
        elif mode == "nat":
            ihl = (pkt[0] & 0xF) * 4
            seg = pkt[ihl:ihl + 2] + struct.pack("!H", bport) + pkt[ihl + 4:]
            seg = l4_csum(src, backend, proto, seg, CSUM_OFFSET[proto])
            hdr = pkt[:16] + backend.packed + pkt[20:ihl]
            hdr = hdr[:10] + b"\0\0" + hdr[12:]
            hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
            self.nat[(src, sport, backend, bport, proto)] = (dst, dport, src_mac)
            ok = self.send_ip(backend, ETH_P_IP, hdr + seg)
        else:  # tunnel
            overhead = 20 if backend.version == 4 else 40
            if len(pkt) + overhead > self.mtu:
                self.too_big(pkt, src, dst, self.mtu - overhead, src_mac)
                return
            if backend.version == 4:
                source = self.tunnel_source if (self.tunnel_source and
                                                self.tunnel_source.version == 4) else self.addr4
                df = bool(v4 and pkt[6] & 0x40) or not v4
                out = ipv4(source, backend, 4 if v4 else 41, pkt, df=df)
                ok = self.send_ip(backend, ETH_P_IP, out)
            else:
                source = self.tunnel_source if (self.tunnel_source and
                                                self.tunnel_source.version == 6) else self.addr6
                out = ipv6(source, backend, 4 if v4 else 41, pkt)
                ok = self.send_ip(backend, ETH_P_IPV6, out)
        self.counts["tx" if ok else "dropped"] += 1

    def too_big(self, pkt, src, dst, mtu, src_mac):
        if src.version == 4:
            if not pkt[6] & 0x40:  # DF clear: a real Sluice fragments; this one drops
                self.counts["dropped"] += 1
                return
            ihl = (pkt[0] & 0xF) * 4
            icmp = struct.pack("!BBHHH", 3, 4, 0, 0, mtu) + pkt[:ihl + 8]
            icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
            self.send(src_mac, ETH_P_IP, ipv4(dst, src, 1, icmp, df=False))
        else:
            icmp = struct.pack("!BBHI", 2, 0, 0, mtu) + pkt[:1280 - 48]
            icmp = l4_csum(dst, src, 58, icmp, 2)
            self.send(src_mac, ETH_P_IPV6, ipv6(dst, src, 58, icmp))
        self.counts["slow"] += 1

    def run(self):
        stop = []
        rfd, wfd = socket.socketpair()
        rfd.setblocking(False)
        wfd.setblocking(False)
        signal.set_wakeup_fd(wfd.fileno(), warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: stop.append(signum))
        self.open()
        # What the real daemon does at start: resolve every backend and gateway.
        for (_, _, _), (_, backends) in self.services.items():
            for b, _ in backends:
                hop = self.next_hop(b)
                if hop is not None and hop not in self.pending and hop not in self.neigh:
                    self.pending[hop] = [1, time.monotonic() + 1.0, []]
                    self.solicit(hop)
        print("sluice: ready (fake_sluice.py: a test stand-in, not Sluice)", flush=True)
        self.sock.setblocking(False)
        while not stop:
            ready, _, _ = select.select([self.sock, rfd], [], [], 0.1)
            if self.sock in ready:
                for _ in range(256):
                    try:
                        data, addr = self.sock.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if addr[2] == PACKET_OUTGOING:
                        continue
                    dst = data[:6]
                    if dst != self.mac and not dst[0] & 1:
                        continue  # another host's unicast (promiscuous)
                    self.counts["rx"] += 1
                    self.frame(data, data[6:12])
            self.timers()
        c = self.counts
        print("sluice: stopped", flush=True)
        print("workers: rx %d, injected 0, tx %d, slow path %d, dropped %d; new flows %d" % (
            c["rx"], c["tx"], c["slow"], c["dropped"], c["flows"]), flush=True)
        return 0


def main():
    args = sys.argv[1:]
    if "--" in args:
        args = args[:args.index("--")]
    if "--config" not in args or args.index("--config") + 1 >= len(args):
        sys.stderr.write("usage: fake_sluice.py --config FILE [--check]\n")
        return 2
    path = args[args.index("--config") + 1]
    try:
        cfg = read_config(path)
        fake = Fake(cfg)
    except Exception as e:  # noqa: BLE001
        sys.stderr.write("%s: fake_sluice cannot use this config: %s: %s\n" % (
            path, type(e).__name__, e))
        return 1
    if "--check" in args:
        print("%s: valid (fake_sluice.py): %d services" % (path, len(fake.services)))
        return 0
    return fake.run()


if __name__ == "__main__":
    sys.exit(main())
