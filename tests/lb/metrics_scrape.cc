// Test helper program: serves the sample StatusBoard (tests/lb/metrics_test_util.h)
// and two workers' counters (CounterCollector) through a MetricsServer on 127.0.0.1, scrapes
// /metrics once and prints the body, for metrics_promtool_test.sh. Exits 1 on any error.
#include <iostream>
#include <memory>

#include "dataplane/counters.h"
#include "lb/counter_collector.h"
#include "lb/metrics_server.h"
#include "lb/status_collector.h"
#include "tests/lb/metrics_test_util.h"

int main() {
  sluice::lb::StatusBoard board;
  sluice::lb::testing::FillSampleBoard(board);
  sluice::dataplane::LcoreStats w0, w1, control;
  w0.counters.rx_packets = 10;
  w1.services[1] = {.packets = 3, .bytes = 300, .new_flows = 1};
  w1.backends[1] = {.packets = 3, .bytes = 300, .new_flows = 1};
  auto server = sluice::lb::MetricsServer::Start(
      "127.0.0.1:0", {std::make_shared<sluice::lb::StatusCollector>(board, "0.1.0"),
                      std::make_shared<sluice::lb::CounterCollector>(sluice::lb::CounterSources{
                          .workers = {&w0, &w1},
                          .control = &control,
                          .board = &board,
                          .flow_capacity_ipv4 = 1024,
                          .flow_capacity_ipv6 = 512})});
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
  return 0;
}
