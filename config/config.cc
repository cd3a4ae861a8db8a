#include "config/config.h"

namespace sluice::config {

std::string_view ToString(Protocol p) { return p == Protocol::kTcp ? "tcp" : "udp"; }

std::string_view ToString(Forwarding f) {
  switch (f) {
    case Forwarding::kDr:
      return "dr";
    case Forwarding::kTunnel:
      return "tunnel";
    case Forwarding::kNat:
      return "nat";
  }
  return "?";
}

std::string_view ToString(Scheduler /*s*/) { return "maglev"; }

std::string_view ToString(HealthCheckType t) {
  switch (t) {
    case HealthCheckType::kNone:
      return "none";
    case HealthCheckType::kTcp:
      return "tcp";
    case HealthCheckType::kHttp:
      return "http";
    case HealthCheckType::kUdp:
      return "udp";
  }
  return "?";
}

std::string_view ToString(TcpCheckMode m) {
  switch (m) {
    case TcpCheckMode::kConnect:
      return "connect";
    case TcpCheckMode::kSyn:
      return "syn";
  }
  return "?";
}

size_t Config::backend_count() const {
  size_t n = 0;
  for (const Service& s : services) n += s.backends.size();
  return n;
}

}  // namespace sluice::config
