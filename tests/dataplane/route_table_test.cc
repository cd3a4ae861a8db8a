// RouteTable: longest prefix wins, the lowest metric wins per prefix (first added on a
// tie), /0 default routes, /32 and /128 host routes, misses, IPv6 prefixes that end
// inside a byte, input validation and capacity (including prefix mixes that need the
// most LPM tbl8 groups). Each rte_lpm or rte_lpm6 takes 64 MiB, hence the larger heap.
#include "dataplane/route_table.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>

#include "dataplane/port.h"
#include "tests/dataplane/test_eal.h"

namespace sluice::dataplane {
namespace {

using Ip6 = std::array<uint8_t, 16>;

class RouteTableTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(InitTestEal("route-table-test", "0", 512), 0); }
  static void TearDownTestSuite() { CleanupEal(); }

  static std::unique_ptr<RouteTable> Make(uint32_t max4, uint32_t max6) {
    absl::StatusOr<std::unique_ptr<RouteTable>> created =
        RouteTable::Create("routes", max4, max6, 0);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? std::move(*created) : nullptr;
  }
};

uint32_t Ip4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return a.s_addr;
}

Ip6 Ip6Of(const char* text) {
  Ip6 a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, a.data()), 1) << text;
  return a;
}

// Next hops told apart by their port index.
NextHop Port(uint16_t port) { return NextHop{.port_index = port}; }

NextHop Via4(uint16_t port, const char* gateway) {
  NextHop hop{.port_index = port, .on_link = false, .ipv6 = false};
  const uint32_t address = Ip4(gateway);
  std::memcpy(hop.gateway.data(), &address, 4);
  return hop;
}

// The port index of the route found, -1 for none.
int Port4(const RouteTable& table, const char* ip) {
  const NextHop* hop = table.Lookup4(Ip4(ip));
  return hop == nullptr ? -1 : hop->port_index;
}

int Port6(const RouteTable& table, const char* ip) {
  const NextHop* hop = table.Lookup6(Ip6Of(ip));
  return hop == nullptr ? -1 : hop->port_index;
}

TEST_F(RouteTableTest, LongestPrefixWinsOverShorterOnes) {
  std::unique_ptr<RouteTable> table = Make(16, 16);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->Add4(Ip4("10.0.0.0"), 8, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add4(Ip4("10.1.0.0"), 16, 0, Port(2)).ok());
  ASSERT_TRUE(table->Add4(Ip4("10.1.2.0"), 24, 0, Port(3)).ok());
  ASSERT_TRUE(table->Add4(Ip4("10.1.2.128"), 25, 0, Port(4)).ok());  // needs a tbl8 group
  EXPECT_EQ(Port4(*table, "10.9.9.9"), 1);
  EXPECT_EQ(Port4(*table, "10.1.9.9"), 2);
  EXPECT_EQ(Port4(*table, "10.1.2.127"), 3);
  EXPECT_EQ(Port4(*table, "10.1.2.128"), 4);
  EXPECT_EQ(Port4(*table, "10.1.2.255"), 4);
  EXPECT_EQ(Port4(*table, "10.1.3.0"), 2);
  EXPECT_EQ(Port4(*table, "11.0.0.0"), -1);

  // Added longest first: the result does not depend on the order.
  std::unique_ptr<RouteTable> reversed = Make(16, 16);
  ASSERT_NE(reversed, nullptr);
  ASSERT_TRUE(reversed->Add4(Ip4("10.1.2.128"), 25, 0, Port(4)).ok());
  ASSERT_TRUE(reversed->Add4(Ip4("10.1.2.0"), 24, 0, Port(3)).ok());
  ASSERT_TRUE(reversed->Add4(Ip4("10.1.0.0"), 16, 0, Port(2)).ok());
  ASSERT_TRUE(reversed->Add4(Ip4("10.0.0.0"), 8, 0, Port(1)).ok());
  EXPECT_EQ(Port4(*reversed, "10.9.9.9"), 1);
  EXPECT_EQ(Port4(*reversed, "10.1.9.9"), 2);
  EXPECT_EQ(Port4(*reversed, "10.1.2.127"), 3);
  EXPECT_EQ(Port4(*reversed, "10.1.2.200"), 4);

  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::"), 32, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8:1::"), 48, 0, Port(2)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8:1:2::"), 64, 0, Port(3)).ok());
  EXPECT_EQ(Port6(*table, "2001:db8:ffff::1"), 1);
  EXPECT_EQ(Port6(*table, "2001:db8:1:ffff::1"), 2);
  EXPECT_EQ(Port6(*table, "2001:db8:1:2::99"), 3);
  EXPECT_EQ(Port6(*table, "2001:db9::"), -1);
}

