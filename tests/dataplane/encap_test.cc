// Encapsulate on real mbufs: the result must be exactly the L2 header (new ethertype),
// the outer header built field by field by the test (checksum from the test's own
// reference), and the inner packet unchanged; padding is trimmed, 802.1Q tags survive,
// and refused packets (no headroom, IPv6 in IPv4, truncated) are left untouched.
#include "dataplane/encap.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include "dataplane/port.h"
#include "tests/dataplane/packet_reference.h"
#include "tests/dataplane/test_eal.h"
#include "tests/dataplane/test_mbuf.h"

namespace sluice::dataplane {
namespace {

using pkt::Append;
using pkt::AppendBe16;
using pkt::AppendBe32;
using pkt::Be16;
using pkt::Bytes;
using pkt::Pattern;

constexpr uint32_t kLb = 0x0a0a0001;       // 10.10.0.1
constexpr uint32_t kBackend = 0x0a0a0117;  // 10.10.1.23
constexpr std::array<uint8_t, 16> kLb6 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr std::array<uint8_t, 16> kBackend6 = {0xfd, 0, 0, 0, 0, 0, 0, 0,
                                               0,    0, 0, 0, 0, 0, 1, 0x17};

class EncapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(InitTestEal("encap-test"), 0);
    pool_ = rte_pktmbuf_pool_create("encap_test", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  static void TearDownTestSuite() {
    rte_mempool_free(pool_);
    CleanupEal();
  }
  void TearDown() override {
    // Every test frees what it allocated.
    EXPECT_EQ(rte_mempool_avail_count(pool_), 255u);
  }

  static rte_mbuf* ToMbuf(const Bytes& frame, uint16_t headroom = RTE_PKTMBUF_HEADROOM) {
    return MbufFromBytes(pool_, frame, headroom);
  }
  static Bytes Contents(const rte_mbuf* m) { return MbufBytes(m); }

  static rte_mempool* pool_;
};
rte_mempool* EncapTest::pool_ = nullptr;

Bytes InnerIpv4(uint8_t tos, uint16_t id, uint16_t frag, size_t payload_len) {
  pkt::Ipv4Fields f;
  f.tos = tos;
  f.id = id;
  f.frag = frag;
  f.proto = 6;
  f.src = 0xc6336405;
  f.dst = 0xcb00710a;
  Bytes ip = pkt::Ipv4(f, pkt::Tcp(51000, 443, Pattern(payload_len)));
  pkt::FillIpv4L4Checksum(ip.data());
  return ip;
}

Bytes InnerIpv6(uint8_t traffic_class, size_t payload_len) {
  pkt::Ipv6Fields f;
  f.traffic_class = traffic_class;
  f.flow_label = 0xabcde;
  f.next_header = 17;
  Bytes ip = pkt::Ipv6(f, pkt::Udp(40000, 53, Pattern(payload_len, 2)));
  pkt::FillIpv6L4Checksum(ip.data());
  return ip;
}

// The outer IPv4 header the tunnel must add, written out field by field.
Bytes ExpectedOuterIpv4(const Bytes& inner, uint16_t expected_frag) {
  Bytes h;
  h.push_back(0x45);
  h.push_back(inner[1]);  // TOS
  AppendBe16(h, static_cast<uint16_t>(inner.size() + 20));
  h.push_back(inner[4]);  // identification
  h.push_back(inner[5]);
  AppendBe16(h, expected_frag);
  h.push_back(64);
  h.push_back(4);
  AppendBe16(h, 0);
  AppendBe32(h, kLb);
  AppendBe32(h, kBackend);
  pkt::PutBe16(h.data() + 10, pkt::RefIpv4HeaderChecksum(h.data()));
  return h;
}

Bytes ExpectedOuterIpv6(uint8_t traffic_class, uint32_t flow_label, uint16_t payload_len,
                        uint8_t next_header) {
  Bytes h;
  AppendBe32(h, 6u << 28 | uint32_t{traffic_class} << 20 | flow_label);
  AppendBe16(h, payload_len);
  h.push_back(next_header);
  h.push_back(64);
  h.insert(h.end(), kLb6.begin(), kLb6.end());
  h.insert(h.end(), kBackend6.begin(), kBackend6.end());
  return h;
}

TunnelEndpoints V4Tunnel() {
  TunnelEndpoints t;
  t.src4 = htonl(kLb);
  t.dst4 = htonl(kBackend);
  return t;
}
TunnelEndpoints V6Tunnel(uint32_t flow_label) {
  TunnelEndpoints t;
  t.outer_ipv6 = true;
  t.src6 = kLb6;
  t.dst6 = kBackend6;
  t.flow_label = flow_label;
  return t;
}

TEST_F(EncapTest, Ipv4InIpv4) {
  const Bytes inner = InnerIpv4(0xb8, 0xbeef, 0x4000 /* DF */, 1001);
  Bytes frame = pkt::Ethernet(0x0800);
  Append(frame, inner);
  rte_mbuf* m = ToMbuf(frame);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(Encapsulate(m, 14, V4Tunnel()));

  Bytes expected = pkt::Ethernet(0x0800);
  Append(expected, ExpectedOuterIpv4(inner, 0x4000));
  Append(expected, inner);
  const Bytes got = Contents(m);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), frame.size() + 20);
  EXPECT_EQ(Be16(got.data() + 14 + 10), pkt::RefIpv4HeaderChecksum(got.data() + 14));
  EXPECT_EQ(got, expected);
  rte_pktmbuf_free(m);
}

