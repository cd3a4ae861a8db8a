// HealthCollector: per-service result counts -> a counter and a histogram. Scrape thread.
#include "lb/health_collector.h"

#include <limits>
#include <utility>

#include "lb/metric_families.h"
#include "prometheus/client_metric.h"
#include "prometheus/metric_type.h"

namespace sluice::lb {
namespace {

using prometheus::MetricType;

prometheus::ClientMetric Histogram(const health::CheckResultCounts& counts, MetricLabels labels) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < health::kCheckDurationBounds.size(); ++i) {
    cumulative += counts.duration_buckets[i];
    metric.histogram.bucket.push_back(
        {.cumulative_count = cumulative, .upper_bound = health::kCheckDurationBounds[i]});
  }
  cumulative += counts.duration_buckets.back();
  metric.histogram.bucket.push_back(
      {.cumulative_count = cumulative, .upper_bound = std::numeric_limits<double>::infinity()});
  metric.histogram.sample_count = cumulative;
  metric.histogram.sample_sum = counts.duration_sum_seconds;
  return metric;
}

}  // namespace

HealthCollector::HealthCollector(const StatusBoard& board, const health::HealthChecker& checker)
    : board_(board), checker_(checker) {}

std::vector<prometheus::MetricFamily> HealthCollector::Collect() const {
  const StatusSnapshot s = board_.Snapshot();
  const auto counts = checker_.result_counts();
  auto results = MakeFamily("sluice_health_checks_total",
                            "Health-check results received by the service's backends, by "
                            "result (success, failure, timeout); a probe shared by services "
                            "counts for each.",
                            MetricType::Counter);
  auto durations =
      MakeFamily("sluice_health_check_duration_seconds",
                 "Time from a health probe's start to its verdict.", MetricType::Histogram);
  for (const ServiceStatus& service : s.services) {
    const auto it = counts.find(service.id);
    const health::CheckResultCounts c =
        it != counts.end() ? it->second : health::CheckResultCounts{};
    AddSample(results, static_cast<double>(c.successes),
              {{"service", service.name}, {"result", "success"}});
    AddSample(results, static_cast<double>(c.failures),
              {{"service", service.name}, {"result", "failure"}});
    AddSample(results, static_cast<double>(c.timeouts),
              {{"service", service.name}, {"result", "timeout"}});
    durations.metric.push_back(Histogram(c, {{"service", service.name}}));
  }
  std::vector<prometheus::MetricFamily> out;
  out.push_back(std::move(results));
  out.push_back(std::move(durations));
  return out;
}

}  // namespace sluice::lb
