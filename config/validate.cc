#include "config/validate.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"

namespace sluice::config {
namespace {

// dataplane/nat_sessions.h packs the port index of a NAT session in 3 bits.
constexpr size_t kMaxNatPorts = 8;

bool IsPrime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

class Validator {
 public:
  Validator(const Config& config, const SourceMap& sources, DiagnosticSink& sink)
      : config_(config), sources_(sources), sink_(sink), read_errors_(sink) {}

  void Run() {
    CheckPorts();
    CheckRoutes();
    CheckNeighbors();
    CheckServices();
  }

 private:
  // Values whose reading failed keep their defaults; checking them would only repeat
  // the first error in another form. Errors found by validation itself do not count:
  // a value they concern was read fine.
  bool Readable(std::initializer_list<std::string_view> paths) const {
    return std::ranges::none_of(paths,
                                [this](std::string_view p) { return read_errors_.HasErrorAt(p); });
  }

  void Error(const std::string& path, std::string message) {
    sink_.Error(sources_.At(path), path, std::move(message));
  }

  std::vector<std::string_view> PortNames() const {
    std::vector<std::string_view> names;
    for (const Port& p : config_.dataplane.ports) names.push_back(p.name);
    return names;
  }

  const Port* FindPort(std::string_view name) const {
    for (const Port& p : config_.dataplane.ports) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }

  static bool OnLink(const Port& port, const IpAddress& a) {
    const std::optional<IpPrefix>& prefix = a.is_v4() ? port.address : port.address6;
    return prefix && prefix->Contains(a);
  }

  bool OnLinkAnywhere(const IpAddress& a) const {
    return std::ranges::any_of(config_.dataplane.ports,
                               [&a](const Port& p) { return OnLink(p, a); });
  }

  bool Routable(const IpAddress& a) const {
    return OnLinkAnywhere(a) || std::ranges::any_of(config_.dataplane.routes, [&a](const Route& r) {
             return r.prefix.Contains(a);
           });
  }

  bool HasPortAddress(IpFamily family) const {
    return std::ranges::any_of(config_.dataplane.ports, [family](const Port& p) {
      return family == IpFamily::kV4 ? p.address.has_value() : p.address6.has_value();
    });
  }

  // A reference to a port by name (routes, neighbours): it must exist. Returns the port,
  // or nullptr when unnamed or unknown.
  const Port* CheckPortReference(const std::string& path, const std::string& name) {
    if (name.empty() || !Readable({path})) return nullptr;
    const Port* port = FindPort(name);
    if (port == nullptr) {
      const std::vector<std::string_view> names = PortNames();
      const std::string hint = DidYouMean(name, names);
      Error(path, absl::StrFormat(
                      "no port named '%s'%s", name,
                      hint.empty() ? absl::StrFormat(" (ports: %s)", JoinWords(names)) : hint));
    }
    return port;
  }

  // A next hop or neighbour must sit on a port's subnet (that port's, when named).
  void CheckOnLink(const std::string& path, const IpAddress& a, const Port* named_port,
                   std::string_view what) {
    if (named_port != nullptr) {
      if (!OnLink(*named_port, a)) {
        Error(path, absl::StrFormat("%s %s is not on the subnet of port '%s'", what, a.ToString(),
                                    named_port->name));
      }
    } else if (!OnLinkAnywhere(a)) {
      Error(path, absl::StrFormat("%s %s is not on the subnet of any port", what, a.ToString()));
    }
  }

  void CheckPorts() {
    absl::flat_hash_map<std::string_view, size_t> first;
    const auto& ports = config_.dataplane.ports;
    for (size_t i = 0; i < ports.size(); ++i) {
      const Port& port = ports[i];
      const std::string path = absl::StrFormat("dataplane.ports[%d]", i);
      if (Readable({path + ".name"})) {
        auto [it, inserted] = first.try_emplace(port.name, i);
        if (!inserted) {
          Error(path + ".name", absl::StrFormat("duplicate port name '%s' (first used by "
                                                "dataplane.ports[%d])",
                                                port.name, it->second));
        }
      }
      if (!port.address && !port.address6 && Readable({path + ".address", path + ".address6"})) {
        Error(path, "a port needs 'address' (IPv4) or 'address6' (IPv6) or both");
      }
      if (port.address6 && port.mtu < 1280 && Readable({path + ".mtu"})) {
        Error(path + ".mtu",
              absl::StrFormat("MTU %d is below 1280, the minimum for a port with an IPv6 address",
                              port.mtu));
      }
    }
  }

