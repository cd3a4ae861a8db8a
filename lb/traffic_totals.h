// Per-service and per-backend traffic summed over lcores (dataplane/counters.h): what the
// metrics endpoint (CounterCollector) and sluicectl (`list`, `list --stats`, the rate
// estimator) report. Plain loads of other lcores' plain stores: a sum may be one update
// behind, never torn. Any thread.
#ifndef SLUICE_LB_TRAFFIC_TOTALS_H_
#define SLUICE_LB_TRAFFIC_TOTALS_H_

#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/forwarding_table.h"

namespace sluice::lb {

// Sums one service's or backend's TrafficCounters over `lcores`; `table` is
// LcoreStats::services or LcoreStats::backends. Ids out of range read as zeros.
template <typename Table>
dataplane::TrafficCounters SumTraffic(const std::vector<const dataplane::LcoreStats*>& lcores,
                                      Table table, uint32_t id, uint32_t max_id) {
  dataplane::TrafficCounters sum;
  if (id >= max_id) return sum;
  for (const dataplane::LcoreStats* lcore : lcores) {
    const dataplane::TrafficCounters& t = (lcore->*table)[id];
    sum.packets += t.packets;
    sum.bytes += t.bytes;
    sum.new_flows += t.new_flows;
    sum.active_flows += t.active_flows;  // each lcore's own is >= 0; the sum wraps back
  }
  return sum;
}

inline dataplane::TrafficCounters ServiceTraffic(
    const std::vector<const dataplane::LcoreStats*>& lcores, uint32_t id) {
  return SumTraffic(lcores, &dataplane::LcoreStats::services, id, dataplane::kMaxServiceIds);
}

inline dataplane::TrafficCounters BackendTraffic(
    const std::vector<const dataplane::LcoreStats*>& lcores, uint32_t id) {
  return SumTraffic(lcores, &dataplane::LcoreStats::backends, id, dataplane::kMaxBackendIds);
}

}  // namespace sluice::lb

#endif  // SLUICE_LB_TRAFFIC_TOTALS_H_
