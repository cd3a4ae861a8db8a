// Neighbor Discovery messages: validation of what arrives, construction of what Sluice
// sends. Frames are built in a local array and copied into the mbuf in one go (GCC 12
// reports false array-bounds errors for stores through mbuf data pointers).
#include "dataplane/ndp.h"

#include <rte_ip.h>

#include <algorithm>
#include <cstring>

namespace sluice::dataplane {

namespace {

using Address = std::array<uint8_t, 16>;

constexpr uint32_t kEthLen = sizeof(rte_ether_hdr);
constexpr uint32_t kIpv6Len = internal::kIpv6HeaderLen;
// Type, code, checksum, flags/reserved, target (RFC 4861 4.3, 4.4).
constexpr uint32_t kNdFixedLen = 24;
// One link-layer address option for Ethernet: type, length 1 (8 bytes), the MAC.
constexpr uint32_t kLinkLayerOptionLen = 8;
constexpr uint8_t kOptionSourceLinkLayer = 1;
constexpr uint8_t kOptionTargetLinkLayer = 2;
constexpr uint8_t kFlagSolicited = 0x40;
constexpr uint8_t kFlagOverride = 0x20;
constexpr uint8_t kNdHopLimit = 255;  // proves the sender is on the link (RFC 4861 7.1)

constexpr Address kAllNodes = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
constexpr rte_ether_addr kAllNodesMac = {{0x33, 0x33, 0, 0, 0, 0x01}};

bool IsUnspecified(const uint8_t* a) {
  return std::all_of(a, a + 16, [](uint8_t b) { return b == 0; });
}
bool IsMulticast(const uint8_t* a) { return a[0] == 0xff; }
bool IsSolicitedNode(const uint8_t* a) {
  const Address prefix = SolicitedNodeAddress(Address{});
  return std::memcmp(a, prefix.data(), 13) == 0;
}

// Ethernet multicast for an IPv6 multicast address: 33:33 and its low 32 bits (RFC 2464).
rte_ether_addr MulticastMac(const Address& group) {
  return rte_ether_addr{{0x33, 0x33, group[12], group[13], group[14], group[15]}};
}

// The fixed IPv6 header of a message Sluice originates: no traffic class or flow label,
// ICMPv6 directly, hop limit 255.
void WriteIpv6Header(uint8_t* ip, uint16_t payload_len, const uint8_t* src, const uint8_t* dst) {
  std::memset(ip, 0, kIpv6Len);
  ip[0] = 0x60;
  ip[4] = static_cast<uint8_t>(payload_len >> 8);
  ip[5] = static_cast<uint8_t>(payload_len);
  ip[6] = internal::kIpProtoIcmpv6;
  ip[7] = kNdHopLimit;
  std::memcpy(ip + 8, src, 16);
  std::memcpy(ip + 24, dst, 16);
}

// Fills the checksum of the ICMPv6 message that follows the IPv6 header at `ip`.
void FillChecksum(uint8_t* ip, uint32_t icmp_len) {
  uint8_t* icmp = ip + kIpv6Len;
  icmp[2] = 0;
  icmp[3] = 0;
  const auto checksum = static_cast<uint16_t>(~Icmpv6Sum(ip + 8, ip + 24, icmp, icmp_len));
  std::memcpy(icmp + 2, &checksum, 2);  // memory byte order, like the sum
}

}  // namespace

Address SolicitedNodeAddress(const Address& target) {
  return Address{0xff, 0x02, 0, 0,    0,    0,          0,          0,
                 0,    0,    0, 0x01, 0xff, target[13], target[14], target[15]};
}

uint16_t Icmpv6Sum(const uint8_t* src, const uint8_t* dst, const uint8_t* msg, uint32_t len) {
  // Pseudo-header (RFC 8200 8.1): source, destination, 32-bit upper-layer length, three
  // zero bytes, next header 58.
  const std::array<uint8_t, 8> tail = {static_cast<uint8_t>(len >> 24),
                                       static_cast<uint8_t>(len >> 16),
                                       static_cast<uint8_t>(len >> 8),
                                       static_cast<uint8_t>(len),
                                       0,
                                       0,
                                       0,
                                       internal::kIpProtoIcmpv6};
  uint32_t sum = __rte_raw_cksum(src, 16, 0);
  sum = __rte_raw_cksum(dst, 16, sum);
  sum = __rte_raw_cksum(tail.data(), tail.size(), sum);
  sum = __rte_raw_cksum(msg, len, sum);
  return __rte_raw_cksum_reduce(sum);
}

bool ParseNd(const uint8_t* frame, uint32_t frame_len, const ParsedPacket& p, NdMessage* out) {
  // RFC 6980: ND must not be fragmented; a fragment could hide options from inspection.
  if (p.kind != PacketKind::kIpv6 || p.ip_proto != internal::kIpProtoIcmpv6 || p.is_fragment) {
    return false;
  }
  if (p.icmp_type != kIcmpv6NeighborSolicitation && p.icmp_type != kIcmpv6NeighborAdvertisement) {
    return false;
  }
  const uint32_t l3_end = uint32_t{p.l3_offset} + p.l3_length;
  if (l3_end > frame_len || p.l4_offset > l3_end) return false;  // not parsed from this frame
  const uint8_t* ip = frame + p.l3_offset;
  const uint8_t* src = Ipv6Src(frame, p);
  const uint8_t* dst = Ipv6Dst(frame, p);
  const uint8_t* icmp = frame + p.l4_offset;
  const uint32_t len = l3_end - p.l4_offset;
  if (ip[offsetof(rte_ipv6_hdr, hop_limits)] != kNdHopLimit || p.icmp_code != 0 ||
      len < kNdFixedLen) {
    return false;
  }
  if (Icmpv6Sum(src, dst, icmp, len) != 0xffff) return false;
  const uint8_t* target = icmp + 8;
  if (IsMulticast(target)) return false;

  NdMessage m;
  m.solicitation = p.icmp_type == kIcmpv6NeighborSolicitation;
  std::memcpy(m.target.data(), target, 16);
  const bool from_unspecified = IsUnspecified(src);
  if (m.solicitation) {
    if (from_unspecified && !IsSolicitedNode(dst)) return false;
  } else {
    m.solicited = (icmp[4] & kFlagSolicited) != 0;
    m.override_flag = (icmp[4] & kFlagOverride) != 0;
    if (m.solicited && IsMulticast(dst)) return false;
  }
  const uint8_t wanted = m.solicitation ? kOptionSourceLinkLayer : kOptionTargetLinkLayer;
  for (uint32_t pos = kNdFixedLen; pos < len;) {
    if (len - pos < 2) return false;
    const uint32_t option_len = icmp[pos + 1] * 8u;
    if (option_len == 0 || option_len > len - pos) return false;
    if (icmp[pos] == kOptionSourceLinkLayer && m.solicitation && from_unspecified) return false;
    // Options not defined for the message are ignored (RFC 4861 4.3, 4.4); of repeated
    // link-layer options the first counts.
    if (icmp[pos] == wanted && !m.has_link_layer) {
      m.has_link_layer = true;
      std::memcpy(m.link_layer.addr_bytes, icmp + pos + 2, RTE_ETHER_ADDR_LEN);
    }
    pos += option_len;
  }
  *out = m;
  return true;
}

bool MakeNeighborAdvertisement(rte_mbuf* m, const ParsedPacket& p, const NdMessage& ns,
                               const rte_ether_addr& port_mac) {
  const uint8_t* in = rte_pktmbuf_mtod(m, const uint8_t*);
  const uint8_t* solicitor = Ipv6Src(in, p);
  // RFC 4861 7.2.4: to the solicitor, or to all nodes when it has no address yet (DAD).
  const bool dad = IsUnspecified(solicitor);
  rte_ether_addr eth_dst = kAllNodesMac;
  if (!dad) {
    if (ns.has_link_layer) {
      eth_dst = ns.link_layer;
    } else {
      std::memcpy(eth_dst.addr_bytes, in + offsetof(rte_ether_hdr, src_addr), RTE_ETHER_ADDR_LEN);
    }
  }

  constexpr uint32_t kNaLen = kIpv6Len + kNdFixedLen + kLinkLayerOptionLen;
  alignas(8) std::array<uint8_t, kNaLen> na{};
  WriteIpv6Header(na.data(), kNdFixedLen + kLinkLayerOptionLen, ns.target.data(),
                  dad ? kAllNodes.data() : solicitor);
  uint8_t* icmp = na.data() + kIpv6Len;
  icmp[0] = kIcmpv6NeighborAdvertisement;
  // Sluice is not a router (R=0); the address is its own, so O=1.
  icmp[4] = static_cast<uint8_t>((dad ? 0 : kFlagSolicited) | kFlagOverride);
  std::memcpy(icmp + 8, ns.target.data(), 16);
  icmp[kNdFixedLen] = kOptionTargetLinkLayer;
  icmp[kNdFixedLen + 1] = 1;
  std::memcpy(icmp + kNdFixedLen + 2, port_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  FillChecksum(na.data(), kNdFixedLen + kLinkLayerOptionLen);

  // The NS was parsed from the first segment; anything chained after it is beyond the
  // IPv6 packet. Then size the one segment to exactly the NA.
  if (m->next != nullptr) {
    rte_pktmbuf_free(m->next);
    m->next = nullptr;
    m->nb_segs = 1;
    m->pkt_len = m->data_len;
  }
  const uint32_t new_len = p.l3_offset + kNaLen;
  if (m->data_len > new_len) {
    rte_pktmbuf_trim(m, static_cast<uint16_t>(m->data_len - new_len));
  } else if (m->data_len < new_len &&
             rte_pktmbuf_append(m, static_cast<uint16_t>(new_len - m->data_len)) == nullptr) {
    return false;
  }
  uint8_t* out = rte_pktmbuf_mtod(m, uint8_t*);
  std::memcpy(out + offsetof(rte_ether_hdr, dst_addr), eth_dst.addr_bytes, RTE_ETHER_ADDR_LEN);
  std::memcpy(out + offsetof(rte_ether_hdr, src_addr), port_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  std::memcpy(out + p.l3_offset, na.data(), kNaLen);
  return true;
}

rte_mbuf* MakeNeighborSolicitation(rte_mempool* pool, const Address& source, const Address& target,
                                   const rte_ether_addr& port_mac) {
  const bool unspecified = IsUnspecified(source.data());
  const uint32_t icmp_len = kNdFixedLen + (unspecified ? 0 : kLinkLayerOptionLen);
  const uint32_t frame_len = kEthLen + kIpv6Len + icmp_len;  // 78 or 86: no padding needed
  alignas(8) std::array<uint8_t, kEthLen + kIpv6Len + kNdFixedLen + kLinkLayerOptionLen> frame{};
  const Address group = SolicitedNodeAddress(target);
  const rte_ether_addr group_mac = MulticastMac(group);
  std::memcpy(frame.data() + offsetof(rte_ether_hdr, dst_addr), group_mac.addr_bytes,
              RTE_ETHER_ADDR_LEN);
  std::memcpy(frame.data() + offsetof(rte_ether_hdr, src_addr), port_mac.addr_bytes,
              RTE_ETHER_ADDR_LEN);
  frame[12] = RTE_ETHER_TYPE_IPV6 >> 8;
  frame[13] = RTE_ETHER_TYPE_IPV6 & 0xff;
  uint8_t* ip = frame.data() + kEthLen;
  WriteIpv6Header(ip, static_cast<uint16_t>(icmp_len), source.data(), group.data());
  uint8_t* icmp = ip + kIpv6Len;
  icmp[0] = kIcmpv6NeighborSolicitation;
  std::memcpy(icmp + 8, target.data(), 16);
  if (!unspecified) {
    icmp[kNdFixedLen] = kOptionSourceLinkLayer;
    icmp[kNdFixedLen + 1] = 1;
    std::memcpy(icmp + kNdFixedLen + 2, port_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  }
  FillChecksum(ip, icmp_len);

  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame_len));
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(data, frame.data(), frame_len);
  return m;
}

}  // namespace sluice::dataplane
