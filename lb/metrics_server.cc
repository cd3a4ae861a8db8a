// MetricsServer: prometheus::Exposer on one validated address. Control thread.
#include "lb/metrics_server.h"

#include <arpa/inet.h>

#include <exception>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "civetweb.h"
#include "prometheus/exposer.h"

namespace sluice::lb {
namespace {

// mg_check_feature bit for IPv6 support (civetweb.h documents the values).
constexpr unsigned kCivetwebIpv6 = 8;

struct ListenAddress {
  bool ipv6 = false;
};

// Accepts exactly "IPV4:PORT" or "[IPV6]:PORT" with a numeric port 0..65535, so nothing
// else reaches civetweb's listening_ports option (which would also take lists, "s"
// suffixes and bare ports that bind every address).
absl::StatusOr<ListenAddress> ParseListen(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  const auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics.listen ", listen, ": not an IPv4:PORT or [IPv6]:PORT address"));
  };
  if (colon == absl::string_view::npos) return invalid();
  absl::string_view host = listen.substr(0, colon);
  const absl::string_view port = listen.substr(colon + 1);
  uint32_t port_number = 0;
  if (port.empty() || port.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port, &port_number) || port_number > 65535) {
    return invalid();
  }
  ListenAddress result;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    result.ipv6 = true;
  }
  const std::string host_string(host);
  unsigned char buffer[16];
  if (inet_pton(result.ipv6 ? AF_INET6 : AF_INET, host_string.c_str(), buffer) != 1) {
    return invalid();
  }
  return result;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& listen, std::vector<std::shared_ptr<prometheus::Collectable>> collectables) {
  absl::StatusOr<ListenAddress> address = ParseListen(listen);
  if (!address.ok()) return address.status();
  const std::string prefix = absl::StrCat("metrics.listen ", listen, ": cannot listen: ");
  if (address->ipv6 && mg_check_feature(kCivetwebIpv6) == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        prefix, "this build's civetweb (prometheus-cpp's HTTP server) has no IPv6 support"));
  }
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    exposer = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/2);
  } catch (const std::exception& e) {
    // civetweb says only "null context when constructing CivetServer. Possible problem
    // binding to port."; the likely causes are more useful.
    return absl::UnavailableError(
        absl::StrCat(prefix, e.what(), " (address in use, or not an address of this host?)"));
  }
  const std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.size() != 1 || ports[0] <= 0 || ports[0] > 65535) {
    return absl::InternalError(
        absl::StrCat(prefix, "civetweb reports ", ports.size(), " listening ports, want 1"));
  }
  for (const auto& collectable : collectables) exposer->RegisterCollectable(collectable);
  return std::unique_ptr<MetricsServer>(new MetricsServer(
      std::move(collectables), std::move(exposer), static_cast<uint16_t>(ports[0])));
}

MetricsServer::MetricsServer(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                             std::unique_ptr<prometheus::Exposer> exposer, uint16_t port)
    : collectables_(std::move(collectables)), exposer_(std::move(exposer)), port_(port) {}

MetricsServer::~MetricsServer() = default;

}  // namespace sluice::lb
