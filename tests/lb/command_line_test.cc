#include "lb/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace sluice::lb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<CommandLine> Parse(std::vector<std::string_view> args) {
  return ParseCommandLine(args);
}

TEST(CommandLineTest, ConfigAndCheck) {
  const auto cl = Parse({"--config", "/etc/sluice/sluice.yaml", "--check"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config_path, "/etc/sluice/sluice.yaml");
  EXPECT_TRUE(cl->check);
  EXPECT_TRUE(cl->eal_args.empty());
}

TEST(CommandLineTest, ConfigWithEqualsSign) {
  const auto cl = Parse({"--config=a.yaml"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->config_path, "a.yaml");
  EXPECT_FALSE(cl->check);
}

TEST(CommandLineTest, EverythingAfterDoubleDashGoesToEal) {
  const auto cl = Parse({"--config", "a.yaml", "--", "--no-huge", "-m", "256", "--check"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_FALSE(cl->check);  // "--check" after "--" belongs to EAL
  EXPECT_THAT(cl->eal_args, ElementsAre("--no-huge", "-m", "256", "--check"));
}

TEST(CommandLineTest, HelpAndVersionNeedNoConfig) {
  EXPECT_TRUE(Parse({"--help"})->help);
  EXPECT_TRUE(Parse({"-h"})->help);
  EXPECT_TRUE(Parse({"--version"})->version);
}

struct BadCase {
  std::vector<std::string_view> args;
  std::string_view message;
};

class CommandLineErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(CommandLineErrorTest, IsUsageError) {
  const auto cl = Parse(GetParam().args);
  ASSERT_FALSE(cl.ok());
  EXPECT_EQ(cl.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(cl.status().message()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    All, CommandLineErrorTest,
    ::testing::Values(BadCase{{}, "--config FILE is required"},
                      BadCase{{"--check"}, "--config FILE is required"},
                      BadCase{{"--config"}, "--config needs a FILE"},
                      BadCase{{"--config="}, "--config needs a FILE"},
                      BadCase{{"--config", "a", "--config", "b"}, "more than once"},
                      BadCase{{"--config", "a", "--chek"}, "unexpected argument '--chek'"},
                      BadCase{{"--config", "a", "stray"}, "unexpected argument 'stray'"},
                      BadCase{{"--config", "a", "--check", "--", "-l", "0"}, "touches no NIC"}));

}  // namespace
}  // namespace sluice::lb
