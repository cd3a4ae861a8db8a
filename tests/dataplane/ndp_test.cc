// Neighbor Discovery (dataplane/ndp.h) and the ICMPv6 echo reply (MakeEchoReply6):
// validation of NS/NA against RFC 4861 7.1, and the exact bytes of the NA, NS and echo
// reply Sluice sends, compared with frames built and checksummed independently in
// tests/dataplane/ipv6_frames.h.
#include "dataplane/ndp.h"

#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

#include <cstring>
#include <string>
#include <vector>

#include "dataplane/icmp_echo.h"
#include "dataplane/port.h"
#include "tests/dataplane/ipv6_frames.h"
#include "tests/dataplane/test_eal.h"

namespace sluice::dataplane {
namespace {

using frames::Addr6;
using frames::Bytes;
using frames::Cat;
using frames::Icmpv6;
using frames::Ip6;
using frames::Ipv6Frame;
using frames::LinkLayerOption;
using frames::Mac;
using frames::NdBody;

constexpr Mac kPortMac = {0x02, 0, 0, 0, 0, 0x01};
constexpr Mac kHostMac = {0x02, 0, 0, 0, 0, 0x99};
constexpr Mac kOtherMac = {0x02, 0, 0, 0, 0, 0x77};
constexpr Mac kRouterMac = {0x02, 0, 0, 0, 0, 0xfe};
constexpr Mac kAllNodesMac = {0x33, 0x33, 0, 0, 0, 0x01};
constexpr uint8_t kIcmpv6 = 58;
constexpr uint8_t kNs = 135;
constexpr uint8_t kNa = 136;
constexpr uint8_t kSll = 1;
constexpr uint8_t kTll = 2;

const Addr6 kPortIp = Ip6("2001:db8::2");
const Addr6 kHost = Ip6("2001:db8::99");
const Addr6 kVip = Ip6("2001:db8:100::1");
const Addr6 kClient = Ip6("2001:db8:1::7");
const Addr6 kUnspecified{};
const Addr6 kAllNodes = Ip6("ff02::1");

Mac MulticastMac(const Addr6& group) {
  return {0x33, 0x33, group[12], group[13], group[14], group[15]};
}

struct NsSpec {
  Addr6 src = kHost;
  Addr6 dst = SolicitedNodeAddress(kVip);
  Addr6 target = kVip;
  Bytes options = LinkLayerOption(kSll, kHostMac);
  uint8_t hop_limit = 255;
  uint8_t code = 0;
  int vlan = -1;
  Mac eth_src = kHostMac;
};

Bytes NsFrame(const NsSpec& s) {
  const Bytes icmp = Icmpv6(s.src, s.dst, kNs, s.code, NdBody(0, s.target, s.options));
  return Ipv6Frame(MulticastMac(s.dst), s.eth_src, kIcmpv6, s.hop_limit, s.src, s.dst, icmp,
                   s.vlan);
}

Bytes NaFrame(const Addr6& src, const Addr6& dst, uint8_t flags, const Addr6& target,
              const Bytes& options) {
  const Bytes icmp = Icmpv6(src, dst, kNa, 0, NdBody(flags, target, options));
  return Ipv6Frame(kPortMac, kHostMac, kIcmpv6, 255, src, dst, icmp);
}

ParsedPacket Parse(const Bytes& frame) {
  return ParseFrame(frame.data(), static_cast<uint32_t>(frame.size()));
}

bool ParseNdFrame(const Bytes& frame, NdMessage* out) {
  const ParsedPacket p = Parse(frame);
  return ParseNd(frame.data(), static_cast<uint32_t>(frame.size()), p, out);
}

std::string Hex(const Bytes& b) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < b.size(); ++i) {
    std::snprintf(buf, sizeof(buf), "%02x%c", b[i], (i % 16 == 15) ? '\n' : ' ');
    out += buf;
  }
  return out;
}

class NdpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_GE(InitTestEal("ndp-test"), 0);
    pool_ = rte_pktmbuf_pool_create("ndp_test", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    ASSERT_NE(pool_, nullptr);
  }
  static void TearDownTestSuite() {
    rte_mempool_free(pool_);
    CleanupEal();
  }
  void TearDown() override { EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u) << "mbufs leaked"; }

  static rte_mbuf* ToMbuf(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    char* data = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    std::memcpy(data, frame.data(), frame.size());
    return m;
  }
  // The frame in `m`, which is freed.
  static Bytes Take(rte_mbuf* m) {
    EXPECT_EQ(m->nb_segs, 1);
    EXPECT_EQ(rte_pktmbuf_pkt_len(m), rte_pktmbuf_data_len(m));
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    Bytes out(data, data + rte_pktmbuf_data_len(m));
    rte_pktmbuf_free(m);
    return out;
  }
  // The NA MakeNeighborAdvertisement makes of `ns_frame` with kPortMac.
  static Bytes Answer(const Bytes& ns_frame) {
    NdMessage ns;
    EXPECT_TRUE(ParseNdFrame(ns_frame, &ns));
    rte_mbuf* m = ToMbuf(ns_frame);
    const ParsedPacket p = Parse(ns_frame);
    rte_ether_addr mac{};
    std::memcpy(mac.addr_bytes, kPortMac.data(), 6);
    EXPECT_TRUE(MakeNeighborAdvertisement(m, p, ns, mac));
    return Take(m);
  }

  static rte_mempool* pool_;
};

rte_mempool* NdpTest::pool_ = nullptr;

TEST_F(NdpTest, SolicitedNodeAddress) {
  EXPECT_EQ(SolicitedNodeAddress(Ip6("2001:db8::12:3456")), Ip6("ff02::1:ff12:3456"));
}

