// HealthChecker against real servers on 127.0.0.1 and ::1, started and stopped by each
// test. Checks run every 100 ms with a 50 ms timeout; every wait is bounded by what rise,
// fall and the interval allow plus a margin of seconds, and no test asserts that
// something happened fast, only that it happened within the bound and exactly once.
#include "health/health_checker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"

namespace sluice::health {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr absl::Duration kInterval = absl::Milliseconds(100);
constexpr absl::Duration kTimeout = absl::Milliseconds(50);
constexpr absl::Duration kMargin = absl::Seconds(3);
constexpr RiseFall kRiseFall{.rise = 2, .fall = 2};

SocketAddress Loopback(int family, uint16_t port) {
  return *SocketAddress::Parse(family == AF_INET6 ? "::1" : "127.0.0.1", port);
}

uint16_t BoundPort(int fd) {
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len), 0);
  return bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

// A TCP listener that never accepts: the kernel completes handshakes into a large backlog,
// which is all a tcp probe needs. Closing it makes connects fail with RST; Open again
// binds the same port (SO_REUSEADDR).
class TcpListener {
 public:
  explicit TcpListener(int family) : family_(family) { Open(0); }
  ~TcpListener() { Close(); }
  void Open(uint16_t port) {
    fd_ = socket(family_, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    const SocketAddress at = Loopback(family_, port);
    ASSERT_EQ(bind(fd_, at.get(), at.size()), 0) << std::strerror(errno);
    ASSERT_EQ(listen(fd_, 4096), 0);
    port_ = BoundPort(fd_);
  }
  void Reopen() { Open(port_); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  uint16_t port() const { return port_; }

 private:
  int family_;
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A UDP server on its own thread that answers every `answer_every`-th datagram (0: none).
class UdpServer {
 public:
  UdpServer(int family, int answer_every)
      : fd_(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)), answer_every_(answer_every) {
    const SocketAddress at = Loopback(family, 0);
    EXPECT_EQ(bind(fd_, at.get(), at.size()), 0) << std::strerror(errno);
    port_ = BoundPort(fd_);
    EXPECT_EQ(pipe(stop_), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~UdpServer() {
    const char x = 1;
    EXPECT_EQ(write(stop_[1], &x, 1), 1);
    thread_.join();
    close(stop_[0]);
    close(stop_[1]);
    close(fd_);
  }
  uint16_t port() const { return port_; }
  int received() const { return received_.load(); }

 private:
  void Serve() {
    for (;;) {
      pollfd fds[2] = {{.fd = fd_, .events = POLLIN}, {.fd = stop_[0], .events = POLLIN}};
      if (poll(fds, 2, 1000) < 0) continue;
      if (fds[1].revents != 0) return;
      if (fds[0].revents == 0) continue;
      char buf[512];
      sockaddr_storage from{};
      socklen_t len = sizeof(from);
      const ssize_t n =
          recvfrom(fd_, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) continue;
      if (++received_ % std::max(answer_every_, 1) == 0 && answer_every_ != 0) {
        sendto(fd_, "pong", 4, 0, reinterpret_cast<sockaddr*>(&from), len);
      }
    }
  }

  int fd_;
  int answer_every_;
  uint16_t port_ = 0;
  int stop_[2] = {-1, -1};
  std::atomic<int> received_{0};
  std::thread thread_;
};

CheckSpec TcpCheck(uint64_t subscriber, int family, uint16_t port, Health initial = Health::kDown,
                   absl::Duration interval = kInterval) {
  return CheckSpec{
      .subscriber = subscriber,
      .probe = {.type = ProbeSpec::kTcp, .address = Loopback(family, port), .timeout = kTimeout},
      .interval = interval,
      .rise_fall = kRiseFall,
      .initial = initial};
}

// A UDP check sending "ping" to a loopback port.
CheckSpec UdpCheck(uint64_t subscriber, uint16_t port, absl::Duration timeout, Health initial) {
  return CheckSpec{.subscriber = subscriber,
                   .probe = {.type = ProbeSpec::kUdp,
                             .address = Loopback(AF_INET, port),
                             .timeout = timeout,
                             .payload = "ping"},
                   .interval = kInterval,
                   .rise_fall = kRiseFall,
                   .initial = initial};
}

std::unique_ptr<HealthChecker> NewChecker() {
  absl::StatusOr<std::unique_ptr<HealthChecker>> checker = HealthChecker::Create(42);
  EXPECT_TRUE(checker.ok()) << checker.status();
  return *std::move(checker);
}

// Polls until `done(changes so far)` or `limit` passes; returns every change taken.
std::vector<HealthChange> PollUntil(
    HealthChecker& checker, const std::function<bool(const std::vector<HealthChange>&)>& done,
    absl::Duration limit) {
  std::vector<HealthChange> changes;
  const absl::Time end = absl::Now() + limit;
  while (!done(changes) && absl::Now() < end) {
    checker.Poll(absl::Milliseconds(10));
    for (HealthChange& c : checker.TakeChanges()) changes.push_back(std::move(c));
  }
  return changes;
}

// Polls for `d` and returns the changes taken meanwhile.
std::vector<HealthChange> PollFor(HealthChecker& checker, absl::Duration d) {
  return PollUntil(
      checker, [](const std::vector<HealthChange>&) { return false; }, d);
}

// Done once `subscriber` has been reported in state `h`.
std::function<bool(const std::vector<HealthChange>&)> Reached(uint64_t subscriber, Health h) {
  return [subscriber, h](const std::vector<HealthChange>& changes) {
    for (const HealthChange& c : changes) {
      if (c.subscriber == subscriber && c.health == h) return true;
    }
    return false;
  };
}

auto IsChange(uint64_t subscriber, Health h) {
  return AllOf(Field(&HealthChange::subscriber, subscriber), Field(&HealthChange::health, h));
}

const absl::Duration kUpLimit = kRiseFall.rise * kInterval + kInterval + kMargin;
const absl::Duration kDownLimit = kRiseFall.fall * kInterval + kInterval + kTimeout + kMargin;

TEST(ProbeKeyOfTest, MatchesTheHelpers) {
  const ProbeSpec tcp{
      .type = ProbeSpec::kTcp, .address = Loopback(AF_INET, 80), .timeout = kTimeout};
  EXPECT_EQ(ProbeKeyOf(tcp),
            TcpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(127, 0, 0, 1), 80, kTimeout));
  const ProbeSpec http{.type = ProbeSpec::kHttp,
                       .address = Loopback(AF_INET6, 8080),
                       .timeout = kTimeout,
                       .path = "/healthz",
                       .status_min = 200};
  std::array<uint8_t, 16> v6{};
  v6[15] = 1;
  EXPECT_EQ(ProbeKeyOf(http),
            HttpProbeKey(AddressFamily::kIpv6, v6, 8080, kTimeout, "/healthz", 200));
  const ProbeSpec udp{.type = ProbeSpec::kUdp,
                      .address = Loopback(AF_INET, 53),
                      .timeout = kTimeout,
                      .payload = std::string("p\0q", 3)};
  EXPECT_EQ(ProbeKeyOf(udp), UdpProbeKey(AddressFamily::kIpv4, Ipv4Bytes(127, 0, 0, 1), 53,
                                         kTimeout, std::string("p\0q", 3)));
}

TEST(HealthCheckerTest, SetChecksRejectsInvalidSetsAndKeepsTheCurrentOne) {
  auto checker = NewChecker();
  ASSERT_TRUE(checker->SetChecks({TcpCheck(1, AF_INET, 9, Health::kUp)}).ok());
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->health(1), Health::kUp);

  CheckSpec no_address = TcpCheck(2, AF_INET, 9);
  no_address.probe.address = SocketAddress();
  CheckSpec no_rise = TcpCheck(2, AF_INET, 9);
  no_rise.rise_fall.rise = 0;
  CheckSpec no_timeout = TcpCheck(2, AF_INET, 9);
  no_timeout.probe.timeout = absl::ZeroDuration();
  const std::vector<std::vector<CheckSpec>> bad = {
      {TcpCheck(2, AF_INET, 9), TcpCheck(2, AF_INET, 10)},
      {TcpCheck(0, AF_INET, 9)},
      {TcpCheck(2, AF_INET, 9, Health::kDown, absl::ZeroDuration())},
      {TcpCheck(2, AF_INET, 9, Health::kDown, absl::InfiniteDuration())},
      {no_address},
      {no_rise},
      {no_timeout},
  };
  for (const std::vector<CheckSpec>& checks : bad) {
    EXPECT_EQ(checker->SetChecks(checks).code(), absl::StatusCode::kInvalidArgument);
  }
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->health(1), Health::kUp);
  EXPECT_EQ(checker->health(2), std::nullopt);
  EXPECT_EQ(checker->distinct_probes(), 1u);
}

class TcpUpDownTest : public ::testing::TestWithParam<int> {};

TEST_P(TcpUpDownTest, ListenerUpDownUpGivesExactlyOneChangeEachWay) {
  const int family = GetParam();
  TcpListener listener(family);
  auto checker = NewChecker();
  ASSERT_TRUE(checker->SetChecks({TcpCheck(7, family, listener.port())}).ok());

  std::vector<HealthChange> changes = PollUntil(*checker, Reached(7, Health::kUp), kUpLimit);
  ASSERT_THAT(changes, ElementsAre(IsChange(7, Health::kUp)));
  EXPECT_EQ(changes[0].detail, "connected");
  EXPECT_EQ(checker->health(7), Health::kUp);
  EXPECT_THAT(PollFor(*checker, 3 * kInterval), IsEmpty());

  listener.Close();
  changes = PollUntil(*checker, Reached(7, Health::kDown), kDownLimit);
  ASSERT_THAT(changes, ElementsAre(IsChange(7, Health::kDown)));
  EXPECT_EQ(changes[0].detail, "connect refused");
  EXPECT_EQ(checker->health(7), Health::kDown);
  EXPECT_THAT(PollFor(*checker, 3 * kInterval), IsEmpty());

  listener.Reopen();
  changes = PollUntil(*checker, Reached(7, Health::kUp), kUpLimit);
  ASSERT_THAT(changes, ElementsAre(IsChange(7, Health::kUp)));

  const std::vector<ProbeStats> stats = checker->probe_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_GE(stats[0].successes, 4u);
  EXPECT_GE(stats[0].failures, 2u);
  EXPECT_EQ(stats[0].subscribers, 1u);
  EXPECT_EQ(stats[0].last_detail, "connected");
}

INSTANTIATE_TEST_SUITE_P(Families, TcpUpDownTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return p.param == AF_INET6 ? "ipv6" : "ipv4";
                         });