TEST_F(EncapTest, VlanTaggedPaddedFrameIsTrimmed) {
  // 20 + 20 + 1 = 41 bytes of IP in an 18-byte L2 header: 59 bytes, padded to 64 (the
  // minimum 60 plus a few) with non-zero junk the tunnel must not carry.
  const Bytes inner = InnerIpv4(0x00, 0x0102, 0, 1);
  Bytes frame = pkt::Ethernet(0x0800, /*vlan=*/true, 0x2005);
  Append(frame, inner);
  frame.resize(64, 0xaa);
  rte_mbuf* m = ToMbuf(frame);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(Encapsulate(m, 18, V4Tunnel()));

  Bytes expected = pkt::Ethernet(0x0800, true, 0x2005);
  Append(expected, ExpectedOuterIpv4(inner, 0));
  Append(expected, inner);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), 18u + 20 + 41);
  EXPECT_EQ(Contents(m), expected);
  rte_pktmbuf_free(m);
}

TEST_F(EncapTest, OnlyDfIsCopiedIntoTheOuterHeader) {
  // A first fragment with DF clear: MF must not appear outside. A later fragment with DF
  // (not a real combination, but the bits are what is tested): only DF appears.
  for (const auto& [inner_frag, outer_frag] :
       {std::pair<uint16_t, uint16_t>{0x2000, 0}, {0x6000 | 0x00b9, 0x4000}, {0x00b9, 0}}) {
    const Bytes inner = InnerIpv4(0x10, 7, inner_frag, 64);
    Bytes frame = pkt::Ethernet(0x0800);
    Append(frame, inner);
    rte_mbuf* m = ToMbuf(frame);
    ASSERT_NE(m, nullptr);
    ASSERT_TRUE(Encapsulate(m, 14, V4Tunnel()));
    Bytes expected = pkt::Ethernet(0x0800);
    Append(expected, ExpectedOuterIpv4(inner, outer_frag));
    Append(expected, inner);
    EXPECT_EQ(Contents(m), expected) << std::hex << inner_frag;
    rte_pktmbuf_free(m);
  }
}

TEST_F(EncapTest, Ipv4InIpv6WithVlan) {
  const Bytes inner = InnerIpv4(0x2e, 0x4242, 0x4000, 300);
  Bytes frame = pkt::Ethernet(0x0800, true, 0x0064);
  Append(frame, inner);
  rte_mbuf* m = ToMbuf(frame);
  ASSERT_NE(m, nullptr);
  // Bits above the 20-bit flow label are dropped.
  ASSERT_TRUE(Encapsulate(m, 18, V6Tunnel(0xfff12345)));

  Bytes expected = pkt::Ethernet(0x86dd, true, 0x0064);
  Append(expected, ExpectedOuterIpv6(0x2e, 0x12345, static_cast<uint16_t>(inner.size()), 4));
  Append(expected, inner);
  EXPECT_EQ(rte_pktmbuf_pkt_len(m), frame.size() + 40);
  EXPECT_EQ(Contents(m), expected);
  rte_pktmbuf_free(m);
}

