// ICMP errors: the frag-needed and packet-too-big frames the LB builds must equal, byte
// for byte, the frames the test writes out field by field (checksums from the test's own
// reference, packet_reference.h); ParseIcmpError must find the quoted flow and refuse
// everything it cannot trust; NatTranslateIcmpError must produce exactly the error the
// backend would have received had it sent the packet itself.
#include "dataplane/icmp_error.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>

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
using pkt::Be32;
using pkt::Bytes;
using pkt::Pattern;

constexpr uint32_t kClient = 0xc6336405;   // 198.51.100.5
constexpr uint32_t kVip = 0xcb00710a;      // 203.0.113.10
constexpr uint32_t kBackend = 0x0a0a0117;  // 10.10.1.23
constexpr uint32_t kRouter = 0xc0000201;   // 192.0.2.1
constexpr uint16_t kVport = 443;
constexpr uint16_t kBackendPort = 8443;
constexpr uint16_t kClientPort = 51000;
constexpr rte_ether_addr kPortMac = {{0x02, 0x00, 0x00, 0x00, 0x00, 0x99}};
constexpr std::array<uint8_t, 16> kClient6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                              0,    0,    0,    0,    0, 0, 0, 0x05};
constexpr std::array<uint8_t, 16> kVip6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                           0,    0,    0,    0,    0, 0, 0, 0x0a};
constexpr std::array<uint8_t, 16> kRouter6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                              0,    0,    0,    0,    0, 0, 0, 0x01};

