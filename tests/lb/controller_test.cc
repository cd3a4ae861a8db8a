#include "lb/controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "dataplane/port.h"
#include "tests/dataplane/test_eal.h"
#include "tests/lb/load_config.h"

namespace sluice::lb {
namespace {

namespace dp = ::sluice::dataplane;
using ::testing::Contains;
using ::testing::HasSubstr;

const absl::Time kT0 = absl::FromUnixSeconds(2'000'000);

// Two services; `web` has ten backends so that one going down shows Maglev's bound.
std::string Yaml(const std::string& web_extra = "", const std::string& more_services = "",
                 const std::string& check = "{ type: tcp }") {
  std::string yaml = R"(
dataplane:
  flow_table: { tcp_timeout: 10s, udp_timeout: 5s }
  ports:
    - { name: p0, device: "net_null0", address: 10.0.0.2/24 }
services:
  - name: web
    vip: 10.0.0.100
    port: 80
    forwarding: dr
    health_check: CHECK
    backends:
)";
  for (int i = 11; i <= 20; ++i) yaml += absl::StrFormat("      - { address: 10.0.0.%d }\n", i);
  yaml += web_extra;
  yaml += R"(  - name: dns
    vip: 10.0.0.100
    port: 53
    protocol: udp
    forwarding: dr
    table_size: 251
    health_check: { type: none }
    backends:
      - { address: 10.0.0.31 }
      - { address: 10.0.0.32 }
)";
  yaml += more_services;
  return absl::StrReplaceAll(yaml, {{"CHECK", check}});
}

class ControllerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(dataplane::InitTestEal("controller-test", "0", 512), 0);
  }
  static void TearDownTestSuite() { dataplane::CleanupEal(); }

  void Make(ControllerOptions options = {}) {
    controller_ = std::make_unique<Controller>(
        std::vector<dp::PortInfo>(1),
        [this](const dp::NeighborAddress& a, uint16_t) {
          auto [it, inserted] = neighbors_.try_emplace(a.ToString(), neighbors_.size());
          return static_cast<int64_t>(it->second);
        },
        [this](std::unique_ptr<dp::ForwardingTable> table) {
          tables_.push_back(std::move(table));
          return static_cast<uint64_t>(tables_.size());
        },
        options);
  }
  const dp::ForwardingTable& table() const { return *tables_.back(); }
  const dp::ServiceInfo& Service(const dp::ForwardingTable& t, uint16_t port) const {
    for (const dp::ServiceInfo& s : t.services) {
      if (s.port == htons(port)) return s;
    }
    ADD_FAILURE() << "no service on port " << port;
    return t.services.front();
  }
  static size_t Slots(const dp::ServiceInfo& s, dp::BackendId id) {
    return static_cast<size_t>(std::count(s.maglev.begin(), s.maglev.end(), id));
  }

  std::unique_ptr<Controller> controller_;
  std::map<std::string, size_t> neighbors_;
  std::vector<std::unique_ptr<dp::ForwardingTable>> tables_;
};

TEST_F(ControllerTest, AssumeDownMeansNoSlotsUntilChecksPass) {
  Make();
  ASSERT_TRUE(controller_->Start(LoadTestConfig(Yaml()), kT0).ok());
  const dp::ServiceInfo& web = Service(table(), 80);
  EXPECT_TRUE(web.maglev.empty());
  for (dp::BackendId id = 1; id <= 10; ++id) {
    ASSERT_NE(table().Backend(id), nullptr);
    EXPECT_FALSE(table().Backend(id)->up) << id;
  }
  // dns has `type: none`: up from the start.
  EXPECT_EQ(Slots(Service(table(), 53), 11) + Slots(Service(table(), 53), 12), 251u);
  EXPECT_TRUE(table().Backend(11)->up);
  EXPECT_THAT(controller_->TakeEvents(),
              Contains(HasSubstr("service web: no serving backend (10 configured)")));

  controller_->SetHealth(3, true, "connected");
  EXPECT_EQ(controller_->Flush(), 1u);  // web only
  EXPECT_EQ(Slots(Service(table(), 80), 3), 65537u);
  EXPECT_TRUE(table().Backend(3)->up);
  EXPECT_THAT(controller_->TakeEvents(),
              (std::vector<std::string>{"backend web 10.0.0.13:80 up: connected",
                                        "service web: 1 of 10 backends serving again"}));
  EXPECT_EQ(controller_->Flush(), 0u);  // nothing dirty: nothing published
  EXPECT_EQ(tables_.size(), 2u);
}

