// The Prometheus view of the health checks: results and probe durations per service.
// The HealthChecker counts every probe result once per subscriber (backend) that
// receives it, under the subscriber's stats group, which the controller sets to the
// service id (Controller::HealthChecks). Per service rather than per backend: a series
// per backend and result would be 3 + 15 histogram series per backend, too many for
// large pools, and sluice_backend_up already says which backend fails.
//
// Collect() runs on a metrics scrape thread; it reads a StatusBoard snapshot and the
// checker's counts (both under their own mutex).
#ifndef SLUICE_LB_HEALTH_COLLECTOR_H_
#define SLUICE_LB_HEALTH_COLLECTOR_H_

#include <vector>

#include "health/health_checker.h"
#include "lb/status_board.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sluice::lb {

class HealthCollector : public prometheus::Collectable {
 public:
  // Both must outlive the collector (and any MetricsServer that holds it).
  HealthCollector(const StatusBoard& board, const health::HealthChecker& checker);

  // sluice_health_checks_total{service,result} (result: success, failure, timeout) and
  // the histogram sluice_health_check_duration_seconds{service} (buckets
  // health::kCheckDurationBounds), for every service on the board: zeros for a service
  // whose backends have no results yet or no health check (`type: none`).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const StatusBoard& board_;
  const health::HealthChecker& checker_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_HEALTH_COLLECTOR_H_
