// HealthCollector with a real HealthChecker probing loopback listeners: zeros for every
// service and result from the start, then the results of the service's backends under
// its name, a histogram whose buckets add up, and nothing of other services.
#include "lb/health_collector.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "health/health_checker.h"
#include "prometheus/metric_type.h"

namespace sluice::lb {
namespace {

using ::prometheus::MetricType;

// A listener on 127.0.0.1 that never accepts (the kernel completes the handshakes), or,
// closed, a port that refuses.
struct Listener {
  Listener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd, 128), 0);
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  int fd = -1;
  uint16_t port = 0;
};

health::CheckSpec Check(uint64_t subscriber, uint16_t port, uint64_t service) {
  return {.subscriber = subscriber,
          .probe = {.type = health::ProbeSpec::kTcp,
                    .address = *health::SocketAddress::Parse("127.0.0.1", port),
                    .timeout = absl::Milliseconds(200)},
          .interval = absl::Milliseconds(100),
          .rise_fall = {.rise = 1, .fall = 1},
          .stats_group = service};
}

const prometheus::ClientMetric* Metric(const std::vector<prometheus::MetricFamily>& families,
                                       const std::string& family_name,
                                       const std::map<std::string, std::string>& labels) {
  for (const auto& family : families) {
    if (family.name != family_name) continue;
    for (const auto& metric : family.metric) {
      std::map<std::string, std::string> have;
      for (const auto& label : metric.label) have[label.name] = label.value;
      if (have == labels) return &metric;
    }
  }
  return nullptr;
}

double Results(const std::vector<prometheus::MetricFamily>& families, const std::string& service,
               const std::string& result) {
  const auto* m =
      Metric(families, "sluice_health_checks_total", {{"service", service}, {"result", result}});
  EXPECT_NE(m, nullptr) << service << " " << result;
  return m == nullptr ? -1 : m->counter.value;
}

TEST(HealthCollectorTest, PerServiceResultsAndDurations) {
  Listener up;
  Listener refused;
  refused.Close();
  StatusBoard board;
  ServiceStatus web = {.id = 3, .name = "web"};
  web.backends = {{.id = 11, .address = "127.0.0.1:1"}, {.id = 12, .address = "127.0.0.1:2"}};
  ServiceStatus dns = {.id = 4, .name = "dns"};  // no checks
  board.SetServices(1, {web, dns});
  auto checker = health::HealthChecker::Create(1);
  ASSERT_TRUE(checker.ok()) << checker.status();
  const HealthCollector collector(board, **checker);

  // Before any result: all three results and an empty histogram, for both services.
  auto families = collector.Collect();
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].type, MetricType::Counter);
  EXPECT_EQ(families[1].type, MetricType::Histogram);
  EXPECT_EQ(families[0].metric.size(), 6u);
  EXPECT_EQ(families[1].metric.size(), 2u);
  for (const char* service : {"web", "dns"}) {
    for (const char* result : {"success", "failure", "timeout"}) {
      EXPECT_EQ(Results(families, service, result), 0) << service << " " << result;
    }
  }
  const auto* empty =
      Metric(families, "sluice_health_check_duration_seconds", {{"service", "dns"}});
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->histogram.bucket.size(), health::kCheckDurationBounds.size() + 1);
  EXPECT_EQ(empty->histogram.sample_count, 0u);

  ASSERT_TRUE((*checker)->SetChecks({Check(11, up.port, 3), Check(12, refused.port, 3)}).ok());
  const absl::Time end = absl::Now() + absl::Seconds(5);
  while (absl::Now() < end) {
    (*checker)->Poll(absl::Milliseconds(10));
    families = collector.Collect();
    if (Results(families, "web", "success") >= 2 && Results(families, "web", "failure") >= 2) break;
  }
  EXPECT_GE(Results(families, "web", "success"), 2);
  EXPECT_GE(Results(families, "web", "failure"), 2);
  EXPECT_EQ(Results(families, "web", "timeout"), 0);
  for (const char* result : {"success", "failure", "timeout"}) {
    EXPECT_EQ(Results(families, "dns", result), 0) << result;
  }
  const auto* h = Metric(families, "sluice_health_check_duration_seconds", {{"service", "web"}});
  ASSERT_NE(h, nullptr);
  const double results = Results(families, "web", "success") + Results(families, "web", "failure");
  EXPECT_EQ(static_cast<double>(h->histogram.sample_count), results);
  ASSERT_EQ(h->histogram.bucket.size(), health::kCheckDurationBounds.size() + 1);
  EXPECT_EQ(h->histogram.bucket.back().cumulative_count, h->histogram.sample_count);
  EXPECT_TRUE(std::isinf(h->histogram.bucket.back().upper_bound));
  for (size_t i = 1; i < h->histogram.bucket.size(); ++i) {
    EXPECT_GE(h->histogram.bucket[i].cumulative_count, h->histogram.bucket[i - 1].cumulative_count);
  }
  // Loopback verdicts take well under 250 ms: all in the buckets up to 0.25 s.
  EXPECT_EQ(h->histogram.bucket[8].upper_bound, 0.25);
  EXPECT_EQ(h->histogram.bucket[8].cumulative_count, h->histogram.sample_count);
  EXPECT_GT(h->histogram.sample_sum, 0);
}

}  // namespace
}  // namespace sluice::lb