// A real UDP server that answers every other probe: successes never come `rise` (3) in a
// row, so a Down subscriber stays Down. (Only the Down side is driven by a real server:
// failures here are timeouts, and an answer slower than the timeout turns a success into a
// failure, which can only lengthen a failure run. Up-side flapping is covered at the
// HealthState level in health_state_test.)
TEST(HealthCheckerTest, FlappingFasterThanRiseChangesNothing) {
  UdpServer server(AF_INET, 2);
  auto checker = NewChecker();
  CheckSpec check = UdpCheck(3, server.port(), kTimeout, Health::kDown);
  check.rise_fall = {.rise = 3, .fall = 3};
  ASSERT_TRUE(checker->SetChecks({check}).ok());
  const std::vector<HealthChange> changes = PollUntil(
      *checker, [&](const auto&) { return server.received() >= 12; }, 12 * kInterval + kMargin);
  EXPECT_THAT(changes, IsEmpty());
  EXPECT_EQ(checker->health(3), Health::kDown);
  const std::vector<ProbeStats> stats = checker->probe_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_GE(stats[0].successes, 5u);
  EXPECT_GE(stats[0].failures, 5u);
}

// tcp_mode syn and connect probe the same port differently: two probes, both run.
TEST(HealthCheckerTest, SynAndConnectChecksOfOneBackendAreTwoProbes) {
  TcpListener listener(AF_INET);
  auto checker = NewChecker();
  CheckSpec syn = TcpCheck(2, AF_INET, listener.port());
  syn.probe.type = ProbeSpec::kTcpSyn;
  ASSERT_TRUE(checker->SetChecks({TcpCheck(1, AF_INET, listener.port()), syn}).ok());
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->distinct_probes(), 2u);
  const std::vector<HealthChange> changes = PollUntil(
      *checker, [](const std::vector<HealthChange>& c) { return c.size() >= 2; },
      kRiseFall.rise * kInterval + 2 * kInterval + kMargin);
  EXPECT_THAT(changes, UnorderedElementsAre(IsChange(1, Health::kUp), IsChange(2, Health::kUp)));
}

