// MetricsServer: serves the collectors over HTTP on a chosen or picked port and refuses
// taken ports and bad addresses with errors that name metrics.listen.
#include "lb/metrics_server.h"

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lb/status_collector.h"
#include "tests/lb/metrics_test_util.h"

namespace sluice::lb {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<std::shared_ptr<prometheus::Collectable>> SampleCollectables(StatusBoard& board) {
  testing::FillSampleBoard(board);
  return {std::make_shared<StatusCollector>(board, "0.1.0")};
}

TEST(MetricsServerTest, ServesMetricsOnPickedPort) {
  StatusBoard board;
  auto server = MetricsServer::Start("127.0.0.1:0", SampleCollectables(board));
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_NE((*server)->port(), 0);

  absl::StatusOr<std::string> response = testing::HttpGet((*server)->port(), "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(*response, StartsWith("HTTP/1.1 200"));
  const std::string body = testing::HttpBody(*response);
  EXPECT_THAT(body, HasSubstr("\nsluice_config_last_reload_successful 1\n"));
  EXPECT_THAT(body, HasSubstr("# TYPE sluice_config_reloads_total counter\n"));
  EXPECT_THAT(body, HasSubstr("\nsluice_backend_up{service=\"web\",backend=\"10.0.0.12:80\"} 0\n"));
  EXPECT_THAT(body, HasSubstr("\nsluice_build_info{version=\"0.1.0\"} 1\n"));

  // A later change to the board shows in the next scrape.
  board.SetReload({.failures = 1, .last_successful = false});
  response = testing::HttpGet((*server)->port(), "/metrics");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_THAT(*response, HasSubstr("\nsluice_config_last_reload_successful 0\n"));
}

TEST(MetricsServerTest, TakenPortIsAClearError) {
  StatusBoard board;
  auto first = MetricsServer::Start("127.0.0.1:0", SampleCollectables(board));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string listen = absl::StrCat("127.0.0.1:", (*first)->port());

  auto second = MetricsServer::Start(listen, SampleCollectables(board));
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()),
              StartsWith(absl::StrCat("metrics.listen ", listen, ": cannot listen: ")));

  // The first one still serves.
  EXPECT_TRUE(testing::HttpGet((*first)->port(), "/metrics").ok());
}

TEST(MetricsServerTest, StopsOnDestruction) {
  StatusBoard board;
  auto server = MetricsServer::Start("127.0.0.1:0", SampleCollectables(board));
  ASSERT_TRUE(server.ok()) << server.status();
  const uint16_t port = (*server)->port();
  server->reset();
  EXPECT_FALSE(testing::HttpGet(port, "/metrics").ok());
  // The port is free again.
  auto again = MetricsServer::Start(absl::StrCat("127.0.0.1:", port), {});
  EXPECT_TRUE(again.ok()) << again.status();
}

TEST(MetricsServerTest, RefusesWhatIsNotOneAddress) {
  for (const std::string listen :
       {"9750", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:80s", "localhost:9750",
        "127.0.0.1:9750,0.0.0.0:80", "::1:9750", "[127.0.0.1]:9750", "[::1:9750"}) {
    auto server = MetricsServer::Start(listen, {});
    ASSERT_FALSE(server.ok()) << listen;
    EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument) << listen;
    EXPECT_THAT(std::string(server.status().message()),
                StartsWith(absl::StrCat("metrics.listen ", listen, ": ")));
  }
}

TEST(MetricsServerTest, Ipv6ListensOrSaysWhyNot) {
  auto server = MetricsServer::Start("[::1]:0", {});
  if (server.ok()) {
    EXPECT_NE((*server)->port(), 0);
  } else {
    // Debian 12's civetweb is built without IPv6.
    EXPECT_THAT(std::string(server.status().message()),
                StartsWith("metrics.listen [::1]:0: cannot listen: "));
    EXPECT_THAT(std::string(server.status().message()), HasSubstr("IPv6"));
  }
}

}  // namespace
}  // namespace sluice::lb