TEST_F(RouteTableTest, LowestMetricWinsAndTheFirstAddedWinsATie) {
  std::unique_ptr<RouteTable> table = Make(16, 16);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->Add4(Ip4("192.0.2.0"), 24, 10, Via4(1, "10.0.0.1")).ok());
  ASSERT_TRUE(table->Add4(Ip4("192.0.2.0"), 24, 5, Via4(2, "10.0.0.2")).ok());   // better
  ASSERT_TRUE(table->Add4(Ip4("192.0.2.0"), 24, 5, Via4(3, "10.0.0.3")).ok());   // tie
  ASSERT_TRUE(table->Add4(Ip4("192.0.2.0"), 24, 20, Via4(4, "10.0.0.4")).ok());  // worse
  const NextHop* hop = table->Lookup4(Ip4("192.0.2.77"));
  ASSERT_NE(hop, nullptr);
  EXPECT_EQ(*hop, Via4(2, "10.0.0.2"));
  EXPECT_EQ(table->size(), 4u) << "shadowed routes are accepted and counted";

  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::"), 32, 100, Port(1)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::"), 32, 1, Port(2)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::"), 32, 1, Port(3)).ok());
  EXPECT_EQ(Port6(*table, "2001:db8::1"), 2);
  EXPECT_EQ(table->size(), 7u);
}

TEST_F(RouteTableTest, DefaultRouteCatchesWhatNothingElseMatches) {
  std::unique_ptr<RouteTable> table = Make(16, 16);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->Lookup4(Ip4("8.8.8.8")), nullptr);
  EXPECT_EQ(table->Lookup6(Ip6Of("2001:4860::8888")), nullptr);
  ASSERT_TRUE(table->Add4(0, 0, 0, Via4(7, "10.0.0.254")).ok());
  ASSERT_TRUE(table->Add4(Ip4("10.0.0.0"), 8, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add6(Ip6{}, 0, 0, Port(8)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("fd00::"), 8, 0, Port(2)).ok());
  const NextHop* hop = table->Lookup4(Ip4("8.8.8.8"));
  ASSERT_NE(hop, nullptr);
  EXPECT_EQ(*hop, Via4(7, "10.0.0.254"));
  EXPECT_EQ(Port4(*table, "0.0.0.0"), 7);
  EXPECT_EQ(Port4(*table, "255.255.255.255"), 7);
  EXPECT_EQ(Port4(*table, "10.20.30.40"), 1);
  EXPECT_EQ(Port6(*table, "2001:4860::8888"), 8);
  EXPECT_EQ(Port6(*table, "fd12::1"), 2);
  // A default route's metric competes like any other.
  ASSERT_TRUE(table->Add4(0, 0, 1, Port(9)).ok());
  EXPECT_EQ(Port4(*table, "8.8.8.8"), 7);
}

TEST_F(RouteTableTest, HostRoutesMatchOnlyTheirAddress) {
  std::unique_ptr<RouteTable> table = Make(16, 16);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->Add4(Ip4("198.51.100.0"), 24, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add4(Ip4("198.51.100.7"), 32, 0, Port(2)).ok());
  ASSERT_TRUE(table->Add4(Ip4("203.0.113.9"), 32, 0, Port(3)).ok());
  EXPECT_EQ(Port4(*table, "198.51.100.7"), 2);
  EXPECT_EQ(Port4(*table, "198.51.100.6"), 1);
  EXPECT_EQ(Port4(*table, "198.51.100.8"), 1);
  EXPECT_EQ(Port4(*table, "203.0.113.9"), 3);
  EXPECT_EQ(Port4(*table, "203.0.113.8"), -1);
  EXPECT_EQ(Port4(*table, "203.0.113.10"), -1);

  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::"), 64, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::7"), 128, 0, Port(2)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8:ffff::9"), 128, 0, Port(3)).ok());
  EXPECT_EQ(Port6(*table, "2001:db8::7"), 2);
  EXPECT_EQ(Port6(*table, "2001:db8::6"), 1);
  EXPECT_EQ(Port6(*table, "2001:db8::8"), 1);
  EXPECT_EQ(Port6(*table, "2001:db8:ffff::9"), 3);
  EXPECT_EQ(Port6(*table, "2001:db8:ffff::8"), -1);
  EXPECT_EQ(Port6(*table, "2001:db8:ffff::1:9"), -1);
}

