// lb/service_notify.h against a real unix datagram socket standing in for systemd's
// NOTIFY_SOCKET (in a temporary directory; no root). Every receive is bounded.
#include "lb/service_notify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "build_config.h"

namespace sluice::lb {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

class ServiceNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-notify-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::string path = dir_ + "/notify.sock";
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    timeval timeout{.tv_sec = 2, .tv_usec = 0};
    ASSERT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
    ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::close(fd_);
    std::filesystem::remove_all(dir_);
  }
  // The next message, or nothing within the socket's receive timeout.
  std::optional<std::string> Receive() const {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
  }
  void NoMessageWithin100ms() {
    timeval timeout{.tv_sec = 0, .tv_usec = 100000};
    ASSERT_EQ(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)), 0);
    EXPECT_EQ(Receive(), std::nullopt);
  }

  std::string dir_;
  int fd_ = -1;
};

#if SLUICE_HAVE_LIBSYSTEMD

TEST_F(ServiceNotifyTest, ReadyCarriesStatus) {
  NotifyReady("serving: 3 services");
  EXPECT_EQ(Receive(), "READY=1\nSTATUS=serving: 3 services");
}

TEST_F(ServiceNotifyTest, ReloadingCarriesTheMonotonicClock) {
  timespec before{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  NotifyReloading("reloading (SIGHUP)");
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &after);
  const std::optional<std::string> m = Receive();
  ASSERT_TRUE(m.has_value());
  EXPECT_THAT(*m,
              MatchesRegex("RELOADING=1\nMONOTONIC_USEC=[0-9]+\nSTATUS=reloading \\(SIGHUP\\)"));
  const size_t start = m->find("MONOTONIC_USEC=") + std::strlen("MONOTONIC_USEC=");
  uint64_t usec = 0;
  ASSERT_TRUE(absl::SimpleAtoi(m->substr(start, m->find('\n', start) - start), &usec));
  auto us = [](const timespec& t) {
    return static_cast<uint64_t>(t.tv_sec) * 1000000 + static_cast<uint64_t>(t.tv_nsec) / 1000;
  };
  EXPECT_GE(usec, us(before));
  EXPECT_LE(usec, us(after));
}

TEST_F(ServiceNotifyTest, StoppingStatusAndWatchdog) {
  NotifyStopping("stopping (signal 15)");
  EXPECT_EQ(Receive(), "STOPPING=1\nSTATUS=stopping (signal 15)");
  NotifyStatus("cannot start: port p0: no device");
  EXPECT_EQ(Receive(), "STATUS=cannot start: port p0: no device");
  NotifyWatchdog();
  EXPECT_EQ(Receive(), "WATCHDOG=1");
}

TEST_F(ServiceNotifyTest, MultiLineStatusBecomesOneLine) {
  NotifyReady("reload failed: a.yaml:1:1: error: x\na.yaml:2:1: error: y\n");
  EXPECT_EQ(Receive(), "READY=1\nSTATUS=reload failed: a.yaml:1:1: error: x; a.yaml:2:1: error: y");
}

TEST_F(ServiceNotifyTest, WatchdogIntervalFromTheEnvironment) {
  EXPECT_EQ(WatchdogIntervalUs(), 0u);
  ::setenv("WATCHDOG_USEC", "10000000", 1);
  EXPECT_EQ(WatchdogIntervalUs(), 10000000u);
  // Meant for another process: not ours to honour.
  ::setenv("WATCHDOG_PID", "1", 1);
  EXPECT_EQ(WatchdogIntervalUs(), 0u);
  ::unsetenv("WATCHDOG_PID");
}

#endif  // SLUICE_HAVE_LIBSYSTEMD

TEST_F(ServiceNotifyTest, NothingWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  NotifyReady("serving");
  NotifyReloading("reloading");
  NotifyStopping("stopping");
  NoMessageWithin100ms();
}

TEST(StatusLineTest, FlattensAndCuts) {
  EXPECT_EQ(StatusLine("one"), "one");
  EXPECT_EQ(StatusLine("a\nb\n"), "a; b");
  EXPECT_EQ(StatusLine(std::string(300, 'x'), 10), "xxxxxxx...");
  EXPECT_THAT(StatusLine(std::string(300, 'x')), HasSubstr("..."));
  EXPECT_EQ(StatusLine(std::string(300, 'x')).size(), 200u);
}

}  // namespace
}  // namespace sluice::lb
