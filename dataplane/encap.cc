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
  // The outer header is assembled in registers and stored with wide stores: building it
  // in a byte array and reading that back (checksum, copy) stalled on store forwarding.
  uint8_t* outer = front + l3_offset;
  if (t.outer_ipv6) {
    const uint32_t traffic_class =
        version == 6 ? (inner_now[0] & 0x0fu) << 4 | inner_now[1] >> 4 : inner_now[1];
    const uint32_t vtc_flow =
        6u << 28 | traffic_class << RTE_IPV6_HDR_TC_SHIFT | (t.flow_label & RTE_IPV6_HDR_FL_MASK);
    const uint64_t w0 = uint64_t{rte_cpu_to_be_32(vtc_flow)} |
                        uint64_t{rte_cpu_to_be_16(static_cast<uint16_t>(inner_len))} << 32 |
                        uint64_t{version == 6 ? uint8_t{IPPROTO_IPV6} : uint8_t{IPPROTO_IPIP}}
                            << 48 |
                        uint64_t{kOuterHopLimit} << 56;
    std::memcpy(outer, &w0, 8);
    std::memcpy(outer + 8, t.src6.data(), 16);
    std::memcpy(outer + 24, t.dst6.data(), 16);
  } else {
    uint16_t id;
    uint16_t frag;
    std::memcpy(&id, inner_now + offsetof(rte_ipv4_hdr, packet_id), 2);
    std::memcpy(&frag, inner_now + offsetof(rte_ipv4_hdr, fragment_offset), 2);
    frag &= rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
    const uint64_t w0 = uint64_t{0x45} | uint64_t{inner_now[1]} << 8 |
                        uint64_t{rte_cpu_to_be_16(static_cast<uint16_t>(inner_len + 20))} << 16 |
                        uint64_t{id} << 32 | uint64_t{frag} << 48;
    uint64_t w1 = uint64_t{kOuterHopLimit} | uint64_t{IPPROTO_IPIP} << 8 | uint64_t{t.src4} << 32;
    // One's complement sum of the header's 16-bit words, in memory order (RFC 1071: the
    // sum is byte-order independent, so the native lanes of the words will do).
    uint64_t sum = (w0 & 0xffffffff) + (w0 >> 32) + (w1 & 0xffffffff) + (w1 >> 32) + t.dst4;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    w1 |= uint64_t{static_cast<uint16_t>(~sum)} << 16;
    std::memcpy(outer, &w0, 8);
    std::memcpy(outer + 8, &w1, 8);
    std::memcpy(outer + 16, &t.dst4, 4);
  }
  return true;
}

}  // namespace sluice::dataplane
