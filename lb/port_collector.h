// The Prometheus view of what DPDK knows about the NICs and the packet pool: a
// DPDK-owned NIC is invisible to node_exporter, so its rx/tx/missed/nombuf/error
// counters are exported here (rte_eth_stats_get), with the mbuf pool's occupancy.
//
// Collect() runs on a metrics scrape thread (civetweb's), not on the control lcore.
// Decision: rte_eth_stats_get is called from that thread. The PMDs Sluice runs on
// (net_af_xdp, net_af_packet, net_tap, net_ring, net_null, and the usual PCI PMDs)
// compute basic stats by summing per-queue counters or reading NIC registers, without
// locks or state shared with the RX/TX path, so a read from another thread is safe and
// at worst one burst behind. A PMD whose stats_get needed the port's lcore would need a
// control-thread snapshot instead. rte_mempool_avail_count is thread-safe by design.
#ifndef SLUICE_LB_PORT_COLLECTOR_H_
#define SLUICE_LB_PORT_COLLECTOR_H_

#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sluice::lb {

struct NamedPort {
  std::string name;  // the config's port name: the `port` label
  uint16_t dpdk_port = 0;
};

class PortCollector : public prometheus::Collectable {
 public:
  // `ports` are started ports; `pool` (may be null: no mempool series) is the packet
  // pool. Both must stay valid while the collector can be scraped.
  PortCollector(std::vector<NamedPort> ports, const rte_mempool* pool);

  // sluice_port_{rx,tx}_{packets,bytes}_total{port}, sluice_port_{rx,tx}_errors_total,
  // sluice_port_rx_missed_total, sluice_port_rx_nombuf_total (one series per port, zero
  // when stats cannot be read), sluice_mempool_available_mbufs, sluice_mempool_size_mbufs.
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const std::vector<NamedPort> ports_;
  const rte_mempool* pool_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_PORT_COLLECTOR_H_
