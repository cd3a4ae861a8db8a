// Test-only builders of IPv6 frames: Ethernet, IPv6, extension headers, ICMPv6 and
// Neighbor Discovery. Checksums are computed here from scratch (RFC 1071 over big-endian
// 16-bit words, the RFC 8200 8.1 pseudo-header), independently of dataplane/ndp.cc, so a
// test comparing against these bytes also checks the production checksum code.
#ifndef SLUICE_TESTS_DATAPLANE_IPV6_FRAMES_H_
#define SLUICE_TESTS_DATAPLANE_IPV6_FRAMES_H_

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <vector>

namespace sluice::dataplane::frames {

using Bytes = std::vector<uint8_t>;
using Addr6 = std::array<uint8_t, 16>;
using Mac = std::array<uint8_t, 6>;

inline Addr6 Ip6(const char* text) {
  Addr6 a{};
  if (inet_pton(AF_INET6, text, a.data()) != 1) std::abort();  // a typo in a test
  return a;
}

inline void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void Put32(Bytes& b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
// Resize, then copy: GCC 12 reports a false -Warray-bounds when a small vector grows by
// insert.
template <typename Container>
void Append(Bytes& b, const Container& c) {
  const size_t old_size = b.size();
  b.resize(old_size + c.size());
  std::copy(c.begin(), c.end(), b.begin() + static_cast<std::ptrdiff_t>(old_size));
}
inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) Append(out, p);
  return out;
}

// Ethernet header, with an 802.1Q tag when vlan >= 0.
inline Bytes Ether(const Mac& dst, const Mac& src, uint16_t type, int vlan = -1) {
  Bytes b;
  Append(b, dst);
  Append(b, src);
  if (vlan >= 0) {
    Put16(b, 0x8100);
    Put16(b, static_cast<uint16_t>(vlan));
  }
  Put16(b, type);
  return b;
}

inline Bytes Ipv6Header(uint8_t next, uint8_t hop_limit, const Addr6& src, const Addr6& dst,
                        size_t payload_len) {
  Bytes b = {0x60, 0, 0, 0};
  Put16(b, static_cast<uint16_t>(payload_len));
  b.push_back(next);
  b.push_back(hop_limit);
  Append(b, src);
  Append(b, dst);
  return b;
}

// An extension header with the 8-byte-unit length field (Hop-by-Hop, Destination
// Options, Routing): next, length, then `body` padded with zeros to a multiple of 8.
inline Bytes ExtensionHeader(uint8_t next, Bytes body) {
  while ((body.size() + 2) % 8 != 0) body.push_back(0);
  Bytes b = {next, static_cast<uint8_t>((body.size() + 2) / 8 - 1)};
  Append(b, body);
  return b;
}
// A Routing header (type 4, segment routing) with `segments_left`; the rest is zeros.
inline Bytes RoutingHeader(uint8_t next, uint8_t segments_left) {
  return ExtensionHeader(next, Bytes{4, segments_left, 0, 0, 0, 0});
}
inline Bytes FragmentHeader(uint8_t next, uint16_t offset_units, bool more, uint32_t id) {
  Bytes b = {next, 0};
  Put16(b, static_cast<uint16_t>(offset_units << 3 | (more ? 1 : 0)));
  Put32(b, id);
  return b;
}

// RFC 1071: the complement of the one's complement sum of big-endian 16-bit words.
inline uint16_t InternetChecksum(const Bytes& data) {
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    sum += static_cast<uint32_t>(data[i]) << 8;
    if (i + 1 < data.size()) sum += data[i + 1];
  }
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// An ICMPv6 message (type, code, checksum, `rest`) with its checksum over the
// pseudo-header for src/dst.
inline Bytes Icmpv6(const Addr6& src, const Addr6& dst, uint8_t type, uint8_t code,
                    const Bytes& rest) {
  Bytes msg = {type, code, 0, 0};
  Append(msg, rest);
  Bytes pseudo;
  Append(pseudo, src);
  Append(pseudo, dst);
  Put32(pseudo, static_cast<uint32_t>(msg.size()));
  Append(pseudo, Bytes{0, 0, 0, 58});
  Append(pseudo, msg);
  const uint16_t checksum = InternetChecksum(pseudo);
  msg[2] = static_cast<uint8_t>(checksum >> 8);
  msg[3] = static_cast<uint8_t>(checksum);
  return msg;
}

// A link-layer address option: type 1 (source) or 2 (target), length 1.
inline Bytes LinkLayerOption(uint8_t type, const Mac& mac) {
  Bytes b = {type, 1};
  Append(b, mac);
  return b;
}

// The body of an NS (reserved, target, options) or NA (flags, target, options) after
// the checksum.
inline Bytes NdBody(uint8_t flags, const Addr6& target, const Bytes& options) {
  Bytes b = {flags, 0, 0, 0};
  Append(b, target);
  Append(b, options);
  return b;
}

// A whole frame: Ethernet, IPv6 header with payload length = payload.size(), payload.
inline Bytes Ipv6Frame(const Mac& eth_dst, const Mac& eth_src, uint8_t next, uint8_t hop_limit,
                       const Addr6& src, const Addr6& dst, const Bytes& payload, int vlan = -1) {
  return Cat({Ether(eth_dst, eth_src, 0x86dd, vlan),
              Ipv6Header(next, hop_limit, src, dst, payload.size()), payload});
}

}  // namespace sluice::dataplane::frames

#endif  // SLUICE_TESTS_DATAPLANE_IPV6_FRAMES_H_
