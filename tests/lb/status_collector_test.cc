// StatusCollector: the exact families, types, labels and values for a known StatusBoard.
#include "lb/status_collector.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/metric_type.h"
#include "tests/lb/metrics_test_util.h"

namespace sluice::lb {
namespace {

using ::prometheus::MetricType;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// One line per series: name{label="value",...} value (the value exactly).
std::vector<std::string> Series(const std::vector<prometheus::MetricFamily>& families) {
  std::vector<std::string> out;
  for (const auto& family : families) {
    for (const auto& metric : family.metric) {
      std::vector<std::string> labels;
      for (const auto& label : metric.label) {
        labels.push_back(absl::StrCat(label.name, "=\"", label.value, "\""));
      }
      const double value =
          family.type == MetricType::Counter ? metric.counter.value : metric.gauge.value;
      out.push_back(
          absl::StrFormat("%s{%s} %.17g", family.name, absl::StrJoin(labels, ","), value));
    }
  }
  return out;
}

std::map<std::string, MetricType> Types(const std::vector<prometheus::MetricFamily>& families) {
  std::map<std::string, MetricType> out;
  for (const auto& family : families) out[family.name] = family.type;
  return out;
}

TEST(StatusCollectorTest, ReportsBoard) {
  StatusBoard board;
  testing::FillSampleBoard(board);
  const StatusCollector collector(board, "1.2.3");
  const auto families = collector.Collect();

  EXPECT_THAT(
      Series(families),
      ElementsAre("sluice_build_info{version=\"1.2.3\"} 1",
                  "sluice_config_last_reload_successful{} 1",
                  "sluice_config_last_reload_success_timestamp_seconds{} 1700000000.5",
                  "sluice_config_reloads_total{result=\"success\"} 3",
                  "sluice_config_reloads_total{result=\"failure\"} 1",
                  "sluice_table_generation{} 7", "sluice_service_backends{service=\"web\"} 3",
                  "sluice_service_backends{service=\"dns\"} 1",
                  "sluice_service_backends_serving{service=\"web\"} 1",
                  "sluice_service_backends_serving{service=\"dns\"} 0",
                  "sluice_service_up{service=\"web\"} 1", "sluice_service_up{service=\"dns\"} 0",
                  "sluice_backend_up{service=\"web\",backend=\"10.0.0.11:80\"} 1",
                  "sluice_backend_up{service=\"web\",backend=\"10.0.0.12:80\"} 0",
                  "sluice_backend_up{service=\"web\",backend=\"[fd00::13]:80\"} 1",
                  "sluice_backend_up{service=\"dns\",backend=\"10.0.0.21:53\"} 1",
                  "sluice_backend_weight{service=\"web\",backend=\"10.0.0.11:80\"} 1",
                  "sluice_backend_weight{service=\"web\",backend=\"10.0.0.12:80\"} 2",
                  "sluice_backend_weight{service=\"web\",backend=\"[fd00::13]:80\"} 5",
                  "sluice_backend_weight{service=\"dns\",backend=\"10.0.0.21:53\"} 0",
                  "sluice_backend_draining{service=\"web\",backend=\"10.0.0.11:80\"} 0",
                  "sluice_backend_draining{service=\"web\",backend=\"10.0.0.12:80\"} 0",
                  "sluice_backend_draining{service=\"web\",backend=\"[fd00::13]:80\"} 1",
                  "sluice_backend_draining{service=\"dns\",backend=\"10.0.0.21:53\"} 0"));

  const std::map<std::string, MetricType> want_types = {
      {"sluice_build_info", MetricType::Gauge},
      {"sluice_config_last_reload_successful", MetricType::Gauge},
      {"sluice_config_last_reload_success_timestamp_seconds", MetricType::Gauge},
      {"sluice_config_reloads_total", MetricType::Counter},
      {"sluice_table_generation", MetricType::Gauge},
      {"sluice_service_backends", MetricType::Gauge},
      {"sluice_service_backends_serving", MetricType::Gauge},
      {"sluice_service_up", MetricType::Gauge},
      {"sluice_backend_up", MetricType::Gauge},
      {"sluice_backend_weight", MetricType::Gauge},
      {"sluice_backend_draining", MetricType::Gauge},
  };
  EXPECT_EQ(Types(families), want_types);
  EXPECT_EQ(families.size(), want_types.size());  // no family twice
  for (const auto& family : families) EXPECT_FALSE(family.help.empty()) << family.name;
}

TEST(StatusCollectorTest, ConfigDrainCountsAsDraining) {
  StatusBoard board;
  ServiceStatus web = {.id = 1, .name = "web"};
  web.backends = {
      {.id = 1, .address = "10.0.0.11:80", .weight = 1, .config_drain = true, .up = true}};
  board.SetServices(1, {web});
  const auto series = Series(StatusCollector(board, "v").Collect());
  EXPECT_THAT(series, ::testing::Contains(
                          "sluice_backend_draining{service=\"web\",backend=\"10.0.0.11:80\"} 1"));
  EXPECT_THAT(series, ::testing::Contains("sluice_service_up{service=\"web\"} 0"));
}

TEST(StatusCollectorTest, PerBackendOffLeavesNoBackendFamily) {
  StatusBoard board;
  testing::FillSampleBoard(board);
  board.SetPerBackendMetrics(false);
  const auto families = StatusCollector(board, "v").Collect();
  EXPECT_EQ(families.size(), 8u);  // 11 without the three sluice_backend_* families
  for (const auto& family : families) {
    EXPECT_FALSE(family.name.starts_with("sluice_backend_")) << family.name;
  }
  // The service level stays.
  EXPECT_THAT(Series(families), ::testing::Contains("sluice_service_backends{service=\"web\"} 3"));
  // And back on (a reload): every backend series returns.
  board.SetPerBackendMetrics(true);
  EXPECT_EQ(StatusCollector(board, "v").Collect().size(), 11u);
}

TEST(StatusCollectorTest, FailedReloadAndNoServices) {
  StatusBoard board;
  board.SetReload({.successes = 0,
                   .failures = 1,
                   .last_successful = false,
                   .last_error = "sluice.yaml:3:5: bad"});
  const StatusCollector collector(board, "0.1.0");
  const auto families = collector.Collect();

  EXPECT_THAT(Series(families),
              ElementsAre("sluice_build_info{version=\"0.1.0\"} 1",
                          "sluice_config_last_reload_successful{} 0",
                          "sluice_config_last_reload_success_timestamp_seconds{} 0",
                          "sluice_config_reloads_total{result=\"success\"} 0",
                          "sluice_config_reloads_total{result=\"failure\"} 1",
                          "sluice_table_generation{} 0"));
  // The per-service and per-backend families are still there, without series.
  ASSERT_EQ(families.size(), 11u);
  for (size_t i = 5; i < families.size(); ++i) EXPECT_THAT(families[i].metric, IsEmpty());
}

}  // namespace
}  // namespace sluice::lb
