#include "dataplane/arp.h"

#include <rte_arp.h>

#include <array>
#include <cstring>

namespace sluice::dataplane {

void MakeArpReply(rte_mbuf* m, const ParsedPacket& p, const rte_ether_addr& mac) {
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  auto* arp = rte_pktmbuf_mtod_offset(m, rte_arp_hdr*, p.l3_offset);
  rte_arp_ipv4& d = arp->arp_data;
  const rte_ether_addr requester = d.arp_sha;
  const uint32_t requester_ip = d.arp_sip;
  const uint32_t target_ip = d.arp_tip;
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
  d.arp_tha = requester;
  d.arp_tip = requester_ip;
  d.arp_sha = mac;
  d.arp_sip = target_ip;
  eth->dst_addr = requester;
  eth->src_addr = mac;
}

rte_mbuf* BuildArpRequest(rte_mempool* pool, const rte_ether_addr& sender_mac, uint32_t sender_ip,
                          uint32_t target_ip) {
  // 14 + 28 bytes padded to the 60-byte Ethernet minimum, padding zeroed.
  constexpr uint16_t kFrameLen = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
  alignas(8) std::array<uint8_t, kFrameLen> frame{};
  auto* eth = reinterpret_cast<rte_ether_hdr*>(frame.data());
  std::memset(&eth->dst_addr, 0xff, sizeof(eth->dst_addr));
  eth->src_addr = sender_mac;
  eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_ARP);
  auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
  arp->arp_hardware = RTE_BE16(RTE_ARP_HRD_ETHER);
  arp->arp_protocol = RTE_BE16(RTE_ETHER_TYPE_IPV4);
  arp->arp_hlen = RTE_ETHER_ADDR_LEN;
  arp->arp_plen = 4;
  arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REQUEST);
  arp->arp_data.arp_sha = sender_mac;
  arp->arp_data.arp_sip = sender_ip;
  arp->arp_data.arp_tip = target_ip;  // arp_tha stays zero

  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  char* data = rte_pktmbuf_append(m, kFrameLen);
  if (data == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(data, frame.data(), kFrameLen);
  return m;
}

rte_ether_addr ArpSenderMac(const rte_mbuf* m, const ParsedPacket& p) {
  return rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, p.l3_offset)->arp_data.arp_sha;
}

uint16_t ArpOpcode(const rte_mbuf* m, const ParsedPacket& p) {
  return rte_be_to_cpu_16(rte_pktmbuf_mtod_offset(m, const rte_arp_hdr*, p.l3_offset)->arp_opcode);
}

}  // namespace sluice::dataplane
