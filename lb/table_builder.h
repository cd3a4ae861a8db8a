// Builds the dataplane's ForwardingTable from a validated config: ids for services and
// backends, Maglev tables, each backend's egress port and next-hop index. Runs on the
// control thread, off the fast path (STYLE.md item 1).
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

namespace sluice::lb {

// Returns the neighbour index for a next hop on a port, or -1 when no more can be tracked.
using NextHopResolver =
    std::function<int64_t(const dataplane::NeighborAddress& address, uint16_t port_index)>;

// `ports` carry what only the running dataplane knows (DPDK port ids, MACs), in the
// order of config.dataplane.ports. Ids: services 1..N and backends 1..M in config order
// (stable across reloads arrives with hot reload). Each backend's egress port and next
// hop come from the routes (rte_lpm/rte_lpm6: the ports' on-link prefixes plus
// dataplane.routes, longest prefix then lowest metric); dr backends are always on-link.
// Needs the EAL (the route lookup uses DPDK's LPM).
absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> BuildForwardingTable(
    const config::Config& config, const std::vector<dataplane::PortInfo>& ports,
    const NextHopResolver& resolve_next_hop);

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
