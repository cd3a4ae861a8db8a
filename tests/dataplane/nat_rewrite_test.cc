// NatSetDestination, NatSetSource and Ipv4DecrementTtl: each rewritten frame must equal,
// byte for byte, the frame built from scratch with the new addresses and checksums from
// the test's own reference (packet_reference.h); sweeps over one payload word make sure
// the results 0x0000 and 0xffff come out exactly as a full computation gives them.
#include "dataplane/nat_rewrite.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "tests/dataplane/packet_reference.h"

namespace sluice::dataplane {
namespace {

using pkt::Be16;
using pkt::Bytes;
using pkt::Pattern;

constexpr uint32_t kClient = 0xc6336405;   // 198.51.100.5
constexpr uint32_t kVip = 0xcb00710a;      // 203.0.113.10
constexpr uint32_t kBackend = 0x0a0a0117;  // 10.10.1.23
constexpr uint32_t kLbAddr = 0x0a0a0001;   // 10.10.0.1

// An Ethernet (optionally 802.1Q) frame with an IPv4 packet whose TCP/UDP checksum is
// the reference value.
struct Frame {
  Bytes bytes;
  size_t l3 = 0;
  size_t l4 = 0;
  uint8_t* ip() { return bytes.data() + l3; }
  uint8_t* l4p() { return bytes.data() + l4; }
};

Frame MakeFrame(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                const Bytes& payload, bool vlan = false, const Bytes& options = {},
                uint16_t frag = 0) {
  pkt::Ipv4Fields f;
  f.proto = proto;
  f.src = src;
  f.dst = dst;
  f.options = options;
  f.frag = frag;
  f.tos = 0x28;
  f.ttl = 57;
  const Bytes l4 = proto == 6 ? pkt::Tcp(sport, dport, payload) : pkt::Udp(sport, dport, payload);
  Bytes ip = pkt::Ipv4(f, l4);
  if (proto == 6 || proto == 17) pkt::FillIpv4L4Checksum(ip.data());
  Frame fr;
  fr.bytes = pkt::Ethernet(0x0800, vlan);
  fr.l3 = fr.bytes.size();
  fr.l4 = fr.l3 + 20 + options.size();
  pkt::Append(fr.bytes, ip);
  return fr;
}

// Checks both checksums of `fr` against the reference, then the whole frame.
void ExpectFrame(Frame& fr, const Frame& expected, uint8_t proto) {
  EXPECT_EQ(Be16(fr.ip() + 10), pkt::RefIpv4HeaderChecksum(fr.ip()));
  if (proto == 6) {
    EXPECT_EQ(Be16(fr.l4p() + 16), pkt::RefIpv4L4Checksum(fr.ip()));
  } else if (proto == 17) {
    EXPECT_EQ(Be16(fr.l4p() + 6), pkt::RefIpv4L4Checksum(fr.ip()));
  }
  EXPECT_EQ(fr.bytes, expected.bytes);
}

TEST(NatRewriteTest, SetDestinationTcpOddPayload) {
  const Bytes payload = Pattern(13);
  Frame fr = MakeFrame(6, kClient, 51000, kVip, 443, payload);
  NatSetDestination(fr.ip(), fr.l4p(), 6, htonl(kBackend), htons(8443));
  EXPECT_EQ(pkt::Be32(fr.ip() + 16), kBackend);
  EXPECT_EQ(Be16(fr.l4p() + 2), 8443);
  ExpectFrame(fr, MakeFrame(6, kClient, 51000, kBackend, 8443, payload), 6);
}

TEST(NatRewriteTest, SetSourceUdpOddPayloadVlan) {
  const Bytes payload = Pattern(27, 3);
  Frame fr = MakeFrame(17, kBackend, 5353, kClient, 40000, payload, /*vlan=*/true);
  NatSetSource(fr.ip(), fr.l4p(), 17, htonl(kVip), htons(53));
  EXPECT_EQ(pkt::Be32(fr.ip() + 12), kVip);
  EXPECT_EQ(Be16(fr.l4p()), 53);
  ExpectFrame(fr, MakeFrame(17, kVip, 53, kClient, 40000, payload, true), 17);
}

TEST(NatRewriteTest, BothDirectionsOnOnePacketTcp) {
  // Full NAT: client:sport -> VIP:vport becomes LB:lport -> backend:bport.
  const Bytes payload = Pattern(100, 5);
  Frame fr = MakeFrame(6, kClient, 51000, kVip, 443, payload);
  NatSetDestination(fr.ip(), fr.l4p(), 6, htonl(kBackend), htons(8443));
  NatSetSource(fr.ip(), fr.l4p(), 6, htonl(kLbAddr), htons(20001));
  ExpectFrame(fr, MakeFrame(6, kLbAddr, 20001, kBackend, 8443, payload), 6);
}

TEST(NatRewriteTest, HonoursIpOptions) {
  const Bytes options = {0x94, 0x04, 0x00, 0x00};  // router alert
  const Bytes payload = Pattern(9, 11);
  Frame fr = MakeFrame(17, kClient, 1000, kVip, 53, payload, false, options);
  ASSERT_EQ(fr.l4, fr.l3 + 24);
  NatSetDestination(fr.ip(), fr.l4p(), 17, htonl(kBackend), htons(5353));
  ExpectFrame(fr, MakeFrame(17, kClient, 1000, kBackend, 5353, payload, false, options), 17);
}

TEST(NatRewriteTest, UdpWithoutChecksumKeepsZero) {
  const Bytes payload = Pattern(31, 13);
  Frame fr = MakeFrame(17, kClient, 1000, kVip, 53, payload);
  pkt::PutBe16(fr.l4p() + 6, 0);
  NatSetDestination(fr.ip(), fr.l4p(), 17, htonl(kBackend), htons(5353));
  NatSetSource(fr.ip(), fr.l4p(), 17, htonl(kLbAddr), htons(2000));
  EXPECT_EQ(Be16(fr.l4p() + 6), 0);
  EXPECT_EQ(Be16(fr.ip() + 10), pkt::RefIpv4HeaderChecksum(fr.ip()));
  Frame expected = MakeFrame(17, kLbAddr, 2000, kBackend, 5353, payload);
  pkt::PutBe16(expected.bytes.data() + expected.l4 + 6, 0);
  EXPECT_EQ(fr.bytes, expected.bytes);
}

// Sweeps the first payload word over all 65536 values: every TCP checksum value the
// rewrite can produce, 0x0000 included, must equal the reference.
TEST(NatRewriteTest, TcpChecksumSweepIncludingZero) {
  Frame base = MakeFrame(6, kClient, 51000, kVip, 443, Pattern(15, 17));
  const size_t word = base.l4 + 20;
  int zero_results = 0;
  int zero_inputs = 0;
  for (uint32_t w = 0; w <= 0xffff; ++w) {
    Frame fr = base;
    pkt::PutBe16(fr.bytes.data() + word, static_cast<uint16_t>(w));
    pkt::FillIpv4L4Checksum(fr.ip());
    if (Be16(fr.l4p() + 16) == 0) ++zero_inputs;
    NatSetDestination(fr.ip(), fr.l4p(), 6, htonl(kBackend), htons(8443));
    const uint16_t expected = pkt::RefIpv4L4Checksum(fr.ip());
    ASSERT_EQ(Be16(fr.l4p() + 16), expected) << "word " << w;
    if (expected == 0) ++zero_results;
  }
  EXPECT_GT(zero_results, 0);
  EXPECT_GT(zero_inputs, 0);
}

// The same for UDP, where a computed 0 must be sent as 0xffff and a stored 0xffff (a
// computed 0) must adjust like 0x0000.
TEST(NatRewriteTest, UdpChecksumSweepComputedZeroIsFfff) {
  Frame base = MakeFrame(17, kClient, 1000, kVip, 53, Pattern(15, 19));
  const size_t word = base.l4 + 8;
  int ffff_results = 0;
  int ffff_inputs = 0;
  for (uint32_t w = 0; w <= 0xffff; ++w) {
    Frame fr = base;
    pkt::PutBe16(fr.bytes.data() + word, static_cast<uint16_t>(w));
    pkt::FillIpv4L4Checksum(fr.ip());
    if (Be16(fr.l4p() + 6) == 0xffff) ++ffff_inputs;
    NatSetSource(fr.ip(), fr.l4p(), 17, htonl(kLbAddr), htons(2000));
    const uint16_t got = Be16(fr.l4p() + 6);
    ASSERT_EQ(got, pkt::RefIpv4L4Checksum(fr.ip())) << "word " << w;
    ASSERT_NE(got, 0) << "word " << w;
    if (got == 0xffff) ++ffff_results;
  }
  EXPECT_GT(ffff_results, 0);
  EXPECT_GT(ffff_inputs, 0);
}

TEST(NatRewriteTest, IpHeaderChecksumSweep) {
  int zero_results = 0;
  for (uint32_t id = 0; id <= 0xffff; ++id) {
    Frame fr = MakeFrame(17, kClient, 1000, kVip, 53, Pattern(3));
    pkt::PutBe16(fr.ip() + 4, static_cast<uint16_t>(id));
    pkt::PutBe16(fr.ip() + 10, pkt::RefIpv4HeaderChecksum(fr.ip()));
    NatSetDestination(fr.ip(), nullptr, 17, htonl(kBackend), 0);
    const uint16_t expected = pkt::RefIpv4HeaderChecksum(fr.ip());
    ASSERT_EQ(Be16(fr.ip() + 10), expected) << "id " << id;
    if (expected == 0) ++zero_results;
  }
  EXPECT_GT(zero_results, 0);
}

TEST(NatRewriteTest, LaterFragmentRewritesAddressOnly) {
  // Offset 185 (1480 bytes): the bytes after the IP header are payload, not ports.
  const Bytes payload = Pattern(40, 23);
  Frame fr = MakeFrame(6, kClient, 51000, kVip, 443, payload, false, {}, 185);
  const Bytes l4_before(fr.bytes.begin() + static_cast<long>(fr.l4), fr.bytes.end());
  NatSetDestination(fr.ip(), nullptr, 6, htonl(kBackend), htons(8443));
  EXPECT_EQ(pkt::Be32(fr.ip() + 16), kBackend);
  EXPECT_EQ(Be16(fr.ip() + 10), pkt::RefIpv4HeaderChecksum(fr.ip()));
  EXPECT_EQ(Bytes(fr.bytes.begin() + static_cast<long>(fr.l4), fr.bytes.end()), l4_before);
}

TEST(NatRewriteTest, IcmpRewritesAddressOnly) {
  // Echo request: ICMP's checksum has no pseudo-header, so nothing past IP changes.
  pkt::Ipv4Fields f;
  f.proto = 1;
  f.src = kClient;
  f.dst = kVip;
  Bytes icmp = {8, 0, 0, 0, 0x12, 0x34, 0x00, 0x01, 'p', 'i', 'n', 'g', '!'};
  pkt::PutBe16(icmp.data() + 2, pkt::RefChecksumOf(icmp.data(), icmp.size(), 2));
  Bytes ip = pkt::Ipv4(f, icmp);
  NatSetDestination(ip.data(), ip.data() + 20, 1, htonl(kBackend), htons(9));
  f.dst = kBackend;
  EXPECT_EQ(ip, pkt::Ipv4(f, icmp));
}

TEST(NatRewriteTest, DecrementTtl) {
  Frame fr = MakeFrame(6, kClient, 51000, kVip, 443, Pattern(5));
  ASSERT_EQ(fr.ip()[8], 57);
  ASSERT_TRUE(Ipv4DecrementTtl(fr.ip()));
  EXPECT_EQ(fr.ip()[8], 56);
  EXPECT_EQ(fr.ip()[9], 6);
  EXPECT_EQ(Be16(fr.ip() + 10), pkt::RefIpv4HeaderChecksum(fr.ip()));
}

TEST(NatRewriteTest, DecrementTtlRefusesOneAndZero) {
  for (uint8_t ttl : {uint8_t{0}, uint8_t{1}}) {
    Frame fr = MakeFrame(6, kClient, 51000, kVip, 443, Pattern(5));
    fr.ip()[8] = ttl;
    pkt::PutBe16(fr.ip() + 10, pkt::RefIpv4HeaderChecksum(fr.ip()));
    const Bytes before = fr.bytes;
    EXPECT_FALSE(Ipv4DecrementTtl(fr.ip())) << int{ttl};
    EXPECT_EQ(fr.bytes, before);
  }
}

TEST(NatRewriteTest, DecrementTtlChecksumSweep) {
  int zero_results = 0;
  for (uint32_t id = 0; id <= 0xffff; ++id) {
    Frame fr = MakeFrame(17, kClient, 1000, kVip, 53, Pattern(3));
    fr.ip()[8] = static_cast<uint8_t>(2 + id % 254);
    pkt::PutBe16(fr.ip() + 4, static_cast<uint16_t>(id));
    pkt::PutBe16(fr.ip() + 10, pkt::RefIpv4HeaderChecksum(fr.ip()));
    ASSERT_TRUE(Ipv4DecrementTtl(fr.ip()));
    const uint16_t expected = pkt::RefIpv4HeaderChecksum(fr.ip());
    ASSERT_EQ(Be16(fr.ip() + 10), expected) << "id " << id;
    if (expected == 0) ++zero_results;
  }
  EXPECT_GT(zero_results, 0);
}

}  // namespace
}  // namespace sluice::dataplane