TEST_F(RouteTableTest, NoMatchReturnsNull) {
  std::unique_ptr<RouteTable> table = Make(16, 16);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->Add4(Ip4("10.0.0.0"), 8, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add6(Ip6Of("fd00::"), 8, 0, Port(1)).ok());
  EXPECT_EQ(table->Lookup4(Ip4("9.255.255.255")), nullptr);
  EXPECT_EQ(table->Lookup4(Ip4("11.0.0.0")), nullptr);
  EXPECT_EQ(table->Lookup6(Ip6Of("fc00::")), nullptr);
  EXPECT_EQ(table->Lookup6(Ip6Of("fe00::")), nullptr);
}

TEST_F(RouteTableTest, Ipv6PrefixesEndingInsideAByte) {
  std::unique_ptr<RouteTable> table = Make(0, 16);
  ASSERT_NE(table, nullptr);
  // 2001:db8:8000::/33: the 33rd bit is the top bit of byte 4.
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8:8000::"), 33, 0, Port(1)).ok());
  EXPECT_EQ(Port6(*table, "2001:db8:8000::1"), 1);
  EXPECT_EQ(Port6(*table, "2001:db8:ffff:ffff::"), 1);
  EXPECT_EQ(Port6(*table, "2001:db8:7fff:ffff::"), -1);
  // /61: the last 3 bits of byte 7 are host bits.
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8:1:8::"), 61, 0, Port(2)).ok());
  EXPECT_EQ(Port6(*table, "2001:db8:1:8::1"), 2);
  EXPECT_EQ(Port6(*table, "2001:db8:1:f::1"), 2);
  EXPECT_EQ(Port6(*table, "2001:db8:1:7::1"), -1);
  EXPECT_EQ(Port6(*table, "2001:db8:1:10::1"), -1);
  // /127: a point-to-point pair.
  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::a"), 127, 0, Port(3)).ok());
  EXPECT_EQ(Port6(*table, "2001:db8::a"), 3);
  EXPECT_EQ(Port6(*table, "2001:db8::b"), 3);
  EXPECT_EQ(Port6(*table, "2001:db8::c"), -1);
  // /1 and /7, shorter than the 24-bit first level.
  ASSERT_TRUE(table->Add6(Ip6Of("fc00::"), 7, 0, Port(4)).ok());
  EXPECT_EQ(Port6(*table, "fdff::1"), 4);
  EXPECT_EQ(Port6(*table, "fe00::1"), -1);
  ASSERT_TRUE(table->Add6(Ip6Of("8000::"), 1, 0, Port(5)).ok());
  EXPECT_EQ(Port6(*table, "fe00::1"), 5);
  EXPECT_EQ(Port6(*table, "fd00::1"), 4);
  EXPECT_EQ(Port6(*table, "7fff::1"), -1);
}

