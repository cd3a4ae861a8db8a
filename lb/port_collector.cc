// PortCollector: rte_eth_stats_get per port and the pool's occupancy. Scrape thread.
#include "lb/port_collector.h"

#include <rte_ethdev.h>

#include <utility>

#include "lb/metric_families.h"
#include "prometheus/metric_type.h"

namespace sluice::lb {
namespace {

using prometheus::MetricType;

struct PortCounter {
  const char* name;
  const char* help;
  uint64_t rte_eth_stats::*field;
};

constexpr PortCounter kPortCounters[] = {
    {"sluice_port_rx_packets_total", "Packets the NIC received (rte_eth_stats ipackets).",
     &rte_eth_stats::ipackets},
    {"sluice_port_tx_packets_total", "Packets the NIC sent (rte_eth_stats opackets).",
     &rte_eth_stats::opackets},
    {"sluice_port_rx_bytes_total", "Bytes the NIC received (rte_eth_stats ibytes).",
     &rte_eth_stats::ibytes},
    {"sluice_port_tx_bytes_total", "Bytes the NIC sent (rte_eth_stats obytes).",
     &rte_eth_stats::obytes},
    {"sluice_port_rx_errors_total", "Erroneous packets the NIC received (rte_eth_stats ierrors).",
     &rte_eth_stats::ierrors},
    {"sluice_port_tx_errors_total", "Packets the NIC failed to send (rte_eth_stats oerrors).",
     &rte_eth_stats::oerrors},
    {"sluice_port_rx_missed_total",
     "Packets the NIC dropped because the RX queue was full: the workers did not keep up "
     "(rte_eth_stats imissed).",
     &rte_eth_stats::imissed},
    {"sluice_port_rx_nombuf_total",
     "RX mbuf allocation failures: the packet pool was empty (rte_eth_stats rx_nombuf).",
     &rte_eth_stats::rx_nombuf},
};

}  // namespace

PortCollector::PortCollector(std::vector<NamedPort> ports, const rte_mempool* pool)
    : ports_(std::move(ports)), pool_(pool) {}

std::vector<prometheus::MetricFamily> PortCollector::Collect() const {
  std::vector<rte_eth_stats> stats(ports_.size());
  for (size_t i = 0; i < ports_.size(); ++i) {
    // On failure (a port that went away) the series stay, at zero: rte_eth_stats_get
    // zeroes its output first, and a fixed set of series is what a scrape expects.
    if (rte_eth_stats_get(ports_[i].dpdk_port, &stats[i]) != 0) stats[i] = rte_eth_stats{};
  }
  std::vector<prometheus::MetricFamily> out;
  for (const PortCounter& counter : kPortCounters) {
    auto family = MakeFamily(counter.name, counter.help, MetricType::Counter);
    for (size_t i = 0; i < ports_.size(); ++i) {
      AddSample(family, static_cast<double>(stats[i].*counter.field), {{"port", ports_[i].name}});
    }
    out.push_back(std::move(family));
  }
  if (pool_ != nullptr) {
    auto available =
        MakeFamily("sluice_mempool_available_mbufs",
                   "Free mbufs in the packet pool (per-lcore caches included).", MetricType::Gauge);
    AddSample(available, static_cast<double>(rte_mempool_avail_count(pool_)));
    out.push_back(std::move(available));
    auto size =
        MakeFamily("sluice_mempool_size_mbufs", "Mbufs in the packet pool.", MetricType::Gauge);
    AddSample(size, static_cast<double>(pool_->size));
    out.push_back(std::move(size));
  }
  return out;
}

}  // namespace sluice::lb
