// IP-in-IP and IP-in-IPv6 encapsulation for the tunnel forwarding mode (the backend
// decapsulates and answers the client directly, so the inner packet must reach it
// exactly as the client sent it). Called by the workers per packet.
#ifndef SLUICE_DATAPLANE_ENCAP_H_
#define SLUICE_DATAPLANE_ENCAP_H_

#include <rte_mbuf.h>

#include <array>
#include <cstdint>

namespace sluice::dataplane {

// The outer header's addresses. IPv4 addresses in network byte order, as on the wire.
struct TunnelEndpoints {
  bool outer_ipv6 = false;
  uint32_t src4 = 0, dst4 = 0;
  std::array<uint8_t, 16> src6{}, dst6{};
  // Only the low 20 bits are used. Derive it from the inner flow so that ECMP and RSS on
  // the way to the backend keep one flow on one path (RFC 6438).
  uint32_t flow_label = 0;
};

// Bytes Encapsulate adds: the outer IP header (no options, no extension headers).
inline constexpr uint16_t TunnelOverhead(bool outer_ipv6) { return outer_ipv6 ? 40 : 20; }

// `m` holds an Ethernet frame (`l3_offset` = 14, or 18 with one 802.1Q tag) whose L3
// packet is IPv4 or IPv6 (told apart by the version nibble). Trims Ethernet padding after
// the inner packet, then inserts the outer header between the L2 header and the inner
// packet and sets the ethertype to the outer family. The L2 addresses are left for the
// caller (the next hop's MAC is not known here); the inner packet is not changed at all.
//
// Outer IPv4 (IPIP, protocol 4; the inner packet must be IPv4): TOS, identification and
// DF copied from the inner header, no fragment offset, TTL 64. Outer IPv6 (next header 4
// or 41): traffic class from the inner TOS or traffic class, t.flow_label, hop limit 64.
//
// Returns false, leaving the mbuf untouched, when the headroom is smaller than
// TunnelOverhead, the inner packet is not IPv4/IPv6 or is longer than the frame, the
// inner packet is IPv6 and the outer IPv4, or the outer IPv4 length would pass 65535.
// The L2 and inner IP headers must be in the first segment. m->l2_len/l3_len and the
// offload flags are not touched.
bool Encapsulate(rte_mbuf* m, uint16_t l3_offset, const TunnelEndpoints& t);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_ENCAP_H_
