// Bounds-checked parsing of the headers Sluice looks at: Ethernet, one 802.1Q tag, ARP,
// IPv4 (with or without options), IPv6 (with its extension headers), TCP, UDP, ICMP and
// ICMPv6. Nothing is read beyond the bytes the frame has, and every way a header can be
// malformed maps to one DropReason.
//
// Called by the workers for every packet; no allocation, no branches on anything but
// the packet. Only the first segment of an mbuf is parsed (headers never span segments
// for the sizes involved); lengths are checked against the whole packet. The frame
// length is below 64 KiB (one segment), so IPv6's 40 + payload length fits l3_length.
#ifndef SLUICE_DATAPLANE_PACKET_PARSER_H_
#define SLUICE_DATAPLANE_PACKET_PARSER_H_

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <cstdint>
#include <cstring>

#include "dataplane/drop_reason.h"

namespace sluice::dataplane {

enum class PacketKind : uint8_t {
  kDrop,  // see ParsedPacket::drop
  kArp,
  kIpv4,
  kIpv6,
};

struct ParsedPacket {
  PacketKind kind = PacketKind::kDrop;
  DropReason drop = DropReason::kTruncatedEthernet;
  // IPv4: MF set or offset != 0. IPv6: a Fragment header is present.
  bool is_fragment = false;
  // A fragment with a non-zero offset: it carries no L4 header, ports are 0. A first
  // fragment (is_fragment && !later_fragment) has its L4 header parsed like any packet.
  bool later_fragment = false;
  uint8_t ip_proto = 0;   // IPv4 protocol; IPv6: the next header after extension headers
  uint8_t icmp_type = 0;  // ICMP or ICMPv6
  uint8_t icmp_code = 0;
  uint16_t l3_offset = 0;           // first byte after Ethernet (and 802.1Q)
  uint16_t l4_offset = 0;           // IPv6: after the extension headers
  uint16_t l3_length = 0;           // IPv4 total length; IPv6: 40 + payload length
  uint16_t frag_header_offset = 0;  // IPv6 fragments: offset of the Fragment header
  uint32_t frag_id = 0;             // fragments: IPv4 identification or IPv6 identification
  uint32_t src_ip = 0;              // IPv4 only, network byte order, as on the wire
  uint32_t dst_ip = 0;              // (IPv6 addresses: Ipv6Src/Ipv6Dst below)
  uint16_t src_port = 0;            // network byte order; 0 for ICMP and later fragments
  uint16_t dst_port = 0;
};

// The IPv6 source and destination of a kIpv6 packet, in the frame.
inline const uint8_t* Ipv6Src(const uint8_t* frame, const ParsedPacket& p) {
  return frame + p.l3_offset + 8;
}
inline const uint8_t* Ipv6Dst(const uint8_t* frame, const ParsedPacket& p) {
  return frame + p.l3_offset + 24;
}

namespace internal {

inline ParsedPacket Dropped(DropReason reason) {
  ParsedPacket p;
  p.kind = PacketKind::kDrop;
  p.drop = reason;
  return p;
}

inline uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t LoadBe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// IPv6 next-header values the parser walks or stops at (RFC 8200, RFC 4443).
inline constexpr uint8_t kIpv6HopByHop = 0;
inline constexpr uint8_t kIpv6Routing = 43;
inline constexpr uint8_t kIpv6Fragment = 44;
inline constexpr uint8_t kIpv6DestinationOptions = 60;
inline constexpr uint8_t kIpProtoIcmpv6 = 58;
inline constexpr uint32_t kIpv6HeaderLen = 40;
// More extension headers than any legitimate packet carries; a long chain only makes
// the parser (and every middlebox) work for an attacker.
inline constexpr uint32_t kMaxIpv6ExtensionHeaders = 8;

// TCP, UDP and ICMP (IPv4) or ICMPv6 (IPv6) from `l4`, which has `payload_len` bytes of
// the IP payload. Fills the ports or ICMP type into *p; on a malformed header returns
// false with the reason in *reason. Other protocols are left to the classifier.
template <bool kIpv6>
inline bool ParseTransport(const uint8_t* l4, uint32_t payload_len, ParsedPacket* p,
                           DropReason* reason) {
  switch (p->ip_proto) {
    case IPPROTO_TCP: {
      if (payload_len < sizeof(rte_tcp_hdr)) {
        *reason = DropReason::kTruncatedTcp;
        return false;
      }
      const uint32_t data_offset = (l4[offsetof(rte_tcp_hdr, data_off)] >> 4) * 4u;
      if (data_offset < sizeof(rte_tcp_hdr) || data_offset > payload_len) {
        *reason = DropReason::kBadTcpDataOffset;
        return false;
      }
      std::memcpy(&p->src_port, l4 + offsetof(rte_tcp_hdr, src_port), 2);
      std::memcpy(&p->dst_port, l4 + offsetof(rte_tcp_hdr, dst_port), 2);
      return true;
    }
    case IPPROTO_UDP: {
      if (payload_len < sizeof(rte_udp_hdr)) {
        *reason = DropReason::kTruncatedUdp;
        return false;
      }
      // A first fragment carries only part of the datagram the length describes.
      if (!p->is_fragment && LoadBe16(l4 + offsetof(rte_udp_hdr, dgram_len)) != payload_len) {
        *reason = DropReason::kBadUdpLength;
        return false;
      }
      std::memcpy(&p->src_port, l4 + offsetof(rte_udp_hdr, src_port), 2);
      std::memcpy(&p->dst_port, l4 + offsetof(rte_udp_hdr, dst_port), 2);
      return true;
    }
    case IPPROTO_ICMP:
      if constexpr (kIpv6) return true;  // not ICMPv6: nothing Sluice reads
      if (payload_len < sizeof(rte_icmp_hdr)) {
        *reason = DropReason::kTruncatedIcmp;
        return false;
      }
      p->icmp_type = l4[offsetof(rte_icmp_hdr, icmp_type)];
      p->icmp_code = l4[offsetof(rte_icmp_hdr, icmp_code)];
      return true;
    case kIpProtoIcmpv6:
      if constexpr (!kIpv6) return true;
      // Type, code and checksum are the common part (RFC 4443 2.1); what follows
      // depends on the type and is checked by whoever handles it.
      if (payload_len < 4) {
        *reason = DropReason::kTruncatedIcmp;
        return false;
      }
      p->icmp_type = l4[0];
      p->icmp_code = l4[1];
      return true;
    default:
      return true;  // other protocols: not for a service; the classifier decides
  }
}

// The IPv6 packet at `frame + offset`; the Ethernet (and 802.1Q) header is behind it.
inline ParsedPacket ParseIpv6(const uint8_t* frame, uint32_t frame_len, uint32_t offset) {
  if (frame_len < offset + kIpv6HeaderLen) return Dropped(DropReason::kTruncatedIpv6);
  const uint8_t* ip = frame + offset;
  if ((ip[0] >> 4) != 6) return Dropped(DropReason::kBadIpv6Version);
  const uint32_t payload_len = LoadBe16(ip + offsetof(rte_ipv6_hdr, payload_len));
  // Bytes after the payload are Ethernet padding (short frames) and are ignored. A
  // jumbogram (payload length 0 and a Hop-by-Hop option) cannot arrive in one segment.
  if (payload_len > frame_len - offset - kIpv6HeaderLen) {
    return Dropped(DropReason::kBadIpv6PayloadLength);
  }
  ParsedPacket p;
  p.kind = PacketKind::kIpv6;
  p.l3_offset = static_cast<uint16_t>(offset);
  p.l3_length = static_cast<uint16_t>(kIpv6HeaderLen + payload_len);

  // Walk the extension headers (RFC 8200 4.1) within the payload. `pos` is relative to
  // the IPv6 header, `end` is where the payload ends.
  const uint32_t end = kIpv6HeaderLen + payload_len;
  uint32_t pos = kIpv6HeaderLen;
  uint8_t next = ip[offsetof(rte_ipv6_hdr, proto)];
  uint32_t headers = 0;
  for (;;) {
    if (next != kIpv6HopByHop && next != kIpv6DestinationOptions && next != kIpv6Routing &&
        next != kIpv6Fragment) {
      break;
    }
    // Every extension header is at least 8 bytes and says its next header first.
    if (++headers > kMaxIpv6ExtensionHeaders || end - pos < 8) {
      return Dropped(DropReason::kBadIpv6ExtensionHeader);
    }
    const uint8_t* h = ip + pos;
    if (next == kIpv6Fragment) {
      // A second Fragment header would mean fragments of fragments: no sender does
      // that, and which identification would the flow key use?
      if (p.is_fragment) return Dropped(DropReason::kBadIpv6ExtensionHeader);
      p.is_fragment = true;
      p.frag_header_offset = static_cast<uint16_t>(offset + pos);
      p.frag_id = LoadBe32(h + 4);
      next = h[0];
      pos += 8;
      // Offset (13 bits, in 8-byte units) above the two reserved bits and M.
      if ((LoadBe16(h + 2) & 0xfff8) != 0) {
        // Its bytes continue some upper-layer header: nothing to parse.
        p.later_fragment = true;
        p.ip_proto = next;
        p.l4_offset = static_cast<uint16_t>(offset + pos);
        return p;
      }
      continue;
    }
    // Hop-by-Hop is only valid directly after the fixed header (RFC 8200 4.3).
    if (next == kIpv6HopByHop && pos != kIpv6HeaderLen) {
      return Dropped(DropReason::kBadIpv6ExtensionHeader);
    }
    const uint32_t len = (h[1] + 1u) * 8u;
    if (len > end - pos) return Dropped(DropReason::kBadIpv6ExtensionHeader);
    // Segments left != 0: the destination (a VIP) is only an intermediate hop, and
    // Sluice does not route on to the next one.
    if (next == kIpv6Routing && h[3] != 0) return Dropped(DropReason::kBadIpv6ExtensionHeader);
    next = h[0];
    pos += len;
  }

  // ESP, AH, No Next Header (59) and unknown protocols stop here with ip_proto set; they
  // are not for a service.
  p.ip_proto = next;
  p.l4_offset = static_cast<uint16_t>(offset + pos);
  DropReason reason = DropReason::kTruncatedIpv6;
  if (!ParseTransport<true>(ip + pos, end - pos, &p, &reason)) return Dropped(reason);
  return p;
}

}  // namespace internal

// Parses `frame_len` bytes at `frame`. The Ethernet destination is not checked here
// (the worker knows the port's MAC).
inline ParsedPacket ParseFrame(const uint8_t* frame, uint32_t frame_len) {
  using internal::Dropped;
  using internal::LoadBe16;
  constexpr uint32_t kEthLen = sizeof(rte_ether_hdr);
  if (frame_len < kEthLen) return Dropped(DropReason::kTruncatedEthernet);
  uint32_t offset = kEthLen;
  uint16_t ether_type = LoadBe16(frame + offsetof(rte_ether_hdr, ether_type));
  if (ether_type == RTE_ETHER_TYPE_VLAN) {
    if (frame_len < offset + sizeof(rte_vlan_hdr)) return Dropped(DropReason::kTruncatedEthernet);
    ether_type = LoadBe16(frame + offset + offsetof(rte_vlan_hdr, eth_proto));
    offset += sizeof(rte_vlan_hdr);
  }

  if (ether_type == RTE_ETHER_TYPE_ARP) {
    if (frame_len < offset + sizeof(rte_arp_hdr)) return Dropped(DropReason::kMalformedArp);
    rte_arp_hdr arp;
    std::memcpy(&arp, frame + offset, sizeof(arp));
    const uint16_t op = rte_be_to_cpu_16(arp.arp_opcode);
    if (arp.arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
        arp.arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4) || arp.arp_hlen != RTE_ETHER_ADDR_LEN ||
        arp.arp_plen != 4 || (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
      return Dropped(DropReason::kMalformedArp);
    }
    ParsedPacket p;
    p.kind = PacketKind::kArp;
    p.l3_offset = static_cast<uint16_t>(offset);
    p.src_ip = arp.arp_data.arp_sip;
    p.dst_ip = arp.arp_data.arp_tip;
    return p;
  }
  if (ether_type == RTE_ETHER_TYPE_IPV6) return internal::ParseIpv6(frame, frame_len, offset);
  if (ether_type != RTE_ETHER_TYPE_IPV4) return Dropped(DropReason::kUnsupportedEthertype);

  // IPv4.
  if (frame_len < offset + sizeof(rte_ipv4_hdr)) return Dropped(DropReason::kTruncatedIpv4);
  const uint8_t* ip = frame + offset;
  if ((ip[0] >> 4) != 4) return Dropped(DropReason::kBadIpv4Version);
  const uint32_t header_len = (ip[0] & 0x0f) * 4u;
  const uint32_t available = frame_len - offset;
  if (header_len < sizeof(rte_ipv4_hdr) || header_len > available) {
    return Dropped(DropReason::kBadIpv4HeaderLength);
  }
  const uint32_t total_len = LoadBe16(ip + offsetof(rte_ipv4_hdr, total_length));
  // Bytes after total_len are Ethernet padding (short frames) and are ignored.
  if (total_len < header_len || total_len > available) {
    return Dropped(DropReason::kBadIpv4TotalLength);
  }
  ParsedPacket p;
  p.kind = PacketKind::kIpv4;
  p.l3_offset = static_cast<uint16_t>(offset);
  p.l3_length = static_cast<uint16_t>(total_len);
  p.ip_proto = ip[offsetof(rte_ipv4_hdr, next_proto_id)];
  std::memcpy(&p.src_ip, ip + offsetof(rte_ipv4_hdr, src_addr), 4);
  std::memcpy(&p.dst_ip, ip + offsetof(rte_ipv4_hdr, dst_addr), 4);
  const uint16_t frag = LoadBe16(ip + offsetof(rte_ipv4_hdr, fragment_offset));
  p.l4_offset = static_cast<uint16_t>(offset + header_len);
  if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
    p.is_fragment = true;
    p.frag_id = LoadBe16(ip + offsetof(rte_ipv4_hdr, packet_id));
    if ((frag & RTE_IPV4_HDR_OFFSET_MASK) != 0) {
      p.later_fragment = true;
      return p;
    }
  }

  DropReason reason = DropReason::kTruncatedIpv4;
  if (!internal::ParseTransport<false>(ip + header_len, total_len - header_len, &p, &reason)) {
    return Dropped(reason);
  }
  return p;
}

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_PACKET_PARSER_H_
