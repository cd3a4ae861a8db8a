#include "lb/table_builder.h"

#include <netinet/in.h>

#include <atomic>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "dataplane/nat_sessions.h"
#include "dataplane/route_table.h"
#include "lb/maglev.h"

namespace sluice::lb {

namespace {

namespace dp = ::sluice::dataplane;

uint32_t PrefixMask(uint8_t length) {
  return length == 0 ? 0 : htonl(~uint32_t{0} << (32 - length));
}

dp::ForwardingMode ModeOf(config::Forwarding f) {
  switch (f) {
    case config::Forwarding::kDr:
      return dp::ForwardingMode::kDr;
    case config::Forwarding::kTunnel:
      return dp::ForwardingMode::kTunnel;
    case config::Forwarding::kNat:
      return dp::ForwardingMode::kNat;
  }
  return dp::ForwardingMode::kDr;
}

}  // namespace

uint32_t ToNetworkIpv4(const config::IpAddress& address) {
  uint32_t ip;
  std::memcpy(&ip, address.bytes.data(), 4);
  return ip;
}

dp::Ipv6Address ToIpv6(const config::IpAddress& address) {
  dp::Ipv6Address a;
  std::memcpy(a.data(), address.bytes.data(), a.size());
  return a;
}

dp::NeighborAddress ToNeighborAddress(const config::IpAddress& address) {
  return address.is_v4() ? dp::NeighborAddress::V4(ToNetworkIpv4(address))
                         : dp::NeighborAddress::V6(ToIpv6(address));
}

std::vector<dp::PortInfo> AddressPorts(const config::Config& config,
                                       std::vector<dp::PortInfo> ports) {
  for (size_t i = 0; i < config.dataplane.ports.size() && i < ports.size(); ++i) {
    const config::Port& port = config.dataplane.ports[i];
    if (port.address) {
      ports[i].ipv4 = ToNetworkIpv4(port.address->address);
      ports[i].ipv4_mask = PrefixMask(static_cast<uint8_t>(port.address->length));
    }
    if (port.address6) {
      ports[i].has_ipv6 = true;
      ports[i].ipv6 = ToIpv6(port.address6->address);
      ports[i].ipv6_prefix_length = static_cast<uint8_t>(port.address6->length);
    }
    ports[i].mtu = static_cast<uint16_t>(port.mtu);
  }
  return ports;
}

absl::StatusOr<std::unique_ptr<dp::RouteTable>> BuildRoutes(const config::DataplaneConfig& dpc) {
  // rte_lpm names are global to the DPDK process: one per build.
  static std::atomic<uint64_t> builds{0};
  // Each LPM costs 64 MiB however few routes it holds: a family without routes gets none.
  uint32_t routes4 = 0;
  uint32_t routes6 = 0;
  for (const config::Port& port : dpc.ports) {
    routes4 += port.address ? 1 : 0;
    routes6 += port.address6 ? 1 : 0;
  }
  for (const config::Route& route : dpc.routes) {
    (route.prefix.address.is_v4() ? routes4 : routes6) += 1;
  }
  absl::StatusOr<std::unique_ptr<dp::RouteTable>> routes = dp::RouteTable::Create(
      absl::StrFormat("sluice_rt%u", builds.fetch_add(1)), routes4, routes6, SOCKET_ID_ANY);
  if (!routes.ok()) return routes.status();
  dp::RouteTable& table = **routes;
  auto port_index_for = [&dpc](const config::Route& route) -> int {
    for (size_t i = 0; i < dpc.ports.size(); ++i) {
      const config::Port& port = dpc.ports[i];
      if (!route.port.empty()) {
        if (port.name == route.port) return static_cast<int>(i);
        continue;
      }
      const auto& own = route.via->is_v4() ? port.address : port.address6;
      if (own && own->Contains(*route.via)) return static_cast<int>(i);
    }
    return -1;
  };
  auto add = [&table](const config::IpPrefix& prefix, uint32_t metric,
                      const dp::NextHop& next_hop) -> absl::Status {
    const config::IpPrefix network = prefix.Network();
    if (network.address.is_v4()) {
      return table.Add4(ToNetworkIpv4(network.address), static_cast<uint8_t>(network.length),
                        metric, next_hop);
    }
    return table.Add6(ToIpv6(network.address), static_cast<uint8_t>(network.length), metric,
                      next_hop);
  };
  for (size_t i = 0; i < dpc.ports.size(); ++i) {
    for (const auto* prefix : {&dpc.ports[i].address, &dpc.ports[i].address6}) {
      if (!prefix->has_value()) continue;
      dp::NextHop on_link{.port_index = static_cast<uint16_t>(i),
                          .on_link = true,
                          .ipv6 = (*prefix)->address.is_v6()};
      if (absl::Status s = add(**prefix, 0, on_link); !s.ok()) return s;
    }
  }
  for (size_t r = 0; r < dpc.routes.size(); ++r) {
    const config::Route& route = dpc.routes[r];
    const int port = route.via || !route.port.empty() ? port_index_for(route) : -1;
    if (port < 0) {
      return absl::FailedPreconditionError(
          absl::StrFormat("dataplane.routes[%d]: no port for next hop", r));
    }
    dp::NextHop next_hop{.port_index = static_cast<uint16_t>(port),
                         .on_link = !route.via.has_value(),
                         .ipv6 = route.prefix.address.is_v6()};
    if (route.via) std::memcpy(next_hop.gateway.data(), route.via->bytes.data(), 16);
    if (absl::Status s = add(route.prefix, route.metric, next_hop); !s.ok()) return s;
  }
  return routes;
}

dp::ServiceInfo MakeServiceInfo(const config::Service& svc, dp::ServiceId id) {
  dp::ServiceInfo info;
  info.id = id;
  info.mode = ModeOf(svc.forwarding);
  info.ipv6 = svc.vip.is_v6();
  info.ip_proto = svc.protocol == config::Protocol::kTcp ? IPPROTO_TCP : IPPROTO_UDP;
  if (info.ipv6) {
    info.vip6 = ToIpv6(svc.vip);
  } else {
    info.vip = ToNetworkIpv4(svc.vip);
  }
  info.port = htons(svc.port);
  return info;
}

BackendIdentity IdentityOf(const config::Backend& b) {
  BackendIdentity id;
  id.ipv6 = b.address.family == config::IpFamily::kV6;
  std::memcpy(id.address.data(), b.address.bytes.data(), id.address.size());
  id.port = b.port;
  return id;
}

absl::StatusOr<dp::BackendInfo> ResolveBackend(const BackendPlace& place,
                                               const config::Service& svc,
                                               const config::Backend& backend,
                                               const NextHopResolver& resolve_next_hop) {
  // Formatted only on the error paths: a reload resolves every backend of every changed
  // service.
  auto where = [&] {
    return absl::StrFormat("service %s, backend %s", svc.name, backend.address.ToString());
  };
  const dp::ForwardingMode mode = ModeOf(svc.forwarding);
  if (mode == dp::ForwardingMode::kNat && svc.vip.is_v6()) {
    // Validation refuses this with a position; kept as a guard for callers that skip it.
    return absl::InvalidArgumentError(absl::StrFormat("service %s: nat is IPv4 only", svc.name));
  }
  dp::BackendInfo bi;
  bi.present = true;
  bi.nat = mode == dp::ForwardingMode::kNat;
  bi.ipv6 = backend.address.is_v6();
  if (bi.ipv6) {
    bi.address6 = ToIpv6(backend.address);
  } else {
    bi.address = ToNetworkIpv4(backend.address);
  }
  bi.port = htons(backend.port);
  const dp::NextHop* hop =
      bi.ipv6 ? place.routes.Lookup6(bi.address6) : place.routes.Lookup4(bi.address);
  if (hop == nullptr) {
    return absl::FailedPreconditionError(where() + ": no route");
  }
  if (mode == dp::ForwardingMode::kDr && !hop->on_link) {
    // Validation says so with a position; direct routing rewrites MACs only.
    return absl::FailedPreconditionError(where() + ": a dr backend must be on-link");
  }
  bi.egress_port = hop->port_index;
  const dp::PortInfo& egress = place.ports[bi.egress_port];
  const std::optional<config::IpAddress>& tunnel_source = place.dataplane.tunnel_source;
  if (mode == dp::ForwardingMode::kTunnel) {
    if (tunnel_source && tunnel_source->is_v6() == bi.ipv6) {
      if (bi.ipv6) {
        bi.tunnel_source6 = ToIpv6(*tunnel_source);
      } else {
        bi.tunnel_source = ToNetworkIpv4(*tunnel_source);
      }
    } else if (bi.ipv6 ? !egress.has_ipv6 : egress.ipv4 == 0) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: no tunnel source: port %s has no %s address and dataplane.tunnel_source "
          "is not %s",
          where(), place.dataplane.ports[bi.egress_port].name, bi.ipv6 ? "IPv6" : "IPv4",
          bi.ipv6 ? "IPv6" : "IPv4"));
    } else {
      bi.tunnel_source = egress.ipv4;
      bi.tunnel_source6 = egress.ipv6;
    }
  }
  dp::NeighborAddress next_hop = ToNeighborAddress(backend.address);
  if (!hop->on_link) {
    next_hop = hop->ipv6 ? dp::NeighborAddress::V6(hop->gateway) : [&] {
      uint32_t gw;
      std::memcpy(&gw, hop->gateway.data(), 4);
      return dp::NeighborAddress::V4(gw);
    }();
  }
  const int64_t neighbor = resolve_next_hop(next_hop, bi.egress_port);
  if (neighbor < 0) {
    return absl::ResourceExhaustedError("the neighbour table is full");
  }
  bi.neighbor = static_cast<uint32_t>(neighbor);
  return bi;
}

}  // namespace sluice::lb
