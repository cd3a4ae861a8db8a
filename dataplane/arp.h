// ARP packets the LB sends: replies for its port addresses and VIPs, and requests that
// resolve backends and gateways. Control thread only (the slow path).
#ifndef SLUICE_DATAPLANE_ARP_H_
#define SLUICE_DATAPLANE_ARP_H_

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>

#include "dataplane/packet_parser.h"

namespace sluice::dataplane {

// Turns the ARP request in `m` (parsed as `p`) into the reply "target IP is at `mac`",
// in place, addressed to the requester. An 802.1Q tag is kept.
void MakeArpReply(rte_mbuf* m, const ParsedPacket& p, const rte_ether_addr& mac);

// A broadcast request "who has `target_ip`? tell `sender_ip`". Addresses in network
// byte order. Returns null when the pool is empty.
rte_mbuf* BuildArpRequest(rte_mempool* pool, const rte_ether_addr& sender_mac, uint32_t sender_ip,
                          uint32_t target_ip);

// Sender hardware address of the ARP packet in `m`.
rte_ether_addr ArpSenderMac(const rte_mbuf* m, const ParsedPacket& p);
uint16_t ArpOpcode(const rte_mbuf* m, const ParsedPacket& p);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_ARP_H_
