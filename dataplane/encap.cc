// Tunnel encapsulation (see encap.h).
#include "dataplane/encap.h"

#include <netinet/in.h>
#include <rte_ether.h>
#include <rte_ip.h>

#include <cstddef>
#include <cstring>

#include "dataplane/checksum.h"

namespace sluice::dataplane {
namespace {

constexpr uint8_t kOuterHopLimit = 64;

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// The outer headers are built in local arrays and copied into the mbuf: GCC 12 reports
// false out-of-bounds writes for stores through pointers into mbuf data.
void BuildOuterIpv4(const uint8_t* inner, uint16_t inner_len, const TunnelEndpoints& t,
                    uint8_t (&h)[20]) {
  std::memset(h, 0, sizeof(h));
  h[0] = 0x45;
  h[1] = inner[offsetof(rte_ipv4_hdr, type_of_service)];
  StoreBe16(h + offsetof(rte_ipv4_hdr, total_length), static_cast<uint16_t>(inner_len + 20));
  std::memcpy(h + offsetof(rte_ipv4_hdr, packet_id), inner + offsetof(rte_ipv4_hdr, packet_id), 2);
  // DF is copied so that path MTU discovery keeps working through the tunnel: a router
  // that cannot forward the outer packet answers with frag-needed rather than
  // fragmenting. MF and the offset describe the inner packet, not the outer one.
  const uint16_t inner_frag = LoadBe16(inner + offsetof(rte_ipv4_hdr, fragment_offset));
  StoreBe16(h + offsetof(rte_ipv4_hdr, fragment_offset),
            static_cast<uint16_t>(inner_frag & RTE_IPV4_HDR_DF_FLAG));
  h[offsetof(rte_ipv4_hdr, time_to_live)] = kOuterHopLimit;
  h[offsetof(rte_ipv4_hdr, next_proto_id)] = IPPROTO_IPIP;
  std::memcpy(h + offsetof(rte_ipv4_hdr, src_addr), &t.src4, 4);
  std::memcpy(h + offsetof(rte_ipv4_hdr, dst_addr), &t.dst4, 4);
  StoreChecksum(h + offsetof(rte_ipv4_hdr, hdr_checksum), Checksum(h, sizeof(h)));
}

void BuildOuterIpv6(const uint8_t* inner, bool inner_ipv6, uint16_t inner_len,
                    const TunnelEndpoints& t, uint8_t (&h)[40]) {
  const uint32_t traffic_class = inner_ipv6 ? (inner[0] & 0x0fu) << 4 | inner[1] >> 4 : inner[1];
  const uint32_t vtc_flow =
      6u << 28 | traffic_class << RTE_IPV6_HDR_TC_SHIFT | (t.flow_label & RTE_IPV6_HDR_FL_MASK);
  h[0] = static_cast<uint8_t>(vtc_flow >> 24);
  h[1] = static_cast<uint8_t>(vtc_flow >> 16);
  h[2] = static_cast<uint8_t>(vtc_flow >> 8);
  h[3] = static_cast<uint8_t>(vtc_flow);
  StoreBe16(h + offsetof(rte_ipv6_hdr, payload_len), inner_len);
  h[offsetof(rte_ipv6_hdr, proto)] = inner_ipv6 ? IPPROTO_IPV6 : IPPROTO_IPIP;
  h[offsetof(rte_ipv6_hdr, hop_limits)] = kOuterHopLimit;
  std::memcpy(h + offsetof(rte_ipv6_hdr, src_addr), t.src6.data(), 16);
  std::memcpy(h + offsetof(rte_ipv6_hdr, dst_addr), t.dst6.data(), 16);
}

}  // namespace

bool Encapsulate(rte_mbuf* m, uint16_t l3_offset, const TunnelEndpoints& t) {
  const uint16_t overhead = TunnelOverhead(t.outer_ipv6);
  // Everything is checked before the first change so that a refused packet is untouched.
  if (rte_pktmbuf_headroom(m) < overhead || l3_offset < sizeof(rte_ether_hdr)) return false;
  if (m->data_len < l3_offset + 1u) return false;
  const uint8_t* inner = rte_pktmbuf_mtod_offset(m, const uint8_t*, l3_offset);
  const uint8_t version = inner[0] >> 4;
  uint32_t inner_len;
  if (version == 4) {
    if (m->data_len < l3_offset + sizeof(rte_ipv4_hdr)) return false;
    inner_len = LoadBe16(inner + offsetof(rte_ipv4_hdr, total_length));
    if (inner_len < sizeof(rte_ipv4_hdr)) return false;
    if (!t.outer_ipv6 && inner_len + overhead > UINT16_MAX) return false;
  } else if (version == 6) {
    // IPv6 in IPv4 would need protocol 41 and a different decapsulation on the backend.
    if (!t.outer_ipv6) return false;
    if (m->data_len < l3_offset + sizeof(rte_ipv6_hdr)) return false;
    inner_len = sizeof(rte_ipv6_hdr) + LoadBe16(inner + offsetof(rte_ipv6_hdr, payload_len));
    // A jumbogram (payload length 0 with a Hop-by-Hop option) cannot be described in an
    // outer payload length of 16 bits either.
    if (inner_len > UINT16_MAX) return false;
  } else {
    return false;
  }
  const uint32_t frame_len = l3_offset + inner_len;
  if (rte_pktmbuf_pkt_len(m) < frame_len) return false;
  const uint32_t padding = rte_pktmbuf_pkt_len(m) - frame_len;
  // rte_pktmbuf_trim takes bytes from the last segment only; padding spread over two
  // segments does not happen for the short frames that get padded.
  if (padding > 0 && (padding > rte_pktmbuf_lastseg(m)->data_len ||
                      rte_pktmbuf_trim(m, static_cast<uint16_t>(padding)) != 0)) {
    return false;
  }

  auto* front = reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(m, overhead));
  // The L2 header moves to the new front; the two may overlap when l3_offset > overhead.
  std::memmove(front, front + overhead, l3_offset);
  StoreBe16(front + l3_offset - 2, t.outer_ipv6 ? RTE_ETHER_TYPE_IPV6 : RTE_ETHER_TYPE_IPV4);
  const uint8_t* inner_now = front + l3_offset + overhead;
  if (t.outer_ipv6) {
    uint8_t outer[40];
    BuildOuterIpv6(inner_now, version == 6, static_cast<uint16_t>(inner_len), t, outer);
    std::memcpy(front + l3_offset, outer, sizeof(outer));
  } else {
    uint8_t outer[20];
    BuildOuterIpv4(inner_now, static_cast<uint16_t>(inner_len), t, outer);
    std::memcpy(front + l3_offset, outer, sizeof(outer));
  }
  return true;
}

}  // namespace sluice::dataplane
