// StatusCollector: StatusBoard snapshot -> metric families. Scrape thread.
#include "lb/status_collector.h"

#include <utility>

#include "absl/time/time.h"
#include "lb/metric_families.h"
#include "prometheus/metric_type.h"

namespace sluice::lb {
namespace {

using prometheus::MetricType;

double Bool(bool b) { return b ? 1.0 : 0.0; }

double UnixSeconds(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return 0;
  return absl::ToDoubleSeconds(t - absl::UnixEpoch());
}

}  // namespace

StatusCollector::StatusCollector(const StatusBoard& board, std::string version)
    : board_(board), version_(std::move(version)) {}

std::vector<prometheus::MetricFamily> StatusCollector::Collect() const {
  const StatusSnapshot s = board_.Snapshot();
  std::vector<prometheus::MetricFamily> out;

  auto build =
      MakeFamily("sluice_build_info", "Sluice build; the value is always 1.", MetricType::Gauge);
  AddSample(build, 1, {{"version", version_}});
  out.push_back(std::move(build));

  auto reload_ok = MakeFamily("sluice_config_last_reload_successful",
                              "Whether the last config reload attempt succeeded (the start-up "
                              "config counts as a success).",
                              MetricType::Gauge);
  AddSample(reload_ok, Bool(s.reload.last_successful));
  out.push_back(std::move(reload_ok));

  auto reload_time = MakeFamily(
      "sluice_config_last_reload_success_timestamp_seconds",
      "Unix time of the last successful config load or reload; 0 if none.", MetricType::Gauge);
  AddSample(reload_time, UnixSeconds(s.reload.last_success_time));
  out.push_back(std::move(reload_time));

  auto reloads =
      MakeFamily("sluice_config_reloads_total", "Config reload attempts since start-up, by result.",
                 MetricType::Counter);
  AddSample(reloads, static_cast<double>(s.reload.successes), {{"result", "success"}});
  AddSample(reloads, static_cast<double>(s.reload.failures), {{"result", "failure"}});
  out.push_back(std::move(reloads));

  auto generation =
      MakeFamily("sluice_table_generation", "Generation of the forwarding table the workers use.",
                 MetricType::Gauge);
  AddSample(generation, static_cast<double>(s.table_generation));
  out.push_back(std::move(generation));

  auto service_backends = MakeFamily("sluice_service_backends",
                                     "Backends configured for the service.", MetricType::Gauge);
  auto service_serving =
      MakeFamily("sluice_service_backends_serving",
                 "Backends of the service that take new flows (up, weight > 0, not draining).",
                 MetricType::Gauge);
  auto service_up =
      MakeFamily("sluice_service_up", "1 if at least one backend of the service takes new flows.",
                 MetricType::Gauge);
  auto backend_up = MakeFamily("sluice_backend_up",
                               "Backend health: 1 up, 0 down (always 1 without health checks).",
                               MetricType::Gauge);
  auto backend_weight =
      MakeFamily("sluice_backend_weight", "Configured backend weight.", MetricType::Gauge);
  auto backend_draining =
      MakeFamily("sluice_backend_draining",
                 "1 if the backend is drained by the config or by sluicectl.", MetricType::Gauge);
  for (const ServiceStatus& service : s.services) {
    const size_t serving = service.serving_backends();
    AddSample(service_backends, static_cast<double>(service.backends.size()),
              {{"service", service.name}});
    AddSample(service_serving, static_cast<double>(serving), {{"service", service.name}});
    AddSample(service_up, Bool(serving > 0), {{"service", service.name}});
    if (!s.per_backend_metrics) continue;
    for (const BackendStatus& backend : service.backends) {
      const MetricLabels labels = {{"service", service.name}, {"backend", backend.address}};
      AddSample(backend_up, Bool(backend.up), labels);
      AddSample(backend_weight, backend.weight, labels);
      AddSample(backend_draining, Bool(backend.config_drain || backend.runtime_drain), labels);
    }
  }
  out.push_back(std::move(service_backends));
  out.push_back(std::move(service_serving));
  out.push_back(std::move(service_up));
  if (s.per_backend_metrics) {  // config metrics.per_backend: false leaves no trace
    out.push_back(std::move(backend_up));
    out.push_back(std::move(backend_weight));
    out.push_back(std::move(backend_draining));
  }
  return out;
}

}  // namespace sluice::lb