TEST(HealthCheckerTest, SubscribersWithTheSameProbeShareIt) {
  TcpListener listener(AF_INET);
  auto checker = NewChecker();
  CheckSpec rise_one = TcpCheck(5, AF_INET, listener.port());
  rise_one.rise_fall.rise = 1;
  ASSERT_TRUE(
      checker
          ->SetChecks({TcpCheck(1, AF_INET, listener.port()), TcpCheck(2, AF_INET, listener.port()),
                       TcpCheck(3, AF_INET, listener.port()),
                       // Same probe, other interval: a probe of its own.
                       TcpCheck(4, AF_INET, listener.port(), Health::kDown, 2 * kInterval),
                       // Same probe and interval, other rise: shares the probe only.
                       rise_one})
          .ok());
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->distinct_probes(), 2u);

  const std::vector<HealthChange> changes = PollUntil(
      *checker, [](const std::vector<HealthChange>& c) { return c.size() >= 5; },
      kRiseFall.rise * 2 * kInterval + 2 * kInterval + kMargin);
  EXPECT_THAT(changes, UnorderedElementsAre(IsChange(1, Health::kUp), IsChange(2, Health::kUp),
                                            IsChange(3, Health::kUp), IsChange(4, Health::kUp),
                                            IsChange(5, Health::kUp)));
  const std::vector<ProbeStats> stats = checker->probe_stats();
  ASSERT_EQ(stats.size(), 2u);
  size_t shared = stats[0].subscribers == 4 ? 0 : 1;
  EXPECT_EQ(stats[shared].subscribers, 4u);
  EXPECT_EQ(stats[1 - shared].subscribers, 1u);
}

