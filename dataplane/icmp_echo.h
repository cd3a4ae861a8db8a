// Turns an ICMP or ICMPv6 echo request addressed to the LB (a port address or a VIP)
// into the echo reply, in place, ready to leave by the port it came in on.
#ifndef SLUICE_DATAPLANE_ICMP_ECHO_H_
#define SLUICE_DATAPLANE_ICMP_ECHO_H_

#include <rte_mbuf.h>

#include "dataplane/forwarding_table.h"
#include "dataplane/packet_parser.h"

namespace sluice::dataplane {

// `p` must be an IPv4 ICMP echo request parsed from `m`. The reply keeps the request's
// identifier, sequence and payload (RFC 792), swaps addresses, and resets the TTL.
void MakeEchoReply(rte_mbuf* m, const ParsedPacket& p, const rte_ether_addr& port_mac);

// `p` must be an IPv6 ICMPv6 echo request (type 128) parsed from `m`, not a fragment,
// whose destination is a unicast address of the LB. The reply (type 129, RFC 4443 4.2)
// keeps identifier, sequence, payload and any extension headers, swaps addresses and
// MACs, and sets the hop limit to 64.
void MakeEchoReply6(rte_mbuf* m, const ParsedPacket& p, const rte_ether_addr& port_mac);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_ICMP_ECHO_H_
