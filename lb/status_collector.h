// The Prometheus view of the StatusBoard: build info, config reload results, the table
// generation and each service's and backend's configured and health state. Collect()
// runs on a metrics scrape thread (civetweb's); it only reads a StatusBoard snapshot.
#ifndef SLUICE_LB_STATUS_COLLECTOR_H_
#define SLUICE_LB_STATUS_COLLECTOR_H_

#include <string>
#include <vector>

#include "lb/status_board.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sluice::lb {

class StatusCollector : public prometheus::Collectable {
 public:
  // `board` must outlive this collector (and any MetricsServer that holds it).
  StatusCollector(const StatusBoard& board, std::string version);

  // sluice_build_info, sluice_config_last_reload_successful,
  // sluice_config_last_reload_success_timestamp_seconds, sluice_config_reloads_total,
  // sluice_table_generation, sluice_service_{backends,backends_serving,up},
  // sluice_backend_{up,weight,draining}. Every family is present even when it has no
  // series left (no services), so the set of names does not depend on the services;
  // only metrics.per_backend: false (on the board) leaves the sluice_backend_* families
  // out.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const StatusBoard& board_;
  const std::string version_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_STATUS_COLLECTOR_H_
