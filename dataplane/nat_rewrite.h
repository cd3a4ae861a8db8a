// In-place IPv4 NAT rewrites for the full-NAT forwarding mode: the destination towards a
// backend, the source on the way back, and the TTL decrement of a routed hop. Every
// checksum the change touches is updated incrementally (RFC 1624), so the cost does not
// depend on the payload size and a packet whose checksum was wrong stays wrong (the
// receiver still drops it, as it would have without us).
//
// Called by the workers per packet. `l3` points at the IPv4 header, `l4` at the TCP or
// UDP header; the caller has parsed and bounds-checked both (ParseFrame). Addresses and
// ports are in network byte order, as on the wire.
#ifndef SLUICE_DATAPLANE_NAT_REWRITE_H_
#define SLUICE_DATAPLANE_NAT_REWRITE_H_

#include <cstdint>

namespace sluice::dataplane {

// Rewrites the destination address and, for TCP and UDP, the destination port. Updates
// the IPv4 header checksum and the TCP/UDP checksum (its pseudo-header covers the
// address). `l4 == nullptr` (a later fragment, which carries no L4 header) rewrites the
// address only and `port` is ignored. For protocols other than TCP and UDP only the
// address changes too: they have no ports, and ICMP's checksum does not cover the address.
void NatSetDestination(uint8_t* l3, uint8_t* l4, uint8_t ip_proto, uint32_t ip, uint16_t port);

// The same for the source address and port (the reply direction).
void NatSetSource(uint8_t* l3, uint8_t* l4, uint8_t ip_proto, uint32_t ip, uint16_t port);

// Decrements the TTL and updates the header checksum. Returns false and changes nothing
// when the TTL is 0 or 1: the packet must not be forwarded (RFC 1812 5.3.1).
bool Ipv4DecrementTtl(uint8_t* l3);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_NAT_REWRITE_H_
