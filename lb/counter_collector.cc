// CounterCollector: per-lcore counters summed into metric families. Scrape thread.
#include "lb/counter_collector.h"

#include <string>
#include <utility>

#include "dataplane/drop_reason.h"
#include "dataplane/forwarding_table.h"
#include "lb/metric_families.h"
#include "lb/traffic_totals.h"
#include "prometheus/metric_type.h"

namespace sluice::lb {
namespace {

using dataplane::LcoreCounters;
using dataplane::LcoreStats;
using dataplane::TrafficCounters;
using prometheus::MetricType;

// Sums `field` of LcoreCounters over `lcores`.
template <typename Field>
double Sum(const std::vector<const LcoreStats*>& lcores, Field field) {
  uint64_t sum = 0;
  for (const LcoreStats* lcore : lcores) sum += lcore->counters.*field;
  return static_cast<double>(sum);
}

prometheus::MetricFamily Counter(std::string name, std::string help, double value) {
  auto family = MakeFamily(std::move(name), std::move(help), MetricType::Counter);
  AddSample(family, value);
  return family;
}

}  // namespace

CounterCollector::CounterCollector(CounterSources sources) : sources_(std::move(sources)) {}

std::vector<prometheus::MetricFamily> CounterCollector::Collect() const {
  const std::vector<const LcoreStats*>& workers = sources_.workers;
  std::vector<const LcoreStats*> all = workers;
  if (sources_.control != nullptr) all.push_back(sources_.control);
  std::vector<prometheus::MetricFamily> out;

  out.push_back(Counter("sluice_rx_packets_total", "Packets received by the workers.",
                        Sum(workers, &LcoreCounters::rx_packets)));
  out.push_back(Counter("sluice_rx_bytes_total", "Bytes received by the workers.",
                        Sum(workers, &LcoreCounters::rx_bytes)));
  out.push_back(Counter("sluice_tx_packets_total", "Packets accepted by a NIC TX queue.",
                        Sum(workers, &LcoreCounters::tx_packets)));
  out.push_back(Counter("sluice_tx_bytes_total", "Bytes accepted by a NIC TX queue.",
                        Sum(workers, &LcoreCounters::tx_bytes)));

  auto drops = MakeFamily("sluice_drops_total",
                          "Packets dropped by the dataplane, by reason (docs/dataplane.md).",
                          MetricType::Counter);
  for (size_t r = 0; r < dataplane::kDropReasonCount; ++r) {
    uint64_t sum = 0;
    for (const LcoreStats* lcore : all) sum += lcore->counters.drops[r];
    AddSample(drops, static_cast<double>(sum),
              {{"reason", std::string(dataplane::kDropReasonInfo[r].label)}});
  }
  out.push_back(std::move(drops));

  auto service_packets =
      MakeFamily("sluice_service_packets_total", "Client packets forwarded for the service.",
                 MetricType::Counter);
  auto service_bytes = MakeFamily("sluice_service_bytes_total",
                                  "Client bytes forwarded for the service.", MetricType::Counter);
  auto service_flows = MakeFamily("sluice_service_new_flows_total",
                                  "New flows scheduled for the service.", MetricType::Counter);
  auto backend_packets =
      MakeFamily("sluice_backend_packets_total", "Client packets forwarded to the backend.",
                 MetricType::Counter);
  auto backend_bytes = MakeFamily("sluice_backend_bytes_total",
                                  "Client bytes forwarded to the backend.", MetricType::Counter);
  auto backend_flows = MakeFamily("sluice_backend_new_flows_total",
                                  "New flows scheduled to the backend.", MetricType::Counter);
  auto service_active =
      MakeFamily("sluice_service_active_flows", "Flows of the service in the workers' flow tables.",
                 MetricType::Gauge);
  auto backend_active =
      MakeFamily("sluice_backend_active_flows", "Flows of the backend in the workers' flow tables.",
                 MetricType::Gauge);
  if (sources_.board != nullptr) {
    const StatusSnapshot s = sources_.board->Snapshot();
    for (const ServiceStatus& service : s.services) {
      const TrafficCounters st = ServiceTraffic(workers, service.id);
      const MetricLabels labels = {{"service", service.name}};
      AddSample(service_packets, static_cast<double>(st.packets), labels);
      AddSample(service_bytes, static_cast<double>(st.bytes), labels);
      AddSample(service_flows, static_cast<double>(st.new_flows), labels);
      AddSample(service_active, static_cast<double>(st.active_flows), labels);
      for (const BackendStatus& backend : service.backends) {
        const TrafficCounters bt = BackendTraffic(workers, backend.id);
        const MetricLabels backend_labels = {{"service", service.name},
                                             {"backend", backend.address}};
        AddSample(backend_packets, static_cast<double>(bt.packets), backend_labels);
        AddSample(backend_bytes, static_cast<double>(bt.bytes), backend_labels);
        AddSample(backend_flows, static_cast<double>(bt.new_flows), backend_labels);
        AddSample(backend_active, static_cast<double>(bt.active_flows), backend_labels);
      }
    }
  }
  out.push_back(std::move(service_packets));
  out.push_back(std::move(service_bytes));
  out.push_back(std::move(service_flows));
  out.push_back(std::move(backend_packets));
  out.push_back(std::move(backend_bytes));
  out.push_back(std::move(backend_flows));
  out.push_back(std::move(service_active));
  out.push_back(std::move(backend_active));

  auto entries = MakeFamily("sluice_flow_table_entries",
                            "Entries in the workers' flow tables (IPv4 and IPv6 together).",
                            MetricType::Gauge);
  AddSample(entries, Sum(workers, &LcoreCounters::flow_entries));
  out.push_back(std::move(entries));
  auto capacity =
      MakeFamily("sluice_flow_table_capacity",
                 "Flow-table entries the workers can hold, by address family.", MetricType::Gauge);
  AddSample(capacity, static_cast<double>(sources_.flow_capacity_ipv4), {{"family", "ipv4"}});
  AddSample(capacity, static_cast<double>(sources_.flow_capacity_ipv6), {{"family", "ipv6"}});
  out.push_back(std::move(capacity));

  auto generation =
      MakeFamily("sluice_worker_table_generation",
                 "Generation of the forwarding table the worker last used.", MetricType::Gauge);
  for (size_t i = 0; i < workers.size(); ++i) {
    AddSample(generation, static_cast<double>(workers[i]->counters.table_generation),
              {{"worker", std::to_string(i)}});
  }
  out.push_back(std::move(generation));

  out.push_back(Counter("sluice_icmp_echo_replies_total",
                        "ICMP echo requests to a VIP or port address answered.",
                        Sum(all, &LcoreCounters::icmp_echo_replies)));
  out.push_back(Counter("sluice_icmp_too_big_sent_total",
                        "ICMP frag-needed / packet-too-big errors sent to clients.",
                        Sum(all, &LcoreCounters::icmp_too_big_sent)));
  out.push_back(Counter("sluice_nat_reply_packets_total",
                        "Backend replies translated back to the VIP (nat services).",
                        Sum(all, &LcoreCounters::nat_reply_packets)));
  return out;
}

}  // namespace sluice::lb
