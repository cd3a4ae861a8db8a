// Worker: everything that is not an IPv4 TCP/UDP packet for a service, one packet at a
// time (the staged burst in worker.cc is for the common case): IPv6, ICMP for the LB and
// ICMP errors about VIP flows, NAT replies, later fragments. The rules are in
// docs/forwarding.md.
#include <netinet/in.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include <cstring>

#include "dataplane/icmp_echo.h"
#include "dataplane/icmp_error.h"
#include "dataplane/nat_rewrite.h"
#include "dataplane/ndp.h"
#include "dataplane/worker.h"

namespace sluice::dataplane {

namespace {

// The smallest MTU a packet-too-big may claim: RFC 791 (68) and RFC 8200 (1280).
constexpr uint32_t kMinMtu4 = 68;
constexpr uint32_t kMinMtu6 = 1280;

}  // namespace

FragmentKey Worker::KeyOf(const rte_mbuf* m, const ParsedPacket& p) const {
  FragmentKey key{.ipv6 = p.kind == PacketKind::kIpv6, .ip_proto = 0, .id = p.frag_id};
  if (key.ipv6) {
    // RFC 8200 4.5: source, destination and identification name an IPv6 datagram (the
    // next header of a first fragment may differ from a later one's).
    const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    std::memcpy(key.src.data(), Ipv6Src(frame, p), 16);
    std::memcpy(key.dst.data(), Ipv6Dst(frame, p), 16);
  } else {
    key.ip_proto = p.ip_proto;
    std::memcpy(key.src.data(), &p.src_ip, 4);
    std::memcpy(key.dst.data(), &p.dst_ip, 4);
  }
  return key;
}

void Worker::HandleException(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                             const ParsedPacket& p) {
  if (p.kind == PacketKind::kIpv6) {
    HandleIpv6(table, port_index, m, p);
    return;
  }
  const bool to_vip = table.vip_addresses.contains(p.dst_ip);
  const bool to_port = !to_vip && table.PortWithAddress(p.dst_ip) >= 0;
  if (p.later_fragment && (to_vip || table.has_nat)) {
    HandleLaterFragment(table, port_index, m, p, to_vip);
    return;
  }
  if (to_vip || to_port) {
    if (p.ip_proto == IPPROTO_ICMP) {
      if (p.is_fragment) {  // Sluice reassembles nothing for itself
        Drop(m, DropReason::kIcmpUnhandled);
        return;
      }
      if (p.icmp_type == RTE_IP_ICMP_ECHO_REQUEST) {
        MakeEchoReply(m, p, table.ports[port_index].mac);
        stats_.counters.icmp_echo_replies += 1;
        Transmit(port_index, m);
        return;
      }
      if (to_vip &&
          (p.icmp_type == kIcmpDestinationUnreachable || p.icmp_type == kIcmpTimeExceeded)) {
        HandleIcmpError(table, port_index, m, p, /*ipv6=*/false);
        return;
      }
      Drop(m, DropReason::kIcmpUnhandled);
      return;
    }
    Drop(m, to_vip ? DropReason::kNoService : DropReason::kToLocalAddress);
    return;
  }
  if (table.has_nat && (p.ip_proto == IPPROTO_TCP || p.ip_proto == IPPROTO_UDP) &&
      HandleNatReply(table, m, p)) {
    return;
  }
  Drop(m, DropReason::kNotLocal);
}

void Worker::HandleIpv6(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                        const ParsedPacket& p) {
  const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  const bool icmp = p.ip_proto == IPPROTO_ICMPV6 && !p.is_fragment;
  if (icmp &&
      (p.icmp_type == kIcmpv6NeighborSolicitation || p.icmp_type == kIcmpv6NeighborAdvertisement)) {
    ToSlowPath(m, port_index, kSlowPathArp);  // neighbour discovery, like ARP
    return;
  }
  const uint8_t* dst = Ipv6Dst(frame, p);
  const bool to_vip = table.IsVip6(dst);
  const bool to_port = !to_vip && table.PortWithAddress6(dst) >= 0;
  if (p.later_fragment && to_vip) {
    HandleLaterFragment(table, port_index, m, p, to_vip);
    return;
  }
  if (to_vip && (p.ip_proto == IPPROTO_TCP || p.ip_proto == IPPROTO_UDP)) {
    const ServiceInfo* svc = table.FindService6(dst, p.dst_port, p.ip_proto);
    if (svc != nullptr) {
      ForwardFlow6(table, *svc, port_index, m, p);
      return;
    }
  }
  if (to_vip || to_port) {
    if (icmp) {
      if (p.icmp_type == kIcmpv6EchoRequest) {
        MakeEchoReply6(m, p, table.ports[port_index].mac);
        stats_.counters.icmp_echo_replies += 1;
        Transmit(port_index, m);
        return;
      }
      if (to_vip && (p.icmp_type == kIcmp6DestinationUnreachable ||
                     p.icmp_type == kIcmp6PacketTooBig || p.icmp_type == kIcmp6TimeExceeded)) {
        HandleIcmpError(table, port_index, m, p, /*ipv6=*/true);
        return;
      }
      Drop(m, DropReason::kIcmpUnhandled);
      return;
    }
    Drop(m, to_vip ? DropReason::kNoService : DropReason::kToLocalAddress);
    return;
  }
  Drop(m, DropReason::kNotLocal);
}

// IPv6 flows: the same flow-table and Maglev logic as the IPv4 burst, one packet at a time.
void Worker::ForwardFlow6(const ForwardingTable& table, const ServiceInfo& svc, uint16_t port_index,
                          rte_mbuf* m, const ParsedPacket& p) {
  const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  FlowKeyV6 key{};
  std::memcpy(key.src_ip, Ipv6Src(frame, p), 16);
  std::memcpy(key.dst_ip, Ipv6Dst(frame, p), 16);
  key.src_port = p.src_port;
  key.dst_port = p.dst_port;
  key.ip_proto = p.ip_proto;
  const uint32_t hash = flows6_.Hash(key);
  ForwardFlow6At(table, svc, port_index, m, p, key, hash, flows6_.Lookup(&key, hash));
}

void Worker::ForwardFlow6At(const ForwardingTable& table, const ServiceInfo& svc,
                            uint16_t port_index, rte_mbuf* m, const ParsedPacket& p,
                            const FlowKeyV6& key, uint32_t hash, int32_t pos) {
  const uint32_t timeout =
      svc.ip_proto == IPPROTO_TCP ? table.tcp_timeout_ms : table.udp_timeout_ms;
  LcoreCounters& c = stats_.counters;
  FlowEntry* entry = nullptr;
  BackendId id = kNoBackend;
  bool new_flow = true;
  if (pos != FlowTable::kMiss) {
    entry = &flows6_.entry(pos);
    const BackendInfo* b = table.Backend(entry->backend);
    if (b != nullptr && b->service == svc.id && b->up && now_ms_ - entry->last_seen_ms <= timeout) {
      id = entry->backend;
      new_flow = false;
      c.flow_hits += 1;
    } else {
      c.flow_repicks += 1;
    }
  }
  if (new_flow) {
    if (!svc.maglev.empty()) id = svc.maglev[MaglevSlot(hash, svc.maglev.size())];
    if (id == kNoBackend) {
      Drop(m, DropReason::kNoUsableBackend);
      return;
    }
    if (entry == nullptr) {
      const int32_t inserted = flows6_.Insert(key, hash);
      if (inserted == FlowTable::kMiss) {
        c.flow_table_full += 1;
      } else {
        entry = &flows6_.entry(inserted);
        CountFlowAdded(table, id);
      }
    } else if (entry->backend != id) {
      CountFlowRemoved(table, entry->backend);
      CountFlowAdded(table, id);
    }
    if (entry != nullptr) entry->backend = id;
    c.new_flows += 1;
  }
  if (entry != nullptr) entry->last_seen_ms = now_ms_;
  if (p.is_fragment) fragments_.Remember(KeyOf(m, p), FragmentValue(id, hash), now_ms_);
  CountServiceTraffic(svc, id, rte_pktmbuf_pkt_len(m), new_flow);
  ForwardToBackend(table, svc, id, port_index, m, p.l3_offset, Payload::kFlow, hash, new_flow);
}

// An ICMP error sent to a VIP about a packet VIP -> client (a router on the way back, or
// the client itself) belongs to the backend serving client -> VIP: that is the server
// that must lower its MTU or give up on the connection.
void Worker::HandleIcmpError(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                             const ParsedPacket& p, bool ipv6) {
  auto* frame = rte_pktmbuf_mtod(m, uint8_t*);
  const uint32_t l3_end = p.l3_offset + p.l3_length;
  QuotedFlow q;
  if (!ParseIcmpError(frame, rte_pktmbuf_data_len(m), p.l3_offset, p.l4_offset, l3_end, ipv6, &q)) {
    Drop(m, DropReason::kIcmpUnhandled);
    return;
  }
  const bool too_big =
      ipv6 ? p.icmp_type == kIcmp6PacketTooBig
           : p.icmp_type == kIcmpDestinationUnreachable && p.icmp_code == kIcmpFragmentationNeeded;
  if (too_big && q.mtu < (ipv6 ? kMinMtu6 : kMinMtu4)) {
    Drop(m, DropReason::kIcmpBadMtu);
    return;
  }
  const ServiceInfo* svc = nullptr;
  uint32_t vip4 = 0;
  if (ipv6) {
    svc = table.FindService6(q.src.data(), q.src_port, q.ip_proto);
  } else {
    std::memcpy(&vip4, q.src.data(), 4);
    svc = table.FindService(vip4, q.src_port, q.ip_proto);
  }
  if (svc == nullptr) {
    Drop(m, DropReason::kIcmpUnhandled);
    return;
  }
  // The flow the quoted packet answers: client -> VIP. This worker's flow table knows
  // its backend if the flow's packets arrive here; otherwise Maglev names the same
  // backend as long as the service's backends have not changed since the flow began.
  uint32_t hash;
  int32_t pos;
  FlowTable& flows = ipv6 ? flows6_ : flows_;
  if (ipv6) {
    FlowKeyV6 key{};
    std::memcpy(key.src_ip, q.dst.data(), 16);
    std::memcpy(key.dst_ip, q.src.data(), 16);
    key.src_port = q.dst_port;
    key.dst_port = q.src_port;
    key.ip_proto = q.ip_proto;
    hash = flows6_.Hash(key);
    pos = flows6_.Lookup(&key, hash);
  } else {
    FlowKeyV4 key{.dst_ip = vip4,
                  .src_port = q.dst_port,
                  .dst_port = q.src_port,
                  .ip_proto = q.ip_proto,
                  .pad = {0, 0, 0}};
    std::memcpy(&key.src_ip, q.dst.data(), 4);
    hash = flows_.Hash(key);
    pos = flows_.Lookup(&key, hash);
  }
  BackendId id = kNoBackend;
  if (pos != FlowTable::kMiss) {
    const BackendInfo* b = table.Backend(flows.entry(pos).backend);
    if (b != nullptr && b->service == svc->id && b->up) id = flows.entry(pos).backend;
  }
  if (id == kNoBackend && !svc->maglev.empty()) {
    id = svc->maglev[MaglevSlot(hash, svc->maglev.size())];
  }
  if (id == kNoBackend) {
    Drop(m, DropReason::kNoUsableBackend);
    return;
  }
  if (svc->mode == ForwardingMode::kNat) {
    const BackendInfo& b = table.backends[id];
    NatTranslateIcmpError(frame, p.l3_offset, p.l4_offset, l3_end, q, b.address, b.port);
  }
  stats_.counters.icmp_errors_forwarded += 1;
  ForwardToBackend(table, *svc, id, port_index, m, p.l3_offset, Payload::kIcmpError, hash,
                   /*new_flow=*/false);
}

// backend -> client in NAT mode: the session (shared by all workers) names the service
// whose VIP:port the reply must come from, and the MAC the client's packets came from.
bool Worker::HandleNatReply(const ForwardingTable& table, rte_mbuf* m, const ParsedPacket& p) {
  if (nat_sessions_ == nullptr) return false;
  const NatKey key = ReplyKey(p);
  NatSession session;
  if (!nat_sessions_->Lookup(key, &session)) return false;
  return TranslateNatReply(table, m, p, session);
}

bool Worker::TranslateNatReply(const ForwardingTable& table, rte_mbuf* m, const ParsedPacket& p,
                               const NatSession& session) {
  const ServiceInfo* svc = table.ServiceById(session.service);
  if (svc == nullptr || svc->mode != ForwardingMode::kNat ||
      session.port_index >= table.ports.size()) {
    return false;
  }
  uint8_t* l3 = rte_pktmbuf_mtod_offset(m, uint8_t*, p.l3_offset);
  if (!Ipv4DecrementTtl(l3)) {
    Drop(m, DropReason::kTtlExceeded);
    return true;
  }
  if (p.is_fragment) {  // a first fragment: the rest follow its session
    reply_fragments_.Remember(KeyOf(m, p), PackNatSession(session), now_ms_);
  }
  NatSetSource(l3, l3 + (p.l4_offset - p.l3_offset), p.ip_proto, svc->vip, svc->port);
  auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
  eth->dst_addr = session.last_hop;
  eth->src_addr = table.ports[session.port_index].mac;
  stats_.counters.nat_reply_packets += 1;
  stats_.counters.nat_reply_bytes += rte_pktmbuf_pkt_len(m);
  Transmit(session.port_index, m);
  return true;
}

// Later fragments carry no ports: they follow what this worker did with their datagram's
// first fragment, or are dropped (docs/forwarding.md, "Fragments").
void Worker::HandleLaterFragment(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                                 const ParsedPacket& p, bool to_vip) {
  const FragmentKey key = KeyOf(m, p);
  uint64_t value = 0;
  if (to_vip && fragments_.Find(key, now_ms_, &value)) {
    const auto id = static_cast<BackendId>(value);
    const BackendInfo* b = table.Backend(id);
    const ServiceInfo* svc = b != nullptr ? table.ServiceById(b->service) : nullptr;
    if (svc != nullptr) {
      stats_.counters.fragments_forwarded += 1;
      CountServiceTraffic(*svc, id, rte_pktmbuf_pkt_len(m), /*new_flow=*/false);
      ForwardToBackend(table, *svc, id, port_index, m, p.l3_offset, Payload::kLaterFragment,
                       static_cast<uint32_t>(value >> 32), /*new_flow=*/false);
      return;
    }
  }
  if (!to_vip && p.kind == PacketKind::kIpv4 && table.has_nat &&
      reply_fragments_.Find(key, now_ms_, &value)) {
    const NatSession session = UnpackNatSession(value);
    const ServiceInfo* svc = table.ServiceById(session.service);
    if (svc != nullptr && session.port_index < table.ports.size()) {
      uint8_t* l3 = rte_pktmbuf_mtod_offset(m, uint8_t*, p.l3_offset);
      if (!Ipv4DecrementTtl(l3)) {
        Drop(m, DropReason::kTtlExceeded);
        return;
      }
      NatSetSource(l3, nullptr, p.ip_proto, svc->vip, svc->port);
      auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
      eth->dst_addr = session.last_hop;
      eth->src_addr = table.ports[session.port_index].mac;
      stats_.counters.fragments_forwarded += 1;
      stats_.counters.nat_reply_packets += 1;
      stats_.counters.nat_reply_bytes += rte_pktmbuf_pkt_len(m);
      Transmit(session.port_index, m);
      return;
    }
  }
  Drop(m, DropReason::kFragmentUnknown);
}

}  // namespace sluice::dataplane
