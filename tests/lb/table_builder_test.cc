#include "lb/table_builder.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>

#include "dataplane/port.h"
#include "lb/controller.h"
#include "tests/dataplane/test_eal.h"
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
  std::map<std::pair<std::string, uint16_t>, int64_t> seen;
  int64_t operator()(const dataplane::NeighborAddress& a, uint16_t port) {
    auto [it, inserted] = seen.try_emplace({a.ToString(), port}, static_cast<int64_t>(seen.size()));
    return it->second;
  }
};

// The route lookup uses DPDK's LPM: the EAL must be up.
class TableBuilderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(dataplane::InitTestEal("table-builder-test", "0", 512), 0);
  }
  static void TearDownTestSuite() { dataplane::CleanupEal(); }
};

dataplane::Ipv6Address Ip6(const char* text) {
  dataplane::Ipv6Address a{};
  inet_pton(AF_INET6, text, a.data());
  return a;
}

TEST_F(TableBuilderTest, ServicesBackendsAndNextHops) {
  const config::Config config = LoadTestConfig(kTwoPorts);
  std::vector<dataplane::PortInfo> ports(2);
  ports[0].dpdk_port = 7;
  ports[1].dpdk_port = 9;
  Resolver resolver;
  absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> built = BuildForwardingTable(
      config, ports,
      [&](const dataplane::NeighborAddress& a, uint16_t port) { return resolver(a, port); });
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

TEST_F(TableBuilderTest, TunnelNatIpv6AndRoutes) {
  const config::Config config = LoadTestConfig(R"(
dataplane:
  ports:
    - { name: p0, device: "net_null0", address: 10.0.0.2/24, address6: "fd00::2/64" }
    - { name: p1, device: "net_null1", address: 10.1.0.2/24 }
  routes:
    - { prefix: 10.50.0.0/16, via: 10.0.0.254 }
    - { prefix: 10.50.7.0/24, via: 10.1.0.254 }
    - { prefix: 10.50.7.0/24, via: 10.0.0.253, metric: 10 }
    - { prefix: "fd50::/32", via: "fd00::fe" }
  tunnel_source: 10.0.0.9
services:
  - name: tun
    vip: 10.9.0.1
    port: 80
    forwarding: tunnel
    table_size: 7
    backends:
      - { address: 10.50.1.1 }
      - { address: 10.50.7.7 }
      - { address: "fd50::7" }
  - name: nat
    vip: 10.9.0.2
    port: 80
    forwarding: nat
    table_size: 7
    backends: [{ address: 10.0.0.11, port: 8080 }]
  - name: six
    vip: "fd00:9::1"
    port: 443
    forwarding: dr
    table_size: 7
    backends: [{ address: "fd00::11" }]
)");
  std::vector<dataplane::PortInfo> ports(2);
  Resolver resolver;
  absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> built = BuildForwardingTable(
      config, ports,
      [&](const dataplane::NeighborAddress& a, uint16_t port) { return resolver(a, port); });
  ASSERT_TRUE(built.ok()) << built.status();
  const dataplane::ForwardingTable& t = **built;
  EXPECT_TRUE(t.has_nat);
  EXPECT_TRUE(t.ports[0].has_ipv6);
  EXPECT_EQ(t.ports[0].ipv6, Ip6("fd00::2"));
  EXPECT_EQ(t.ports[0].ipv6_prefix_length, 64);

  // tun: a /16 via .254 on p0; the /24 inside it wins by length, then by metric (p1).
  const dataplane::BackendInfo& b1 = t.backends[1];
  EXPECT_EQ(b1.egress_port, 0);
  EXPECT_EQ(b1.tunnel_source, Ip("10.0.0.9"));
  EXPECT_EQ(resolver.seen.at({"10.0.0.254", 0}), b1.neighbor);
  const dataplane::BackendInfo& b2 = t.backends[2];
  EXPECT_EQ(b2.egress_port, 1);
  EXPECT_EQ(resolver.seen.at({"10.1.0.254", 1}), b2.neighbor);
  // An IPv6 backend of an IPv4 VIP: IPv4-in-IPv6 from p0's IPv6 address (tunnel_source
  // is IPv4), through the IPv6 gateway.
  const dataplane::BackendInfo& b3 = t.backends[3];
  EXPECT_TRUE(b3.ipv6);
  EXPECT_EQ(b3.address6, Ip6("fd50::7"));
  EXPECT_EQ(b3.tunnel_source6, Ip6("fd00::2"));
  EXPECT_EQ(resolver.seen.at({"fd00::fe", 0}), b3.neighbor);
  EXPECT_EQ(t.ServiceById(1)->mode, dataplane::ForwardingMode::kTunnel);

  // nat: backend port rewritten; on-link next hop is the backend itself.
  const dataplane::ServiceInfo* nat = t.FindService(Ip("10.9.0.2"), htons(80), IPPROTO_TCP);
  ASSERT_NE(nat, nullptr);
  EXPECT_EQ(nat->mode, dataplane::ForwardingMode::kNat);
  EXPECT_EQ(t.backends[4].port, htons(8080));
  EXPECT_EQ(resolver.seen.at({"10.0.0.11", 0}), t.backends[4].neighbor);

  // IPv6 dr service.
  const dataplane::Ipv6Address vip6 = Ip6("fd00:9::1");
  const dataplane::ServiceInfo* six = t.FindService6(vip6.data(), htons(443), IPPROTO_TCP);
  ASSERT_NE(six, nullptr);
  EXPECT_TRUE(six->ipv6);
  EXPECT_EQ(six->id, 3u);
  EXPECT_TRUE(t.IsVip6(vip6.data()));
  EXPECT_TRUE(t.vip_addresses6.at(vip6).answer_arp);
  EXPECT_EQ(t.PortWithAddress6(Ip6("fd00::2").data()), 0);
  EXPECT_EQ(resolver.seen.at({"fd00::11", 0}), t.backends[5].neighbor);
}

TEST_F(TableBuilderTest, TunnelSourceIsTheEgressPortAddressOfTheBackendsFamily) {
  const config::Config config = LoadTestConfig(R"(
dataplane:
  ports:
    - { name: p0, device: "net_null0", address: 10.0.0.2/24 }
    - { name: p1, device: "net_null1", address: 10.1.0.2/24, address6: "fd01::2/64" }
  routes: [{ prefix: "fd50::/32", via: "fd01::fe" }]
services:
  - name: tun
    vip: 10.9.0.1
    port: 80
    forwarding: tunnel
    backends: [{ address: "fd50::7" }]
)");
  std::vector<dataplane::PortInfo> ports(2);
  Resolver resolver;
  absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> built = BuildForwardingTable(
      config, ports,
      [&](const dataplane::NeighborAddress& a, uint16_t port) { return resolver(a, port); });
  ASSERT_TRUE(built.ok()) << built.status();  // p1 has an IPv6 address: it is the source
  EXPECT_EQ((*built)->backends[1].tunnel_source6, Ip6("fd01::2"));
}

TEST_F(TableBuilderTest, FullNeighbourTableIsAnError) {
  const config::Config config = LoadTestConfig(R"(
dataplane:
  ports: [{ name: p0, device: "net_null0", address: 10.0.0.2/24 }]
services:
  - { name: web, vip: 10.0.0.100, port: 80, forwarding: dr, backends: [{ address: 10.0.0.11 }] }
)");
  std::vector<dataplane::PortInfo> ports(1);
  absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> built = BuildForwardingTable(
      config, ports, [](const dataplane::NeighborAddress&, uint16_t) { return int64_t{-1}; });
  ASSERT_FALSE(built.ok());
  EXPECT_THAT(built.status().message(), HasSubstr("neighbour table is full"));
}

}  // namespace
}  // namespace sluice::lb