TEST_F(ControllerTest, ADownBackendLosesItsSlotsAndOnlyItsSlotsMove) {
  Make();
  ASSERT_TRUE(
      controller_->Start(LoadTestConfig(Yaml("", "", "{ type: tcp, assume: up }")), kT0).ok());
  const auto before = Service(table(), 80).maglev.shared();
  const auto dns_before = Service(table(), 53).maglev.shared();
  controller_->SetHealth(4, false, "connect refused");
  EXPECT_EQ(controller_->Flush(), 1u);
  const dp::ServiceInfo& web = Service(table(), 80);
  EXPECT_EQ(Slots(web, 4), 0u);
  EXPECT_FALSE(table().Backend(4)->up);  // its flows are re-picked
  size_t moved = 0;
  size_t others = 0;
  for (size_t i = 0; i < web.maglev.size(); ++i) {
    if ((*before)[i] == 4) continue;
    others += 1;
    moved += web.maglev[i] != (*before)[i] ? 1 : 0;
  }
  // Maglev's bound: a removal moves few of the other backends' slots (the paper's
  // figure 13: ~1-2% at this size).
  EXPECT_LT(moved * 100, others * 3) << moved << " of " << others;
  // The other service's table was not rebuilt: the new table shares its slots.
  EXPECT_EQ(Service(table(), 53).maglev.shared(), dns_before);
  // All down: no slots, a log line.
  for (uint32_t id = 1; id <= 10; ++id) controller_->SetHealth(id, false, "timeout");
  controller_->Flush();
  EXPECT_TRUE(Service(table(), 80).maglev.empty());
  EXPECT_THAT(controller_->TakeEvents(), Contains(HasSubstr("service web: no serving backend")));
}

TEST_F(ControllerTest, HealthIsIgnoredWithoutChecks) {
  Make(ControllerOptions{.health_checks = false});
  ASSERT_TRUE(controller_->Start(LoadTestConfig(Yaml()), kT0).ok());
  EXPECT_GT(Slots(Service(table(), 80), 1), 0u);  // up whatever the (tcp) check
  controller_->SetHealth(1, false, "x");
  EXPECT_EQ(controller_->Flush(), 0u);
  EXPECT_TRUE(controller_->HealthChecks().empty());
}