TEST(HealthCheckerTest, HttpHostAndStatusRangeKeepProbesApart) {
  auto checker = NewChecker();
  CheckSpec a{.subscriber = 1,
              .probe = {.type = ProbeSpec::kHttp, .address = Loopback(AF_INET, 9), .host = "a"},
              .interval = absl::Seconds(10)};
  CheckSpec b = a;
  b.subscriber = 2;
  b.probe.host = "b";
  CheckSpec c = a;
  c.subscriber = 3;
  c.probe.status_max = 299;
  CheckSpec d = a;
  d.subscriber = 4;
  ASSERT_TRUE(checker->SetChecks({a, b, c, d}).ok());
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->distinct_probes(), 3u);
}

TEST(HealthCheckerTest, UnchangedCheckKeepsItsStateAndChangedIntervalResets) {
  TcpListener listener(AF_INET);
  auto checker = NewChecker();
  const CheckSpec check = TcpCheck(9, AF_INET, listener.port());
  ASSERT_TRUE(checker->SetChecks({check}).ok());
  ASSERT_THAT(PollUntil(*checker, Reached(9, Health::kUp), kUpLimit),
              ElementsAre(IsChange(9, Health::kUp)));

  // The same set again, plus a new subscriber that joins the running (Up) probe: it starts
  // at its initial Down and is told at once that it is Up.
  ASSERT_TRUE(checker->SetChecks({check, TcpCheck(10, AF_INET, listener.port())}).ok());
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->health(9), Health::kUp);
  EXPECT_EQ(checker->health(10), Health::kUp);
  EXPECT_THAT(checker->TakeChanges(),
              ElementsAre(HealthChange{
                  .subscriber = 10, .health = Health::kUp, .detail = "shares a running probe"}));
  EXPECT_EQ(checker->distinct_probes(), 1u);
  EXPECT_THAT(PollFor(*checker, 3 * kInterval), IsEmpty());

  // A changed interval is a new check: back to its initial Down, then Up again.
  ASSERT_TRUE(
      checker->SetChecks({TcpCheck(9, AF_INET, listener.port(), Health::kDown, 2 * kInterval)})
          .ok());
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->health(9), Health::kDown);
  EXPECT_EQ(checker->health(10), std::nullopt);
  EXPECT_THAT(checker->TakeChanges(),
              ElementsAre(HealthChange{
                  .subscriber = 9, .health = Health::kDown, .detail = "check changed"}));
  EXPECT_THAT(PollUntil(*checker, Reached(9, Health::kUp), kUpLimit + 2 * kInterval),
              ElementsAre(IsChange(9, Health::kUp)));
}

