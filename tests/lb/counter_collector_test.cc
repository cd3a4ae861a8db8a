// CounterCollector: sums over lcores, labels from the StatusBoard, a zero series for
// every drop reason, and the family types.
#include "lb/counter_collector.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "dataplane/drop_reason.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/metric_type.h"
#include "tests/lb/metrics_test_util.h"

namespace sluice::lb {
namespace {

using ::sluice::lb::testing::Series;

using ::prometheus::MetricType;
using ::testing::IsEmpty;

const prometheus::MetricFamily* Find(const std::vector<prometheus::MetricFamily>& families,
                                     const std::string& name) {
  for (const auto& family : families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

class CounterCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceStatus web = {.id = 3, .name = "web", .vip = "10.0.100.1:80", .protocol = "tcp"};
    web.backends = {{.id = 5, .address = "10.0.0.11:80", .weight = 1, .up = true},
                    {.id = 9, .address = "[fd00::12]:80", .weight = 1, .up = true}};
    board_.SetServices(4, {web});

    w0_.counters.rx_packets = 10;
    w0_.counters.rx_bytes = 1000;
    w0_.counters.tx_packets = 8;
    w0_.counters.tx_bytes = 800;
    w0_.counters.flow_entries = 6;
    w0_.counters.flow_entries_ipv4 = 4;
    w0_.counters.flow_entries_ipv6 = 2;
    w0_.counters.busy_cycles = 3000;
    w0_.counters.table_generation = 4;
    w0_.counters.icmp_echo_replies = 1;
    w0_.counters.nat_reply_packets = 2;
    w0_.counters.drops[static_cast<size_t>(dataplane::DropReason::kNoService)] = 2;
    w0_.services[3] = {.packets = 7, .bytes = 700, .new_flows = 3, .active_flows = 2};
    w0_.backends[5] = {.packets = 4, .bytes = 400, .new_flows = 2, .active_flows = 1};
    w0_.backends[9] = {.packets = 3, .bytes = 300, .new_flows = 1, .active_flows = 1};

    w1_.counters.rx_packets = 5;
    w1_.counters.rx_bytes = 500;
    w1_.counters.tx_packets = 5;
    w1_.counters.tx_bytes = 510;
    w1_.counters.flow_entries = 1;
    w1_.counters.flow_entries_ipv4 = 1;
    w1_.counters.busy_cycles = 500;
    w1_.counters.table_generation = 3;
    w1_.counters.icmp_too_big_sent = 4;
    w1_.counters.icmp_errors_suppressed = 5;
    w1_.counters.flow_table_full = 11;
    w1_.counters.icmp_errors_forwarded = 6;
    w1_.counters.nat_reply_bytes = 7;
    w1_.counters.drops[static_cast<size_t>(dataplane::DropReason::kNoService)] = 1;
    w1_.services[3] = {.packets = 5, .bytes = 510, .new_flows = 1, .active_flows = 1};
    w1_.backends[9] = {.packets = 5, .bytes = 510, .new_flows = 1, .active_flows = 1};
    w1_.services[4] = {.packets = 99, .bytes = 99, .new_flows = 99};  // not on the board

    control_.counters.drops[static_cast<size_t>(dataplane::DropReason::kNeighborFailed)] = 6;
    control_.counters.icmp_echo_replies = 2;
    control_.counters.arp_requests_sent = 8;
    control_.counters.nd_advertisements_sent = 9;
  }

  CounterSources Sources() {
    return {.workers = {&w0_, &w1_},
            .control = &control_,
            .board = &board_,
            .flow_capacity_ipv4 = 2048,
            .flow_capacity_ipv6 = 1024,
            .tsc_hz = 1000};
  }

  StatusBoard board_;
  dataplane::LcoreStats w0_, w1_, control_;
};

TEST_F(CounterCollectorTest, SumsOverLcores) {
  const CounterCollector collector(Sources());
  const auto series = Series(collector.Collect());
  EXPECT_EQ(series.at("sluice_rx_packets_total{}"), 15);
  EXPECT_EQ(series.at("sluice_rx_bytes_total{}"), 1500);
  EXPECT_EQ(series.at("sluice_tx_packets_total{}"), 13);
  EXPECT_EQ(series.at("sluice_tx_bytes_total{}"), 1310);
  EXPECT_EQ(series.at("sluice_drops_total{reason=\"no_service\"}"), 3);
  EXPECT_EQ(series.at("sluice_drops_total{reason=\"neighbor_failed\"}"), 6);
  EXPECT_EQ(series.at("sluice_drops_total{reason=\"tx_full\"}"), 0);
  EXPECT_EQ(series.at("sluice_service_packets_total{service=\"web\"}"), 12);
  EXPECT_EQ(series.at("sluice_service_bytes_total{service=\"web\"}"), 1210);
  EXPECT_EQ(series.at("sluice_service_new_flows_total{service=\"web\"}"), 4);
  EXPECT_EQ(series.at("sluice_backend_packets_total{service=\"web\",backend=\"10.0.0.11:80\"}"), 4);
  EXPECT_EQ(series.at("sluice_backend_bytes_total{service=\"web\",backend=\"10.0.0.11:80\"}"), 400);
  EXPECT_EQ(series.at("sluice_backend_new_flows_total{service=\"web\",backend=\"10.0.0.11:80\"}"),
            2);
  EXPECT_EQ(series.at("sluice_backend_packets_total{service=\"web\",backend=\"[fd00::12]:80\"}"),
            8);
  EXPECT_EQ(series.at("sluice_backend_bytes_total{service=\"web\",backend=\"[fd00::12]:80\"}"),
            810);
  EXPECT_EQ(series.at("sluice_backend_new_flows_total{service=\"web\",backend=\"[fd00::12]:80\"}"),
            2);
  EXPECT_EQ(series.at("sluice_service_active_flows{service=\"web\"}"), 3);
  EXPECT_EQ(series.at("sluice_backend_active_flows{service=\"web\",backend=\"10.0.0.11:80\"}"), 1);
  EXPECT_EQ(series.at("sluice_backend_active_flows{service=\"web\",backend=\"[fd00::12]:80\"}"), 2);
  EXPECT_EQ(series.at("sluice_flow_table_entries{family=\"ipv4\"}"), 5);
  EXPECT_EQ(series.at("sluice_flow_table_entries{family=\"ipv6\"}"), 2);
  EXPECT_EQ(series.at("sluice_worker_busy_seconds_total{worker=\"0\"}"), 3);
  EXPECT_EQ(series.at("sluice_worker_busy_seconds_total{worker=\"1\"}"), 0.5);
  // No sampler: the ratio is there, at 0.
  EXPECT_EQ(series.at("sluice_worker_busy_ratio{worker=\"0\"}"), 0);
  EXPECT_EQ(series.at("sluice_flow_table_capacity{family=\"ipv4\"}"), 2048);
  EXPECT_EQ(series.at("sluice_flow_table_capacity{family=\"ipv6\"}"), 1024);
  EXPECT_EQ(series.at("sluice_worker_table_generation{worker=\"0\"}"), 4);
  EXPECT_EQ(series.at("sluice_worker_table_generation{worker=\"1\"}"), 3);
  EXPECT_EQ(series.at("sluice_icmp_echo_replies_total{}"), 3);
  EXPECT_EQ(series.at("sluice_icmp_too_big_sent_total{}"), 4);
  EXPECT_EQ(series.at("sluice_nat_reply_packets_total{}"), 2);
  EXPECT_EQ(series.at("sluice_nat_reply_bytes_total{}"), 7);
  EXPECT_EQ(series.at("sluice_icmp_too_big_suppressed_total{}"), 5);
  EXPECT_EQ(series.at("sluice_flow_table_full_total{}"), 11);
  EXPECT_EQ(series.at("sluice_icmp_errors_forwarded_total{}"), 6);
  EXPECT_EQ(series.at("sluice_neighbor_packets_sent_total{kind=\"arp_request\"}"), 8);
  EXPECT_EQ(series.at("sluice_neighbor_packets_sent_total{kind=\"arp_reply\"}"), 0);
  EXPECT_EQ(series.at("sluice_neighbor_packets_sent_total{kind=\"nd_solicitation\"}"), 0);
  EXPECT_EQ(series.at("sluice_neighbor_packets_sent_total{kind=\"nd_advertisement\"}"), 9);
  // Only the services and backends on the board have series.
  size_t service_series = 0;
  for (const auto& [name, value] : series) {
    if (name.starts_with("sluice_service_packets_total")) ++service_series;
  }
  EXPECT_EQ(service_series, 1);
}

TEST_F(CounterCollectorTest, EveryDropReasonHasASeries) {
  const CounterCollector collector(Sources());
  const auto families = collector.Collect();
  const prometheus::MetricFamily* drops = Find(families, "sluice_drops_total");
  ASSERT_NE(drops, nullptr);
  ASSERT_EQ(drops->metric.size(), dataplane::kDropReasonCount);
  const auto series = Series(families);
  for (const auto& info : dataplane::kDropReasonInfo) {
    EXPECT_TRUE(series.contains(
        absl::StrCat("sluice_drops_total{reason=\"", std::string(info.label), "\"}")))
        << info.label;
  }
}

TEST_F(CounterCollectorTest, TypesAndHelp) {
  const CounterCollector collector(Sources());
  const auto families = collector.Collect();
  EXPECT_EQ(families.size(), 26);
  for (const auto& family : families) {
    EXPECT_FALSE(family.help.empty()) << family.name;
    const bool total = family.name.ends_with("_total");
    EXPECT_EQ(family.type, total ? MetricType::Counter : MetricType::Gauge) << family.name;
  }
  EXPECT_EQ(Find(families, "sluice_flow_table_entries")->type, MetricType::Gauge);
  EXPECT_EQ(Find(families, "sluice_worker_table_generation")->type, MetricType::Gauge);
  EXPECT_EQ(Find(families, "sluice_backend_active_flows")->type, MetricType::Gauge);
  EXPECT_EQ(Find(families, "sluice_service_active_flows")->type, MetricType::Gauge);
  EXPECT_EQ(Find(families, "sluice_worker_busy_ratio")->type, MetricType::Gauge);
}

TEST_F(CounterCollectorTest, PerBackendOffDropsEveryBackendFamily) {
  board_.SetPerBackendMetrics(false);
  const CounterCollector collector(Sources());
  const auto families = collector.Collect();
  EXPECT_EQ(families.size(), 22);
  for (const auto& family : families) {
    EXPECT_FALSE(family.name.starts_with("sluice_backend_")) << family.name;
  }
  EXPECT_EQ(Series(families).at("sluice_service_packets_total{service=\"web\"}"), 12);
}

// The ratio is the busy share of the loop cycles between the last two samples.
TEST_F(CounterCollectorTest, BusyRatioFromTheLastTwoSamples) {
  w0_.counters.loop_cycles = 10000;
  w1_.counters.loop_cycles = 10000;
  WorkerBusySampler sampler({&w0_, &w1_});
  sampler.Sample();
  EXPECT_THAT(sampler.ratios(), ::testing::ElementsAre(0, 0));  // one reading: no interval
  w0_.counters.busy_cycles += 250;                              // 25% of the next 1000 cycles
  w0_.counters.loop_cycles += 1000;
  w1_.counters.busy_cycles += 2000;  // all of them
  w1_.counters.loop_cycles += 2000;
  sampler.Sample();
  CounterSources sources = Sources();
  sources.busy = &sampler;
  const auto series = Series(CounterCollector(sources).Collect());
  EXPECT_EQ(series.at("sluice_worker_busy_ratio{worker=\"0\"}"), 0.25);
  EXPECT_EQ(series.at("sluice_worker_busy_ratio{worker=\"1\"}"), 1);
  // A worker whose loop did not advance (stopped) reads 0, not a division by zero.
  sampler.Sample();
  EXPECT_THAT(sampler.ratios(), ::testing::ElementsAre(0, 0));
}

TEST(CounterCollectorEmptyTest, FamiliesWithoutServicesOrWorkers) {
  StatusBoard board;
  const CounterCollector collector({.board = &board});
  const auto families = collector.Collect();
  EXPECT_EQ(families.size(), 26);
  EXPECT_THAT(Find(families, "sluice_service_packets_total")->metric, IsEmpty());
  EXPECT_THAT(Find(families, "sluice_worker_busy_ratio")->metric, IsEmpty());
  EXPECT_THAT(Find(families, "sluice_worker_table_generation")->metric, IsEmpty());
  EXPECT_EQ(Series(families).at("sluice_rx_packets_total{}"), 0);
}

}  // namespace
}  // namespace sluice::lb