TEST_F(RouteTableTest, RejectsBadLengthsAndHostBits) {
  std::unique_ptr<RouteTable> table = Make(16, 16);
  ASSERT_NE(table, nullptr);
  EXPECT_EQ(table->Add4(Ip4("10.0.0.1"), 8, 0, Port(1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table->Add4(Ip4("10.0.0.0"), 33, 0, Port(1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table->Add4(Ip4("0.0.0.1"), 0, 0, Port(1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table->Add6(Ip6Of("2001:db8::1"), 64, 0, Port(1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table->Add6(Ip6Of("2001:db8:c000::"), 33, 0, Port(1)).code(),
            absl::StatusCode::kInvalidArgument);  // bit 34 set
  EXPECT_EQ(table->Add6(Ip6Of("2001:db8::"), 129, 0, Port(1)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(table->size(), 0u);
  EXPECT_EQ(table->Lookup4(Ip4("10.0.0.1")), nullptr);
}

TEST_F(RouteTableTest, CapacityCountsDistinctPrefixes) {
  std::unique_ptr<RouteTable> table = Make(3, 2);
  ASSERT_NE(table, nullptr);
  ASSERT_TRUE(table->Add4(0, 0, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add4(Ip4("10.0.0.0"), 8, 0, Port(2)).ok());
  ASSERT_TRUE(table->Add4(Ip4("10.0.0.0"), 16, 0, Port(3)).ok());
  EXPECT_EQ(table->Add4(Ip4("10.0.0.0"), 24, 0, Port(4)).code(),
            absl::StatusCode::kResourceExhausted);
  // Another route for a prefix already there needs no room.
  EXPECT_TRUE(table->Add4(Ip4("10.0.0.0"), 8, 99, Port(5)).ok());
  EXPECT_EQ(Port4(*table, "10.0.0.1"), 3);
  EXPECT_EQ(Port4(*table, "10.1.0.1"), 2);

  ASSERT_TRUE(table->Add6(Ip6Of("2001:db8::"), 32, 0, Port(1)).ok());
  ASSERT_TRUE(table->Add6(Ip6{}, 0, 0, Port(2)).ok());
  EXPECT_EQ(table->Add6(Ip6Of("fd00::"), 8, 0, Port(3)).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(table->size(), 6u);

  // A family with no room at all has no LPM and refuses its routes.
  std::unique_ptr<RouteTable> v6_only = Make(0, 4);
  ASSERT_NE(v6_only, nullptr);
  EXPECT_EQ(v6_only->Add4(0, 0, 0, Port(1)).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(v6_only->Lookup4(Ip4("1.2.3.4")), nullptr);

  // Next-hop ids must fit rte_lpm's 24 and rte_lpm6's 21 bits.
  EXPECT_EQ(RouteTable::Create("big", (1u << 24) + 1, 0, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RouteTable::Create("big", 0, (1u << 21) + 1, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RouteTableTest, FullTableOfTheLongestPrefixesFits) {
  // The worst case for the tbl8 pools: every IPv4 route longer than /24 in its own /24,
  // every IPv6 route a /128 whose first 24 bits differ from all others.
  constexpr uint32_t kRoutes = 300;
  std::unique_ptr<RouteTable> table = Make(kRoutes, kRoutes);
  ASSERT_NE(table, nullptr);
  for (uint32_t i = 0; i < kRoutes; ++i) {
    const uint32_t prefix = htonl(0x0a000000u | (i << 8) | 0x80);  // 10.0.i.128/25
    ASSERT_TRUE(table->Add4(prefix, 25, 0, Port(static_cast<uint16_t>(i))).ok()) << i;
    Ip6 host{};
    host[0] = 0x20;
    host[1] = static_cast<uint8_t>(i >> 8);
    host[2] = static_cast<uint8_t>(i);
    host[15] = 1;
    ASSERT_TRUE(table->Add6(host, 128, 0, Port(static_cast<uint16_t>(i))).ok()) << i;
  }
  EXPECT_EQ(table->size(), 2 * kRoutes);
  EXPECT_EQ(table->Add4(htonl(0x0b000000u), 8, 0, Port(0)).code(),
            absl::StatusCode::kResourceExhausted);
  for (uint32_t i = 0; i < kRoutes; ++i) {
    const NextHop* hop = table->Lookup4(htonl(0x0a000000u | (i << 8) | 0x99));
    ASSERT_NE(hop, nullptr) << i;
    EXPECT_EQ(hop->port_index, i);
    EXPECT_EQ(table->Lookup4(htonl(0x0a000000u | (i << 8) | 0x7f)), nullptr) << i;
    Ip6 host{};
    host[0] = 0x20;
    host[1] = static_cast<uint8_t>(i >> 8);
    host[2] = static_cast<uint8_t>(i);
    host[15] = 1;
    const NextHop* hop6 = table->Lookup6(host);
    ASSERT_NE(hop6, nullptr) << i;
    EXPECT_EQ(hop6->port_index, i);
    host[15] = 2;
    EXPECT_EQ(table->Lookup6(host), nullptr) << i;
  }
}

TEST_F(RouteTableTest, TablesWithTheSameOrLongNamesCoexist) {
  const std::string long_name = "a-route-table-name-longer-than-any-dpdk-limit";
  absl::StatusOr<std::unique_ptr<RouteTable>> a = RouteTable::Create(long_name, 4, 0, 0);
  absl::StatusOr<std::unique_ptr<RouteTable>> b = RouteTable::Create(long_name, 4, 0, 0);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_TRUE((*a)->Add4(Ip4("10.0.0.0"), 8, 0, Port(1)).ok());
  ASSERT_TRUE((*b)->Add4(Ip4("10.0.0.0"), 8, 0, Port(2)).ok());
  EXPECT_EQ(Port4(**a, "10.1.1.1"), 1);
  EXPECT_EQ(Port4(**b, "10.1.1.1"), 2);
  b->reset();
  absl::StatusOr<std::unique_ptr<RouteTable>> c = RouteTable::Create(long_name, 0, 4, 0);
  ASSERT_TRUE(c.ok()) << c.status();
}

}  // namespace
}  // namespace sluice::dataplane