TEST_F(EncapTest, Ipv6InIpv6TrimsTrailingBytes) {
  // Traffic class 0xa5 straddles the first two header bytes (0x6a 0x5.).
  const Bytes inner = InnerIpv6(0xa5, 33);
  Bytes frame = pkt::Ethernet(0x86dd);
  Append(frame, inner);
  Append(frame, Bytes(7, 0x55));
  rte_mbuf* m = ToMbuf(frame);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(Encapsulate(m, 14, V6Tunnel(0x00001)));

  Bytes expected = pkt::Ethernet(0x86dd);
  Append(expected, ExpectedOuterIpv6(0xa5, 0x00001, static_cast<uint16_t>(inner.size()), 41));
  Append(expected, inner);
  EXPECT_EQ(Contents(m), expected);
  // The inner UDP checksum is still the reference value (nothing inside changed).
  EXPECT_EQ(Be16(Contents(m).data() + 14 + 40 + 40 + 6), pkt::RefIpv6L4Checksum(inner.data()));
  rte_pktmbuf_free(m);
}

TEST_F(EncapTest, HeadroomBoundary) {
  const Bytes inner = InnerIpv4(0, 1, 0, 10);
  Bytes frame = pkt::Ethernet(0x0800);
  Append(frame, inner);
  for (bool outer_ipv6 : {false, true}) {
    const uint16_t need = TunnelOverhead(outer_ipv6);
    const TunnelEndpoints t = outer_ipv6 ? V6Tunnel(0) : V4Tunnel();
    rte_mbuf* short_room = ToMbuf(frame, static_cast<uint16_t>(need - 1));
    ASSERT_NE(short_room, nullptr);
    EXPECT_FALSE(Encapsulate(short_room, 14, t));
    EXPECT_EQ(Contents(short_room), frame);
    EXPECT_EQ(short_room->data_off, need - 1);
    rte_pktmbuf_free(short_room);

    rte_mbuf* exact_room = ToMbuf(frame, need);
    ASSERT_NE(exact_room, nullptr);
    EXPECT_TRUE(Encapsulate(exact_room, 14, t));
    EXPECT_EQ(exact_room->data_off, 0);
    EXPECT_EQ(rte_pktmbuf_pkt_len(exact_room), frame.size() + need);
    rte_pktmbuf_free(exact_room);
  }
}

TEST_F(EncapTest, PaddedFrameWithoutHeadroomIsNotTrimmed) {
  // Refusal leaves the mbuf exactly as it was, padding included.
  Bytes frame = pkt::Ethernet(0x0800);
  Append(frame, InnerIpv4(0, 1, 0, 1));
  frame.resize(60, 0xaa);
  rte_mbuf* m = ToMbuf(frame, 10);
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(Encapsulate(m, 14, V4Tunnel()));
  EXPECT_EQ(Contents(m), frame);
  rte_pktmbuf_free(m);
}

TEST_F(EncapTest, RefusesIpv6InIpv4) {
  Bytes frame = pkt::Ethernet(0x86dd);
  Append(frame, InnerIpv6(0, 20));
  rte_mbuf* m = ToMbuf(frame);
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(Encapsulate(m, 14, V4Tunnel()));
  EXPECT_EQ(Contents(m), frame);
  rte_pktmbuf_free(m);
}

TEST_F(EncapTest, RefusesTruncatedAndUnknownPackets) {
  // Total length says 20 bytes more than the frame has.
  Bytes inner = InnerIpv4(0, 1, 0, 40);
  pkt::PutBe16(inner.data() + 2, static_cast<uint16_t>(inner.size() + 20));
  Bytes truncated = pkt::Ethernet(0x0800);
  Append(truncated, inner);
  // Version nibble 5.
  Bytes unknown = pkt::Ethernet(0x0800);
  Append(unknown, InnerIpv4(0, 1, 0, 40));
  unknown[14] = 0x55;
  // Shorter than an IPv6 header.
  Bytes short_v6 = pkt::Ethernet(0x86dd);
  const Bytes v6_packet = InnerIpv6(0, 20);
  Append(short_v6, Bytes(v6_packet.begin(), v6_packet.begin() + 30));
  for (const Bytes* frame : {&truncated, &unknown, &short_v6}) {
    for (bool v6 : {false, true}) {
      rte_mbuf* m = ToMbuf(*frame);
      ASSERT_NE(m, nullptr);
      EXPECT_FALSE(Encapsulate(m, 14, v6 ? V6Tunnel(0) : V4Tunnel()));
      EXPECT_EQ(Contents(m), *frame);
      rte_pktmbuf_free(m);
    }
  }
}

}  // namespace
}  // namespace sluice::dataplane
