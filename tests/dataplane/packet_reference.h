// For the packet-rewrite tests: frames built byte by byte, and an Internet checksum
// reference that shares nothing with dataplane/checksum.h. The reference is the plain
// RFC 1071 definition, written out: big-endian byte pairs (an odd last byte padded with
// zero), summed in 64 bits, folded, complemented; values are compared in host order
// against the field read big-endian from the packet. A bug in the production code's
// byte-order shortcut therefore cannot cancel out in the test.
#ifndef SLUICE_TESTS_DATAPLANE_PACKET_REFERENCE_H_
#define SLUICE_TESTS_DATAPLANE_PACKET_REFERENCE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::dataplane::pkt {

using Bytes = std::vector<uint8_t>;

inline uint16_t Be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}
inline void PutBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void PutBe32(uint8_t* p, uint32_t v) {
  PutBe16(p, static_cast<uint16_t>(v >> 16));
  PutBe16(p + 2, static_cast<uint16_t>(v));
}
inline void AppendBe16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void AppendBe32(Bytes& b, uint32_t v) {
  AppendBe16(b, static_cast<uint16_t>(v >> 16));
  AppendBe16(b, static_cast<uint16_t>(v));
}
inline void Append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

// ---- The reference checksum ----

inline uint64_t RefSum(const uint8_t* p, size_t n, uint64_t sum = 0) {
  for (size_t i = 0; i < n; i += 2) {
    const uint32_t hi = p[i];
    const uint32_t lo = i + 1 < n ? p[i + 1] : 0;
    sum += hi * 256 + lo;
  }
  return sum;
}
inline uint16_t RefFinish(uint64_t sum) {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(0xffff - sum);
}
// The checksum the `n` bytes at `p` should carry in their field at `field` (an even
// offset; the field itself counts as zero), starting from `sum` (a pseudo-header).
inline uint16_t RefChecksumOf(const uint8_t* p, size_t n, size_t field, uint64_t sum = 0) {
  for (size_t i = 0; i < n; i += 2) {
    if (i == field) continue;
    sum = RefSum(p + i, n - i < 2 ? 1 : 2, sum);
  }
  return RefFinish(sum);
}

// `ip` points at an IPv4 header (options included via IHL).
inline uint16_t RefIpv4HeaderChecksum(const uint8_t* ip) {
  return RefChecksumOf(ip, (ip[0] & 0x0f) * 4u, 10);
}

inline size_t RefL4ChecksumField(uint8_t proto) {
  return proto == 6 ? 16 : proto == 17 ? 6 : 2;  // TCP, UDP, ICMP/ICMPv6
}

// The TCP/UDP checksum of a complete IPv4 packet; UDP's 0 is sent as 0xffff.
inline uint16_t RefIpv4L4Checksum(const uint8_t* ip) {
  const size_t header_len = (ip[0] & 0x0f) * 4u;
  const size_t l4_len = Be16(ip + 2) - header_len;
  const uint8_t proto = ip[9];
  const uint8_t tail[4] = {0, proto, static_cast<uint8_t>(l4_len >> 8),
                           static_cast<uint8_t>(l4_len)};
  uint64_t pseudo = RefSum(ip + 12, 8);  // source and destination
  pseudo = RefSum(tail, 4, pseudo);
  const uint16_t c = RefChecksumOf(ip + header_len, l4_len, RefL4ChecksumField(proto), pseudo);
  return proto == 17 && c == 0 ? 0xffff : c;
}

// The TCP/UDP/ICMPv6 checksum of a complete IPv6 packet without extension headers.
inline uint16_t RefIpv6L4Checksum(const uint8_t* ip) {
  const size_t l4_len = Be16(ip + 4);
  const uint8_t next = ip[6];
  const uint8_t tail[8] = {
      0, 0, static_cast<uint8_t>(l4_len >> 8), static_cast<uint8_t>(l4_len), 0, 0, 0, next};
  uint64_t pseudo = RefSum(ip + 8, 32);
  pseudo = RefSum(tail, 8, pseudo);
  const uint16_t c = RefChecksumOf(ip + 40, l4_len, RefL4ChecksumField(next), pseudo);
  return next == 17 && c == 0 ? 0xffff : c;
}

// ---- Frame builders (all numbers in host order, written big-endian) ----

inline constexpr std::array<uint8_t, 6> kMacA = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
inline constexpr std::array<uint8_t, 6> kMacB = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