// A server that never answers and a timeout longer than the interval: the probe is due
// again while still in flight and is skipped rather than started twice.
TEST(HealthCheckerTest, ProbeInFlightIsNotStartedTwice) {
  UdpServer silent(AF_INET, 0);
  auto checker = NewChecker();
  const absl::Duration timeout = absl::Milliseconds(350);
  const CheckSpec check = UdpCheck(1, silent.port(), timeout, Health::kUp);
  ASSERT_TRUE(checker->SetChecks({check}).ok());
  const std::vector<HealthChange> changes = PollUntil(
      *checker, Reached(1, Health::kDown), kRiseFall.fall * (timeout + kInterval) + kMargin);
  ASSERT_THAT(changes, ElementsAre(IsChange(1, Health::kDown)));
  EXPECT_EQ(changes[0].detail, "timeout after 350ms");
  const std::vector<ProbeStats> stats = checker->probe_stats();
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].successes, 0u);
  EXPECT_GE(stats[0].failures, 2u);
  EXPECT_GE(stats[0].skipped_in_flight, 2u);
  // Every start but the one possibly in flight has finished: none ran twice at once.
  EXPECT_LE(stats[0].started, stats[0].failures + 1);
  EXPECT_GE(stats[0].last_duration, timeout);
}

// Results counted per stats group: one per subscriber, by outcome, with durations in the
// histogram buckets; a probe shared by two groups counts in both.
TEST(HealthCheckerTest, ResultCountsByGroupAndOutcome) {
  TcpListener up(AF_INET);
  TcpListener refused(AF_INET);
  refused.Close();  // connects to its port get RST
  UdpServer silent(AF_INET, 0);
  auto checker = NewChecker();
  CheckSpec shared_a = TcpCheck(1, AF_INET, up.port());
  shared_a.stats_group = 7;
  CheckSpec shared_b = TcpCheck(2, AF_INET, up.port());
  shared_b.stats_group = 8;
  CheckSpec fails = TcpCheck(3, AF_INET, refused.port());
  fails.stats_group = 7;
  const absl::Duration timeout = absl::Milliseconds(300);
  CheckSpec times_out = UdpCheck(4, silent.port(), timeout, Health::kUp);
  times_out.stats_group = 9;
  ASSERT_TRUE(checker->SetChecks({shared_a, shared_b, fails, times_out}).ok());
  EXPECT_TRUE(checker->result_counts().empty());
  const absl::Time end = absl::Now() + 10 * kInterval + timeout + kMargin;
  auto done = [&] {
    const auto counts = checker->result_counts();
    return counts.contains(7) && counts.at(7).successes >= 2 && counts.at(7).failures >= 2 &&
           counts.contains(9) && counts.at(9).timeouts >= 2;
  };
  while (!done() && absl::Now() < end) checker->Poll(absl::Milliseconds(10));
  const auto counts = checker->result_counts();
  ASSERT_TRUE(done());
  ASSERT_EQ(counts.size(), 3u);
  const CheckResultCounts& g7 = counts.at(7);
  const CheckResultCounts& g8 = counts.at(8);
  const CheckResultCounts& g9 = counts.at(9);
  EXPECT_EQ(g7.timeouts, 0u);
  // Group 8 got exactly the shared probe's results; group 7 those plus the refusals.
  EXPECT_EQ(g8.successes, g7.successes);
  EXPECT_EQ(g8.failures + g8.timeouts, 0u);
  EXPECT_EQ(g9.successes + g9.failures, 0u);
  for (const CheckResultCounts* c : {&g7, &g8, &g9}) {
    uint64_t in_buckets = 0;
    for (uint64_t b : c->duration_buckets) in_buckets += b;
    EXPECT_EQ(in_buckets, c->total());
  }
  // A 300 ms timeout lands in the (0.25 s, 0.5 s] bucket.
  ASSERT_EQ(kCheckDurationBounds[9], 0.5);
  EXPECT_EQ(g9.duration_buckets[9], g9.timeouts);
  EXPECT_GE(g9.duration_sum_seconds, 0.3 * static_cast<double>(g9.timeouts));
  // Loopback connects and refusals take well under 250 ms.
  for (size_t i = 9; i < g7.duration_buckets.size(); ++i) EXPECT_EQ(g7.duration_buckets[i], 0u);
  // Counts survive a SetChecks that drops every check.
  ASSERT_TRUE(checker->SetChecks({}).ok());
  checker->Poll(absl::ZeroDuration());
  EXPECT_EQ(checker->result_counts().at(7).successes, counts.at(7).successes);
}

