// The immutable table the workers read: ports, VIPs, services with their Maglev lookup
// tables, backends by stable id. Built by lb/ (lb/table_builder.h) off the fast path,
// published whole through TablePublisher, never modified after publication.
//
// Addresses and ports are stored in network byte order, as they appear in packets, so
// the fast path compares without swapping.
#ifndef SLUICE_DATAPLANE_FORWARDING_TABLE_H_
#define SLUICE_DATAPLANE_FORWARDING_TABLE_H_

#include <rte_ether.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sluice::dataplane {

using ServiceId = uint32_t;
using BackendId = uint32_t;
inline constexpr BackendId kNoBackend = 0;

// Ids index per-lcore counter arrays; lb/ keeps them below these bounds (the config
// limits are 4096 services and 65536 backends; id 0 is never used).
inline constexpr uint32_t kMaxServiceIds = 4096 + 1;
inline constexpr uint32_t kMaxBackendIds = 65536 + 1;

enum class ForwardingMode : uint8_t { kDr, kTunnel, kNat };

// An IPv6 address as it appears in packets.
using Ipv6Address = std::array<uint8_t, 16>;

struct PortInfo {
  uint16_t dpdk_port = 0;
  rte_ether_addr mac{};
  uint32_t ipv4 = 0;  // 0: the port has no IPv4 address
  uint32_t ipv4_mask = 0;
  uint16_t mtu = 1500;
  bool has_ipv6 = false;
  Ipv6Address ipv6{};
  uint8_t ipv6_prefix_length = 0;
};

struct BackendInfo {
  bool present = false;  // false: no backend has this id in this table
  bool ipv6 = false;     // the backend's family (an IPv4 VIP may tunnel to IPv6)
  ServiceId service = 0;
  uint32_t address = 0;  // IPv4 backends
  Ipv6Address address6{};
  uint16_t port = 0;
  uint16_t egress_port = 0;  // index into ForwardingTable::ports
  uint32_t neighbor = 0;     // index into the NeighborTable: the backend or its gateway
  // tunnel mode: the outer source (dataplane.tunnel_source or the egress port's address)
  uint32_t tunnel_source = 0;
  Ipv6Address tunnel_source6{};
};

struct ServiceInfo {
  ServiceId id = 0;
  ForwardingMode mode = ForwardingMode::kDr;
  bool ipv6 = false;
  uint8_t ip_proto = 0;  // IPPROTO_TCP or IPPROTO_UDP
  uint32_t vip = 0;      // IPv4 services
  Ipv6Address vip6{};
  uint16_t port = 0;
  // Maglev lookup table (size M, a prime). Empty when no backend takes new flows.
  std::vector<BackendId> maglev;
};

struct VipKey {
  uint32_t address = 0;
  uint16_t port = 0;
  uint8_t ip_proto = 0;

  friend bool operator==(const VipKey&, const VipKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const VipKey& k) {
    return H::combine(std::move(h), k.address, k.port, k.ip_proto);
  }
};

struct VipKey6 {
  Ipv6Address address{};
  uint16_t port = 0;
  uint8_t ip_proto = 0;

  friend bool operator==(const VipKey6&, const VipKey6&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const VipKey6& k) {
    return H::combine(std::move(h), k.address, k.port, k.ip_proto);
  }
};

struct VipAddressInfo {
  bool answer_arp = false;
};

struct ForwardingTable {
  uint64_t generation = 0;
  std::vector<PortInfo> ports;  // index = position in dataplane.ports
  std::vector<ServiceInfo> services;
  absl::flat_hash_map<VipKey, uint32_t> service_by_vip;    // -> index into services
  absl::flat_hash_map<VipKey6, uint32_t> service_by_vip6;  // -> index into services
  absl::flat_hash_map<uint32_t, VipAddressInfo> vip_addresses;
  absl::flat_hash_map<Ipv6Address, VipAddressInfo> vip_addresses6;  // answer_arp: answer ND
  std::vector<BackendInfo> backends;                                // index = BackendId; [0] unused
  uint32_t tcp_timeout_ms = 300000;
  uint32_t udp_timeout_ms = 30000;
  bool has_nat = false;  // some service forwards by NAT: look for replies to translate

  const BackendInfo* Backend(BackendId id) const {
    return id < backends.size() && backends[id].present ? &backends[id] : nullptr;
  }
  const ServiceInfo* FindService(uint32_t vip, uint16_t port, uint8_t ip_proto) const {
    auto it = service_by_vip.find(VipKey{.address = vip, .port = port, .ip_proto = ip_proto});
    return it == service_by_vip.end() ? nullptr : &services[it->second];
  }
  const ServiceInfo* FindService6(const uint8_t* vip, uint16_t port, uint8_t ip_proto) const {
    VipKey6 key{.port = port, .ip_proto = ip_proto};
    std::memcpy(key.address.data(), vip, key.address.size());
    auto it = service_by_vip6.find(key);
    return it == service_by_vip6.end() ? nullptr : &services[it->second];
  }
  // Services are numbered 1..N in `services` order.
  const ServiceInfo* ServiceById(ServiceId id) const {
    return id >= 1 && id <= services.size() ? &services[id - 1] : nullptr;
  }
  // Index of the port that owns `address` as its own, or -1.
  int PortWithAddress(uint32_t address) const {
    for (size_t i = 0; i < ports.size(); ++i) {
      if (ports[i].ipv4 != 0 && ports[i].ipv4 == address) return static_cast<int>(i);
    }
    return -1;
  }
  int PortWithAddress6(const uint8_t* address) const {
    for (size_t i = 0; i < ports.size(); ++i) {
      if (ports[i].has_ipv6 && std::memcmp(ports[i].ipv6.data(), address, 16) == 0) {
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  bool IsVip6(const uint8_t* address) const {
    Ipv6Address a;
    std::memcpy(a.data(), address, a.size());
    return vip_addresses6.contains(a);
  }
};

// Maps a 32-bit flow hash onto a Maglev table of size m without a division
// (multiply-shift, Lemire's "fastrange"): uniform for a uniform hash.
inline uint32_t MaglevSlot(uint32_t hash, size_t m) {
  return static_cast<uint32_t>((static_cast<uint64_t>(hash) * m) >> 32);
}

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_FORWARDING_TABLE_H_