// Ethernet header, with an 802.1Q tag (TCI `vlan_tci`) when `vlan` is set.
inline Bytes Ethernet(uint16_t ether_type, bool vlan = false, uint16_t vlan_tci = 0x6064) {
  // Built in a fixed array: GCC 12 reports false array-bounds errors for vector inserts.
  uint8_t h[18];
  for (size_t i = 0; i < 6; ++i) {
    h[i] = kMacA[i];
    h[6 + i] = kMacB[i];
  }
  size_t len = 12;
  if (vlan) {
    PutBe16(h + 12, 0x8100);
    PutBe16(h + 14, vlan_tci);
    len = 16;
  }
  PutBe16(h + len, ether_type);
  return Bytes(h, h + len + 2);
}

struct Ipv4Fields {
  uint8_t tos = 0;
  uint16_t id = 0x1234;
  uint16_t frag = 0;  // flags and offset
  uint8_t ttl = 64;
  uint8_t proto = 6;
  uint32_t src = 0x0a000001;
  uint32_t dst = 0xcb00710a;
  Bytes options;  // a multiple of 4 bytes
};

// IPv4 header (correct checksum) followed by `payload`.
inline Bytes Ipv4(const Ipv4Fields& f, const Bytes& payload) {
  Bytes b;
  b.push_back(static_cast<uint8_t>(0x40 | (5 + f.options.size() / 4)));
  b.push_back(f.tos);
  AppendBe16(b, static_cast<uint16_t>(20 + f.options.size() + payload.size()));
  AppendBe16(b, f.id);
  AppendBe16(b, f.frag);
  b.push_back(f.ttl);
  b.push_back(f.proto);
  AppendBe16(b, 0);
  AppendBe32(b, f.src);
  AppendBe32(b, f.dst);
  Append(b, f.options);
  PutBe16(b.data() + 10, RefIpv4HeaderChecksum(b.data()));
  Append(b, payload);
  return b;
}

struct Ipv6Fields {
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;
  uint8_t next_header = 6;
  uint8_t hop_limit = 64;
  std::array<uint8_t, 16> src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
  std::array<uint8_t, 16> dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa};
};

inline Bytes Ipv6(const Ipv6Fields& f, const Bytes& payload) {
  Bytes b;
  AppendBe32(b, 6u << 28 | uint32_t{f.traffic_class} << 20 | (f.flow_label & 0xfffff));
  AppendBe16(b, static_cast<uint16_t>(payload.size()));
  b.push_back(f.next_header);
  b.push_back(f.hop_limit);
  b.insert(b.end(), f.src.begin(), f.src.end());
  b.insert(b.end(), f.dst.begin(), f.dst.end());
  Append(b, payload);
  return b;
}

// TCP header (data offset 5, ACK|PSH, checksum 0) and payload.
inline Bytes Tcp(uint16_t src_port, uint16_t dst_port, const Bytes& payload) {
  Bytes b;
  AppendBe16(b, src_port);
  AppendBe16(b, dst_port);
  AppendBe32(b, 0x01020304);  // sequence
  AppendBe32(b, 0x0a0b0c0d);  // acknowledgment
  b.push_back(0x50);
  b.push_back(0x18);
  AppendBe16(b, 0xfaf0);  // window
  AppendBe16(b, 0);       // checksum
  AppendBe16(b, 0);       // urgent pointer
  Append(b, payload);
  return b;
}

// UDP header (checksum 0) and payload.
inline Bytes Udp(uint16_t src_port, uint16_t dst_port, const Bytes& payload) {
  Bytes b;
  AppendBe16(b, src_port);
  AppendBe16(b, dst_port);
  AppendBe16(b, static_cast<uint16_t>(8 + payload.size()));
  AppendBe16(b, 0);
  Append(b, payload);
  return b;
}

// Fills in the TCP/UDP checksum of the complete IP packet at `ip` (reference value).
inline void FillIpv4L4Checksum(uint8_t* ip) {
  const size_t field = ((ip[0] & 0x0f) * 4u) + RefL4ChecksumField(ip[9]);
  PutBe16(ip + field, RefIpv4L4Checksum(ip));
}
inline void FillIpv6L4Checksum(uint8_t* ip) {
  PutBe16(ip + 40 + RefL4ChecksumField(ip[6]), RefIpv6L4Checksum(ip));
}

// `n` bytes of a deterministic pattern, different for each `seed`.
inline Bytes Pattern(size_t n, uint32_t seed = 1) {
  Bytes b(n);
  uint32_t x = seed * 2654435761u + 12345;
  for (uint8_t& v : b) {
    x = x * 1103515245u + 12345;
    v = static_cast<uint8_t>(x >> 16);
  }
  return b;
}

}  // namespace sluice::dataplane::pkt

#endif  // SLUICE_TESTS_DATAPLANE_PACKET_REFERENCE_H_
