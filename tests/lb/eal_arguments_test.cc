#include "lb/eal_arguments.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/lb/load_config.h"

namespace sluice::lb {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kServices[] = R"(
services:
  - name: web
    vip: 10.0.0.100
    port: 80
    forwarding: dr
    backends: [{ address: 10.0.0.11 }]
)";

TEST(EalArgumentsTest, VdevPortsGetVdevAndNoPci) {
  const config::Config config = LoadTestConfig(std::string(R"(
dataplane:
  workers: 2
  eal: ["--in-memory"]
  ports:
    - { name: p0, device: "net_af_packet0,iface=eth1,qpairs=2", address: 10.0.0.2/24 }
)") + kServices);
  absl::StatusOr<std::vector<std::string>> args =
      BuildEalArguments(config, {"--log-level=7"}, {0, 1, 2, 3});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(*args,
              ElementsAre("sluice", "-l", "0,1,2", "--vdev", "net_af_packet0,iface=eth1,qpairs=2",
                          "--no-pci", "--in-memory", "--log-level=7"));
}

TEST(EalArgumentsTest, PciPortsAreAllowListed) {
  const config::Config config = LoadTestConfig(std::string(R"(
dataplane:
  ports:
    - { name: p0, device: "0000:03:00.0", address: 10.0.0.2/24 }
    - { name: p1, device: "03:00.1", address: 10.1.0.2/24 }
)") + kServices);
  absl::StatusOr<std::vector<std::string>> args = BuildEalArguments(config, {}, {4, 5});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(*args, ElementsAre("sluice", "-l", "4,5", "-a", "0000:03:00.0", "-a", "03:00.1"));
}

TEST(EalArgumentsTest, TooFewCpusIsAClearError) {
  const config::Config config = LoadTestConfig(std::string(R"(
dataplane:
  workers: 2
  ports: [{ name: p0, device: "net_null0", address: 10.0.0.2/24 }]
)") + kServices);
  absl::StatusOr<std::vector<std::string>> args = BuildEalArguments(config, {}, {0, 1});
  ASSERT_FALSE(args.ok());
  EXPECT_THAT(args.status().message(), HasSubstr("2 workers need 3 CPUs"));
  EXPECT_THAT(args.status().message(), HasSubstr("CPUs 0,1"));
}

TEST(EalArgumentsTest, UserLcoreMappingIsRespected) {
  const config::Config config = LoadTestConfig(std::string(R"(
dataplane:
  workers: 2
  eal: ["--lcores=0@0,1@1,2@1"]
  ports: [{ name: p0, device: "net_null0", address: 10.0.0.2/24 }]
)") + kServices);
  absl::StatusOr<std::vector<std::string>> args = BuildEalArguments(config, {}, {0, 1});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(*args,
              ElementsAre("sluice", "--vdev", "net_null0", "--no-pci", "--lcores=0@0,1@1,2@1"));
}

TEST(EalArgumentsTest, DeviceNamesAndArguments) {
  EXPECT_TRUE(IsPciDevice("0000:03:00.0"));
  EXPECT_TRUE(IsPciDevice("af:00.7"));
  EXPECT_TRUE(IsPciDevice("0000:03:00.0,rxq_cqe_comp_en=0"));
  EXPECT_FALSE(IsPciDevice("0000:03:00.8"));
  EXPECT_FALSE(IsPciDevice("net_af_xdp0,iface=eth1"));
  EXPECT_FALSE(IsPciDevice("net_ring0"));
  EXPECT_EQ(EthdevName("net_af_xdp0,iface=eth1"), "net_af_xdp0");
  EXPECT_EQ(EthdevName("0000:03:00.0"), "0000:03:00.0");
  EXPECT_EQ(DeviceArgument("net_af_packet0,iface=lb0,qpairs=2", "iface"), "lb0");
  EXPECT_EQ(DeviceArgument("net_af_packet0,qpairs=2", "iface"), "");
  EXPECT_EQ(DeviceArgument("net_af_packet0,ifacex=a", "iface"), "");
}

TEST(EalArgumentsTest, HugepagesRequiredUnlessNoHuge) {
  EXPECT_TRUE(CheckHugepages({"sluice", "--in-memory"}, 512).ok());
  EXPECT_TRUE(CheckHugepages({"sluice", "--no-huge", "-m", "512"}, 0).ok());
  const absl::Status status = CheckHugepages({"sluice", "--in-memory"}, 0);
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("no free hugepages"));
  EXPECT_THAT(status.message(), HasSubstr("--no-huge"));
}

TEST(EalArgumentsTest, HasEalOptionForms) {
  EXPECT_TRUE(HasEalOption({"-l", "0-1"}, "-l"));
  EXPECT_TRUE(HasEalOption({"-l0-1"}, "-l"));
  EXPECT_TRUE(HasEalOption({"--lcores=0@0"}, "--lcores"));
  EXPECT_FALSE(HasEalOption({"--log-level=8"}, "-l"));
  EXPECT_FALSE(HasEalOption({"--lcoresx"}, "--lcores"));
}

}  // namespace
}  // namespace sluice::lb
