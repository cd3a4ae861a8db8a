// The pieces of a forwarding table built from a validated config: routes, each
// backend's egress port and next hop, service entries. The controller (lb/controller.h)
// puts them together. Control thread, off the fast path (STYLE.md item 1).
#ifndef SLUICE_LB_TABLE_BUILDER_H_
#define SLUICE_LB_TABLE_BUILDER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/neighbor_address.h"
#include "dataplane/route_table.h"
#include "lb/maglev.h"

namespace sluice::lb {

// Returns the neighbour index for a next hop on a port, or -1 when no more can be tracked.
using NextHopResolver =
    std::function<int64_t(const dataplane::NeighborAddress& address, uint16_t port_index)>;

// Where backends are placed: the running dataplane section, its ports with their
// addresses (AddressPorts) and the routes built from it.
struct BackendPlace {
  const config::DataplaneConfig& dataplane;
  const std::vector<dataplane::PortInfo>& ports;
  const dataplane::RouteTable& routes;
};

// The routes of a dataplane section: the ports' on-link prefixes plus dataplane.routes
// (rte_lpm/rte_lpm6: longest prefix, then lowest metric). Needs the EAL. Each family
// that has routes costs an LPM of 64 MiB, so the controller builds them only when the
// routes change.
absl::StatusOr<std::unique_ptr<dataplane::RouteTable>> BuildRoutes(
    const config::DataplaneConfig& dataplane);

// A service's table entry without its id's neighbours: mode, VIP, port, protocol; no
// Maglev slots.
dataplane::ServiceInfo MakeServiceInfo(const config::Service& service, dataplane::ServiceId id);

// A backend's table entry: address, egress port and next hop from the routes (dr
// backends must be on-link), tunnel source, neighbour index. `service`, `up` are left
// for the caller.
absl::StatusOr<dataplane::BackendInfo> ResolveBackend(const BackendPlace& place,
                                                      const config::Service& service,
                                                      const config::Backend& backend,
                                                      const NextHopResolver& resolve_next_hop);

// What Maglev hashes for a backend (lb/maglev.h).
BackendIdentity IdentityOf(const config::Backend& backend);

// `ports` (in config order) with each port's address, subnet mask and MTU from the
// config filled in.
std::vector<dataplane::PortInfo> AddressPorts(const config::Config& config,
                                              std::vector<dataplane::PortInfo> ports);

// The IPv4 address as the dataplane stores it (network byte order in a uint32_t).
uint32_t ToNetworkIpv4(const config::IpAddress& address);
dataplane::Ipv6Address ToIpv6(const config::IpAddress& address);
dataplane::NeighborAddress ToNeighborAddress(const config::IpAddress& address);

}  // namespace sluice::lb

#endif  // SLUICE_LB_TABLE_BUILDER_H_