TEST_F(ControllerTest, DrainKeepsFlowsButTakesNoNewOnes) {
  Make();
  ASSERT_TRUE(
      controller_->Start(LoadTestConfig(Yaml("", "", "{ type: tcp, assume: up }")), kT0).ok());
  ASSERT_TRUE(controller_->SetDrain("web", "10.0.0.12:80", true).ok());
  controller_->Flush();
  EXPECT_EQ(Slots(Service(table(), 80), 2), 0u);
  EXPECT_TRUE(table().Backend(2)->up);  // flows continue
  EXPECT_TRUE(controller_->Status()[0].backends[1].runtime_drain);
  EXPECT_EQ(controller_->SetDrain("web", "10.0.0.99", true).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(controller_->SetDrain("nope", "10.0.0.12", true).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(controller_->SetDrain("web", "10.0.0.12:x", true).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(controller_->SetDrain("web", "10.0.0.12", false).ok());  // bare address
  controller_->Flush();
  EXPECT_GT(Slots(Service(table(), 80), 2), 0u);
}

TEST_F(ControllerTest, ReloadKeepsIdsHealthAndDrainsOfWhatDidNotChange) {
  Make();
  ASSERT_TRUE(
      controller_->Start(LoadTestConfig(Yaml("", "", "{ type: tcp, assume: up }")), kT0).ok());
  controller_->SetHealth(5, false, "connect refused");
  ASSERT_TRUE(controller_->SetDrain("web", "10.0.0.16", true).ok());
  controller_->Flush();
  const auto dns_slots = Service(table(), 53).maglev.shared();

  // Remove 10.0.0.11 (id 1), add 10.0.0.21 and a new service in front.
  std::string yaml = Yaml("      - { address: 10.0.0.21 }\n", "", "{ type: tcp, assume: up }");
  yaml = absl::StrReplaceAll(yaml, {{"      - { address: 10.0.0.11 }\n", ""}});
  yaml = absl::StrReplaceAll(yaml, {{"services:\n", R"(services:
  - name: api
    vip: 10.0.0.101
    port: 8080
    forwarding: dr
    table_size: 7
    backends:
      - { address: 10.0.0.11, port: 8080 }
)"}});
  absl::StatusOr<ReloadReport> report =
      controller_->Reload(LoadTestConfig(yaml), kT0 + absl::Seconds(1));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->changes,
              (std::vector<std::string>{
                  "service api added", "service web changed, 1 backend added, 1 backend removed"}));
  EXPECT_EQ(report->maglev_rebuilt, 2u);  // api and web; dns reused
  EXPECT_EQ(Service(table(), 53).maglev.shared(), dns_slots);
  const dp::ForwardingTable& t = table();
  EXPECT_EQ(Service(t, 80).id, 1u);
  EXPECT_EQ(Service(t, 53).id, 2u);
  EXPECT_EQ(Service(t, 8080).id, 3u);
  // Id 1 (the removed 10.0.0.11) is retired: in the table, not up, no slots.
  ASSERT_NE(t.Backend(1), nullptr);
  EXPECT_FALSE(t.Backend(1)->up);
  EXPECT_EQ(Slots(Service(t, 80), 1), 0u);
  // Unchanged backends keep ids, health and drains; new ones get fresh ids.
  const std::vector<ServiceStatus> status = controller_->Status();
  ASSERT_EQ(status.size(), 3u);
  const ServiceStatus& web = status[1];
  ASSERT_EQ(web.name, "web");
  EXPECT_EQ(web.backends[0].address, "10.0.0.12:80");
  EXPECT_EQ(web.backends[0].id, 2u);
  EXPECT_EQ(web.backends[3].id, 5u);
  EXPECT_FALSE(web.backends[3].up);
  EXPECT_EQ(web.backends[3].health_detail, "connect refused");
  EXPECT_TRUE(web.backends[4].runtime_drain);
  EXPECT_EQ(web.backends[9].address, "10.0.0.21:80");
  EXPECT_EQ(web.backends[9].id, 14u);  // 11, 12: dns; 13: api; 1 waits out its grace
  EXPECT_TRUE(web.backends[9].up);     // assume: up

  // The same file again changes nothing and rebuilds nothing.
  const auto web_slots = Service(table(), 80).maglev.shared();
  report = controller_->Reload(LoadTestConfig(yaml), kT0 + absl::Seconds(2));
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->changes.empty());
  EXPECT_EQ(report->maglev_rebuilt, 0u);
  EXPECT_EQ(Service(table(), 80).maglev.shared(), web_slots);

  // After the grace (2 x the longest timeout + 10 s) the retired backend is gone.
  report = controller_->Reload(LoadTestConfig(yaml), kT0 + absl::Seconds(40));
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(table().Backend(1), nullptr);
}

TEST_F(ControllerTest, AChangedCheckStartsOverFromAssume) {
  Make();
  ASSERT_TRUE(
      controller_->Start(LoadTestConfig(Yaml("", "", "{ type: tcp, assume: up }")), kT0).ok());
  controller_->SetHealth(1, false, "refused");
  controller_->Flush();
  ASSERT_TRUE(
      controller_->Reload(LoadTestConfig(Yaml("", "", "{ type: http, path: /healthz }")), kT0)
          .ok());
  const std::vector<ServiceStatus> status = controller_->Status();
  for (const BackendStatus& b : status[0].backends) EXPECT_FALSE(b.up);  // assume down
  const std::vector<health::CheckSpec> checks = controller_->HealthChecks();
  ASSERT_EQ(checks.size(), 10u);  // dns has none
  EXPECT_EQ(checks[0].subscriber, 1u);
  EXPECT_EQ(checks[0].probe.type, health::ProbeSpec::kHttp);
  EXPECT_EQ(checks[0].probe.path, "/healthz");
  EXPECT_EQ(checks[0].probe.address.ToString(), "10.0.0.11:80");
  EXPECT_EQ(checks[0].initial, health::Health::kDown);
  // Results are counted per service (HealthCollector reads them by service id).
  for (const health::CheckSpec& check : checks) EXPECT_EQ(check.stats_group, status[0].id);
}

TEST_F(ControllerTest, TcpModeSynBecomesAHalfOpenProbe) {
  Make();
  ASSERT_TRUE(controller_->Start(LoadTestConfig(Yaml("", "", "{ type: tcp }")), kT0).ok());
  EXPECT_EQ(controller_->HealthChecks().at(0).probe.type, health::ProbeSpec::kTcp);
  ASSERT_TRUE(
      controller_->Reload(LoadTestConfig(Yaml("", "", "{ type: tcp, tcp_mode: syn }")), kT0).ok());
  const std::vector<health::CheckSpec> checks = controller_->HealthChecks();
  ASSERT_EQ(checks.size(), 10u);
  for (const health::CheckSpec& c : checks) EXPECT_EQ(c.probe.type, health::ProbeSpec::kTcpSyn);
  EXPECT_EQ(checks[0].probe.address.ToString(), "10.0.0.11:80");
}

TEST_F(ControllerTest, RestartOnlyChangesAreReportedNotApplied) {
  Make();
  ASSERT_TRUE(controller_->Start(LoadTestConfig(Yaml()), kT0).ok());
  std::string yaml = absl::StrReplaceAll(Yaml(), {{"dataplane:\n", "dataplane:\n  workers: 2\n"},
                                                  {"tcp_timeout: 10s", "tcp_timeout: 20s"}});
  absl::StatusOr<ReloadReport> report =
      controller_->Reload(LoadTestConfig(yaml + "control: { group: adm }\n"), kT0);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->restart_required, (std::vector<std::string>{"dataplane.workers: 1 -> 2",
                                                                "control.group: (none) -> adm"}));
  EXPECT_EQ(controller_->running().dataplane.workers, 1u);
  EXPECT_EQ(controller_->running().control.group, "");
  EXPECT_EQ(table().tcp_timeout_ms, 20000u);  // reloadable
}

// metrics.per_backend is reloadable (docs/config.md): applied both ways, never reported
// as needing a restart. The Reloader copies running().metrics.per_backend to the board.
TEST_F(ControllerTest, MetricsPerBackendIsReloadable) {
  Make();
  ASSERT_TRUE(controller_->Start(LoadTestConfig(Yaml()), kT0).ok());
  EXPECT_TRUE(controller_->running().metrics.per_backend);
  absl::StatusOr<ReloadReport> report =
      controller_->Reload(LoadTestConfig(Yaml() + "metrics: { per_backend: false }\n"), kT0);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->restart_required, ::testing::IsEmpty());
  EXPECT_FALSE(controller_->running().metrics.per_backend);
  report = controller_->Reload(LoadTestConfig(Yaml()), kT0);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(report->restart_required, ::testing::IsEmpty());
  EXPECT_TRUE(controller_->running().metrics.per_backend);
}

TEST_F(ControllerTest, AFailedReloadChangesNothing) {
  Make(ControllerOptions{.health_checks = true, .nat_sessions = false});
  ASSERT_TRUE(controller_->Start(LoadTestConfig(Yaml()), kT0).ok());
  const uint64_t generation = controller_->generation();
  const std::string nat = R"(  - name: natted
    vip: 10.0.0.102
    port: 80
    forwarding: nat
    backends:
      - { address: 10.0.0.41, port: 8080 }
)";
  absl::StatusOr<ReloadReport> report = controller_->Reload(LoadTestConfig(Yaml("", nat)), kT0);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.status().message(), HasSubstr("needs a restart"));
  EXPECT_EQ(controller_->generation(), generation);
  EXPECT_EQ(controller_->Status().size(), 2u);
}

}  // namespace
}  // namespace sluice::lb