TEST_F(NdpTest, ParsesASolicitation) {
  NdMessage m;
  ASSERT_TRUE(ParseNdFrame(NsFrame({}), &m));
  EXPECT_TRUE(m.solicitation);
  EXPECT_EQ(m.target, kVip);
  ASSERT_TRUE(m.has_link_layer);
  EXPECT_EQ(std::memcmp(m.link_layer.addr_bytes, kHostMac.data(), 6), 0);

  // Without options, and with a Target Link-Layer option (not defined for an NS: ignored)
  // and an unknown option before the source one.
  NsSpec bare;
  bare.options = {};
  ASSERT_TRUE(ParseNdFrame(NsFrame(bare), &m));
  EXPECT_FALSE(m.has_link_layer);
  NsSpec extra;
  extra.options =
      Cat({LinkLayerOption(kTll, kOtherMac), Bytes{14, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
           LinkLayerOption(kSll, kHostMac)});
  ASSERT_TRUE(ParseNdFrame(NsFrame(extra), &m));
  EXPECT_EQ(std::memcmp(m.link_layer.addr_bytes, kHostMac.data(), 6), 0);
}

TEST_F(NdpTest, ParsesAnAdvertisement) {
  NdMessage m;
  ASSERT_TRUE(ParseNdFrame(
      NaFrame(kHost, kPortIp, 0x60, kHost,
              Cat({LinkLayerOption(kSll, kOtherMac), LinkLayerOption(kTll, kHostMac)})),
      &m));
  EXPECT_FALSE(m.solicitation);
  EXPECT_EQ(m.target, kHost);
  EXPECT_TRUE(m.solicited);
  EXPECT_TRUE(m.override_flag);
  ASSERT_TRUE(m.has_link_layer);
  EXPECT_EQ(std::memcmp(m.link_layer.addr_bytes, kHostMac.data(), 6), 0)
      << "the target option, not the source one";
  // Unsolicited, to all nodes, no override, no option.
  ASSERT_TRUE(ParseNdFrame(NaFrame(kHost, kAllNodes, 0x00, kHost, {}), &m));
  EXPECT_FALSE(m.solicited);
  EXPECT_FALSE(m.override_flag);
  EXPECT_FALSE(m.has_link_layer);
}

TEST_F(NdpTest, DuplicateAddressDetection) {
  NsSpec dad;
  dad.src = kUnspecified;
  dad.options = {};
  NdMessage m;
  EXPECT_TRUE(ParseNdFrame(NsFrame(dad), &m));
  NsSpec with_option = dad;
  with_option.options = LinkLayerOption(kSll, kHostMac);
  EXPECT_FALSE(ParseNdFrame(NsFrame(with_option), &m)) << "RFC 4861 7.1.1: no SLLA from ::";
  NsSpec unicast = dad;
  unicast.dst = kVip;
  EXPECT_FALSE(ParseNdFrame(NsFrame(unicast), &m)) << "from :: only to a solicited-node group";
}

TEST_F(NdpTest, RejectsWhatRfc4861Rejects) {
  NdMessage m;
  NsSpec s;
  s.hop_limit = 254;
  EXPECT_FALSE(ParseNdFrame(NsFrame(s), &m)) << "hop limit";
  s = {};
  s.code = 1;
  EXPECT_FALSE(ParseNdFrame(NsFrame(s), &m)) << "code";
  s = {};
  s.target = Ip6("ff02::1");
  EXPECT_FALSE(ParseNdFrame(NsFrame(s), &m)) << "multicast target";
  s = {};
  s.options = Bytes{kSll, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(ParseNdFrame(NsFrame(s), &m)) << "option length 0";
  s.options = Bytes{kSll, 2, 0, 0, 0, 0, 0, 0};
  EXPECT_FALSE(ParseNdFrame(NsFrame(s), &m)) << "option past the message";
  s.options = Cat({LinkLayerOption(kSll, kHostMac), Bytes{kSll}});
  EXPECT_FALSE(ParseNdFrame(NsFrame(s), &m)) << "one byte of an option";

  Bytes bad_checksum = NsFrame({});
  bad_checksum[14 + 40 + 3] ^= 0x01;
  EXPECT_FALSE(ParseNdFrame(bad_checksum, &m)) << "checksum";
  Bytes bad_target = NsFrame({});
  bad_target[14 + 40 + 23] ^= 0x01;  // the checksum no longer matches the target
  EXPECT_FALSE(ParseNdFrame(bad_target, &m)) << "checksum over the target";

  // 20 bytes of ICMPv6: the target does not fit.
  const Bytes short_icmp = Icmpv6(kHost, SolicitedNodeAddress(kVip), kNs, 0, Bytes(16, 0));
  EXPECT_FALSE(ParseNdFrame(
      Ipv6Frame(kPortMac, kHostMac, kIcmpv6, 255, kHost, SolicitedNodeAddress(kVip), short_icmp),
      &m))
      << "shorter than 24 bytes";

  EXPECT_FALSE(
      ParseNdFrame(NaFrame(kHost, kAllNodes, 0x40, kHost, LinkLayerOption(kTll, kHostMac)), &m))
      << "solicited NA to a multicast address";

  // An NS in a (first, atomic) fragment.
  const Bytes icmp = Icmpv6(kHost, kVip, kNs, 0, NdBody(0, kVip, {}));
  EXPECT_FALSE(ParseNdFrame(Ipv6Frame(kPortMac, kHostMac, 44, 255, kHost, kVip,
                                      Cat({frames::FragmentHeader(kIcmpv6, 0, false, 1), icmp})),
                            &m))
      << "fragment";
  // An echo request is not ND.
  EXPECT_FALSE(ParseNdFrame(Ipv6Frame(kPortMac, kHostMac, kIcmpv6, 255, kHost, kVip,
                                      Icmpv6(kHost, kVip, 128, 0, Bytes(20, 0))),
                            &m));
}

TEST_F(NdpTest, ExtensionHeadersBeforeTheMessageAreFine) {
  // A Destination Options header between IPv6 and ICMPv6: the pseudo-header length is
  // the ICMPv6 message's, not the IPv6 payload's.
  const Addr6 group = SolicitedNodeAddress(kVip);
  const Bytes icmp = Icmpv6(kHost, group, kNs, 0, NdBody(0, kVip, LinkLayerOption(kSll, kHostMac)));
  const Bytes frame = Ipv6Frame(MulticastMac(group), kHostMac, 60, 255, kHost, group,
                                Cat({frames::ExtensionHeader(kIcmpv6, Bytes(6, 0)), icmp}));
  NdMessage m;
  ASSERT_TRUE(ParseNdFrame(frame, &m));
  // The NA leaves the extension header behind: 8 bytes shorter than the NS.
  const Bytes expected =
      Ipv6Frame(kHostMac, kPortMac, kIcmpv6, 255, kVip, kHost,
                Icmpv6(kVip, kHost, kNa, 0, NdBody(0x60, kVip, LinkLayerOption(kTll, kPortMac))));
  EXPECT_EQ(Answer(frame), expected);
}

TEST_F(NdpTest, AdvertisementAnswersTheSolicitor) {
  // To the solicitor's address and its Ethernet source; S and O; our MAC as target
  // link-layer address. The NS is 86 bytes, so is the NA.
  const Bytes expected =
      Ipv6Frame(kHostMac, kPortMac, kIcmpv6, 255, kVip, kHost,
                Icmpv6(kVip, kHost, kNa, 0, NdBody(0x60, kVip, LinkLayerOption(kTll, kPortMac))));
  const Bytes na = Answer(NsFrame({}));
  EXPECT_EQ(na, expected) << "got\n" << Hex(na) << "\nwant\n" << Hex(expected);
  NdMessage m;
  ASSERT_TRUE(ParseNdFrame(na, &m)) << "a valid NA by our own parser too";
  EXPECT_TRUE(m.solicited);

  // No source link-layer option: 78-byte NS, the mbuf grows to 86.
  NsSpec bare;
  bare.options = {};
  EXPECT_EQ(Answer(NsFrame(bare)), expected);

  // The option names a MAC other than the Ethernet source: the option wins.
  NsSpec other;
  other.options = LinkLayerOption(kSll, kOtherMac);
  const Bytes to_other = Answer(NsFrame(other));
  EXPECT_EQ(Bytes(to_other.begin(), to_other.begin() + 6),
            Bytes(kOtherMac.begin(), kOtherMac.end()));
  EXPECT_EQ(Bytes(to_other.begin() + 6, to_other.end()),
            Bytes(expected.begin() + 6, expected.end()));
}

TEST_F(NdpTest, AdvertisementKeepsTheVlanTag) {
  NsSpec tagged;
  tagged.vlan = 5;
  const Bytes expected = Ipv6Frame(
      kHostMac, kPortMac, kIcmpv6, 255, kVip, kHost,
      Icmpv6(kVip, kHost, kNa, 0, NdBody(0x60, kVip, LinkLayerOption(kTll, kPortMac))), 5);
  EXPECT_EQ(Answer(NsFrame(tagged)), expected);
}

TEST_F(NdpTest, AdvertisementForDuplicateAddressDetection) {
  // RFC 4861 7.2.4: to all nodes, Solicited clear.
  NsSpec dad;
  dad.src = kUnspecified;
  dad.options = {};
  dad.target = kPortIp;
  dad.dst = SolicitedNodeAddress(kPortIp);
  const Bytes expected = Ipv6Frame(
      kAllNodesMac, kPortMac, kIcmpv6, 255, kPortIp, kAllNodes,
      Icmpv6(kPortIp, kAllNodes, kNa, 0, NdBody(0x20, kPortIp, LinkLayerOption(kTll, kPortMac))));
  const Bytes na = Answer(NsFrame(dad));
  EXPECT_EQ(na, expected) << "got\n" << Hex(na) << "\nwant\n" << Hex(expected);
}

TEST_F(NdpTest, SolicitationForANextHop) {
  const Addr6 backend = Ip6("2001:db8::11");
  const Addr6 group = Ip6("ff02::1:ff00:11");
  rte_ether_addr mac{};
  std::memcpy(mac.addr_bytes, kPortMac.data(), 6);
  const Bytes expected = Ipv6Frame(
      Mac{0x33, 0x33, 0xff, 0, 0, 0x11}, kPortMac, kIcmpv6, 255, kPortIp, group,
      Icmpv6(kPortIp, group, kNs, 0, NdBody(0, backend, LinkLayerOption(kSll, kPortMac))));
  rte_mbuf* m = MakeNeighborSolicitation(pool_, kPortIp, backend, mac);
  ASSERT_NE(m, nullptr);
  const Bytes ns = Take(m);
  EXPECT_EQ(ns, expected) << "got\n" << Hex(ns) << "\nwant\n" << Hex(expected);
  NdMessage parsed;
  ASSERT_TRUE(ParseNdFrame(ns, &parsed));
  EXPECT_EQ(parsed.target, backend);

  // From :: (no address yet): no source link-layer option.
  const Bytes expected_dad =
      Ipv6Frame(Mac{0x33, 0x33, 0xff, 0, 0, 0x11}, kPortMac, kIcmpv6, 255, kUnspecified, group,
                Icmpv6(kUnspecified, group, kNs, 0, NdBody(0, backend, {})));
  m = MakeNeighborSolicitation(pool_, kUnspecified, backend, mac);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Take(m), expected_dad);
}

TEST_F(NdpTest, EchoReply6) {
  // Odd-length payload: the checksum covers a trailing half word.
  Bytes rest = {0x12, 0x34, 0x00, 0x07};
  for (int i = 0; i < 23; ++i) rest.push_back(static_cast<uint8_t>('a' + i));
  const Bytes request = Ipv6Frame(kPortMac, kRouterMac, kIcmpv6, 57, kClient, kVip,
                                  Icmpv6(kClient, kVip, 128, 0, rest));
  const Bytes expected = Ipv6Frame(kRouterMac, kPortMac, kIcmpv6, 64, kVip, kClient,
                                   Icmpv6(kVip, kClient, 129, 0, rest));
  rte_mbuf* m = ToMbuf(request);
  const ParsedPacket p = Parse(request);
  ASSERT_EQ(p.icmp_type, 128);
  rte_ether_addr mac{};
  std::memcpy(mac.addr_bytes, kPortMac.data(), 6);
  MakeEchoReply6(m, p, mac);
  const Bytes reply = Take(m);
  EXPECT_EQ(reply, expected) << "got\n" << Hex(reply) << "\nwant\n" << Hex(expected);
}

TEST_F(NdpTest, EchoReply6WithAnExtensionHeader) {
  const Bytes rest = {0xbe, 0xef, 0x00, 0x01, 1, 2, 3, 4};
  auto frame = [&](const Mac& dst, const Mac& src, uint8_t hops, const Addr6& from, const Addr6& to,
                   uint8_t type) {
    return Ipv6Frame(
        dst, src, 60, hops, from, to,
        Cat({frames::ExtensionHeader(kIcmpv6, Bytes(6, 0)), Icmpv6(from, to, type, 0, rest)}));
  };
  const Bytes request = frame(kPortMac, kRouterMac, 200, kClient, kVip, 128);
  rte_mbuf* m = ToMbuf(request);
  rte_ether_addr mac{};
  std::memcpy(mac.addr_bytes, kPortMac.data(), 6);
  MakeEchoReply6(m, Parse(request), mac);
  EXPECT_EQ(Take(m), frame(kRouterMac, kPortMac, 64, kVip, kClient, 129));
}

}  // namespace
}  // namespace sluice::dataplane
