// Bounds-checked parsing of the headers Sluice looks at: Ethernet, one 802.1Q tag, ARP,
// IPv4 (with or without options), TCP, UDP and ICMP. Nothing is read beyond the bytes
// the frame has, and every way a header can be malformed maps to one DropReason.
//
// Called by the workers for every packet; no allocation, no branches on anything but
// the packet. Only the first segment of an mbuf is parsed (headers never span segments
// for the sizes involved); lengths are checked against the whole packet.
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
  uint16_t l3_offset = 0;  // first byte after Ethernet (and 802.1Q)
  uint16_t l4_offset = 0;  // IPv6: after the extension headers
  uint16_t l3_length = 0;  // IPv4 total length; IPv6: 40 + payload length
  uint16_t frag_header_offset = 0;  // IPv6 fragments: offset of the Fragment header
  uint32_t frag_id = 0;             // fragments: IPv4 identification or IPv6 identification
  uint32_t src_ip = 0;              // IPv4 only, network byte order, as on the wire
  uint32_t dst_ip = 0;              // (IPv6 addresses: Ipv6Src/Ipv6Dst below)
  uint16_t src_port = 0;  // network byte order; 0 for ICMP and later fragments
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

  const uint32_t payload_len = total_len - header_len;
  const uint8_t* l4 = ip + header_len;
  switch (p.ip_proto) {
    case IPPROTO_TCP: {
      if (payload_len < sizeof(rte_tcp_hdr)) return Dropped(DropReason::kTruncatedTcp);
      const uint32_t data_offset = (l4[offsetof(rte_tcp_hdr, data_off)] >> 4) * 4u;
      if (data_offset < sizeof(rte_tcp_hdr) || data_offset > payload_len) {
        return Dropped(DropReason::kBadTcpDataOffset);
      }
      std::memcpy(&p.src_port, l4 + offsetof(rte_tcp_hdr, src_port), 2);
      std::memcpy(&p.dst_port, l4 + offsetof(rte_tcp_hdr, dst_port), 2);
      break;
    }
    case IPPROTO_UDP: {
      if (payload_len < sizeof(rte_udp_hdr)) return Dropped(DropReason::kTruncatedUdp);
      // A first fragment carries only part of the datagram the length describes.
      if (!p.is_fragment && LoadBe16(l4 + offsetof(rte_udp_hdr, dgram_len)) != payload_len) {
        return Dropped(DropReason::kBadUdpLength);
      }
      std::memcpy(&p.src_port, l4 + offsetof(rte_udp_hdr, src_port), 2);
      std::memcpy(&p.dst_port, l4 + offsetof(rte_udp_hdr, dst_port), 2);
      break;
    }
    case IPPROTO_ICMP:
      if (payload_len < sizeof(rte_icmp_hdr)) return Dropped(DropReason::kTruncatedIcmp);
      p.icmp_type = l4[offsetof(rte_icmp_hdr, icmp_type)];
      p.icmp_code = l4[offsetof(rte_icmp_hdr, icmp_code)];
      break;
    default:
      break;  // other protocols: not for a service; the classifier decides
  }
  return p;
}

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_PACKET_PARSER_H_
