#include "dataplane/icmp_echo.h"

#include <rte_ip.h>

#include <cstring>

namespace sluice::dataplane {

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
  uint32_t sum = static_cast<uint16_t>(~rte_be_to_cpu_16(icmp->icmp_cksum));
  sum += static_cast<uint16_t>(~old_word);
  sum += new_word;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  icmp->icmp_cksum = rte_cpu_to_be_16(static_cast<uint16_t>(~sum));
}

}  // namespace sluice::dataplane