class IcmpErrorTest : public ::testing::Test {
 protected:
  static constexpr unsigned kPoolSize = 255;
  static void SetUpTestSuite() {
    ASSERT_GE(InitTestEal("icmp-error-test"), 0);
    pool_ = rte_pktmbuf_pool_create("icmp_err_test", kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  static void TearDownTestSuite() {
    rte_mempool_free(pool_);
    CleanupEal();
  }
  void TearDown() override { EXPECT_EQ(rte_mempool_avail_count(pool_), kPoolSize); }

  static rte_mempool* pool_;
};
rte_mempool* IcmpErrorTest::pool_ = nullptr;

// ---- Packets and frames ----

// L2 header of a frame from the router (kMacB) to the LB (kMacA), as pkt::Ethernet.
// The LB's answer goes to kMacB from kPortMac, on the same VLAN.
Bytes AnswerL2(uint16_t ether_type, bool vlan, uint16_t tci) {
  Bytes b(pkt::kMacB.begin(), pkt::kMacB.end());
  b.insert(b.end(), kPortMac.addr_bytes, kPortMac.addr_bytes + 6);
  if (vlan) {
    AppendBe16(b, 0x8100);
    AppendBe16(b, tci);
  }
  AppendBe16(b, ether_type);
  return b;
}

// A complete IPv4 TCP/UDP packet with reference checksums.
Bytes Ipv4Packet(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                 size_t payload_len, const Bytes& options = {}) {
  pkt::Ipv4Fields f;
  f.proto = proto;
  f.src = src;
  f.dst = dst;
  f.options = options;
  f.frag = 0x4000;
  f.id = 0x7777;
  f.tos = 0x10;
  const Bytes payload = Pattern(payload_len, 31);
  Bytes ip =
      pkt::Ipv4(f, proto == 6 ? pkt::Tcp(sport, dport, payload) : pkt::Udp(sport, dport, payload));
  pkt::FillIpv4L4Checksum(ip.data());
  return ip;
}

Bytes Ipv6Packet(uint8_t next, const std::array<uint8_t, 16>& src, uint16_t sport,
                 const std::array<uint8_t, 16>& dst, uint16_t dport, size_t payload_len) {
  pkt::Ipv6Fields f;
  f.next_header = next;
  f.src = src;
  f.dst = dst;
  f.traffic_class = 0x20;
  f.flow_label = 0x12345;
  const Bytes payload = Pattern(payload_len, 37);
  Bytes ip =
      pkt::Ipv6(f, next == 6 ? pkt::Tcp(sport, dport, payload) : pkt::Udp(sport, dport, payload));
  pkt::FillIpv6L4Checksum(ip.data());
  return ip;
}

Bytes Prefix(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + n); }

// An ICMP message: type, code, reference checksum, 4 bytes `rest`, the quote.
Bytes IcmpMessage(uint8_t type, uint8_t code, uint32_t rest, const Bytes& quote) {
  Bytes m = {type, code, 0, 0};
  AppendBe32(m, rest);
  Append(m, quote);
  pkt::PutBe16(m.data() + 2, pkt::RefChecksumOf(m.data(), m.size(), 2));
  return m;
}

// The IPv4 packet carrying an ICMP error from `src` to `dst`.
Bytes IcmpV4Packet(uint32_t src, uint32_t dst, const Bytes& icmp, uint8_t ttl = 64, uint8_t tos = 0,
                   uint16_t id = 0) {
  pkt::Ipv4Fields f;
  f.proto = 1;
  f.src = src;
  f.dst = dst;
  f.ttl = ttl;
  f.tos = tos;
  f.id = id;
  return pkt::Ipv4(f, icmp);
}

// The IPv6 packet carrying an ICMPv6 message, its checksum from the reference.
Bytes IcmpV6Packet(const std::array<uint8_t, 16>& src, const std::array<uint8_t, 16>& dst,
                   Bytes icmp) {
  pkt::Ipv6Fields f;
  f.next_header = 58;
  f.src = src;
  f.dst = dst;
  f.hop_limit = 64;
  Bytes ip = pkt::Ipv6(f, icmp);
  pkt::PutBe16(ip.data() + 42, pkt::RefIpv6L4Checksum(ip.data()));
  return ip;
}

// Checks the IPv4 header and ICMP checksums of the ICMP error at `l3` against the reference.
void ExpectIcmpV4Checksums(const uint8_t* l3) {
  EXPECT_EQ(Be16(l3 + 10), pkt::RefIpv4HeaderChecksum(l3));
  const size_t header_len = (l3[0] & 0x0f) * 4u;
  EXPECT_EQ(Be16(l3 + header_len + 2),
            pkt::RefChecksumOf(l3 + header_len, Be16(l3 + 2) - header_len, 2));
}

// ---- MakeFragmentationNeeded ----

TEST_F(IcmpErrorTest, FragNeededQuotesShortPacketWithoutPadding) {
  // 20 + 20 + 1 bytes of IP behind an 802.1Q tag, padded to 64 bytes with junk.
  const Bytes original_ip = Ipv4Packet(6, kClient, kClientPort, kVip, kVport, 1);
  Bytes frame = pkt::Ethernet(0x0800, true, 0xa00c);
  Append(frame, original_ip);
  frame.resize(64, 0xaa);
  rte_mbuf* original = MbufFromBytes(pool_, frame);
  ASSERT_NE(original, nullptr);
  rte_mbuf* answer = MakeFragmentationNeeded(pool_, original, 18, 1400, kPortMac);
  ASSERT_NE(answer, nullptr);
  const Bytes got = MbufBytes(answer);

  Bytes expected = AnswerL2(0x0800, true, 0xa00c);
  Append(expected, IcmpV4Packet(kVip, kClient, IcmpMessage(3, 4, 1400, original_ip)));
  EXPECT_EQ(got, expected);
  ASSERT_EQ(got.size(), 18u + 20 + 8 + 41);
  EXPECT_EQ(Be16(got.data() + 18 + 2), 20 + 8 + 41);  // total length
  EXPECT_EQ(Be16(got.data() + 18 + 6), 0);            // no DF, no offset
  EXPECT_EQ(got[18 + 8], 64);                         // TTL
  EXPECT_EQ(Be16(got.data() + 18 + 20 + 4), 0);       // unused
  EXPECT_EQ(Be16(got.data() + 18 + 20 + 6), 1400);    // next-hop MTU
  ExpectIcmpV4Checksums(got.data() + 18);
  rte_pktmbuf_free(answer);
  rte_pktmbuf_free(original);
}

TEST_F(IcmpErrorTest, FragNeededTruncatesQuoteAt576) {
  const Bytes original_ip = Ipv4Packet(17, kClient, kClientPort, kVip, kVport, 1472);
  ASSERT_EQ(original_ip.size(), 1500u);
  Bytes frame = pkt::Ethernet(0x0800);
  Append(frame, original_ip);
  rte_mbuf* original = MbufFromBytes(pool_, frame);
  ASSERT_NE(original, nullptr);
  rte_mbuf* answer = MakeFragmentationNeeded(pool_, original, 14, 1280, kPortMac);
  ASSERT_NE(answer, nullptr);
  const Bytes got = MbufBytes(answer);

  Bytes expected = AnswerL2(0x0800, false, 0);
  Append(expected,
         IcmpV4Packet(kVip, kClient, IcmpMessage(3, 4, 1280, Prefix(original_ip, 576 - 28))));
  EXPECT_EQ(got, expected);
  EXPECT_EQ(Be16(got.data() + 14 + 2), 576);
  ExpectIcmpV4Checksums(got.data() + 14);
  rte_pktmbuf_free(answer);
  rte_pktmbuf_free(original);
}

TEST_F(IcmpErrorTest, FragNeededFromSegmentedOriginal) {
  // Split inside the IP header: the header and the quote are both read across segments.
  const Bytes original_ip = Ipv4Packet(6, kClient, kClientPort, kVip, kVport, 961);
  Bytes frame = pkt::Ethernet(0x0800);
  Append(frame, original_ip);
  rte_mbuf* original = SegmentedMbufFromBytes(pool_, frame, 14 + 13);
  ASSERT_NE(original, nullptr);
  ASSERT_EQ(original->nb_segs, 2);
  rte_mbuf* answer = MakeFragmentationNeeded(pool_, original, 14, 1000, kPortMac);
  ASSERT_NE(answer, nullptr);
  Bytes expected = AnswerL2(0x0800, false, 0);
  Append(expected, IcmpV4Packet(kVip, kClient, IcmpMessage(3, 4, 1000, Prefix(original_ip, 548))));
  EXPECT_EQ(MbufBytes(answer), expected);
  rte_pktmbuf_free(answer);
  rte_pktmbuf_free(original);
}

TEST_F(IcmpErrorTest, FragNeededEmptyPoolGivesNull) {
  rte_mempool* tiny =
      rte_pktmbuf_pool_create("icmp_err_tiny", 2, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
  ASSERT_NE(tiny, nullptr);
  Bytes frame = pkt::Ethernet(0x0800);
  Append(frame, Ipv4Packet(6, kClient, kClientPort, kVip, kVport, 100));
  rte_mbuf* original = MbufFromBytes(tiny, frame);
  rte_mbuf* other = rte_pktmbuf_alloc(tiny);
  ASSERT_NE(original, nullptr);
  ASSERT_NE(other, nullptr);
  ASSERT_EQ(rte_mempool_avail_count(tiny), 0u);
  EXPECT_EQ(MakeFragmentationNeeded(tiny, original, 14, 1400, kPortMac), nullptr);
  rte_pktmbuf_free(other);
  // With one mbuf back it works, and takes exactly that one.
  rte_mbuf* answer = MakeFragmentationNeeded(tiny, original, 14, 1400, kPortMac);
  EXPECT_NE(answer, nullptr);
  EXPECT_EQ(rte_mempool_avail_count(tiny), 0u);
  rte_pktmbuf_free(answer);
  rte_pktmbuf_free(original);
  rte_mempool_free(tiny);
}

TEST_F(IcmpErrorTest, FragNeededRefusesWhatIsNotIpv4) {
  Bytes v6 = pkt::Ethernet(0x86dd);
  Append(v6, Ipv6Packet(6, kClient6, kClientPort, kVip6, kVport, 10));
  Bytes bad_ihl = pkt::Ethernet(0x0800);
  Append(bad_ihl, Ipv4Packet(6, kClient, kClientPort, kVip, kVport, 10));
  bad_ihl[14] = 0x44;
  Bytes short_total = pkt::Ethernet(0x0800);
  Append(short_total, Ipv4Packet(6, kClient, kClientPort, kVip, kVport, 10));
  pkt::PutBe16(short_total.data() + 14 + 2, 19);
  Bytes runt = pkt::Ethernet(0x0800);
  Append(runt, Bytes(19, 0x45));
  for (const Bytes* frame : {&v6, &bad_ihl, &short_total, &runt}) {
    rte_mbuf* original = MbufFromBytes(pool_, *frame);
    ASSERT_NE(original, nullptr);
    EXPECT_EQ(MakeFragmentationNeeded(pool_, original, 14, 1400, kPortMac), nullptr);
    rte_pktmbuf_free(original);
  }
}

// ---- MakePacketTooBig ----

Bytes ExpectedPacketTooBig(const Bytes& original_ip, size_t quote_len, uint32_t mtu, bool vlan,
                           uint16_t tci) {
  Bytes expected = AnswerL2(0x86dd, vlan, tci);
  Append(expected,
         IcmpV6Packet(kVip6, kClient6, IcmpMessage(2, 0, mtu, Prefix(original_ip, quote_len))));
  return expected;
}

TEST_F(IcmpErrorTest, PacketTooBigQuotesUpTo1280) {
  const Bytes original_ip = Ipv6Packet(6, kClient6, kClientPort, kVip6, kVport, 1440);
  ASSERT_EQ(original_ip.size(), 1500u);
  Bytes frame = pkt::Ethernet(0x86dd, true, 0x0123);
  Append(frame, original_ip);
  rte_mbuf* original = MbufFromBytes(pool_, frame);
  ASSERT_NE(original, nullptr);
  rte_mbuf* answer = MakePacketTooBig(pool_, original, 18, 1400, kPortMac);
  ASSERT_NE(answer, nullptr);
  const Bytes got = MbufBytes(answer);
  EXPECT_EQ(got, ExpectedPacketTooBig(original_ip, 1280 - 48, 1400, true, 0x0123));
  ASSERT_EQ(got.size(), 18u + 1280);
  EXPECT_EQ(Be16(got.data() + 18 + 4), 1240);  // payload length
  EXPECT_EQ(got[18 + 6], 58);
  EXPECT_EQ(got[18 + 7], 64);
  EXPECT_EQ(Be32(got.data() + 18 + 40 + 4), 1400u);
  EXPECT_EQ(Be16(got.data() + 18 + 42), pkt::RefIpv6L4Checksum(got.data() + 18));
  rte_pktmbuf_free(answer);
  rte_pktmbuf_free(original);
}

TEST_F(IcmpErrorTest, PacketTooBigQuotesOnlyThePacketNotTrailingBytes) {
  const Bytes original_ip = Ipv6Packet(17, kClient6, kClientPort, kVip6, kVport, 3);
  Bytes frame = pkt::Ethernet(0x86dd);
  Append(frame, original_ip);
  Append(frame, Bytes(9, 0xaa));
  rte_mbuf* original = MbufFromBytes(pool_, frame);
  ASSERT_NE(original, nullptr);
  // An MTU above 65535 checks that all 32 bits are written.
  rte_mbuf* answer = MakePacketTooBig(pool_, original, 14, 0x00012345, kPortMac);
  ASSERT_NE(answer, nullptr);
  const Bytes got = MbufBytes(answer);
  EXPECT_EQ(got, ExpectedPacketTooBig(original_ip, original_ip.size(), 0x00012345, false, 0));
  EXPECT_EQ(Be16(got.data() + 14 + 42), pkt::RefIpv6L4Checksum(got.data() + 14));
  rte_pktmbuf_free(answer);
  rte_pktmbuf_free(original);
}

TEST_F(IcmpErrorTest, PacketTooBigNeedsRoomForTheWholeAnswer) {
  // Mbufs with 1000 bytes of data room cannot hold a 1294-byte answer: nullptr, no leak.
  rte_mempool* small =
      rte_pktmbuf_pool_create("icmp_err_small", 7, 0, 0, RTE_PKTMBUF_HEADROOM + 1000, 0);
  ASSERT_NE(small, nullptr);
  Bytes frame = pkt::Ethernet(0x86dd);
  Append(frame, Ipv6Packet(6, kClient6, kClientPort, kVip6, kVport, 1440));
  rte_mbuf* original = MbufFromBytes(pool_, frame);
  ASSERT_NE(original, nullptr);
  EXPECT_EQ(MakePacketTooBig(small, original, 14, 1400, kPortMac), nullptr);
  EXPECT_EQ(rte_mempool_avail_count(small), 7u);
  rte_pktmbuf_free(original);
  rte_mempool_free(small);
}

TEST_F(IcmpErrorTest, PacketTooBigRefusesIpv4) {
  Bytes frame = pkt::Ethernet(0x0800);
  Append(frame, Ipv4Packet(6, kClient, kClientPort, kVip, kVport, 100));
  rte_mbuf* original = MbufFromBytes(pool_, frame);
  ASSERT_NE(original, nullptr);
  EXPECT_EQ(MakePacketTooBig(pool_, original, 14, 1400, kPortMac), nullptr);
  rte_pktmbuf_free(original);
}

// ---- ParseIcmpError ----

// An ICMP error frame from the router to the VIP; offsets for ParseIcmpError.
struct ErrorFrame {
  Bytes bytes;
  uint16_t l3 = 0;
  uint16_t l4 = 0;
  uint32_t l3_end = 0;
  bool ipv6 = false;

  bool Parse(QuotedFlow* q) const {
    return ParseIcmpError(bytes.data(), static_cast<uint32_t>(bytes.size()), l3, l4, l3_end, ipv6,
                          q);
  }
};

ErrorFrame V4Error(uint8_t type, uint8_t code, uint32_t rest, const Bytes& quote, bool vlan = false,
                   uint32_t dst = kVip) {
  ErrorFrame e;
  e.bytes = pkt::Ethernet(0x0800, vlan);
  e.l3 = static_cast<uint16_t>(e.bytes.size());
  e.l4 = static_cast<uint16_t>(e.l3 + 20);
  Append(e.bytes,
         IcmpV4Packet(kRouter, dst, IcmpMessage(type, code, rest, quote), 250, 0xc0, 0x5151));
  e.l3_end = static_cast<uint32_t>(e.bytes.size());
  return e;
}

ErrorFrame V6Error(uint8_t type, uint8_t code, uint32_t rest, const Bytes& quote,
                   bool vlan = false) {
  ErrorFrame e;
  e.bytes = pkt::Ethernet(0x86dd, vlan);
  e.l3 = static_cast<uint16_t>(e.bytes.size());
  e.l4 = static_cast<uint16_t>(e.l3 + 40);
  e.ipv6 = true;
  Append(e.bytes, IcmpV6Packet(kRouter6, kVip6, IcmpMessage(type, code, rest, quote)));
  e.l3_end = static_cast<uint32_t>(e.bytes.size());
  return e;
}

std::array<uint8_t, 16> V4Bytes(uint32_t host_order) {
  std::array<uint8_t, 16> a{};
  pkt::PutBe32(a.data(), host_order);
  return a;
}

TEST_F(IcmpErrorTest, ParsesFragNeededQuotingMinimalTcp) {
  // The packet LB -> client that was too big: VIP:443 -> client:51000, quoted to 8 bytes
  // of TCP (the RFC 792 minimum).
  const Bytes quoted = Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 1400);
  const ErrorFrame e = V4Error(3, 4, 1400, Prefix(quoted, 28));
  QuotedFlow q;
  ASSERT_TRUE(e.Parse(&q));
  EXPECT_FALSE(q.ipv6);
  EXPECT_EQ(q.ip_proto, 6);
  EXPECT_EQ(q.src, V4Bytes(kVip));
  EXPECT_EQ(q.dst, V4Bytes(kClient));
  EXPECT_EQ(q.src_port, htons(kVport));
  EXPECT_EQ(q.dst_port, htons(kClientPort));
  EXPECT_EQ(q.quote_offset, 14 + 20 + 8);
  EXPECT_EQ(q.quote_l4_offset, 14 + 20 + 8 + 20);
  EXPECT_EQ(q.quote_length, 28);
  EXPECT_EQ(q.mtu, 1400u);
}

TEST_F(IcmpErrorTest, ParsesTimeExceededAndUnreachableQuotingUdpWithOptions) {
  const Bytes options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
  const Bytes quoted = Ipv4Packet(17, kVip, 53, kClient, 40000, 100, options);
  for (const auto& [type, code] : {std::pair<uint8_t, uint8_t>{11, 0}, {3, 1}, {3, 3}}) {
    // The MTU field is only read for code 4.
    const ErrorFrame e = V4Error(type, code, 0x0000ffff, quoted, /*vlan=*/true);
    QuotedFlow q;
    ASSERT_TRUE(e.Parse(&q)) << int{type} << "/" << int{code};
    EXPECT_EQ(q.ip_proto, 17);
    EXPECT_EQ(q.src_port, htons(53));
    EXPECT_EQ(q.dst_port, htons(40000));
    EXPECT_EQ(q.quote_offset, 18 + 28);
    EXPECT_EQ(q.quote_l4_offset, 18 + 28 + 24);
    EXPECT_EQ(q.quote_length, quoted.size());
    EXPECT_EQ(q.mtu, 0u);
  }
}

TEST_F(IcmpErrorTest, ParsesIcmpv6Errors) {
  const Bytes tcp = Ipv6Packet(6, kVip6, kVport, kClient6, kClientPort, 1200);
  const Bytes udp = Ipv6Packet(17, kVip6, 53, kClient6, 40000, 20);
  struct Case {
    uint8_t type;
    uint32_t rest;
    const Bytes* quoted;
    size_t quote_len;
    uint32_t mtu;
  };
  for (const Case& c : {Case{2, 0x00012345, &tcp, 1232, 0x00012345}, Case{1, 0, &udp, 48, 0},
                        Case{3, 0, &tcp, 48, 0}, Case{1, 7, &udp, udp.size(), 0}}) {
    const ErrorFrame e = V6Error(c.type, 0, c.rest, Prefix(*c.quoted, c.quote_len));
    QuotedFlow q;
    ASSERT_TRUE(e.Parse(&q)) << int{c.type};
    EXPECT_TRUE(q.ipv6);
    EXPECT_EQ(q.ip_proto, (*c.quoted)[6]);
    EXPECT_EQ(q.src, kVip6);
    EXPECT_EQ(q.dst, kClient6);
    EXPECT_EQ(q.src_port, c.quoted == &tcp ? htons(kVport) : htons(53));
    EXPECT_EQ(q.quote_offset, 14 + 48);
    EXPECT_EQ(q.quote_l4_offset, 14 + 48 + 40);
    EXPECT_EQ(q.quote_length, c.quote_len);
    EXPECT_EQ(q.mtu, c.mtu);
  }
}

TEST_F(IcmpErrorTest, QuoteLengthStopsAtTheIpPacket) {
  const Bytes quoted = Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 0);
  ErrorFrame e = V4Error(11, 0, 0, Prefix(quoted, 28));
  e.bytes.resize(e.bytes.size() + 6, 0xaa);  // Ethernet padding after l3_end
  QuotedFlow q;
  ASSERT_TRUE(e.Parse(&q));
  EXPECT_EQ(q.quote_length, 28);
}

