// The Prometheus scrape endpoint: an HTTP server (prometheus-cpp's Exposer, civetweb)
// that serves GET /metrics from a set of Collectables. Start and the destructor run on
// the control thread; Collect() calls happen on the server's own threads.
#ifndef SLUICE_LB_METRICS_SERVER_H_
#define SLUICE_LB_METRICS_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace sluice::lb {

class MetricsServer {
 public:
  // Listens on `listen` ("127.0.0.1:9750", "[::1]:9750"; port 0 picks a free port) and
  // serves `collectables` at /metrics, in order. Errors name the setting:
  // "metrics.listen 127.0.0.1:9750: cannot listen: ...". IPv6 needs a civetweb built
  // with IPv6, which Debian 12's is not; that is reported as such. prometheus-cpp adds
  // its own exposer_* families (scrape count, bytes, latency) to every scrape.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      const std::string& listen,
      std::vector<std::shared_ptr<prometheus::Collectable>> collectables);

  // Stops the server; returns once no scrape is running. civetweb notices the stop only
  // between 2 s accept polls, so this can take up to 2 s once a scrape has been served.
  ~MetricsServer();

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port actually listened on (the chosen one when `listen` said port 0).
  uint16_t port() const { return port_; }

 private:
  MetricsServer(std::vector<std::shared_ptr<prometheus::Collectable>> collectables,
                std::unique_ptr<prometheus::Exposer> exposer, uint16_t port);

  // The Exposer holds weak pointers; these keep the collectables alive. Declared
  // before exposer_ so that the server stops before they go.
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  uint16_t port_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_METRICS_SERVER_H_