  void CheckRoutes() {
    absl::flat_hash_map<std::pair<std::string, uint32_t>, size_t> first;
    const auto& routes = config_.dataplane.routes;
    for (size_t i = 0; i < routes.size(); ++i) {
      const Route& route = routes[i];
      const std::string path = absl::StrFormat("dataplane.routes[%d]", i);
      if (!Readable({path})) continue;
      if (route.prefix.HostBitsSet()) {
        Error(path + ".prefix",
              absl::StrFormat("prefix %s has host bits set; did you mean %s?",
                              route.prefix.ToString(), route.prefix.Network().ToString()));
      }
      const Port* port = CheckPortReference(path + ".port", route.port);
      if (!route.via && route.port.empty()) {
        Error(path, "a route needs 'via' (a next hop) or 'port' (an on-link prefix)");
      }
      if (route.via) {
        if (route.via->family != route.prefix.address.family) {
          Error(path + ".via",
                absl::StrFormat("next hop %s is %s but prefix %s is %s", route.via->ToString(),
                                FamilyName(route.via->family), route.prefix.ToString(),
                                FamilyName(route.prefix.address.family)));
        } else if (route.port.empty() || port != nullptr) {
          CheckOnLink(path + ".via", *route.via, port, "next hop");
        }
      }
      auto [it, inserted] =
          first.try_emplace(std::make_pair(route.prefix.Network().ToString(), route.metric), i);
      if (!inserted) {
        Error(path, absl::StrFormat("duplicate route to %s with metric %d (first at "
                                    "dataplane.routes[%d])",
                                    route.prefix.ToString(), route.metric, it->second));
      }
    }
  }

  void CheckNeighbors() {
    absl::flat_hash_map<IpAddress, size_t> first;
    const auto& neighbors = config_.dataplane.neighbors;
    for (size_t i = 0; i < neighbors.size(); ++i) {
      const Neighbor& n = neighbors[i];
      const std::string path = absl::StrFormat("dataplane.neighbors[%d]", i);
      if (!Readable({path})) continue;
      const Port* port = CheckPortReference(path + ".port", n.port);
      if (n.port.empty() || port != nullptr)
        CheckOnLink(path + ".address", n.address, port, "neighbor");
      auto [it, inserted] = first.try_emplace(n.address, i);
      if (!inserted) {
        Error(path + ".address",
              absl::StrFormat("duplicate neighbor %s (first at dataplane.neighbors[%d])",
                              n.address.ToString(), it->second));
      }
    }
  }

  void CheckServices() {
    absl::flat_hash_map<std::string_view, size_t> names;
    absl::flat_hash_map<std::tuple<IpAddress, uint16_t, Protocol>, size_t> endpoints;
    for (size_t i = 0; i < config_.services.size(); ++i) {
      const Service& svc = config_.services[i];
      const std::string path = absl::StrFormat("services[%d]", i);
      if (Readable({path + ".name"})) {
        auto [it, inserted] = names.try_emplace(svc.name, i);
        if (!inserted) {
          Error(path + ".name", absl::StrFormat("duplicate service name '%s' (first used by "
                                                "services[%d])",
                                                svc.name, it->second));
        }
      }
      if (Readable({path + ".vip", path + ".port", path + ".protocol"})) {
        auto [it, inserted] =
            endpoints.try_emplace(std::make_tuple(svc.vip, svc.port, svc.protocol), i);
        if (!inserted) {
          Error(path,
                absl::StrFormat("duplicate service %s port %d/%s (first defined by "
                                "services[%d])",
                                svc.vip.ToString(), svc.port, ToString(svc.protocol), it->second));
        }
      }
      if (Readable({path + ".vip"})) CheckVip(path + ".vip", svc.vip);
      // A NAT session records the client-side port in 3 bits (docs/forwarding.md).
      if (svc.forwarding == Forwarding::kNat && config_.dataplane.ports.size() > kMaxNatPorts &&
          Readable({path + ".forwarding", "dataplane.ports"})) {
        Error(path + ".forwarding",
              absl::StrFormat("nat services need at most %d ports; this config has %d",
                              kMaxNatPorts, config_.dataplane.ports.size()));
      }
      CheckTableSize(path, svc);
      CheckHealthCheck(path + ".health_check", svc.health_check);
      if (Readable({path + ".vip", path + ".forwarding", path + ".port"})) {
        CheckBackends(path, svc);
      }
    }
  }

  void CheckVip(const std::string& path, const IpAddress& vip) {
    for (const Port& p : config_.dataplane.ports) {
      const std::optional<IpPrefix>& own = vip.is_v4() ? p.address : p.address6;
      if (own && own->address == vip) {
        Error(path, absl::StrFormat("VIP %s is the address of port '%s'; a VIP must be an "
                                    "address of its own",
                                    vip.ToString(), p.name));
      }
    }
    if (!HasPortAddress(vip.family) && Readable({"dataplane.ports"})) {
      Error(path, absl::StrFormat("VIP %s is %s but no port has an %s address", vip.ToString(),
                                  FamilyName(vip.family), FamilyName(vip.family)));
    }
  }

