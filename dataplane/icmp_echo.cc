#include "dataplane/icmp_echo.h"

#include <rte_ip.h>

#include <array>
#include <cstring>

#include "dataplane/ndp.h"

namespace sluice::dataplane {

namespace {

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the covered data changed from
// `old_word` to `new_word`, all in host order.
uint16_t UpdateChecksum(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  uint32_t sum = static_cast<uint16_t>(~checksum);
  sum += static_cast<uint16_t>(~old_word);
  sum += new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

}  // namespace

[[gnu::cold]] void MakeEchoReply(rte_mbuf* m, const ParsedPacket& p,
                                 const rte_ether_addr& port_mac) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = eth->src_addr;
  eth->src_addr = port_mac;

  auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, p.l3_offset);
  const rte_be32_t requester = ip->src_addr;
  ip->src_addr = ip->dst_addr;
  ip->dst_addr = requester;
  ip->time_to_live = 64;
  ip->hdr_checksum = 0;
  ip->hdr_checksum = rte_ipv4_cksum(ip);

  // Type 8 -> 0 changes one 16-bit word of the ICMP header by 0x0800; update the
  // checksum incrementally (RFC 1624, eqn. 3) instead of summing the payload again.
  auto* icmp = rte_pktmbuf_mtod_offset(m, rte_icmp_hdr*, p.l4_offset);
  const uint16_t old_word = static_cast<uint16_t>(icmp->icmp_type << 8 | icmp->icmp_code);
  icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
  const uint16_t new_word = static_cast<uint16_t>(icmp->icmp_type << 8 | icmp->icmp_code);
  icmp->icmp_cksum =
      rte_cpu_to_be_16(UpdateChecksum(rte_be_to_cpu_16(icmp->icmp_cksum), old_word, new_word));
}

[[gnu::cold]] void MakeEchoReply6(rte_mbuf* m, const ParsedPacket& p,
                                  const rte_ether_addr& port_mac) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = eth->src_addr;
  eth->src_addr = port_mac;

  uint8_t* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, p.l3_offset);
  std::array<uint8_t, 16> requester{};
  std::memcpy(requester.data(), ip + offsetof(rte_ipv6_hdr, src_addr), 16);
  std::memmove(ip + offsetof(rte_ipv6_hdr, src_addr), ip + offsetof(rte_ipv6_hdr, dst_addr), 16);
  std::memcpy(ip + offsetof(rte_ipv6_hdr, dst_addr), requester.data(), 16);
  ip[offsetof(rte_ipv6_hdr, hop_limits)] = 64;

  // The pseudo-header holds both addresses, and a sum does not care about their order,
  // so only the type word changes the checksum: 128 -> 129.
  uint8_t* icmp = rte_pktmbuf_mtod_offset(m, uint8_t*, p.l4_offset);
  const auto old_word = static_cast<uint16_t>(icmp[0] << 8 | icmp[1]);
  icmp[0] = kIcmpv6EchoReply;
  const auto new_word = static_cast<uint16_t>(icmp[0] << 8 | icmp[1]);
  const uint16_t checksum =
      UpdateChecksum(static_cast<uint16_t>(icmp[2] << 8 | icmp[3]), old_word, new_word);
  icmp[2] = static_cast<uint8_t>(checksum >> 8);
  icmp[3] = static_cast<uint8_t>(checksum);
}

}  // namespace sluice::dataplane
