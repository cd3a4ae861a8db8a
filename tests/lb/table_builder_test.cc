#include "lb/table_builder.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>

#include "tests/lb/load_config.h"

namespace sluice::lb {
namespace {

using ::testing::HasSubstr;

uint32_t Ip(const char* text) {
  in_addr a{};
  inet_pton(AF_INET, text, &a);
  return a.s_addr;
}

constexpr char kTwoPorts[] = R"(
dataplane:
  ports:
    - { name: p0, device: "net_null0", address: 10.0.0.2/24 }
    - { name: p1, device: "net_null1", address: 10.1.0.2/16 }
services:
  - name: web
    vip: 10.0.0.100
    port: 80
    forwarding: dr
    table_size: 101
    backends:
      - { address: 10.0.0.11 }
      - { address: 10.1.5.12, weight: 0 }
      - { address: 10.0.0.13, drain: true }
  - name: dns
    vip: 10.0.0.100
    port: 53
    protocol: udp
    forwarding: dr
    answer_arp: false
    table_size: 7
    backends:
      - { address: 10.1.0.21 }
  - name: quiet
    vip: 10.0.0.101
    port: 80
    forwarding: dr
    answer_arp: false
    table_size: 7
    backends:
      - { address: 10.0.0.11 }
)";

struct Resolver {
  std::map<std::pair<uint32_t, uint16_t>, int64_t> seen;
  int64_t operator()(uint32_t ip, uint16_t port) {
    auto [it, inserted] = seen.try_emplace({ip, port}, static_cast<int64_t>(seen.size()));
    return it->second;
  }
};

TEST(TableBuilderTest, ServicesBackendsAndNextHops) {
  const config::Config config = LoadTestConfig(kTwoPorts);
  std::vector<dataplane::PortInfo> ports(2);
  ports[0].dpdk_port = 7;
  ports[1].dpdk_port = 9;
  Resolver resolver;
  absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> built = BuildForwardingTable(
      config, ports, [&](uint32_t ip, uint16_t port) { return resolver(ip, port); });
  ASSERT_TRUE(built.ok()) << built.status();
  const dataplane::ForwardingTable& t = **built;

  ASSERT_EQ(t.ports.size(), 2u);
  EXPECT_EQ(t.ports[0].dpdk_port, 7);
  EXPECT_EQ(t.ports[0].ipv4, Ip("10.0.0.2"));
  EXPECT_EQ(t.ports[0].ipv4_mask, Ip("255.255.255.0"));
  EXPECT_EQ(t.ports[1].ipv4_mask, Ip("255.255.0.0"));
  EXPECT_EQ(t.tcp_timeout_ms, 300000u);
  EXPECT_EQ(t.udp_timeout_ms, 30000u);

  // Ids: services 1..3, backends 1..5 in config order; id 0 unused.
  ASSERT_EQ(t.services.size(), 3u);
  ASSERT_EQ(t.backends.size(), 6u);
  EXPECT_FALSE(t.backends[0].present);
  const dataplane::ServiceInfo* web = t.FindService(Ip("10.0.0.100"), htons(80), IPPROTO_TCP);
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->id, 1u);
  EXPECT_EQ(web->maglev.size(), 101u);
  const dataplane::ServiceInfo* dns = t.FindService(Ip("10.0.0.100"), htons(53), IPPROTO_UDP);
  ASSERT_NE(dns, nullptr);
  EXPECT_EQ(dns->id, 2u);
  EXPECT_EQ(t.FindService(Ip("10.0.0.100"), htons(53), IPPROTO_TCP), nullptr);
  EXPECT_EQ(t.FindService(Ip("10.0.0.100"), htons(81), IPPROTO_TCP), nullptr);

  // Weight 0 and drain: present for existing flows, but no Maglev slot.
  EXPECT_TRUE(std::all_of(web->maglev.begin(), web->maglev.end(),
                          [](dataplane::BackendId id) { return id == 1; }));
  EXPECT_TRUE(t.backends[2].present);
  EXPECT_TRUE(t.backends[3].present);

  EXPECT_EQ(t.backends[1].address, Ip("10.0.0.11"));
  EXPECT_EQ(t.backends[1].port, htons(80));
  EXPECT_EQ(t.backends[1].egress_port, 0);
  EXPECT_EQ(t.backends[2].egress_port, 1);  // 10.1.5.12 is on p1's /16
  EXPECT_EQ(t.backends[4].egress_port, 1);
  EXPECT_EQ(t.backends[4].service, 2u);
  // One neighbour per (address, port): 10.0.0.11 is shared by web and quiet.
  EXPECT_EQ(t.backends[1].neighbor, t.backends[5].neighbor);
  EXPECT_EQ(resolver.seen.size(), 4u);

  // ARP for an address is answered when any service on it asks (web does for .100).
  EXPECT_TRUE(t.vip_addresses.at(Ip("10.0.0.100")).answer_arp);
  EXPECT_FALSE(t.vip_addresses.at(Ip("10.0.0.101")).answer_arp);
  EXPECT_EQ(t.PortWithAddress(Ip("10.1.0.2")), 1);
  EXPECT_EQ(t.PortWithAddress(Ip("10.0.0.100")), -1);
}

TEST(TableBuilderTest, ModesNotBuiltYetAreRefusedByName) {
  const config::Config config = LoadTestConfig(R"(
dataplane:
  ports: [{ name: p0, device: "net_null0", address: 10.0.0.2/24 }]
services:
  - name: api
    vip: 10.9.0.1
    port: 443
    forwarding: nat
    backends: [{ address: 10.0.0.11, port: 8443 }]
)");
  std::vector<dataplane::PortInfo> ports(1);
  absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> built =
      BuildForwardingTable(config, ports, [](uint32_t, uint16_t) { return int64_t{0}; });
  ASSERT_FALSE(built.ok());
  EXPECT_THAT(built.status().message(), HasSubstr("services[0] (api): forwarding 'nat'"));
}

TEST(TableBuilderTest, FullNeighbourTableIsAnError) {
  const config::Config config = LoadTestConfig(R"(
dataplane:
  ports: [{ name: p0, device: "net_null0", address: 10.0.0.2/24 }]
services:
  - { name: web, vip: 10.0.0.100, port: 80, forwarding: dr, backends: [{ address: 10.0.0.11 }] }
)");
  std::vector<dataplane::PortInfo> ports(1);
  absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> built =
      BuildForwardingTable(config, ports, [](uint32_t, uint16_t) { return int64_t{-1}; });
  ASSERT_FALSE(built.ok());
  EXPECT_THAT(built.status().message(), HasSubstr("neighbour table is full"));
}

}  // namespace
}  // namespace sluice::lb
