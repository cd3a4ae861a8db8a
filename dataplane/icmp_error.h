// ICMP errors, both directions. Outbound: the LB answers a packet it cannot forward
// because it is too big for the next hop (IPv4 fragmentation needed, RFC 1191; IPv6
// packet too big, RFC 4443), so that path MTU discovery works through the LB. Inbound:
// an ICMP error a router sent to a VIP about a packet of a NATed flow is parsed for the
// flow it quotes and translated for the backend that owns the flow, which would
// otherwise never learn its path MTU.
//
// Cold path (ICMP errors are rare): the builders allocate one mbuf each. Callers decide
// whether an error may be sent at all (not about an ICMP error, a broadcast or a later
// fragment: RFC 1812 4.3.2.7, RFC 4443 2.4(e)) and rate-limit them.
#ifndef SLUICE_DATAPLANE_ICMP_ERROR_H_
#define SLUICE_DATAPLANE_ICMP_ERROR_H_

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <array>
#include <cstdint>

namespace sluice::dataplane {

// The ICMP and ICMPv6 errors Sluice generates or forwards (RFC 792, RFC 4443).
inline constexpr uint8_t kIcmpDestinationUnreachable = 3;
inline constexpr uint8_t kIcmpFragmentationNeeded = 4;  // code of type 3
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmp6DestinationUnreachable = 1;
inline constexpr uint8_t kIcmp6PacketTooBig = 2;
inline constexpr uint8_t kIcmp6TimeExceeded = 3;

// IPv4 packets the LB sends are at most this long; RFC 1812 4.3.2.3 caps an ICMP error's
// IP packet at 576 bytes.
inline constexpr uint16_t kIcmpErrorMaxIpv4Length = 576;
// RFC 4443 2.4(c): an ICMPv6 error must not exceed the IPv6 minimum MTU.
inline constexpr uint16_t kIcmpErrorMaxIpv6Length = 1280;

// Builds the ICMP "fragmentation needed and DF set" (type 3, code 4) answering the IPv4
// packet in `original` at `l3_offset`, to be sent back where it came from: the L2 header
// is the original's (with its 802.1Q tag if any) with the MACs swapped and port_mac as
// the source; the IPv4 source is the original destination. The ICMP message carries
// `next_hop_mtu` (host byte order) and quotes the original IP packet from its first
// byte, without Ethernet padding, cut so that the ICMP's IP packet is at most 576 bytes.
// Returns nullptr when the pool is empty or its mbufs are too small, or when `original`
// does not hold an IPv4 header at `l3_offset`. `original` may be segmented.
rte_mbuf* MakeFragmentationNeeded(rte_mempool* pool, const rte_mbuf* original, uint16_t l3_offset,
                                  uint16_t next_hop_mtu, const rte_ether_addr& port_mac);

// The IPv6 counterpart: ICMPv6 packet too big (type 2, code 0) with the 32-bit `mtu`
// (host byte order), quoting as much of the original IPv6 packet as fits in a 1280-byte
// IPv6 packet. Hop limit 64. nullptr as above (the pool's mbufs need room for
// l3_offset + 1280 bytes when the original is that large).
rte_mbuf* MakePacketTooBig(rte_mempool* pool, const rte_mbuf* original, uint16_t l3_offset,
                           uint32_t mtu, const rte_ether_addr& port_mac);

// The flow an ICMP error is about, as quoted in it.
struct QuotedFlow {
  bool ipv6 = false;
  uint8_t ip_proto = 0;  // IPPROTO_TCP or IPPROTO_UDP
  // The quoted packet's addresses. IPv4 in bytes 0..3, network order.
  std::array<uint8_t, 16> src{}, dst{};
  uint16_t src_port = 0, dst_port = 0;  // network order
  uint16_t quote_offset = 0;            // frame offset of the quoted IP header
  uint16_t quote_l4_offset = 0;         // frame offset of the quoted TCP/UDP header
  uint16_t quote_length = 0;            // bytes of the quote present in the frame
  uint32_t mtu = 0;  // frag-needed next-hop MTU or packet-too-big MTU (host order), else 0
};

// Parses the ICMP error whose ICMP (ipv6: ICMPv6) header starts at `l4_offset` in
// `frame`; `l3_end` is the frame offset just past the outer IP packet (bytes after it
// are padding and never read). Accepts ICMP destination unreachable (3, any code) and
// time exceeded (11), and ICMPv6 destination unreachable (1), packet too big (2) and
// time exceeded (3). The quoted packet must be of the same family, have a complete IP
// header (IPv4 options are skipped), not be a later IPv4 fragment, be TCP or UDP and
// quote at least the first 8 bytes of its L4 header. A quoted IPv6 packet must have TCP
// or UDP as its first next header: extension headers are not walked, so an error about
// a packet that carried any is rejected (the quote may not even reach the ports).
// Returns false for anything else, leaving `out` in an unspecified state.
bool ParseIcmpError(const uint8_t* frame, uint32_t frame_len, uint16_t l3_offset,
                    uint16_t l4_offset, uint32_t l3_end, bool ipv6, QuotedFlow* out);

// IPv4 only. The ICMP error in `frame` (parsed into `q` by ParseIcmpError) was sent to the
// VIP about a packet VIP:vport -> client that the LB had source-NATed from a backend;
// translates it for that backend: the outer destination becomes `backend_ip`, the quoted
// source address `backend_ip` and the quoted source port `backend_port` (both network
// order). The outer and quoted IPv4 header checksums and the quoted TCP/UDP checksum
// (when its 2 bytes are in the quote; a quoted UDP checksum of 0 stays 0) are updated
// incrementally, then the ICMP checksum is computed afresh over the whole message.
// Recomputing it also makes a corrupted message look valid: verify the ICMP checksum
// before calling if that matters.
void NatTranslateIcmpError(uint8_t* frame, uint16_t l3_offset, uint16_t l4_offset, uint32_t l3_end,
                           const QuotedFlow& q, uint32_t backend_ip, uint16_t backend_port);

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_ICMP_ERROR_H_
