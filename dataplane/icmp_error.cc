// ICMP error construction and translation (see icmp_error.h).
#include "dataplane/icmp_error.h"

#include <netinet/in.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "dataplane/checksum.h"

namespace sluice::dataplane {
namespace {

constexpr uint8_t kTtl = 64;
constexpr uint16_t kIcmpHeaderLen = 8;  // type, code, checksum, 4 type-specific bytes
constexpr size_t kIcmpChecksum = 2;

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void StoreBe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

// Copies `len` bytes at `off` of a possibly segmented mbuf to `dst`. The caller has
// checked that the mbuf holds them.
void ReadInto(const rte_mbuf* m, uint32_t off, uint32_t len, uint8_t* dst) {
  const void* src = rte_pktmbuf_read(m, off, len, dst);
  if (src != dst) std::memcpy(dst, src, len);
}

// Allocates the answer with room for `len` bytes, copies the original's L2 header into it
// and turns it around: back to the sender, from `port_mac`, with `ether_type`. Any
// 802.1Q tag stays, so the answer leaves on the VLAN the original came from.
uint8_t* StartAnswer(rte_mempool* pool, const rte_mbuf* original, uint16_t l3_offset, uint32_t len,
                     const rte_ether_addr& port_mac, uint16_t ether_type, rte_mbuf** answer) {
  *answer = nullptr;
  if (len > UINT16_MAX) return nullptr;
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
  if (frame == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  ReadInto(original, 0, l3_offset, frame);
  std::memcpy(frame + offsetof(rte_ether_hdr, dst_addr), frame + offsetof(rte_ether_hdr, src_addr),
              RTE_ETHER_ADDR_LEN);
  std::memcpy(frame + offsetof(rte_ether_hdr, src_addr), port_mac.addr_bytes, RTE_ETHER_ADDR_LEN);
  StoreBe16(frame + l3_offset - 2, ether_type);
  *answer = m;
  return frame;
}

}  // namespace

[[gnu::cold]] rte_mbuf* MakeFragmentationNeeded(rte_mempool* pool, const rte_mbuf* original,
                                                uint16_t l3_offset, uint16_t next_hop_mtu,
                                                const rte_ether_addr& port_mac) {
  const uint32_t pkt_len = rte_pktmbuf_pkt_len(original);
  if (l3_offset < sizeof(rte_ether_hdr) || pkt_len < l3_offset + sizeof(rte_ipv4_hdr)) {
    return nullptr;
  }
  uint8_t orig_ip[sizeof(rte_ipv4_hdr)];
  ReadInto(original, l3_offset, sizeof(orig_ip), orig_ip);
  const uint32_t header_len = (orig_ip[0] & 0x0f) * 4u;
  const uint32_t total_len = LoadBe16(orig_ip + offsetof(rte_ipv4_hdr, total_length));
  if ((orig_ip[0] >> 4) != 4 || header_len < sizeof(rte_ipv4_hdr) || total_len < header_len) {
    return nullptr;
  }
  // The quote stops at the IP packet's own end, so Ethernet padding is never quoted.
  const uint32_t quote_len =
      std::min({total_len, pkt_len - l3_offset,
                uint32_t{kIcmpErrorMaxIpv4Length - sizeof(rte_ipv4_hdr) - kIcmpHeaderLen}});
  const uint32_t ip_len = sizeof(rte_ipv4_hdr) + kIcmpHeaderLen + quote_len;

  rte_mbuf* m;
  uint8_t* frame =
      StartAnswer(pool, original, l3_offset, l3_offset + ip_len, port_mac, RTE_ETHER_TYPE_IPV4, &m);
  if (frame == nullptr) return nullptr;
  uint8_t* quote = frame + l3_offset + sizeof(rte_ipv4_hdr) + kIcmpHeaderLen;
  ReadInto(original, l3_offset, quote_len, quote);

  // Headers are built in a local array and copied: GCC 12 reports false array-bounds
  // errors for stores into mbuf data.
  uint8_t h[sizeof(rte_ipv4_hdr) + kIcmpHeaderLen] = {};
  h[0] = 0x45;
  StoreBe16(h + offsetof(rte_ipv4_hdr, total_length), static_cast<uint16_t>(ip_len));
  h[offsetof(rte_ipv4_hdr, time_to_live)] = kTtl;
  h[offsetof(rte_ipv4_hdr, next_proto_id)] = IPPROTO_ICMP;
  std::memcpy(h + offsetof(rte_ipv4_hdr, src_addr), orig_ip + offsetof(rte_ipv4_hdr, dst_addr), 4);
  std::memcpy(h + offsetof(rte_ipv4_hdr, dst_addr), orig_ip + offsetof(rte_ipv4_hdr, src_addr), 4);
  StoreChecksum(h + offsetof(rte_ipv4_hdr, hdr_checksum), Checksum(h, sizeof(rte_ipv4_hdr)));
  uint8_t* icmp = h + sizeof(rte_ipv4_hdr);
  icmp[0] = kIcmpDestinationUnreachable;
  icmp[1] = kIcmpFragmentationNeeded;
  // Bytes 4..5 are unused (zero); 6..7 carry the next-hop MTU (RFC 1191).
  StoreBe16(icmp + 6, next_hop_mtu);
  StoreChecksum(icmp + kIcmpChecksum,
                ChecksumFinish(ChecksumAccumulate(quote, quote_len,
                                                  ChecksumAccumulate(icmp, kIcmpHeaderLen))));
  std::memcpy(frame + l3_offset, h, sizeof(h));
  return m;
}

[[gnu::cold]] rte_mbuf* MakePacketTooBig(rte_mempool* pool, const rte_mbuf* original,
                                         uint16_t l3_offset, uint32_t mtu,
                                         const rte_ether_addr& port_mac) {
  const uint32_t pkt_len = rte_pktmbuf_pkt_len(original);
  if (l3_offset < sizeof(rte_ether_hdr) || pkt_len < l3_offset + sizeof(rte_ipv6_hdr)) {
    return nullptr;
  }
  uint8_t orig_ip[sizeof(rte_ipv6_hdr)];
  ReadInto(original, l3_offset, sizeof(orig_ip), orig_ip);
  if ((orig_ip[0] >> 4) != 6) return nullptr;
  const uint32_t total_len =
      sizeof(rte_ipv6_hdr) + LoadBe16(orig_ip + offsetof(rte_ipv6_hdr, payload_len));
  const uint32_t quote_len =
      std::min({total_len, pkt_len - l3_offset,
                uint32_t{kIcmpErrorMaxIpv6Length - sizeof(rte_ipv6_hdr) - kIcmpHeaderLen}});
  const uint32_t icmp_len = kIcmpHeaderLen + quote_len;

  rte_mbuf* m;
  uint8_t* frame =
      StartAnswer(pool, original, l3_offset, l3_offset + sizeof(rte_ipv6_hdr) + icmp_len, port_mac,
                  RTE_ETHER_TYPE_IPV6, &m);
  if (frame == nullptr) return nullptr;
  uint8_t* quote = frame + l3_offset + sizeof(rte_ipv6_hdr) + kIcmpHeaderLen;
  ReadInto(original, l3_offset, quote_len, quote);

  uint8_t h[sizeof(rte_ipv6_hdr) + kIcmpHeaderLen] = {};
  h[0] = 0x60;  // version 6, traffic class 0, flow label 0
  StoreBe16(h + offsetof(rte_ipv6_hdr, payload_len), static_cast<uint16_t>(icmp_len));
  h[offsetof(rte_ipv6_hdr, proto)] = IPPROTO_ICMPV6;
  h[offsetof(rte_ipv6_hdr, hop_limits)] = kTtl;
  uint8_t* src = h + offsetof(rte_ipv6_hdr, src_addr);
  uint8_t* dst = h + offsetof(rte_ipv6_hdr, dst_addr);
  std::memcpy(src, orig_ip + offsetof(rte_ipv6_hdr, dst_addr), 16);
  std::memcpy(dst, orig_ip + offsetof(rte_ipv6_hdr, src_addr), 16);
  uint8_t* icmp = h + sizeof(rte_ipv6_hdr);
  icmp[0] = kIcmp6PacketTooBig;
  icmp[1] = 0;
  const uint8_t mtu_bytes[4] = {static_cast<uint8_t>(mtu >> 24), static_cast<uint8_t>(mtu >> 16),
                                static_cast<uint8_t>(mtu >> 8), static_cast<uint8_t>(mtu)};
  std::memcpy(icmp + 4, mtu_bytes, 4);
  // ICMPv6, unlike ICMP, covers the IPv6 pseudo-header (RFC 4443 2.3). A result of 0 is
  // stored as 0: the UDP convention of sending 0xffff does not apply.
  uint64_t sum = Ipv6PseudoHeaderSum(src, dst, IPPROTO_ICMPV6, icmp_len);
  sum = ChecksumAccumulate(quote, quote_len, ChecksumAccumulate(icmp, kIcmpHeaderLen, sum));
  StoreChecksum(icmp + kIcmpChecksum, ChecksumFinish(sum));
  std::memcpy(frame + l3_offset, h, sizeof(h));
  return m;
}

bool ParseIcmpError(const uint8_t* frame, uint32_t frame_len, uint16_t l3_offset,
                    uint16_t l4_offset, uint32_t l3_end, bool ipv6, QuotedFlow* out) {
  // Nothing past the outer IP packet (padding) or past the frame is read.
  const uint32_t end = std::min(frame_len, l3_end);
  if (l4_offset <= l3_offset || l4_offset + uint32_t{kIcmpHeaderLen} > end) return false;
  const uint8_t* icmp = frame + l4_offset;
  const uint8_t type = icmp[0];
  uint32_t mtu = 0;
  if (!ipv6) {
    if (type != kIcmpDestinationUnreachable && type != kIcmpTimeExceeded) return false;
    if (type == kIcmpDestinationUnreachable && icmp[1] == kIcmpFragmentationNeeded)
      mtu = LoadBe16(icmp + 6);
  } else {
    if (type != kIcmp6DestinationUnreachable && type != kIcmp6PacketTooBig &&
        type != kIcmp6TimeExceeded) {
      return false;
    }
    if (type == kIcmp6PacketTooBig) {
      mtu = uint32_t{LoadBe16(icmp + 4)} << 16 | LoadBe16(icmp + 6);
    }
  }

  const uint32_t quote_offset = l4_offset + uint32_t{kIcmpHeaderLen};
  const uint8_t* quote = frame + quote_offset;
  const uint32_t quote_len = end - quote_offset;
  uint32_t quoted_header_len;
  uint8_t proto;
  QuotedFlow q;
  q.ipv6 = ipv6;
  if (!ipv6) {
    if (quote_len < sizeof(rte_ipv4_hdr) || (quote[0] >> 4) != 4) return false;
    quoted_header_len = (quote[0] & 0x0f) * 4u;
    if (quoted_header_len < sizeof(rte_ipv4_hdr) || quoted_header_len > quote_len) return false;
    // A later fragment has no L4 header: what sits where the ports would be is payload.
    if ((LoadBe16(quote + offsetof(rte_ipv4_hdr, fragment_offset)) & RTE_IPV4_HDR_OFFSET_MASK) !=
        0) {
      return false;
    }
    proto = quote[offsetof(rte_ipv4_hdr, next_proto_id)];
    std::memcpy(q.src.data(), quote + offsetof(rte_ipv4_hdr, src_addr), 4);
    std::memcpy(q.dst.data(), quote + offsetof(rte_ipv4_hdr, dst_addr), 4);
  } else {
    if (quote_len < sizeof(rte_ipv6_hdr) || (quote[0] >> 4) != 6) return false;
    quoted_header_len = sizeof(rte_ipv6_hdr);
    proto = quote[offsetof(rte_ipv6_hdr, proto)];
    std::memcpy(q.src.data(), quote + offsetof(rte_ipv6_hdr, src_addr), 16);
    std::memcpy(q.dst.data(), quote + offsetof(rte_ipv6_hdr, dst_addr), 16);
  }
  if (proto != IPPROTO_TCP && proto != IPPROTO_UDP) return false;
  // The first 8 bytes of TCP and UDP hold both ports (and, for UDP, the checksum).
  constexpr uint32_t kPortsLen = 8;
  if (quote_len - quoted_header_len < kPortsLen) return false;
  const uint8_t* l4 = quote + quoted_header_len;
  q.ip_proto = proto;
  std::memcpy(&q.src_port, l4 + offsetof(rte_tcp_hdr, src_port), 2);
  std::memcpy(&q.dst_port, l4 + offsetof(rte_tcp_hdr, dst_port), 2);
  q.quote_offset = static_cast<uint16_t>(quote_offset);
  q.quote_l4_offset = static_cast<uint16_t>(quote_offset + quoted_header_len);
  q.quote_length = static_cast<uint16_t>(std::min(quote_len, uint32_t{UINT16_MAX}));
  q.mtu = mtu;
  *out = q;
  return true;
}

[[gnu::cold]] void NatTranslateIcmpError(uint8_t* frame, uint16_t l3_offset, uint16_t l4_offset,
                                         uint32_t l3_end, const QuotedFlow& q, uint32_t backend_ip,
                                         uint16_t backend_port) {
  // Outer header: the error now goes to the backend.
  uint8_t* outer = frame + l3_offset;
  uint8_t* outer_csum = outer + offsetof(rte_ipv4_hdr, hdr_checksum);
  uint8_t* outer_dst = outer + offsetof(rte_ipv4_hdr, dst_addr);
  StoreChecksum(outer_csum, ChecksumAdjust(LoadChecksum(outer_csum), outer_dst, &backend_ip, 4));
  std::memcpy(outer_dst, &backend_ip, 4);

  // The quoted packet is the one the backend sent, before the LB rewrote its source.
  uint8_t* quoted = frame + q.quote_offset;
  uint8_t* quoted_csum = quoted + offsetof(rte_ipv4_hdr, hdr_checksum);
  uint8_t* quoted_src = quoted + offsetof(rte_ipv4_hdr, src_addr);
  uint8_t old_bytes[6];
  uint8_t new_bytes[6];
  std::memcpy(old_bytes, quoted_src, 4);
  std::memcpy(new_bytes, &backend_ip, 4);
  StoreChecksum(quoted_csum, ChecksumAdjust(LoadChecksum(quoted_csum), old_bytes, new_bytes, 4));
  std::memcpy(quoted_src, &backend_ip, 4);

  uint8_t* l4 = frame + q.quote_l4_offset;
  uint8_t* src_port = l4 + offsetof(rte_tcp_hdr, src_port);
  std::memcpy(old_bytes + 4, src_port, 2);
  std::memcpy(new_bytes + 4, &backend_port, 2);
  std::memcpy(src_port, &backend_port, 2);
  // The quoted L4 checksum covers data the quote may not hold, so it can only be
  // adjusted, never recomputed; it is left alone when the quote stops before it.
  const uint32_t quote_end = uint32_t{q.quote_offset} + q.quote_length;
  const size_t csum_offset =
      q.ip_proto == IPPROTO_TCP ? offsetof(rte_tcp_hdr, cksum) : offsetof(rte_udp_hdr, dgram_cksum);
  if (q.quote_l4_offset + csum_offset + 2 <= quote_end) {
    uint8_t* l4_csum = l4 + csum_offset;
    const uint16_t old_csum = LoadChecksum(l4_csum);
    StoreChecksum(l4_csum, q.ip_proto == IPPROTO_UDP
                               ? UdpChecksumAdjust(old_csum, old_bytes, new_bytes, 6)
                               : ChecksumAdjust(old_csum, old_bytes, new_bytes, 6));
  }

  // Four places of the message changed; ICMP errors are rare, so one full sum is simpler
  // than chaining four adjustments and costs nothing that matters.
  uint8_t* icmp = frame + l4_offset;
  StoreChecksum(icmp + kIcmpChecksum, 0);
  StoreChecksum(icmp + kIcmpChecksum, Checksum(icmp, l3_end - l4_offset));
}

}  // namespace sluice::dataplane
