#include "lb/sluicectl_command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace sluice::lb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

absl::StatusOr<SluicectlCommandLine> Parse(std::vector<std::string_view> args,
                                           std::string_view env = "") {
  return ParseSluicectlCommandLine(args, env);
}

TEST(SluicectlCommandLineTest, DefaultsEnvironmentAndOption) {
  auto cl = Parse({"list"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->socket_path, "/run/sluice/sluice.sock");
  EXPECT_THAT(cl->request, ElementsAre("list"));

  cl = Parse({"status"}, "/tmp/env.sock");
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->socket_path, "/tmp/env.sock");

  cl = Parse({"--socket", "/tmp/opt.sock", "status"}, "/tmp/env.sock");
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->socket_path, "/tmp/opt.sock");

  cl = Parse({"--socket=/tmp/eq.sock", "status"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->socket_path, "/tmp/eq.sock");
}

TEST(SluicectlCommandLineTest, JsonGoesFirstToTheDaemon) {
  auto cl = Parse({"--json", "drain", "web", "[fd00::1]:80"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_THAT(cl->request, ElementsAre("--json", "drain", "web", "[fd00::1]:80"));
}

TEST(SluicectlCommandLineTest, ListViewsAndLookup) {
  auto cl = Parse({"--json", "list", "--stats"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_THAT(cl->request, ElementsAre("--json", "list", "--stats"));
  cl = Parse({"list", "--rate"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_THAT(cl->request, ElementsAre("list", "--rate"));
  cl = Parse({"lookup", "udp", "fd00::1", "5353", "fd00::100", "53"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_THAT(cl->request, ElementsAre("lookup", "udp", "fd00::1", "5353", "fd00::100", "53"));
}

TEST(SluicectlCommandLineTest, Announce) {
  auto cl = Parse({"--json", "announce"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_THAT(cl->request, ElementsAre("--json", "announce"));
  EXPECT_EQ(Parse({"announce", "10.0.0.1"}).status().message(),
            "'announce' takes 0 argument(s), got 1: sluicectl announce");
  EXPECT_EQ(Parse({"announce", "--stats"}).status().message(),
            "'announce' has no option '--stats': sluicectl announce");
  EXPECT_THAT(SluicectlUsage("sluicectl"), HasSubstr("  announce "));
}

TEST(SluicectlCommandLineTest, Help) {
  auto cl = Parse({"--help", "nonsense"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_TRUE(cl->help);
  EXPECT_THAT(cl->request, IsEmpty());
  EXPECT_THAT(SluicectlUsage("sluicectl"), HasSubstr("Usage: sluicectl [--socket PATH]"));
}

TEST(SluicectlCommandLineTest, UsageErrors) {
  EXPECT_EQ(Parse({}).status().message(), "no command");
  EXPECT_EQ(Parse({"frobnicate"}).status().message(), "unknown command 'frobnicate'");
  EXPECT_EQ(Parse({"--bogus", "list"}).status().message(), "unknown option '--bogus'");
  EXPECT_EQ(Parse({"list", "extra"}).status().message(),
            "'list' takes 0 argument(s), got 1: sluicectl list [--stats|--rate]");
  EXPECT_EQ(Parse({"list", "--bogus"}).status().message(),
            "'list' has no option '--bogus': sluicectl list [--stats|--rate]");
  EXPECT_EQ(Parse({"list", "--stats", "--rate"}).status().message(),
            "'list' takes 0 argument(s), got 1: sluicectl list [--stats|--rate]");
  EXPECT_EQ(Parse({"status", "--stats"}).status().message(),
            "'status' has no option '--stats': sluicectl status");
  EXPECT_EQ(Parse({"lookup", "tcp", "10.0.0.1", "1234", "10.0.100.1"}).status().message(),
            "'lookup' takes 5 argument(s), got 4: sluicectl lookup tcp|udp SRC SPORT DST DPORT");
  EXPECT_EQ(Parse({"drain", "web"}).status().message(),
            "'drain' takes 2 argument(s), got 1: sluicectl drain SERVICE BACKEND");
  EXPECT_EQ(Parse({"undrain", "a", "b", "c"}).status().message(),
            "'undrain' takes 2 argument(s), got 3: sluicectl undrain SERVICE BACKEND");
  EXPECT_EQ(Parse({"--socket"}).status().message(), "--socket needs a PATH");
  EXPECT_EQ(Parse({"--socket=", "list"}).status().message(), "--socket needs a PATH");
}

}  // namespace
}  // namespace sluice::lb
