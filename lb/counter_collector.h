// The Prometheus view of the dataplane's per-lcore counters: traffic, drops by reason,
// per-service and per-backend traffic, flow-table occupancy. Collect() runs on a metrics
// scrape thread (civetweb's); it sums the workers' and the control thread's
// LcoreStats with plain loads (dataplane/counters.h), so a scrape may see a value one
// update behind. Nothing on the packet path takes part.
#ifndef SLUICE_LB_COUNTER_COLLECTOR_H_
#define SLUICE_LB_COUNTER_COLLECTOR_H_

#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "lb/status_board.h"
#include "lb/worker_busy_sampler.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sluice::lb {

// What a CounterCollector reads. Everything pointed to must outlive the collector (and
// any MetricsServer that holds it); the Appliance and the ControlLoop's board do.
struct CounterSources {
  std::vector<const dataplane::LcoreStats*> workers;  // one per worker, in worker order
  const dataplane::LcoreStats* control = nullptr;     // the control thread (slow path)
  const StatusBoard* board = nullptr;                 // id -> service name, backend address
  // Flow-table capacity summed over the workers; fixed at start-up.
  uint64_t flow_capacity_ipv4 = 0;
  uint64_t flow_capacity_ipv6 = 0;
  double tsc_hz = 0;  // rte_get_tsc_hz(): busy cycles -> seconds (0: exported as 0)
  // The workers' busy ratios over the last ~1 s; null: exported as 0.
  const WorkerBusySampler* busy = nullptr;
};

class CounterCollector : public prometheus::Collectable {
 public:
  explicit CounterCollector(CounterSources sources);

  // sluice_{rx,tx}_{packets,bytes}_total, sluice_drops_total{reason} (every reason,
  // zeros included), sluice_service_{packets,bytes,new_flows}_total{service},
  // sluice_backend_{packets,bytes,new_flows}_total{service,backend} (for the services
  // and backends on the board; the backend families are left out entirely when the board
  // says per-backend metrics are off), sluice_service_active_flows{service},
  // sluice_backend_active_flows{service,backend} (gauges), sluice_flow_table_entries{family},
  // sluice_flow_table_capacity{family}, sluice_flow_table_full_total,
  // sluice_worker_table_generation{worker},
  // sluice_worker_busy_seconds_total{worker}, sluice_worker_busy_ratio{worker},
  // sluice_icmp_echo_replies_total, sluice_icmp_too_big_sent_total,
  // sluice_nat_reply_{packets,bytes}_total, sluice_icmp_too_big_suppressed_total,
  // sluice_icmp_errors_forwarded_total, sluice_neighbor_packets_sent_total{kind}. Every
  // other family is present even without series.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const CounterSources sources_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_COUNTER_COLLECTOR_H_
