// PortCollector against real DPDK ports (net_null vdevs, no NIC): rte_eth_stats_get per
// port under the config's port names, zeros for a port that cannot be read, and the
// packet pool's occupancy following the mbufs RX takes and TX returns.
#include "lb/port_collector.h"

#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "dataplane/port.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/metric_type.h"
#include "tests/dataplane/test_eal.h"
#include "tests/lb/metrics_test_util.h"

namespace sluice::lb {
namespace {

using ::sluice::lb::testing::Series;

using ::prometheus::MetricType;

constexpr uint32_t kPoolMbufs = 1023;

class PortCollectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(dataplane::InitTestEal("port-collector-test", "0", 512), 0);
    ASSERT_EQ(rte_dev_probe("net_null0"), 0);
    ASSERT_EQ(rte_dev_probe("net_null1"), 0);
    // No per-lcore cache: the available count is exact.
    pool_ = rte_pktmbuf_pool_create("port_collector_pool", kPoolMbufs, 0, 0,
                                    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ASSERT_NE(pool_, nullptr);
    for (const char* name : {"net_null0", "net_null1"}) {
      auto port = dataplane::StartPort(
          {.name = name, .ethdev_name = name, .rx_descriptors = 64, .tx_descriptors = 64}, pool_);
      ASSERT_TRUE(port.ok()) << port.status();
      ports_.push_back(port->dpdk_port);
    }
  }

  static inline rte_mempool* pool_ = nullptr;
  static inline std::vector<uint16_t> ports_;
};

TEST_F(PortCollectorTest, PortStatsByNameAndPoolOccupancy) {
  ASSERT_EQ(ports_.size(), 2u);
  const PortCollector collector(
      {{.name = "p0", .dpdk_port = ports_[0]}, {.name = "p1", .dpdk_port = ports_[1]}}, pool_);
  auto series = Series(collector.Collect());
  // Every counter exists for every port from the start, at zero.
  for (const char* name : {"sluice_port_rx_packets_total", "sluice_port_tx_packets_total",
                           "sluice_port_rx_bytes_total", "sluice_port_tx_bytes_total",
                           "sluice_port_rx_errors_total", "sluice_port_tx_errors_total",
                           "sluice_port_rx_missed_total", "sluice_port_rx_nombuf_total"}) {
    for (const char* port : {"p0", "p1"}) {
      const std::string key = absl::StrCat(name, "{port=\"", port, "\"}");
      ASSERT_TRUE(series.contains(key)) << key;
      EXPECT_EQ(series.at(key), 0) << key;
    }
  }
  EXPECT_EQ(series.at("sluice_mempool_size_mbufs{}"), kPoolMbufs);
  EXPECT_EQ(series.at("sluice_mempool_available_mbufs{}"), kPoolMbufs);

  // net_null's RX makes packets out of pool mbufs; they are out of the pool until sent.
  std::array<rte_mbuf*, 32> pkts;
  const uint16_t n = rte_eth_rx_burst(ports_[0], 0, pkts.data(), pkts.size());
  ASSERT_EQ(n, pkts.size());
  series = Series(collector.Collect());
  EXPECT_EQ(series.at("sluice_port_rx_packets_total{port=\"p0\"}"), 32);
  EXPECT_EQ(series.at("sluice_port_rx_packets_total{port=\"p1\"}"), 0);
  EXPECT_EQ(series.at("sluice_mempool_available_mbufs{}"), kPoolMbufs - 32);

  ASSERT_EQ(rte_eth_tx_burst(ports_[1], 0, pkts.data(), n), n);  // net_null frees them
  series = Series(collector.Collect());
  EXPECT_EQ(series.at("sluice_port_tx_packets_total{port=\"p1\"}"), 32);
  EXPECT_EQ(series.at("sluice_port_tx_packets_total{port=\"p0\"}"), 0);
  EXPECT_EQ(series.at("sluice_mempool_available_mbufs{}"), kPoolMbufs);
}

TEST_F(PortCollectorTest, UnreadablePortReadsZeroAndNoPoolNoPoolSeries) {
  const PortCollector collector({{.name = "gone", .dpdk_port = RTE_MAX_ETHPORTS - 1}}, nullptr);
  const auto families = collector.Collect();
  EXPECT_EQ(families.size(), 8u);  // the port counters only
  const auto series = Series(families);
  EXPECT_EQ(series.at("sluice_port_rx_packets_total{port=\"gone\"}"), 0);
  EXPECT_FALSE(series.contains("sluice_mempool_size_mbufs{}"));
  for (const auto& family : families) {
    EXPECT_EQ(family.type, MetricType::Counter) << family.name;
    EXPECT_TRUE(family.name.ends_with("_total")) << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
  }
}

}  // namespace
}  // namespace sluice::lb
