// ParseFrame on IPv6 (fixed header, each extension header, fragments, ICMPv6, every
// IPv6 drop reason, Ethernet padding) and a few IPv4 regressions for the transport code
// the two families now share. Frames are built byte by byte in tests/dataplane/
// ipv6_frames.h; the parser needs no EAL.
#include "dataplane/packet_parser.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "tests/dataplane/ipv6_frames.h"

namespace sluice::dataplane {
namespace {

using frames::Addr6;
using frames::Bytes;
using frames::Cat;
using frames::ExtensionHeader;
using frames::FragmentHeader;
using frames::Ip6;
using frames::Ipv6Frame;
using frames::Mac;
using frames::Put16;

constexpr Mac kPortMac = {0x02, 0, 0, 0, 0, 0x01};
constexpr Mac kRouterMac = {0x02, 0, 0, 0, 0, 0xfe};
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmpv6 = 58;
constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragment = 44;
constexpr uint8_t kDestOpts = 60;

const Addr6 kClient = Ip6("2001:db8:1::7");
const Addr6 kVip = Ip6("2001:db8:100::1");

// A TCP header: ports 44000 -> 80, data offset 5, SYN.
Bytes TcpSegment(uint8_t data_offset_words = 5) {
  Bytes b;
  Put16(b, 44000);
  Put16(b, 80);
  b.insert(b.end(), {0, 0, 0x03, 0xe8, 0, 0, 0, 0});
  b.push_back(static_cast<uint8_t>(data_offset_words << 4));
  b.insert(b.end(), {0x02, 0xfa, 0xf0, 0, 0, 0, 0});
  return b;
}
// A UDP datagram 5353 -> 53 with `data`; `length` overrides the length field.
Bytes UdpDatagram(size_t data = 4, int length = -1) {
  Bytes b;
  Put16(b, 5353);
  Put16(b, 53);
  Put16(b, static_cast<uint16_t>(length >= 0 ? length : 8 + data));
  Put16(b, 0);
  b.insert(b.end(), data, 0xab);
  return b;
}

Bytes Frame(uint8_t next, const Bytes& payload) {
  return Ipv6Frame(kPortMac, kRouterMac, next, 64, kClient, kVip, payload);
}

ParsedPacket Parse(const Bytes& frame) {
  return ParseFrame(frame.data(), static_cast<uint32_t>(frame.size()));
}

void ExpectDrop(const Bytes& frame, DropReason reason) {
  const ParsedPacket p = Parse(frame);
  EXPECT_EQ(p.kind, PacketKind::kDrop);
  EXPECT_EQ(p.drop, reason) << InfoFor(p.drop).label << " instead of " << InfoFor(reason).label;
}

TEST(PacketParserIpv6Test, TcpWithoutExtensionHeaders) {
  const Bytes frame = Frame(kTcp, TcpSegment());
  const ParsedPacket p = Parse(frame);
  ASSERT_EQ(p.kind, PacketKind::kIpv6);
  EXPECT_EQ(p.ip_proto, kTcp);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.l4_offset, 54);
  EXPECT_EQ(p.l3_length, 60);
  EXPECT_EQ(p.src_port, htons(44000));
  EXPECT_EQ(p.dst_port, htons(80));
  EXPECT_FALSE(p.is_fragment);
  EXPECT_EQ(p.src_ip, 0u) << "IPv4 fields stay empty";
  EXPECT_EQ(std::memcmp(Ipv6Src(frame.data(), p), kClient.data(), 16), 0);
  EXPECT_EQ(std::memcmp(Ipv6Dst(frame.data(), p), kVip.data(), 16), 0);
}

TEST(PacketParserIpv6Test, VlanTaggedUdp) {
  const Bytes frame =
      Ipv6Frame(kPortMac, kRouterMac, kUdp, 64, kClient, kVip, UdpDatagram(), /*vlan=*/5);
  const ParsedPacket p = Parse(frame);
  ASSERT_EQ(p.kind, PacketKind::kIpv6);
  EXPECT_EQ(p.l3_offset, 18);
  EXPECT_EQ(p.l4_offset, 58);
  EXPECT_EQ(p.src_port, htons(5353));
  EXPECT_EQ(p.dst_port, htons(53));
}

TEST(PacketParserIpv6Test, EthernetPaddingAfterThePayloadIsIgnored) {
  Bytes frame = Frame(kUdp, UdpDatagram(0));  // 14 + 40 + 8 = 62 bytes
  frame.insert(frame.end(), 10, 0);           // padding a NIC or switch added
  const ParsedPacket p = Parse(frame);
  ASSERT_EQ(p.kind, PacketKind::kIpv6);
  EXPECT_EQ(p.l3_length, 48) << "the payload length, not the frame, bounds the packet";
}

TEST(PacketParserIpv6Test, MalformedFixedHeader) {
  Bytes frame = Frame(kTcp, TcpSegment());
  ExpectDrop(Bytes(frame.begin(), frame.begin() + 14 + 39), DropReason::kTruncatedIpv6);
  Bytes v4 = frame;
  v4[14] = 0x40;
  ExpectDrop(v4, DropReason::kBadIpv6Version);
  // Payload length 21 with 20 bytes present.
  Bytes long_payload = frame;
  long_payload[14 + 5] = 21;
  ExpectDrop(long_payload, DropReason::kBadIpv6PayloadLength);
  // The payload length, not the frame, bounds TCP: 19 bytes is a truncated header.
  Bytes short_payload = frame;
  short_payload[14 + 5] = 19;
  ExpectDrop(short_payload, DropReason::kTruncatedTcp);
}

TEST(PacketParserIpv6Test, TransportHeadersAreChecked) {
  const Bytes tcp = TcpSegment();
  ExpectDrop(Frame(kTcp, Bytes(tcp.begin(), tcp.begin() + 12)), DropReason::kTruncatedTcp);
  ExpectDrop(Frame(kTcp, TcpSegment(4)), DropReason::kBadTcpDataOffset);
  ExpectDrop(Frame(kTcp, TcpSegment(6)), DropReason::kBadTcpDataOffset);
  ExpectDrop(Frame(kUdp, Bytes(6, 0)), DropReason::kTruncatedUdp);
  ExpectDrop(Frame(kUdp, UdpDatagram(4, 30)), DropReason::kBadUdpLength);
}

TEST(PacketParserIpv6Test, Icmpv6) {
  const ParsedPacket echo = Parse(Frame(kIcmpv6, Bytes{128, 0, 0x12, 0x34, 0, 1, 0, 1}));
  ASSERT_EQ(echo.kind, PacketKind::kIpv6);
  EXPECT_EQ(echo.ip_proto, kIcmpv6);
  EXPECT_EQ(echo.icmp_type, 128);
  EXPECT_EQ(echo.icmp_code, 0);
  EXPECT_EQ(echo.src_port, 0);
  const ParsedPacket four = Parse(Frame(kIcmpv6, Bytes{135, 3, 0, 0}));
  ASSERT_EQ(four.kind, PacketKind::kIpv6) << "4 bytes are enough";
  EXPECT_EQ(four.icmp_type, 135);
  EXPECT_EQ(four.icmp_code, 3);
  ExpectDrop(Frame(kIcmpv6, Bytes{128, 0, 0}), DropReason::kTruncatedIcmp);
  // IPv4's ICMP (1) over IPv6 is nothing Sluice reads: no length requirement.
  const ParsedPacket icmp4 = Parse(Frame(1, Bytes{8, 0}));
  ASSERT_EQ(icmp4.kind, PacketKind::kIpv6);
  EXPECT_EQ(icmp4.ip_proto, 1);
  EXPECT_EQ(icmp4.icmp_type, 0);
}

TEST(PacketParserIpv6Test, ProtocolsThatEndTheWalk) {
  for (const uint8_t proto : {uint8_t{50}, uint8_t{51}, uint8_t{59}, uint8_t{253}}) {
    const ParsedPacket p = Parse(Frame(proto, Bytes(16, 0xee)));
    ASSERT_EQ(p.kind, PacketKind::kIpv6) << int{proto};
    EXPECT_EQ(p.ip_proto, proto);
    EXPECT_EQ(p.l4_offset, 54);
    EXPECT_EQ(p.src_port, 0);
  }
  const ParsedPacket empty = Parse(Frame(59, Bytes{}));  // No Next Header, no payload
  ASSERT_EQ(empty.kind, PacketKind::kIpv6);
  EXPECT_EQ(empty.l3_length, 40);
}

TEST(PacketParserIpv6Test, HopByHopDestinationOptionsAndRouting) {
  // Hop-by-Hop (8 bytes), Destination Options (16), Routing with segments left 0 (8),
  // Destination Options (8), UDP.
  const Bytes payload =
      Cat({ExtensionHeader(kDestOpts, Bytes(6, 0)), ExtensionHeader(kRouting, Bytes(14, 1)),
           frames::RoutingHeader(kDestOpts, 0), ExtensionHeader(kUdp, Bytes(6, 0)), UdpDatagram()});
  const ParsedPacket p = Parse(Frame(kHopByHop, payload));
  ASSERT_EQ(p.kind, PacketKind::kIpv6) << InfoFor(p.drop).label;
  EXPECT_EQ(p.ip_proto, kUdp);
  EXPECT_EQ(p.l4_offset, 14 + 40 + 8 + 16 + 8 + 8);
  EXPECT_EQ(p.dst_port, htons(53));
  EXPECT_EQ(p.l3_length, 40 + payload.size());
}

TEST(PacketParserIpv6Test, BadExtensionHeaders) {
  // Hop-by-Hop anywhere but first.
  ExpectDrop(Frame(kDestOpts, Cat({ExtensionHeader(kHopByHop, Bytes(6, 0)),
                                   ExtensionHeader(kTcp, Bytes(6, 0)), TcpSegment()})),
             DropReason::kBadIpv6ExtensionHeader);
  // A Routing header with segments left: the VIP is not the final destination.
  ExpectDrop(Frame(kRouting, Cat({frames::RoutingHeader(kTcp, 1), TcpSegment()})),
             DropReason::kBadIpv6ExtensionHeader);
  // Length field past the payload (16 bytes claimed, 8 there).
  ExpectDrop(Frame(kDestOpts, Bytes{kTcp, 1, 0, 0, 0, 0, 0, 0}),
             DropReason::kBadIpv6ExtensionHeader);
  // Fewer than 8 bytes left for the header at all.
  ExpectDrop(Frame(kDestOpts, Bytes{kTcp, 0, 0, 0}), DropReason::kBadIpv6ExtensionHeader);
  ExpectDrop(Frame(kFragment, Bytes{kTcp, 0, 0, 0}), DropReason::kBadIpv6ExtensionHeader);
  // A second Fragment header.
  ExpectDrop(Frame(kFragment, Cat({FragmentHeader(kFragment, 0, true, 1),
                                   FragmentHeader(kTcp, 0, true, 2), TcpSegment()})),
             DropReason::kBadIpv6ExtensionHeader);
}

TEST(PacketParserIpv6Test, AtMostEightExtensionHeaders) {
  auto chain = [](int n) {
    Bytes payload;
    for (int i = 0; i < n; ++i) {
      frames::Append(payload, ExtensionHeader(i + 1 < n ? kDestOpts : kTcp, Bytes(6, 0)));
    }
    frames::Append(payload, TcpSegment());
    return Frame(kDestOpts, payload);
  };
  const ParsedPacket eight = Parse(chain(8));
  ASSERT_EQ(eight.kind, PacketKind::kIpv6);
  EXPECT_EQ(eight.l4_offset, 14 + 40 + 64);
  ExpectDrop(chain(9), DropReason::kBadIpv6ExtensionHeader);
}

TEST(PacketParserIpv6Test, FirstFragmentHasItsTransportHeaderParsed) {
  // UDP length 1008: the datagram continues in later fragments, so no length check.
  const Bytes frame =
      Frame(kHopByHop, Cat({ExtensionHeader(kFragment, Bytes(6, 0)),
                            FragmentHeader(kUdp, 0, true, 0xdeadbeef), UdpDatagram(4, 1008)}));
  const ParsedPacket p = Parse(frame);
  ASSERT_EQ(p.kind, PacketKind::kIpv6) << InfoFor(p.drop).label;
  EXPECT_TRUE(p.is_fragment);
  EXPECT_FALSE(p.later_fragment);
  EXPECT_EQ(p.frag_id, 0xdeadbeefu) << "host order";
  EXPECT_EQ(p.frag_header_offset, 14 + 40 + 8);
  EXPECT_EQ(p.ip_proto, kUdp);
  EXPECT_EQ(p.l4_offset, 14 + 40 + 16);
  EXPECT_EQ(p.dst_port, htons(53));
}

TEST(PacketParserIpv6Test, AtomicFragmentIsAFirstFragment) {
  const ParsedPacket p =
      Parse(Frame(kFragment, Cat({FragmentHeader(kTcp, 0, false, 7), TcpSegment()})));
  ASSERT_EQ(p.kind, PacketKind::kIpv6);
  EXPECT_TRUE(p.is_fragment);
  EXPECT_FALSE(p.later_fragment);
  EXPECT_EQ(p.frag_id, 7u);
  EXPECT_EQ(p.src_port, htons(44000));
}

TEST(PacketParserIpv6Test, LaterFragmentStopsAtTheFragmentHeader) {
  // Offset 185 (1480 bytes); its payload would be a malformed TCP header if parsed.
  const ParsedPacket p =
      Parse(Frame(kFragment, Cat({FragmentHeader(kTcp, 185, false, 0x01020304), Bytes(3, 0)})));
  ASSERT_EQ(p.kind, PacketKind::kIpv6) << InfoFor(p.drop).label;
  EXPECT_TRUE(p.is_fragment);
  EXPECT_TRUE(p.later_fragment);
  EXPECT_EQ(p.frag_id, 0x01020304u);
  EXPECT_EQ(p.frag_header_offset, 54);
  EXPECT_EQ(p.ip_proto, kTcp);
  EXPECT_EQ(p.l4_offset, 62);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_EQ(p.dst_port, 0);
}

TEST(PacketParserTest, OtherEthertypesAreUnsupported) {
  Bytes frame = Frame(kTcp, TcpSegment());
  frame[12] = 0x88;
  frame[13] = 0xa8;  // 802.1ad outer tag
  ExpectDrop(frame, DropReason::kUnsupportedEthertype);
}

// IPv4 regressions: the transport code is shared with IPv6.
Bytes Ipv4Frame(uint8_t proto, const Bytes& payload, uint16_t frag = 0) {
  Bytes b = frames::Ether(kPortMac, kRouterMac, 0x0800);
  b.insert(b.end(), {0x45, 0});
  Put16(b, static_cast<uint16_t>(20 + payload.size()));
  b.insert(b.end(), {0x1c, 0x46});
  Put16(b, frag);
  b.insert(b.end(), {64, proto, 0, 0, 10, 1, 0, 7, 10, 0, 100, 1});
  frames::Append(b, payload);
  return b;
}

TEST(PacketParserIpv4Test, TcpUdpIcmpStillParse) {
  const ParsedPacket tcp = Parse(Ipv4Frame(kTcp, TcpSegment()));
  ASSERT_EQ(tcp.kind, PacketKind::kIpv4);
  EXPECT_EQ(tcp.src_port, htons(44000));
  EXPECT_EQ(tcp.l4_offset, 34);
  EXPECT_EQ(tcp.l3_length, 40);
  const ParsedPacket udp = Parse(Ipv4Frame(kUdp, UdpDatagram()));
  ASSERT_EQ(udp.kind, PacketKind::kIpv4);
  EXPECT_EQ(udp.dst_port, htons(53));
  const ParsedPacket icmp = Parse(Ipv4Frame(1, Bytes{8, 0, 0, 0, 0, 1, 0, 1}));
  ASSERT_EQ(icmp.kind, PacketKind::kIpv4);
  EXPECT_EQ(icmp.icmp_type, 8);
  ExpectDrop(Ipv4Frame(1, Bytes{8, 0, 0, 0}), DropReason::kTruncatedIcmp);
  ExpectDrop(Ipv4Frame(kUdp, UdpDatagram(4, 30)), DropReason::kBadUdpLength);
  ExpectDrop(Ipv4Frame(kTcp, TcpSegment(4)), DropReason::kBadTcpDataOffset);
  // Protocol 58 means nothing in IPv4: not parsed as ICMPv6.
  const ParsedPacket p58 = Parse(Ipv4Frame(kIcmpv6, Bytes{128, 0}));
  ASSERT_EQ(p58.kind, PacketKind::kIpv4);
  EXPECT_EQ(p58.icmp_type, 0);
}

TEST(PacketParserIpv4Test, Fragments) {
  // First fragment (MF): UDP length of the whole datagram is accepted.
  const ParsedPacket first = Parse(Ipv4Frame(kUdp, UdpDatagram(4, 1008), 0x2000));
  ASSERT_EQ(first.kind, PacketKind::kIpv4);
  EXPECT_TRUE(first.is_fragment);
  EXPECT_FALSE(first.later_fragment);
  EXPECT_EQ(first.frag_id, 0x1c46u);
  EXPECT_EQ(first.dst_port, htons(53));
  const ParsedPacket later = Parse(Ipv4Frame(kUdp, Bytes(3, 0), 185));
  ASSERT_EQ(later.kind, PacketKind::kIpv4);
  EXPECT_TRUE(later.later_fragment);
  EXPECT_EQ(later.dst_port, 0);
}

}  // namespace
}  // namespace sluice::dataplane
