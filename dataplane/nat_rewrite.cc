// IPv4 NAT rewrites with incremental checksum updates (see nat_rewrite.h).
#include "dataplane/nat_rewrite.h"

#include <netinet/in.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstddef>
#include <cstring>

#include "dataplane/checksum.h"

namespace sluice::dataplane {
namespace {

constexpr size_t kIpChecksum = offsetof(rte_ipv4_hdr, hdr_checksum);
constexpr size_t kIpTtl = offsetof(rte_ipv4_hdr, time_to_live);

// Replaces the address at l3 + addr_offset and the port at l4 + port_offset. The L4
// checksum sees both changes in one adjustment: the 4 address bytes (pseudo-header) and
// the 2 port bytes are gathered into one 6-byte old/new pair, each starting at an even
// offset of the checksummed data, which is all RFC 1624 needs.
inline void Rewrite(uint8_t* l3, uint8_t* l4, uint8_t ip_proto, size_t addr_offset,
                    size_t port_offset, uint32_t ip, uint16_t port) {
  uint8_t old_bytes[6];
  uint8_t new_bytes[6];
  std::memcpy(old_bytes, l3 + addr_offset, 4);
  std::memcpy(new_bytes, &ip, 4);
  StoreChecksum(l3 + kIpChecksum,
                ChecksumAdjust(LoadChecksum(l3 + kIpChecksum), old_bytes, new_bytes, 4));
  std::memcpy(l3 + addr_offset, &ip, 4);
  if (l4 == nullptr) return;

  if (ip_proto == IPPROTO_TCP) {
    constexpr size_t kCsum = offsetof(rte_tcp_hdr, cksum);
    std::memcpy(old_bytes + 4, l4 + port_offset, 2);
    std::memcpy(new_bytes + 4, &port, 2);
    StoreChecksum(l4 + kCsum, ChecksumAdjust(LoadChecksum(l4 + kCsum), old_bytes, new_bytes, 6));
    std::memcpy(l4 + port_offset, &port, 2);
  } else if (ip_proto == IPPROTO_UDP) {
    constexpr size_t kCsum = offsetof(rte_udp_hdr, dgram_cksum);
    std::memcpy(old_bytes + 4, l4 + port_offset, 2);
    std::memcpy(new_bytes + 4, &port, 2);
    StoreChecksum(l4 + kCsum, UdpChecksumAdjust(LoadChecksum(l4 + kCsum), old_bytes, new_bytes, 6));
    std::memcpy(l4 + port_offset, &port, 2);
  }
}

}  // namespace

// TCP and UDP put the ports at the same offsets, so one pair of offsets serves both.
static_assert(offsetof(rte_tcp_hdr, src_port) == offsetof(rte_udp_hdr, src_port));
static_assert(offsetof(rte_tcp_hdr, dst_port) == offsetof(rte_udp_hdr, dst_port));

void NatSetDestination(uint8_t* l3, uint8_t* l4, uint8_t ip_proto, uint32_t ip, uint16_t port) {
  Rewrite(l3, l4, ip_proto, offsetof(rte_ipv4_hdr, dst_addr), offsetof(rte_tcp_hdr, dst_port), ip,
          port);
}

void NatSetSource(uint8_t* l3, uint8_t* l4, uint8_t ip_proto, uint32_t ip, uint16_t port) {
  Rewrite(l3, l4, ip_proto, offsetof(rte_ipv4_hdr, src_addr), offsetof(rte_tcp_hdr, src_port), ip,
          port);
}

bool Ipv4DecrementTtl(uint8_t* l3) {
  if (l3[kIpTtl] <= 1) return false;
  // TTL shares its 16-bit word with the protocol byte (offset 8, even): adjust that word.
  static_assert(kIpTtl % 2 == 0);
  uint8_t old_word[2];
  std::memcpy(old_word, l3 + kIpTtl, 2);
  uint8_t new_word[2] = {static_cast<uint8_t>(old_word[0] - 1), old_word[1]};
  StoreChecksum(l3 + kIpChecksum,
                ChecksumAdjust(LoadChecksum(l3 + kIpChecksum), old_word, new_word, 2));
  l3[kIpTtl] = new_word[0];
  return true;
}

}  // namespace sluice::dataplane
