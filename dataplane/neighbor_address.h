// The address of a next hop, IPv4 or IPv6, as the neighbour cache keys its entries. One
// type for both families so that one cache, one table of indices and one state machine
// serve ARP and Neighbor Discovery alike. Control thread only (never on the fast path).
#ifndef SLUICE_DATAPLANE_NEIGHBOR_ADDRESS_H_
#define SLUICE_DATAPLANE_NEIGHBOR_ADDRESS_H_

#include <arpa/inet.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

namespace sluice::dataplane {

struct NeighborAddress {
  bool ipv6 = false;
  // IPv6: the 16 bytes as on the wire. IPv4: bytes 0..3 in network order, the rest 0, so
  // that equality and hashing need not look at the family twice.
  std::array<uint8_t, 16> bytes{};

  static NeighborAddress V4(uint32_t network_order_ip) {
    NeighborAddress a;
    std::memcpy(a.bytes.data(), &network_order_ip, 4);
    return a;
  }
  static NeighborAddress V6(const std::array<uint8_t, 16>& address) {
    NeighborAddress a;
    a.ipv6 = true;
    a.bytes = address;
    return a;
  }

  // The IPv4 address in network byte order (meaningless for IPv6).
  uint32_t ipv4() const {
    uint32_t ip;
    std::memcpy(&ip, bytes.data(), 4);
    return ip;
  }

  // "10.0.0.1" or "2001:db8::1", for logs.
  std::string ToString() const {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text));
    return text;
  }

  friend bool operator==(const NeighborAddress&, const NeighborAddress&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const NeighborAddress& a) {
    return H::combine(std::move(h), a.ipv6, a.bytes);
  }
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_NEIGHBOR_ADDRESS_H_
