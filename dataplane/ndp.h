// IPv6 Neighbor Discovery (RFC 4861) as far as a load balancer needs it: validating
// Neighbor Solicitations and Advertisements, answering solicitations for the LB's own
// addresses and VIPs, and soliciting the MACs of IPv6 next hops. The IPv6 counterpart of
// arp.h; control thread only (the slow path and the neighbour cache).
#ifndef SLUICE_DATAPLANE_NDP_H_
#define SLUICE_DATAPLANE_NDP_H_

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <cstdint>

#include "dataplane/packet_parser.h"

namespace sluice::dataplane {

inline constexpr uint8_t kIcmpv6EchoRequest = 128;
inline constexpr uint8_t kIcmpv6EchoReply = 129;
inline constexpr uint8_t kIcmpv6NeighborSolicitation = 135;
inline constexpr uint8_t kIcmpv6NeighborAdvertisement = 136;

// What Sluice takes from a valid NS or NA.
struct NdMessage {
  bool solicitation = false;  // true: NS (135); false: NA (136)
  std::array<uint8_t, 16> target{};
  // NS: the Source Link-Layer Address option; NA: the Target Link-Layer Address option.
  bool has_link_layer = false;
  rte_ether_addr link_layer{};
  bool solicited = false;      // NA only: the S flag
  bool override_flag = false;  // NA only: the O flag
};

// Validates the ICMPv6 message of `p` (parsed from `frame_len` bytes at `frame`) as an
// NS or NA per RFC 4861 7.1.1 / 7.1.2 and fills *out. False (and *out untouched) for
// anything else: another ICMPv6 type, a fragment, hop limit != 255, code != 0, fewer
// than 24 bytes, a multicast target, an option of length 0 or past the message, a bad
// checksum, an NS from :: that is not to a solicited-node address or carries a source
// link-layer option, an NA to a multicast address with S set.
bool ParseNd(const uint8_t* frame, uint32_t frame_len, const ParsedPacket& p, NdMessage* out);

// Turns the NS in `m` (parsed as `p` and `ns`) into the NA answering it, in place: from
// the target to the solicitor (to ff02::1 with S=0 when the NS came from :: for
// duplicate address detection), flags S and O, a Target Link-Layer option with
// `port_mac`. The Ethernet destination is the NS's source link-layer option if it has
// one, else its Ethernet source; an 802.1Q tag is kept; extension headers of the NS are
// not copied. Returns false, leaving `m` unusable, only if the mbuf has no room for the
// 8 bytes an NA may need beyond the NS.
[[nodiscard]] bool MakeNeighborAdvertisement(rte_mbuf* m, const ParsedPacket& p,
                                             const NdMessage& ns, const rte_ether_addr& port_mac);

// An NS for `target` from `source` (one of the port's addresses), multicast to the
// target's solicited-node address, with a Source Link-Layer option (none when `source`
// is ::, as RFC 4861 7.2.2 requires). Returns null when the pool is empty.
rte_mbuf* MakeNeighborSolicitation(rte_mempool* pool, const std::array<uint8_t, 16>& source,
                                   const std::array<uint8_t, 16>& target,
                                   const rte_ether_addr& port_mac);

// ff02::1:ffXX:XXXX with the low 24 bits of `target` (RFC 4291 2.7.1).
std::array<uint8_t, 16> SolicitedNodeAddress(const std::array<uint8_t, 16>& target);

// The one's complement sum (folded, not complemented, in memory byte order) of the
// ICMPv6 pseudo-header for `src`, `dst` and `len`, and the `len` bytes at `msg`. A
// message with a correct checksum sums to 0xffff; to fill the checksum, zero it and
// store the complement of this sum.
uint16_t Icmpv6Sum(const uint8_t* src, const uint8_t* dst, const uint8_t* msg, uint32_t len);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_NDP_H_
