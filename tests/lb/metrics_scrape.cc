// Test helper program: serves the sample StatusBoard (tests/lb/metrics_test_util.h), two
// workers' counters (CounterCollector, with busy ratios), a started net_null port and its
// packet pool (PortCollector, DPDK without hugepages) and a HealthChecker's zeros
// (HealthCollector) through a MetricsServer on 127.0.0.1, scrapes /metrics once and
// prints the body, for metrics_promtool_test.sh. Exits 1 on any error.
#include <rte_dev.h>
#include <rte_mbuf.h>

#include <iostream>
#include <memory>

#include "dataplane/counters.h"
#include "dataplane/port.h"
#include "health/health_checker.h"
#include "lb/counter_collector.h"
#include "lb/health_collector.h"
#include "lb/metrics_server.h"
#include "lb/port_collector.h"
#include "lb/status_collector.h"
#include "lb/worker_busy_sampler.h"
#include "tests/dataplane/test_eal.h"
#include "tests/lb/metrics_test_util.h"

int main() {
  if (sluice::dataplane::InitTestEal("metrics-scrape", "0", 512) < 0 ||
      rte_dev_probe("net_null0") != 0) {
    std::cerr << "EAL or net_null0 failed\n";
    return 1;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("metrics_scrape_pool", 511, 0, 0,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (pool == nullptr) {
    std::cerr << "no pool\n";
    return 1;
  }
  auto port = sluice::dataplane::StartPort(
      {.name = "p0", .ethdev_name = "net_null0", .rx_descriptors = 64, .tx_descriptors = 64}, pool);
  if (!port.ok()) {
    std::cerr << port.status() << "\n";
    return 1;
  }
  auto checker = sluice::health::HealthChecker::Create(1);
  if (!checker.ok()) {
    std::cerr << checker.status() << "\n";
    return 1;
  }
  sluice::lb::StatusBoard board;
  sluice::lb::testing::FillSampleBoard(board);
  sluice::dataplane::LcoreStats w0, w1, control;
  w0.counters.rx_packets = 10;
  w0.counters.busy_cycles = 1000;
  w0.counters.loop_cycles = 4000;
  w1.services[1] = {.packets = 3, .bytes = 300, .new_flows = 1};
  w1.backends[1] = {.packets = 3, .bytes = 300, .new_flows = 1};
  sluice::lb::WorkerBusySampler busy({&w0, &w1});
  busy.Sample();
  w0.counters.busy_cycles += 100;
  w0.counters.loop_cycles += 400;
  busy.Sample();
  {
    auto server = sluice::lb::MetricsServer::Start(
        "127.0.0.1:0",
        {std::make_shared<sluice::lb::StatusCollector>(board, "0.1.0"),
         std::make_shared<sluice::lb::CounterCollector>(sluice::lb::CounterSources{
             .workers = {&w0, &w1},
             .control = &control,
             .board = &board,
             .flow_capacity_ipv4 = 1024,
             .flow_capacity_ipv6 = 512,
             .tsc_hz = 1e9,
             .busy = &busy}),
         std::make_shared<sluice::lb::PortCollector>(
             std::vector<sluice::lb::NamedPort>{{.name = "p0", .dpdk_port = port->dpdk_port}},
             pool),
         std::make_shared<sluice::lb::HealthCollector>(board, **checker)});
    if (!server.ok()) {
      std::cerr << server.status() << "\n";
      return 1;
    }
    auto response = sluice::lb::testing::HttpGet((*server)->port(), "/metrics");
    if (!response.ok()) {
      std::cerr << response.status() << "\n";
      return 1;
    }
    std::cout << sluice::lb::testing::HttpBody(*response);
  }
  sluice::dataplane::StopPort(port->dpdk_port);
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return 0;
}
