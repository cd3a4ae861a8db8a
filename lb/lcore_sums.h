// Sums of the per-lcore counters (dataplane/counters.h) over a set of lcores, shared by
// every reader that reports them (the Prometheus CounterCollector, the DPDK telemetry
// commands). Plain loads: a sum may be one update behind, never torn. Any thread.
#ifndef SLUICE_LB_LCORE_SUMS_H_
#define SLUICE_LB_LCORE_SUMS_H_

#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/forwarding_table.h"

namespace sluice::lb {

// Sums `field` of LcoreCounters over `lcores` (e.g. &LcoreCounters::rx_packets).
template <typename Field>
uint64_t SumCounter(const std::vector<const dataplane::LcoreStats*>& lcores, Field field) {
  uint64_t sum = 0;
  for (const dataplane::LcoreStats* lcore : lcores) sum += lcore->counters.*field;
  return sum;
}

// Sums drops of reason index `reason` over `lcores`.
inline uint64_t SumDrops(const std::vector<const dataplane::LcoreStats*>& lcores, size_t reason) {
  uint64_t sum = 0;
  for (const dataplane::LcoreStats* lcore : lcores) sum += lcore->counters.drops[reason];
  return sum;
}

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

#endif  // SLUICE_LB_LCORE_SUMS_H_
