// ControlServer and SendControlRequest against each other, over real sockets in a
// temporary directory. Every wait is bounded.
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lb/control_client.h"
#include "lb/control_server.h"

namespace sluice::lb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/sluice-ctl-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/run/sluice.sock";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Sends `args` from another thread while this thread polls `server` with `handler`,
  // for at most 5 s.
  absl::StatusOr<ControlResponse> Exchange(ControlServer& server,
                                           const std::vector<std::string>& args,
                                           const ControlServer::Handler& handler,
                                           absl::Duration timeout = absl::Seconds(5)) {
    auto reply =
        std::async(std::launch::async, [&] { return SendControlRequest(path_, args, timeout); });
    const absl::Time give_up = absl::Now() + absl::Seconds(5);
    while (reply.wait_for(std::chrono::milliseconds(1)) != std::future_status::ready &&
           absl::Now() < give_up) {
      server.Poll(handler);
    }
    return reply.get();
  }

  // A socket file nobody listens on: what a crashed daemon leaves behind.
  void MakeStaleSocket() {
    std::filesystem::create_directories(dir_ + "/run");
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(ControlSocketTest, ArgumentsExitCodeAndTextRoundTrip) {
  auto server = ControlServer::Create(path_);
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::string> seen;
  auto response = Exchange(**server, {"drain", "my service", "", "10.0.0.1:80"},
                           [&](const std::vector<std::string>& args) {
                             seen = args;
                             return ControlResponse{.exit_code = 3, .text = "two\nlines\n"};
                           });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->exit_code, 3);
  EXPECT_EQ(response->text, "two\nlines\n");
  EXPECT_THAT(seen, ElementsAre("drain", "my service", "", "10.0.0.1:80"));

  // A second request on the same server, with an empty answer.
  response = Exchange(**server, {"status"}, [](const std::vector<std::string>& args) {
    EXPECT_THAT(args, ElementsAre("status"));
    return ControlResponse{};
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->exit_code, 0);
  EXPECT_EQ(response->text, "");
}

TEST_F(ControlSocketTest, SocketIsRootOnlyAndTheDestructorUnlinksIt) {
  {
    auto server = ControlServer::Create(path_);
    ASSERT_TRUE(server.ok()) << server.status();
    struct stat st;
    ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::stat((dir_ + "/run").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// control.group: the socket belongs to the group and is 0660. chown to a group needs
// root or membership: the process's own primary group works for any user.
TEST_F(ControlSocketTest, GroupSocketIsGroupOwnedAnd0660) {
  const group* own = ::getgrgid(::getegid());
  ASSERT_NE(own, nullptr);
  const std::string name = own->gr_name;
  auto server = ControlServer::Create(path_, ControlServerOptions{.group = name});
  ASSERT_TRUE(server.ok()) << server.status();
  struct stat st;
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  EXPECT_EQ(st.st_gid, ::getegid());
}

TEST_F(ControlSocketTest, UnknownGroupFailsAndLeavesNoSocket) {
  auto server = ControlServer::Create(path_, ControlServerOptions{.group = "no-such-group-x"});
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(), "control.group: no group named 'no-such-group-x'");
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ControlSocketTest, MissingSocket) {
  auto response = SendControlRequest(path_, {"list"}, absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_EQ(response.status().message(),
            "sluice is not running (no control socket at " + path_ + ")");
}

TEST_F(ControlSocketTest, StaleSocketIsReportedAndReplaced) {
  MakeStaleSocket();
  auto response = SendControlRequest(path_, {"list"}, absl::Seconds(1));
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_EQ(response.status().message(),
            "sluice is not running (stale control socket at " + path_ + ")");

  auto server = ControlServer::Create(path_);
  ASSERT_TRUE(server.ok()) << server.status();
  response = Exchange(**server, {"list"}, [](const std::vector<std::string>&) {
    return ControlResponse{.text = "ok\n"};
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text, "ok\n");
}

TEST_F(ControlSocketTest, SecondServerOnALiveSocketFails) {
  auto first = ControlServer::Create(path_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = ControlServer::Create(path_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(), "another sluice is listening on " + path_);
  // The first one still works, and its liveness probe did not reach the handler.
  size_t handled = 0;
  auto response = Exchange(**first, {"list"}, [&](const std::vector<std::string>&) {
    ++handled;
    return ControlResponse{};
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(handled, 1u);
}

TEST_F(ControlSocketTest, ARegularFileAtThePathIsKept) {
  std::filesystem::create_directories(dir_ + "/run");
  std::ofstream(path_) << "not a socket";
  auto server = ControlServer::Create(path_);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("is not a socket"));
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
}

TEST_F(ControlSocketTest, SilentClientDoesNotBlockPoll) {
  auto server = ControlServer::Create(path_, {.read_timeout = absl::Milliseconds(300)});
  ASSERT_TRUE(server.ok()) << server.status();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  const absl::Time start = absl::Now();
  EXPECT_EQ((*server)->Poll([](const std::vector<std::string>&) { return ControlResponse{}; }), 0u);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(100));

  // After the silent client's read timeout, a real request is served.
  auto response = Exchange(**server, {"list"}, [](const std::vector<std::string>&) {
    return ControlResponse{.text = "served\n"};
  });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text, "served\n");
  ::close(fd);
}

TEST_F(ControlSocketTest, UnansweredRequestTimesOutOnTheServer) {
  auto server = ControlServer::Create(path_, {.answer_timeout = absl::Milliseconds(100)});
  ASSERT_TRUE(server.ok()) << server.status();
  auto response = SendControlRequest(path_, {"reload"}, absl::Seconds(5));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->exit_code, 1);
  EXPECT_EQ(response->text, "the control thread did not answer within 100ms\n");
  // The dropped request is not handled later.
  EXPECT_EQ((*server)->Poll([](const std::vector<std::string>&) { return ControlResponse{}; }), 0u);
}

TEST_F(ControlSocketTest, ClientTimeoutAndADestructorThatDoesNotHang) {
  auto server = ControlServer::Create(path_);
  ASSERT_TRUE(server.ok()) << server.status();
  auto response = SendControlRequest(path_, {"reload"}, absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
  EXPECT_EQ(response.status().message(), "no answer from sluice within 0.2 s");
  // The server thread is still waiting for Poll (30 s by default); stopping is immediate.
  const absl::Time start = absl::Now();
  server->reset();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ControlSocketTest, OversizedRequestIsRefused) {
  auto server = ControlServer::Create(path_);
  ASSERT_TRUE(server.ok()) << server.status();
  size_t handled = 0;
  auto response = Exchange(**server, {"drain", std::string(kMaxControlRequestBytes, 'x')},
                           [&](const std::vector<std::string>&) {
                             ++handled;
                             return ControlResponse{};
                           });
  // The server may close while the client is still writing; either way, nothing runs.
  if (response.ok()) {
    EXPECT_EQ(response->exit_code, 2);
    EXPECT_THAT(response->text, HasSubstr("request larger than 65536 bytes"));
  }
  EXPECT_EQ(handled, 0u);
}

}  // namespace
}  // namespace sluice::lb
