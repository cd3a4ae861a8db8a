// Helpers that build prometheus::MetricFamily values directly, for Collectables that
// report state owned elsewhere (no prometheus::Registry). Called from a Collect() on a
// metrics scrape thread; plain value building, no shared state.
#ifndef SLUICE_LB_METRIC_FAMILIES_H_
#define SLUICE_LB_METRIC_FAMILIES_H_

#include <string>
#include <utility>
#include <vector>

#include "prometheus/client_metric.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace sluice::lb {

using MetricLabels = std::vector<prometheus::ClientMetric::Label>;

// An empty family; add series with AddSample. Counters' names end in `_total`.
inline prometheus::MetricFamily MakeFamily(std::string name, std::string help,
                                           prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

// Appends one series to a gauge or counter family.
inline void AddSample(prometheus::MetricFamily& family, double value, MetricLabels labels = {}) {
  prometheus::ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

}  // namespace sluice::lb

#endif  // SLUICE_LB_METRIC_FAMILIES_H_
