// The slow path; see slow_path.h.
#include "dataplane/slow_path.h"

#include <array>
#include <cstring>

#include "dataplane/arp.h"
#include "dataplane/ndp.h"
#include "dataplane/packet_parser.h"
#include "dataplane/worker.h"

namespace sluice::dataplane {

namespace {
constexpr uint64_t kTickIntervalMs = 10;
}  // namespace

void SlowPath::Send(uint16_t port_index, rte_mbuf* m) {
  m->port = port_index;
  if (rte_ring_enqueue(to_workers_, m) != 0) {
    counters_.drops[static_cast<size_t>(DropReason::kTxFull)] += 1;
    rte_pktmbuf_free(m);
  }
}

void SlowPath::Drop(rte_mbuf* m, DropReason reason) {
  counters_.drops[static_cast<size_t>(reason)] += 1;
  rte_pktmbuf_free(m);
}

void SlowPath::HandleNeighborPacket(rte_mbuf* m, uint64_t now_ms) {
  const ParsedPacket p = ParseFrame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
  const ForwardingTable* table = publisher_.current();
  const bool port_known = table != nullptr && m->port < table->ports.size();
  if (p.kind == PacketKind::kIpv6) {
    if (port_known) {
      HandleNd(m, p, *table, now_ms);
    } else {
      Drop(m, DropReason::kMalformedNd);
    }
    return;
  }
  if (p.kind != PacketKind::kArp || !port_known) {
    Drop(m, DropReason::kMalformedArp);
    return;
  }
  HandleArp(m, p, *table, now_ms);
}

void SlowPath::HandleArp(rte_mbuf* m, const ParsedPacket& p, const ForwardingTable& table,
                         uint64_t now_ms) {
  const uint16_t port_index = m->port;
  // RFC 826: whatever the opcode, the sender's mapping updates an entry we already have
  // (never with a broadcast, multicast or zero MAC, and not from an ARP probe).
  const rte_ether_addr sender = ArpSenderMac(m, p);
  if (p.src_ip != 0 && rte_is_valid_assigned_ether_addr(&sender)) {
    neighbors_.Learn(NeighborAddress::V4(p.src_ip), sender, now_ms);
  }

  if (ArpOpcode(m, p) == RTE_ARP_OP_REQUEST) {
    const PortInfo& port = table.ports[port_index];
    bool answer = port.ipv4 != 0 && p.dst_ip == port.ipv4;
    if (!answer) {
      auto it = table.vip_addresses.find(p.dst_ip);
      answer = it != table.vip_addresses.end() && it->second.answer_arp;
    }
    if (answer) {
      MakeArpReply(m, p, port.mac);
      counters_.arp_replies_sent += 1;
      Send(port_index, m);
      return;
    }
    Drop(m, DropReason::kArpNotForUs);
    return;
  }
  rte_pktmbuf_free(m);  // a reply: its information is taken
}

void SlowPath::HandleNd(rte_mbuf* m, const ParsedPacket& p, const ForwardingTable& table,
                        uint64_t now_ms) {
  const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  // Router advertisements, redirects and the like: Sluice is configured, not told.
  if (p.ip_proto != internal::kIpProtoIcmpv6 ||
      (p.icmp_type != kIcmpv6NeighborSolicitation && p.icmp_type != kIcmpv6NeighborAdvertisement)) {
    Drop(m, DropReason::kNdNotForUs);
    return;
  }
  NdMessage nd;
  if (!ParseNd(frame, rte_pktmbuf_data_len(m), p, &nd)) {
    Drop(m, DropReason::kMalformedNd);
    return;
  }
  const bool usable_mac = nd.has_link_layer && rte_is_valid_assigned_ether_addr(&nd.link_layer);

  if (!nd.solicitation) {
    // An NA speaks for its target; its link-layer option updates an entry we have.
    if (usable_mac) {
      neighbors_.Learn(NeighborAddress::V6(nd.target), nd.link_layer, now_ms, nd.override_flag);
    }
    rte_pktmbuf_free(m);  // its information is taken
    return;
  }

  // An NS with a source link-layer option tells us where its sender is (RFC 4861
  // 7.2.3); ParseNd has refused that option on an NS from ::.
  if (usable_mac) {
    Ipv6Address source{};
    std::memcpy(source.data(), Ipv6Src(frame, p), source.size());
    neighbors_.Learn(NeighborAddress::V6(source), nd.link_layer, now_ms);
  }
  const uint16_t port_index = m->port;
  const PortInfo& port = table.ports[port_index];
  bool answer = port.has_ipv6 && nd.target == port.ipv6;
  if (!answer) {
    auto it = table.vip_addresses6.find(nd.target);
    answer = it != table.vip_addresses6.end() && it->second.answer_arp;
  }
  if (!answer) {
    Drop(m, DropReason::kNdNotForUs);
    return;
  }
  if (!MakeNeighborAdvertisement(m, p, nd, port.mac)) {
    Drop(m, DropReason::kNoMbuf);
    return;
  }
  counters_.nd_advertisements_sent += 1;
  Send(port_index, m);
}

uint32_t SlowPath::Poll(uint64_t now_ms) {
  std::array<rte_mbuf*, kBurstSize> pkts;
  uint32_t handled = 0;
  unsigned n;
  do {
    n = rte_ring_dequeue_burst(from_workers_, reinterpret_cast<void**>(pkts.data()), kBurstSize,
                               nullptr);
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      counters_.rx_packets += 1;
      if (m->hash.usr == kSlowPathNeighborDiscovery) {
        HandleNeighborPacket(m, now_ms);
      } else {
        neighbors_.Hold(m->hash.usr - 1, m, now_ms);
      }
    }
    handled += n;
  } while (n == kBurstSize);
  if (now_ms - last_tick_ms_ >= kTickIntervalMs) {
    neighbors_.Tick(now_ms);
    last_tick_ms_ = now_ms;
  }
  return handled;
}

}  // namespace sluice::dataplane
