#include "config/ip_address.h"

#include <gtest/gtest.h>

namespace sluice::config {
namespace {

TEST(IpAddressTest, ParsesAndFormatsBothFamilies) {
  const auto v4 = IpAddress::Parse("10.0.0.2");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->bytes[0], 10);
  EXPECT_EQ(v4->bytes[3], 2);
  EXPECT_EQ(v4->bytes[4], 0);
  EXPECT_EQ(v4->ToString(), "10.0.0.2");

  const auto v6 = IpAddress::Parse("FD00:0::2");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->bytes[0], 0xfd);
  EXPECT_EQ(v6->bytes[15], 2);
  EXPECT_EQ(v6->ToString(), "fd00::2");  // canonical form
}

TEST(IpAddressTest, RejectsMalformed) {
  for (const char* bad : {"", "10.0.0", "10.0.0.256", "10.0.0.1.", "010.0.0.1", "1.2.3.4/24",
                          " 10.0.0.1", "fd00:::1", "fe80::1%eth0", "host.example", "::g"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpAddressTest, OrdersByFamilyThenBytes) {
  EXPECT_LT(*IpAddress::Parse("10.0.0.9"), *IpAddress::Parse("10.0.0.10"));
  EXPECT_LT(*IpAddress::Parse("255.255.255.255"), *IpAddress::Parse("::"));
  EXPECT_NE(*IpAddress::Parse("0.0.0.0"), *IpAddress::Parse("::"));
}

TEST(IpPrefixTest, ParsesContainsAndNetwork) {
  const auto p = IpPrefix::Parse("10.0.0.2/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 24);
  EXPECT_TRUE(p->HostBitsSet());
  EXPECT_EQ(p->Network().ToString(), "10.0.0.0/24");
  EXPECT_TRUE(p->Contains(*IpAddress::Parse("10.0.0.255")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("10.0.1.0")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("::a00:2")));

  const auto odd = IpPrefix::Parse("10.1.255.1/13");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->Network().ToString(), "10.0.0.0/13");

  const auto v6 = IpPrefix::Parse("fd00::2/64");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->Contains(*IpAddress::Parse("fd00::ffff:1")));
  EXPECT_FALSE(v6->Contains(*IpAddress::Parse("fd00:0:0:1::1")));
  EXPECT_EQ(IpPrefix::Parse("::/0")->Network().ToString(), "::/0");
  EXPECT_TRUE(IpPrefix::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("192.0.2.1")));
}

TEST(IpPrefixTest, RejectsMalformed) {
  for (const char* bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
                          "10.0.0.0/24x", "fd00::/129", "/24", "10.0.0.0/0024"}) {
    EXPECT_FALSE(IpPrefix::Parse(bad)) << bad;
  }
}

TEST(MacAddressTest, ParsesAndClassifies) {
  const auto mac = MacAddress::Parse("02:00:0A:bc:00:11");
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->ToString(), "02:00:0a:bc:00:11");
  EXPECT_FALSE(mac->is_multicast());
  EXPECT_TRUE(MacAddress::Parse("01:00:5e:00:00:01")->is_multicast());
  EXPECT_TRUE(MacAddress::Parse("00:00:00:00:00:00")->is_zero());
  for (const char* bad : {"", "02:00:00:00:00", "02-00-00-00-00-11", "02:00:00:00:00:1g",
                          "2:0:0:0:0:11", "02:00:00:00:00:11:"}) {
    EXPECT_FALSE(MacAddress::Parse(bad)) << bad;
  }
}

TEST(SocketAddressTest, ParsesBothFamilies) {
  const auto v4 = SocketAddress::Parse("127.0.0.1:9750");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->port, 9750);
  EXPECT_EQ(v4->ToString(), "127.0.0.1:9750");
  const auto v6 = SocketAddress::Parse("[::1]:9750");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->address.is_v6());
  EXPECT_EQ(v6->ToString(), "[::1]:9750");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "::1:80",
                          "[127.0.0.1]:80", "localhost:80", "[::1]80"}) {
    EXPECT_FALSE(SocketAddress::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace sluice::config