TEST_F(IcmpErrorTest, RejectsWhatItCannotUse) {
  const Bytes tcp4 = Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 100);
  const Bytes udp6 = Ipv6Packet(17, kVip6, 53, kClient6, 40000, 100);
  Bytes icmp4 = Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 100);
  icmp4[9] = 1;
  Bytes sctp4 = tcp4;
  sctp4[9] = 132;
  Bytes icmp6 = udp6;
  icmp6[6] = 58;
  Bytes hop_by_hop6 = udp6;  // an extension header first: not walked
  hop_by_hop6[6] = 0;
  Bytes later_fragment = tcp4;
  pkt::PutBe16(later_fragment.data() + 6, 0x0010);
  Bytes short_ihl = tcp4;
  short_ihl[0] = 0x44;
  Bytes v5 = tcp4;
  v5[0] = 0x55;
  const Bytes with_options =
      Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 100, {0x01, 0x01, 0x01, 0x00});

  struct Case {
    const char* what;
    ErrorFrame e;
  };
  std::vector<Case> cases = {
      {"echo request", V4Error(8, 0, 0, tcp4)},
      {"echo reply", V4Error(0, 0, 0, tcp4)},
      {"redirect", V4Error(5, 0, 0, tcp4)},
      {"parameter problem", V4Error(12, 0, 0, tcp4)},
      {"icmpv6 echo request", V6Error(128, 0, 0, udp6)},
      {"icmpv6 parameter problem", V6Error(4, 0, 0, udp6)},
      {"neighbour solicitation", V6Error(135, 0, 0, udp6)},
      {"7 bytes of TCP", V4Error(3, 4, 1400, Prefix(tcp4, 27))},
      {"19 bytes of IPv4 header", V4Error(3, 4, 1400, Prefix(tcp4, 19))},
      {"options cut off", V4Error(3, 4, 1400, Prefix(with_options, 22))},
      {"7 bytes of UDP after options", V4Error(11, 0, 0, Prefix(with_options, 31))},
      {"7 bytes of UDP in ICMPv6", V6Error(2, 0, 1280, Prefix(udp6, 47))},
      {"39 bytes of IPv6 header", V6Error(2, 0, 1280, Prefix(udp6, 39))},
      {"IPv6 quoted in ICMP", V4Error(3, 4, 1400, udp6)},
      {"IPv4 quoted in ICMPv6", V6Error(2, 0, 1280, tcp4)},
      {"quoted ICMP", V4Error(11, 0, 0, icmp4)},
      {"quoted SCTP", V4Error(11, 0, 0, sctp4)},
      {"quoted ICMPv6", V6Error(3, 0, 0, icmp6)},
      {"quoted IPv6 extension header", V6Error(1, 0, 0, hop_by_hop6)},
      {"quoted later fragment", V4Error(11, 1, 0, later_fragment)},
      {"quoted IHL 4", V4Error(11, 0, 0, short_ihl)},
      {"quoted version 5", V4Error(11, 0, 0, v5)},
      {"empty quote", V4Error(3, 4, 1400, {})},
  };
  // The ICMP header itself cut short by l3_end.
  ErrorFrame short_icmp = V4Error(3, 4, 1400, tcp4);
  short_icmp.l3_end = short_icmp.l4 + 7u;
  cases.push_back({"7 bytes of ICMP", short_icmp});
  // The ports lie in the frame but past l3_end (in the padding).
  ErrorFrame ports_in_padding = V4Error(3, 4, 1400, tcp4);
  ports_in_padding.l3_end = ports_in_padding.l4 + 8u + 27;
  cases.push_back({"ports in padding", ports_in_padding});
  // l3_end claims more than the frame holds.
  ErrorFrame truncated_frame = V4Error(3, 4, 1400, Prefix(tcp4, 28));
  truncated_frame.l3_end += 100;
  truncated_frame.bytes.resize(truncated_frame.bytes.size() - 1);
  cases.push_back({"frame shorter than l3_end", truncated_frame});
  // Offsets that make no sense.
  ErrorFrame l4_before_l3 = V4Error(3, 4, 1400, tcp4);
  l4_before_l3.l4 = l4_before_l3.l3;
  cases.push_back({"l4 offset at l3 offset", l4_before_l3});

  for (const Case& c : cases) {
    QuotedFlow q;
    EXPECT_FALSE(c.e.Parse(&q)) << c.what;
  }
  // The same frames with the broken part repaired are accepted (the cases test what they
  // say): a full TCP quote in ICMP and a full UDP quote in ICMPv6.
  QuotedFlow q;
  EXPECT_TRUE(V4Error(3, 4, 1400, Prefix(tcp4, 28)).Parse(&q));
  EXPECT_TRUE(V4Error(11, 0, 0, Prefix(with_options, 32)).Parse(&q));
  EXPECT_TRUE(V6Error(2, 0, 1280, Prefix(udp6, 48)).Parse(&q));
  ErrorFrame ports_in_frame = V4Error(3, 4, 1400, tcp4);
  ports_in_frame.l3_end = ports_in_frame.l4 + 8u + 28;
  EXPECT_TRUE(ports_in_frame.Parse(&q));
}

