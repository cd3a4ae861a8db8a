#include "dataplane/slow_path.h"

#include <array>

#include "dataplane/arp.h"
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

void SlowPath::HandleArp(rte_mbuf* m, uint64_t now_ms) {
  const ParsedPacket p = ParseFrame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_data_len(m));
  const ForwardingTable* table = publisher_.current();
  const uint16_t port_index = m->port;
  if (p.kind != PacketKind::kArp || table == nullptr || port_index >= table->ports.size()) {
    counters_.drops[static_cast<size_t>(DropReason::kMalformedArp)] += 1;
    rte_pktmbuf_free(m);
    return;
  }
  // RFC 826: whatever the opcode, the sender's mapping updates an entry we already have
  // (never with a broadcast, multicast or zero MAC, and not from an ARP probe).
  const rte_ether_addr sender = ArpSenderMac(m, p);
  if (p.src_ip != 0 && rte_is_valid_assigned_ether_addr(&sender)) {
    neighbors_.Learn(p.src_ip, sender, now_ms);
  }

  if (ArpOpcode(m, p) == RTE_ARP_OP_REQUEST) {
    const PortInfo& port = table->ports[port_index];
    bool answer = port.ipv4 != 0 && p.dst_ip == port.ipv4;
    if (!answer) {
      auto it = table->vip_addresses.find(p.dst_ip);
      answer = it != table->vip_addresses.end() && it->second.answer_arp;
    }
    if (answer) {
      MakeArpReply(m, p, port.mac);
      counters_.arp_replies_sent += 1;
      Send(port_index, m);
      return;
    }
    counters_.drops[static_cast<size_t>(DropReason::kArpNotForUs)] += 1;
    rte_pktmbuf_free(m);
    return;
  }
  rte_pktmbuf_free(m);  // a reply: its information is taken
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
      if (m->hash.usr == kSlowPathArp) {
        HandleArp(m, now_ms);
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