  void CheckTableSize(const std::string& path, const Service& svc) {
    const std::string size_path = path + ".table_size";
    if (!Readable({size_path})) return;
    if (!IsPrime(svc.table_size)) {
      uint32_t below = svc.table_size;
      uint32_t above = svc.table_size;
      while (!IsPrime(below)) --below;
      while (!IsPrime(above)) ++above;
      Error(size_path, absl::StrFormat("Maglev table size %d is not prime; nearest primes are "
                                       "%d and %d",
                                       svc.table_size, below, above));
    } else if (svc.table_size < svc.backends.size()) {
      Error(size_path, absl::StrFormat("Maglev table size %d is smaller than the number of "
                                       "backends (%d)",
                                       svc.table_size, svc.backends.size()));
    }
  }

  void CheckHealthCheck(const std::string& path, const HealthCheck& hc) {
    if (!Readable({path + ".timeout", path + ".interval"})) return;
    if (hc.timeout >= hc.interval) {
      Error(path + ".timeout",
            absl::StrFormat("timeout %s must be below interval %s",
                            absl::FormatDuration(hc.timeout), absl::FormatDuration(hc.interval)));
    }
  }

  void CheckBackends(const std::string& path, const Service& svc) {
    absl::flat_hash_map<std::pair<IpAddress, uint16_t>, size_t> first;
    for (size_t j = 0; j < svc.backends.size(); ++j) {
      const Backend& b = svc.backends[j];
      const std::string bpath = absl::StrFormat("%s.backends[%d]", path, j);
      if (!Readable({bpath + ".address", bpath + ".port"})) continue;
      const std::string apath = bpath + ".address";
      auto [it, inserted] = first.try_emplace(std::make_pair(b.address, b.port), j);
      if (!inserted) {
        Error(apath, absl::StrFormat("duplicate backend %s port %d (first at %s.backends[%d])",
                                     b.address.ToString(), b.port, path, it->second));
      }
      CheckBackendForMode(bpath, svc, b);
    }
  }

  void CheckBackendForMode(const std::string& bpath, const Service& svc, const Backend& b) {
    const std::string apath = bpath + ".address";
    const std::string_view mode = ToString(svc.forwarding);
    if (b.address.family != svc.vip.family) {
      const bool v4_in_v6_tunnel = svc.forwarding == Forwarding::kTunnel && svc.vip.is_v4();
      if (!v4_in_v6_tunnel) {
        Error(apath,
              absl::StrFormat(
                  "%s backend %s cannot serve %s VIP %s in %s mode%s", FamilyName(b.address.family),
                  b.address.ToString(), FamilyName(svc.vip.family), svc.vip.ToString(), mode,
                  svc.vip.is_v4() ? " (only tunnel mode carries IPv4 to IPv6 backends)" : ""));
        return;
      }
    }
    if (svc.forwarding == Forwarding::kNat && svc.vip.is_v6()) {
      Error(apath, absl::StrFormat("nat is IPv4 only (IPv6 services use dr or tunnel; "
                                   "docs/forwarding.md says why); %s is IPv6",
                                   svc.vip.ToString()));
      return;
    }
    if (svc.forwarding != Forwarding::kNat && b.port != svc.port) {
      Error(bpath + ".port",
            absl::StrFormat("backend port %d differs from the service port %d; %s mode does not "
                            "rewrite ports (use nat)",
                            b.port, svc.port, mode));
    }
    if (!Readable({"dataplane.ports", "dataplane.routes"})) return;
    if (svc.forwarding == Forwarding::kDr) {
      if (!OnLinkAnywhere(b.address)) {
        Error(apath, absl::StrFormat("dr backend %s is not on the subnet of any port; direct "
                                     "routing needs backends on the same L2 segment",
                                     b.address.ToString()));
      }
    } else if (!Routable(b.address)) {
      Error(apath, absl::StrFormat("no route to backend %s: no port subnet or route covers it",
                                   b.address.ToString()));
    }
  }

  const Config& config_;
  const SourceMap& sources_;
  DiagnosticSink& sink_;
  const DiagnosticSink read_errors_;  // as reading left it
};

}  // namespace

void Validate(const Config& config, const SourceMap& sources, DiagnosticSink& sink) {
  Validator(config, sources, sink).Run();
}

}  // namespace sluice::config
