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
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sluice::dataplane {

using ServiceId = uint32_t;
using BackendId = uint32_t;
inline constexpr BackendId kNoBackend = 0;

// Ids index per-lcore counter arrays; lb/ keeps them below these bounds. The config
// allows 4096 services and 131072 backends; the rest of the id space holds ids that were
// released by a reload and wait out their grace period before reuse (DESIGN.md). Id 0
// is never used.
inline constexpr uint32_t kMaxServiceIds = 8192;
inline constexpr uint32_t kMaxBackendIds = 262144;

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
  // false: its flows are re-picked on their next packet. A backend is not up when its
  // health check says so, or when a reload removed it (it stays in the table, retired,
  // until its id's grace period ends, so that the flows and NAT sessions naming it can
  // still be ended). A draining backend is up: it has no Maglev slots but keeps its flows.
  bool up = true;
  bool nat = false;   // its service forwards by NAT: its flows own NAT sessions
  bool ipv6 = false;  // the backend's family (an IPv4 VIP may tunnel to IPv6)
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

// A service's Maglev lookup table: immutable and shared, so that a new forwarding table
// reuses the slots of every service whose backends did not change.
class MaglevSlots {
 public:
  MaglevSlots() = default;
  explicit MaglevSlots(std::shared_ptr<const std::vector<BackendId>> slots)
      : owner_(std::move(slots)),
        data_(owner_ ? owner_->data() : nullptr),
        size_(owner_ ? owner_->size() : 0) {}

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  BackendId operator[](size_t i) const { return data_[i]; }
  const BackendId* begin() const { return data_; }
  const BackendId* end() const { return data_ + size_; }
  const std::shared_ptr<const std::vector<BackendId>>& shared() const { return owner_; }

 private:
  std::shared_ptr<const std::vector<BackendId>> owner_;
  const BackendId* data_ = nullptr;
  size_t size_ = 0;
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
  MaglevSlots maglev;
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
  std::vector<uint32_t> service_index_by_id;  // ServiceId -> index into services + 1; 0: none
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
  // Ids are stable across reloads (lb/id_registry.h), so they have gaps.
  const ServiceInfo* ServiceById(ServiceId id) const {
    if (id >= service_index_by_id.size() || service_index_by_id[id] == 0) return nullptr;
    return &services[service_index_by_id[id] - 1];
  }
  // Appends a service and indexes it by id and by VIP; returns its index. The VIP's
  // address is answered for (ARP/ND) when `answer_arp`.
  uint32_t AddService(ServiceInfo info, bool answer_arp) {
    const auto index = static_cast<uint32_t>(services.size());
    if (info.id >= service_index_by_id.size()) service_index_by_id.resize(info.id + 1, 0);
    service_index_by_id[info.id] = index + 1;
    if (info.ipv6) {
      service_by_vip6[VipKey6{.address = info.vip6, .port = info.port, .ip_proto = info.ip_proto}] =
          index;
      VipAddressInfo& vip = vip_addresses6[info.vip6];
      vip.answer_arp = vip.answer_arp || answer_arp;
    } else {
      service_by_vip[VipKey{.address = info.vip, .port = info.port, .ip_proto = info.ip_proto}] =
          index;
      VipAddressInfo& vip = vip_addresses[info.vip];
      vip.answer_arp = vip.answer_arp || answer_arp;
    }
    has_nat = has_nat || info.mode == ForwardingMode::kNat;
    services.push_back(std::move(info));
    return index;
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