TEST(HealthCheckerTest, ControllerThreadTakesChangesWhileRunRuns) {
  TcpListener listener(AF_INET);
  auto checker = NewChecker();
  std::atomic<bool> stop{false};
  std::thread health_thread([&] { checker->Run(stop); });

  // SetChecks and TakeChanges from this (the controller's) thread.
  ASSERT_TRUE(checker
                  ->SetChecks({TcpCheck(1, AF_INET, listener.port()),
                               TcpCheck(2, AF_INET, listener.port())})
                  .ok());
  auto drain_until = [&](size_t count, absl::Duration limit) {
    std::vector<HealthChange> got;
    const absl::Time end = absl::Now() + limit;
    while (got.size() < count && absl::Now() < end) {
      for (HealthChange& c : checker->TakeChanges()) got.push_back(std::move(c));
      absl::SleepFor(absl::Milliseconds(5));
    }
    return got;
  };
  const std::vector<HealthChange> up = drain_until(2, kUpLimit + HealthChecker::kRunPollSlice);
  listener.Close();
  const std::vector<HealthChange> down = drain_until(2, kDownLimit + HealthChecker::kRunPollSlice);
  stop.store(true, std::memory_order_release);
  health_thread.join();

  EXPECT_THAT(up, UnorderedElementsAre(IsChange(1, Health::kUp), IsChange(2, Health::kUp)));
  EXPECT_THAT(down, UnorderedElementsAre(IsChange(1, Health::kDown), IsChange(2, Health::kDown)));
  EXPECT_EQ(checker->health(1), Health::kDown);
}

}  // namespace
}  // namespace sluice::health
