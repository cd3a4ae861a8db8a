// CounterCollector: per-lcore counters summed into metric families. Scrape thread.
#include "lb/counter_collector.h"

#include <string>
#include <utility>

#include "dataplane/drop_reason.h"
#include "dataplane/forwarding_table.h"
#include "lb/lcore_sums.h"
#include "lb/metric_families.h"
#include "prometheus/metric_type.h"

namespace sluice::lb {
namespace {

using dataplane::LcoreCounters;
using dataplane::LcoreStats;
using dataplane::TrafficCounters;
using prometheus::MetricType;

// As a double, which is what prometheus-cpp takes.
template <typename Field>
double Sum(const std::vector<const LcoreStats*>& lcores, Field field) {
  return static_cast<double>(SumCounter(lcores, field));
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
    AddSample(drops, static_cast<double>(SumDrops(all, r)),
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
  bool per_backend = true;
  auto service_active =
      MakeFamily("sluice_service_active_flows", "Flows of the service in the workers' flow tables.",
                 MetricType::Gauge);
  auto backend_active =
      MakeFamily("sluice_backend_active_flows", "Flows of the backend in the workers' flow tables.",
                 MetricType::Gauge);
  if (sources_.board != nullptr) {
    const StatusSnapshot s = sources_.board->Snapshot();
    per_backend = s.per_backend_metrics;
    for (const ServiceStatus& service : s.services) {
      const TrafficCounters st = ServiceTraffic(workers, service.id);
      const MetricLabels labels = {{"service", service.name}};
      AddSample(service_packets, static_cast<double>(st.packets), labels);
      AddSample(service_bytes, static_cast<double>(st.bytes), labels);
      AddSample(service_flows, static_cast<double>(st.new_flows), labels);
      AddSample(service_active, static_cast<double>(st.active_flows), labels);
      if (!per_backend) continue;
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
  out.push_back(std::move(service_active));
  if (per_backend) {
    out.push_back(std::move(backend_packets));
    out.push_back(std::move(backend_bytes));
    out.push_back(std::move(backend_flows));
    out.push_back(std::move(backend_active));
  }

  auto entries =
      MakeFamily("sluice_flow_table_entries",
                 "Entries in the workers' flow tables, by address family.", MetricType::Gauge);
  AddSample(entries, Sum(workers, &LcoreCounters::flow_entries_ipv4), {{"family", "ipv4"}});
  AddSample(entries, Sum(workers, &LcoreCounters::flow_entries_ipv6), {{"family", "ipv6"}});
  out.push_back(std::move(entries));
  auto capacity =
      MakeFamily("sluice_flow_table_capacity",
                 "Flow-table entries the workers can hold, by address family.", MetricType::Gauge);
  AddSample(capacity, static_cast<double>(sources_.flow_capacity_ipv4), {{"family", "ipv4"}});
  AddSample(capacity, static_cast<double>(sources_.flow_capacity_ipv6), {{"family", "ipv6"}});
  out.push_back(std::move(capacity));
  out.push_back(Counter("sluice_flow_table_full_total",
                        "New flows a worker forwarded by the Maglev table without a flow entry "
                        "because its flow table was full (one full worker shows here even when "
                        "the summed entries are far below the summed capacity).",
                        Sum(workers, &LcoreCounters::flow_table_full)));

  auto generation =
      MakeFamily("sluice_worker_table_generation",
                 "Generation of the forwarding table the worker last used.", MetricType::Gauge);
  for (size_t i = 0; i < workers.size(); ++i) {
    AddSample(generation, static_cast<double>(workers[i]->counters.table_generation),
              {{"worker", std::to_string(i)}});
  }
  out.push_back(std::move(generation));

  auto busy_seconds =
      MakeFamily("sluice_worker_busy_seconds_total",
                 "Time the worker spent in loop iterations that did work (received packets, sent "
                 "injected ones or expired flows); the rest of its time it polled idle or slept.",
                 MetricType::Counter);
  auto busy_ratio =
      MakeFamily("sluice_worker_busy_ratio",
                 "Share of the last ~1 s the worker spent in iterations that did work: its "
                 "load (a polling worker always shows 100% CPU).",
                 MetricType::Gauge);
  const std::vector<double> ratios =
      sources_.busy != nullptr ? sources_.busy->ratios() : std::vector<double>();
  for (size_t i = 0; i < workers.size(); ++i) {
    const MetricLabels labels = {{"worker", std::to_string(i)}};
    const double cycles = static_cast<double>(workers[i]->counters.busy_cycles);
    AddSample(busy_seconds, sources_.tsc_hz > 0 ? cycles / sources_.tsc_hz : 0, labels);
    AddSample(busy_ratio, i < ratios.size() ? ratios[i] : 0, labels);
  }
  out.push_back(std::move(busy_seconds));
  out.push_back(std::move(busy_ratio));

  out.push_back(Counter("sluice_icmp_echo_replies_total",
                        "ICMP echo requests to a VIP or port address answered.",
                        Sum(all, &LcoreCounters::icmp_echo_replies)));
  out.push_back(Counter("sluice_icmp_too_big_sent_total",
                        "ICMP frag-needed / packet-too-big errors sent to clients.",
                        Sum(all, &LcoreCounters::icmp_too_big_sent)));
  out.push_back(Counter("sluice_nat_reply_packets_total",
                        "Backend replies translated back to the VIP (nat services).",
                        Sum(all, &LcoreCounters::nat_reply_packets)));
  out.push_back(Counter("sluice_nat_reply_bytes_total",
                        "Bytes of backend replies translated back to the VIP (nat services).",
                        Sum(all, &LcoreCounters::nat_reply_bytes)));
  out.push_back(Counter("sluice_icmp_too_big_suppressed_total",
                        "ICMP frag-needed / packet-too-big errors the rate limit held back.",
                        Sum(all, &LcoreCounters::icmp_errors_suppressed)));
  out.push_back(Counter("sluice_icmp_errors_forwarded_total",
                        "ICMP errors about a VIP flow (frag-needed, packet-too-big, unreachable, "
                        "time-exceeded) sent on to the backend that owns the quoted flow.",
                        Sum(all, &LcoreCounters::icmp_errors_forwarded)));
  auto neighbor =
      MakeFamily("sluice_neighbor_packets_sent_total",
                 "ARP and NDP packets the control thread sent, by kind.", MetricType::Counter);
  AddSample(neighbor, Sum(all, &LcoreCounters::arp_requests_sent), {{"kind", "arp_request"}});
  AddSample(neighbor, Sum(all, &LcoreCounters::arp_replies_sent), {{"kind", "arp_reply"}});
  AddSample(neighbor, Sum(all, &LcoreCounters::nd_solicitations_sent),
            {{"kind", "nd_solicitation"}});
  AddSample(neighbor, Sum(all, &LcoreCounters::nd_advertisements_sent),
            {{"kind", "nd_advertisement"}});
  out.push_back(std::move(neighbor));
  return out;
}

}  // namespace sluice::lb