// ---- NatTranslateIcmpError ----

// Parses `e`, translates it for the backend and compares with `expected`.
void TranslateAndExpect(ErrorFrame e, const ErrorFrame& expected) {
  QuotedFlow q;
  ASSERT_TRUE(e.Parse(&q));
  NatTranslateIcmpError(e.bytes.data(), e.l3, e.l4, e.l3_end, q, htonl(kBackend),
                        htons(kBackendPort));
  const uint8_t* l3 = e.bytes.data() + e.l3;
  EXPECT_EQ(Be32(l3 + 16), kBackend);
  EXPECT_EQ(Be32(e.bytes.data() + q.quote_offset + 12), kBackend);
  EXPECT_EQ(Be16(e.bytes.data() + q.quote_l4_offset), kBackendPort);
  EXPECT_EQ(Be16(e.bytes.data() + q.quote_offset + 10),
            pkt::RefIpv4HeaderChecksum(e.bytes.data() + q.quote_offset));
  EXPECT_EQ(Be16(l3 + 20 + 2), pkt::RefChecksumOf(l3 + 20, e.l3_end - e.l4, 2));
  ExpectIcmpV4Checksums(l3);
  EXPECT_EQ(e.bytes, expected.bytes);
}

TEST_F(IcmpErrorTest, TranslateCompleteTcpQuote) {
  // Time exceeded quoting a whole (short) segment: the quoted TCP checksum can be checked
  // against a full computation over the translated segment.
  const Bytes sent = Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 33);
  const Bytes backend_sent = Ipv4Packet(6, kBackend, kBackendPort, kClient, kClientPort, 33);
  ErrorFrame e = V4Error(11, 0, 0, sent, /*vlan=*/true);
  const ErrorFrame expected = V4Error(11, 0, 0, backend_sent, true, kBackend);
  TranslateAndExpect(e, expected);
  const uint8_t* quote = expected.bytes.data() + expected.l4 + 8;
  EXPECT_EQ(Be16(quote + 20 + 16), pkt::RefIpv4L4Checksum(quote));
}

