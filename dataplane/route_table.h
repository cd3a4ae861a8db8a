// Static routes with longest-prefix match: DPDK rte_lpm for IPv4, rte_lpm6 for IPv6.
//
// Built by the control thread (Create, then Add4/Add6) and read-only afterwards: the
// lookups are plain loads, so any number of threads (the control thread building
// forwarding tables, later the workers) may call them concurrently once the last Add has
// happened before they started (publish the table through RCU or before launching the
// workers). Add must never run concurrently with a lookup.
//
// Semantics:
//  - The longest matching prefix wins.
//  - Among routes for the same prefix the lowest metric wins; on a tie the route added
//    first stays. Only the winner is in the LPM; the losers are accepted and counted by
//    size() but never returned.
//  - A /0 route is the default route. rte_lpm and rte_lpm6 reject depth 0, so it is kept
//    beside them and returned when the LPM misses.
//  - Prefixes must have their host bits zero (10.1.2.0/24, not 10.1.2.3/24), like
//    `ip route`: a typo'd prefix is refused rather than silently widened.
//
// Capacity: `max_routes4` / `max_routes6` bound the number of distinct prefixes of each
// family (the default route included). The LPM tables are sized so that no prefix mix
// within that bound can exhaust their tbl8 groups. A family with a bound of 0 gets no
// LPM at all (each one costs 64 MiB for its first-level table) and refuses its routes.
//
// Each distinct prefix owns one NextHop slot, whose index is the LPM next-hop id: the ids
// stay below max_routes4 (< 2^24, rte_lpm's next-hop width) and max_routes6 (< 2^21,
// rte_lpm6's), which Create checks. The slots are reserved up front, so the NextHop
// pointers returned by lookups stay valid for the table's lifetime (a lower-metric route
// added later replaces the contents in place).
#ifndef SLUICE_DATAPLANE_ROUTE_TABLE_H_
#define SLUICE_DATAPLANE_ROUTE_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct rte_lpm;
struct rte_lpm6;

namespace sluice::dataplane {

struct NextHop {
  uint16_t port_index = 0;  // index into ForwardingTable::ports
  bool on_link = true;      // true: the destination itself is the neighbour
  bool ipv6 = false;        // family of `gateway`
  // Meaningful when !on_link. IPv4: bytes 0..3, network order.
  std::array<uint8_t, 16> gateway{};

  bool operator==(const NextHop&) const = default;
};

class RouteTable {
 public:
  // rte_lpm's and rte_lpm6's next-hop widths.
  static constexpr uint32_t kMaxRoutes4 = 1u << 24;
  static constexpr uint32_t kMaxRoutes6 = 1u << 21;

  // `name` labels errors and prefixes the DPDK object names; those are made unique per
  // process (DPDK refuses two LPM tables with the same name), so several tables may share
  // a name.
  static absl::StatusOr<std::unique_ptr<RouteTable>> Create(const std::string& name,
                                                            uint32_t max_routes4,
                                                            uint32_t max_routes6, int socket_id);
  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // InvalidArgument: length out of range or host bits set. ResourceExhausted: a new
  // prefix beyond the family's bound. A route for an existing prefix never fails for
  // capacity.
  absl::Status Add4(uint32_t prefix_network_order, uint8_t length, uint32_t metric,
                    const NextHop& next_hop);
  absl::Status Add6(const std::array<uint8_t, 16>& prefix, uint8_t length, uint32_t metric,
                    const NextHop& next_hop);

  // The next hop of the longest matching prefix, or nullptr when nothing matches.
  const NextHop* Lookup4(uint32_t ip_network_order) const;
  const NextHop* Lookup6(const std::array<uint8_t, 16>& ip) const;

  // Routes accepted, including those shadowed by a lower metric for the same prefix.
  size_t size() const { return accepted_; }

 private:
  // Where a prefix's winning route lives: its metric and its NextHop slot.
  struct Installed {
    uint32_t metric;
    uint32_t id;
  };

  RouteTable(std::string name, uint32_t max_routes4, uint32_t max_routes6)
      : name_(std::move(name)), max_routes4_(max_routes4), max_routes6_(max_routes6) {
    next_hops4_.reserve(max_routes4);
    next_hops6_.reserve(max_routes6);
  }

  std::string name_;
  uint32_t max_routes4_;
  uint32_t max_routes6_;
  rte_lpm* lpm4_ = nullptr;
  rte_lpm6* lpm6_ = nullptr;
  std::vector<NextHop> next_hops4_;  // indexed by rte_lpm next-hop id
  std::vector<NextHop> next_hops6_;  // indexed by rte_lpm6 next-hop id
  // Slot of the default route in next_hops4_ / next_hops6_, or -1.
  int64_t default4_ = -1;
  int64_t default6_ = -1;
  absl::flat_hash_map<std::pair<uint32_t, uint8_t>, Installed> prefixes4_;  // host order
  absl::flat_hash_map<std::pair<std::array<uint8_t, 16>, uint8_t>, Installed> prefixes6_;
  size_t accepted_ = 0;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_ROUTE_TABLE_H_
