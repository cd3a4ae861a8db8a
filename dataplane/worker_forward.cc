// Worker: a packet of a service's flow on its way to the chosen backend. One function per
// step: the mode's rewrite of the inner packet (NAT), the egress MTU (ICMP too big or
// fragmentation), then the mode's framing (tunnel header, MACs) and transmission.
// The rules are in docs/forwarding.md.
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_meter.h>

#include <array>
#include <cstring>

#include "dataplane/encap.h"
#include "dataplane/icmp_error.h"
#include "dataplane/nat_rewrite.h"
#include "dataplane/worker.h"

namespace sluice::dataplane {

namespace {

// An IPv4 packet of up to 9000 bytes cut for a 576-byte MTU makes 16 fragments; the
// minimum IPv4 MTU (68) would make more, but no port can be configured below 576.
constexpr uint16_t kMaxFragments = 32;

uint16_t LoadBe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace

bool Worker::IcmpErrorAllowed() {
  return rte_meter_srtcm_color_blind_check(&icmp_meter_, &icmp_profile_, now_tsc_, 1) ==
         RTE_COLOR_GREEN;
}

[[gnu::cold]] void Worker::SendTooBig(const ForwardingTable& table, uint16_t ingress_port,
                                      rte_mbuf* m, uint16_t l3_offset, bool ipv6, uint32_t mtu) {
  if (!IcmpErrorAllowed()) {
    stats_.counters.icmp_errors_suppressed += 1;
    Drop(m, DropReason::kTooBig);
    return;
  }
  const rte_ether_addr& mac = table.ports[ingress_port].mac;
  rte_mbuf* reply =
      ipv6 ? MakePacketTooBig(pool_, m, l3_offset, mtu, mac)
           : MakeFragmentationNeeded(pool_, m, l3_offset, static_cast<uint16_t>(mtu), mac);
  if (reply == nullptr) {
    Drop(m, DropReason::kNoMbuf);
    return;
  }
  // The error takes the packet's place: one in, one out (counters.h).
  rte_pktmbuf_free(m);
  stats_.counters.icmp_too_big_sent += 1;
  Transmit(ingress_port, reply);
}

// Replies find their flow through this session, on whichever worker they arrive.
void Worker::RecordNatSession(const ServiceInfo& svc, const BackendInfo& backend,
                              uint16_t ingress_port, const rte_mbuf* m, const uint8_t* l3) {
  const uint8_t* l4 = l3 + (l3[0] & 0x0f) * 4;
  NatKey key{.backend_ip = backend.address,
             .backend_port = backend.port,
             .ip_proto = l3[offsetof(rte_ipv4_hdr, next_proto_id)],
             .pad = {0, 0, 0}};
  std::memcpy(&key.client_ip, l3 + offsetof(rte_ipv4_hdr, src_addr), 4);
  std::memcpy(&key.client_port, l4, 2);
  NatSession session{.last_hop = rte_pktmbuf_mtod(m, const rte_ether_hdr*)->src_addr,
                     .port_index = static_cast<uint8_t>(ingress_port),
                     .service = static_cast<uint16_t>(svc.id)};
  if (!nat_sessions_->Add(key, session)) stats_.counters.nat_sessions_full += 1;
}

void Worker::ForwardToBackend(const ForwardingTable& table, const ServiceInfo& svc, BackendId id,
                              uint16_t ingress_port, rte_mbuf* m, uint16_t l3_offset,
                              Payload payload, uint32_t flow_hash, bool new_flow) {
  const BackendInfo& backend = table.backends[id];
  const PortInfo& egress = table.ports[backend.egress_port];
  uint8_t* l3 = rte_pktmbuf_mtod_offset(m, uint8_t*, l3_offset);
  const bool ipv6 = (l3[0] >> 4) == 6;
  const uint32_t l3_length = ipv6 ? 40u + LoadBe16(l3 + 4) : LoadBe16(l3 + 2);
  const uint32_t overhead = svc.mode == ForwardingMode::kTunnel ? TunnelOverhead(backend.ipv6) : 0;
  if (svc.mode == ForwardingMode::kNat && new_flow && payload == Payload::kFlow &&
      nat_sessions_ != nullptr) {
    // Made with the flow, before this packet's fate is known: a first packet dropped
    // below (TTL) or answered with frag-needed still leaves a flow whose retransmission
    // is a hit, and its replies need the session.
    RecordNatSession(svc, backend, ingress_port, m, l3);
  }
  const bool too_big = l3_length + overhead > egress.mtu;
  if (too_big) [[unlikely]] {
    const bool dont_fragment =
        ipv6 || (l3[offsetof(rte_ipv4_hdr, fragment_offset)] & (RTE_IPV4_HDR_DF_FLAG >> 8)) != 0;
    if (payload == Payload::kIcmpError) {  // never an ICMP error about an ICMP error
      Drop(m, DropReason::kTooBig);
      return;
    }
    if (dont_fragment) {
      SendTooBig(table, ingress_port, m, l3_offset, ipv6, egress.mtu - overhead);
      return;
    }
  }

  if (svc.mode == ForwardingMode::kNat) {
    // The LB is a router hop in NAT mode (IPv4 only: config validation).
    if (!Ipv4DecrementTtl(l3)) {
      Drop(m, DropReason::kTtlExceeded);
      return;
    }
    if (payload != Payload::kIcmpError) {
      const uint8_t ip_proto = l3[offsetof(rte_ipv4_hdr, next_proto_id)];
      uint8_t* l4 = payload == Payload::kFlow ? l3 + (l3[0] & 0x0f) * 4 : nullptr;
      NatSetDestination(l3, l4, ip_proto, backend.address, backend.port);
    }
  }
  if (!too_big) [[likely]] {
    EmitToBackend(table, svc, backend, m, l3_offset, flow_hash);
    return;
  }

  // IPv4 without DF: cut the (inner) packet so that each piece fits with its tunnel
  // header; the backend reassembles the inner datagram (docs/forwarding.md).
  std::array<uint8_t, RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN> l2;
  std::memcpy(l2.data(), rte_pktmbuf_mtod(m, uint8_t*), l3_offset);
  rte_pktmbuf_adj(m, l3_offset);
  if (rte_pktmbuf_pkt_len(m) > l3_length) rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - l3_length);
  std::array<rte_mbuf*, kMaxFragments> pieces;
  const int32_t n = rte_ipv4_fragment_packet(
      m, pieces.data(), kMaxFragments, static_cast<uint16_t>(egress.mtu - overhead), pool_, pool_);
  if (n <= 0) {
    Drop(m, DropReason::kFragmentFailed);
    return;
  }
  rte_pktmbuf_free(m);  // the pieces hold their own references to its data
  stats_.counters.generated_packets += static_cast<uint64_t>(n - 1);
  for (int32_t f = 0; f < n; ++f) {
    rte_mbuf* piece = pieces[f];
    // One contiguous buffer: not every PMD transmits chains, and the tunnel header and
    // MAC rewrite expect the headers in the first segment.
    if (rte_pktmbuf_linearize(piece) != 0) {
      Drop(piece, DropReason::kFragmentFailed);
      continue;
    }
    auto* ip = rte_pktmbuf_mtod(piece, rte_ipv4_hdr*);
    ip->hdr_checksum = 0;
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    char* front = rte_pktmbuf_prepend(piece, l3_offset);
    if (front == nullptr) {
      Drop(piece, DropReason::kNoHeadroom);
      continue;
    }
    std::memcpy(front, l2.data(), l3_offset);
    EmitToBackend(table, svc, backend, piece, l3_offset, flow_hash);
  }
}

void Worker::EmitToBackend(const ForwardingTable& table, const ServiceInfo& svc,
                           const BackendInfo& backend, rte_mbuf* m, uint16_t l3_offset,
                           uint32_t flow_hash) {
  if (svc.mode == ForwardingMode::kTunnel) {
    TunnelEndpoints t{.outer_ipv6 = backend.ipv6,
                      .src4 = backend.tunnel_source,
                      .dst4 = backend.address,
                      .src6 = backend.tunnel_source6,
                      .dst6 = backend.address6,
                      .flow_label = flow_hash};
    if (!Encapsulate(m, l3_offset, t)) {
      Drop(m, DropReason::kNoHeadroom);
      return;
    }
  }
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->src_addr = table.ports[backend.egress_port].mac;
  switch (neighbors_.Lookup(backend.neighbor, &eth->dst_addr)) {
    case NeighborTable::State::kResolved:
      stats_.counters.forwarded_packets += 1;
      Transmit(backend.egress_port, m);
      break;
    case NeighborTable::State::kUnresolved:
      ToSlowPath(m, backend.egress_port, backend.neighbor + 1);
      break;
    case NeighborTable::State::kFailed:
      Drop(m, DropReason::kNeighborFailed);
      break;
  }
}

}  // namespace sluice::dataplane