TEST_F(IcmpErrorTest, TranslateTruncatedTcpQuoteAdjustsItsChecksum) {
  // Frag-needed quoting 24 bytes of a 1400-byte segment: the checksum (bytes 16..17) is in
  // the quote, the data it covers is not; the adjusted value must equal the checksum of
  // the whole segment as the backend sent it. Padding after l3_end stays as it was.
  const Bytes sent = Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 1360);
  const Bytes backend_sent = Ipv4Packet(6, kBackend, kBackendPort, kClient, kClientPort, 1360);
  ErrorFrame e = V4Error(3, 4, 1400, Prefix(sent, 44));
  ErrorFrame expected = V4Error(3, 4, 1400, Prefix(backend_sent, 44), false, kBackend);
  e.bytes.resize(e.bytes.size() + 4, 0xaa);
  expected.bytes.resize(expected.bytes.size() + 4, 0xaa);
  TranslateAndExpect(e, expected);
}

TEST_F(IcmpErrorTest, TranslateQuoteCuttingTheTcpChecksumLeavesIt) {
  // 17 bytes of TCP: the checksum's first byte is quoted, the second is not; it cannot be
  // adjusted and must stay as sent (by the LB, i.e. the VIP version).
  const Bytes sent = Ipv4Packet(6, kVip, kVport, kClient, kClientPort, 500);
  const Bytes backend_sent = Ipv4Packet(6, kBackend, kBackendPort, kClient, kClientPort, 500);
  Bytes expected_quote = Prefix(backend_sent, 37);
  expected_quote[36] = sent[36];
  TranslateAndExpect(V4Error(3, 4, 1400, Prefix(sent, 37)),
                     V4Error(3, 4, 1400, expected_quote, false, kBackend));
  // 18 bytes of TCP: the quote ends exactly after the checksum, which is adjusted.
  TranslateAndExpect(V4Error(3, 4, 1400, Prefix(sent, 38)),
                     V4Error(3, 4, 1400, Prefix(backend_sent, 38), false, kBackend));
  // 8 bytes of TCP: ports only.
  TranslateAndExpect(V4Error(3, 4, 1400, Prefix(sent, 28)),
                     V4Error(3, 4, 1400, Prefix(backend_sent, 28), false, kBackend));
}

TEST_F(IcmpErrorTest, TranslateUdpQuote) {
  const Bytes sent = Ipv4Packet(17, kVip, kVport, kClient, kClientPort, 21);
  const Bytes backend_sent = Ipv4Packet(17, kBackend, kBackendPort, kClient, kClientPort, 21);
  const ErrorFrame expected = V4Error(3, 3, 0, backend_sent, false, kBackend);
  TranslateAndExpect(V4Error(3, 3, 0, sent), expected);
  const uint8_t* quote = expected.bytes.data() + expected.l4 + 8;
  EXPECT_EQ(Be16(quote + 20 + 6), pkt::RefIpv4L4Checksum(quote));
}

TEST_F(IcmpErrorTest, TranslateUdpQuoteWithoutChecksumKeepsZero) {
  Bytes sent = Ipv4Packet(17, kVip, kVport, kClient, kClientPort, 21);
  Bytes backend_sent = Ipv4Packet(17, kBackend, kBackendPort, kClient, kClientPort, 21);
  pkt::PutBe16(sent.data() + 26, 0);
  pkt::PutBe16(backend_sent.data() + 26, 0);
  TranslateAndExpect(V4Error(3, 3, 0, sent, true), V4Error(3, 3, 0, backend_sent, true, kBackend));
}

}  // namespace
}  // namespace sluice::dataplane
