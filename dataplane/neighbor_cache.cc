// The neighbour state machine; see neighbor_cache.h. ARP and ND differ only in the
// request SendRequest builds and the counters it moves.
#include "dataplane/neighbor_cache.h"

#include "dataplane/arp.h"
#include "dataplane/ndp.h"

namespace sluice::dataplane {

NeighborCache::NeighborCache(const NeighborCacheOptions& options, NeighborTable& table,
                             rte_mempool* pool, std::vector<PortInfo> ports,
                             LcoreCounters& counters, Sender sender)
    : options_(options),
      table_(table),
      pool_(pool),
      ports_(std::move(ports)),
      counters_(counters),
      sender_(std::move(sender)) {}

NeighborCache::~NeighborCache() {
  for (Entry& e : entries_) {
    for (rte_mbuf* m : e.held) rte_pktmbuf_free(m);
  }
}

int64_t NeighborCache::Resolve(const NeighborAddress& address, uint16_t port_index) {
  if (auto it = by_address_.find(address); it != by_address_.end()) return it->second;
  if (entries_.size() >= table_.capacity()) return -1;
  const auto index = static_cast<uint32_t>(entries_.size());
  Entry& e = entries_.emplace_back();
  e.address = address;
  e.port_index = port_index;
  e.held.reserve(options_.hold_packets);
  by_address_[address] = index;
  table_.SetUnresolved(index);
  return index;
}

int64_t NeighborCache::AddStatic(const NeighborAddress& address, uint16_t port_index,
                                 const rte_ether_addr& mac) {
  const int64_t index = Resolve(address, port_index);
  if (index < 0) return index;
  Entry& e = entries_[index];
  e.state = State::kStatic;
  e.mac = mac;
  table_.SetResolved(static_cast<uint32_t>(index), mac);
  Release(e);
  return index;
}

void NeighborCache::SendRequest(Entry& e, uint64_t now_ms) {
  e.requests_sent += 1;
  e.next_action_ms = now_ms + options_.retry_ms;
  const PortInfo& port = ports_[e.port_index];
  rte_mbuf* m = nullptr;
  if (e.address.ipv6) {
    // No address to solicit from (and to receive the answer at): config validation
    // keeps IPv6 next hops on ports with an IPv6 subnet, so this is a wiring bug.
    if (!port.has_ipv6) return;
    m = MakeNeighborSolicitation(pool_, port.ipv6, e.address.bytes, port.mac);
  } else {
    m = BuildArpRequest(pool_, port.mac, port.ipv4, e.address.ipv4());
  }
  if (m == nullptr) {
    counters_.drops[static_cast<size_t>(DropReason::kNoMbuf)] += 1;
    return;
  }
  (e.address.ipv6 ? counters_.nd_solicitations_sent : counters_.arp_requests_sent) += 1;
  sender_(e.port_index, m);
}

void NeighborCache::Release(Entry& e) {
  for (rte_mbuf* m : e.held) {
    rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr = e.mac;
    counters_.held_released += 1;
    sender_(e.port_index, m);
  }
  e.held.clear();
}

void NeighborCache::DropHeld(Entry& e, DropReason reason) {
  counters_.drops[static_cast<size_t>(reason)] += e.held.size();
  for (rte_mbuf* m : e.held) rte_pktmbuf_free(m);
  e.held.clear();
}

void NeighborCache::Learn(const NeighborAddress& address, const rte_ether_addr& mac,
                          uint64_t now_ms, bool override_mac) {
  auto it = by_address_.find(address);
  if (it == by_address_.end()) return;
  Entry& e = entries_[it->second];
  if (e.state == State::kStatic) return;  // configuration wins over the wire
  const bool resolved = e.state == State::kReachable || e.state == State::kRefreshing;
  if (!override_mac && resolved && !rte_is_same_ether_addr(&e.mac, &mac)) return;
  e.state = State::kReachable;
  e.mac = mac;
  e.resolved_at_ms = now_ms;
  e.next_action_ms = now_ms + options_.reachable_ms;
  e.requests_sent = 0;
  table_.SetResolved(it->second, mac);
  (address.ipv6 ? counters_.nd_learned : counters_.arp_learned) += 1;
  Release(e);
}

void NeighborCache::Hold(uint32_t index, rte_mbuf* m, uint64_t now_ms) {
  Entry& e = entries_[index];
  switch (e.state) {
    case State::kReachable:
    case State::kRefreshing:
    case State::kStatic:  // resolved after the worker looked
      rte_pktmbuf_mtod(m, rte_ether_hdr*)->dst_addr = e.mac;
      counters_.held_released += 1;
      sender_(e.port_index, m);
      return;
    case State::kFailed:
      counters_.drops[static_cast<size_t>(DropReason::kNeighborFailed)] += 1;
      rte_pktmbuf_free(m);
      return;
    case State::kIncomplete:
      break;
  }
  if (e.held.size() >= options_.hold_packets) {
    counters_.drops[static_cast<size_t>(DropReason::kNeighborHoldFull)] += 1;
    rte_pktmbuf_free(m);
    return;
  }
  e.held.push_back(m);
  if (e.requests_sent == 0) SendRequest(e, now_ms);
}

// Scans every entry; called every few milliseconds by the control thread, which is
// cheap for the few thousand next hops a config can name.
void NeighborCache::Tick(uint64_t now_ms) {
  for (uint32_t index = 0; index < entries_.size(); ++index) {
    Entry& e = entries_[index];
    if (e.state == State::kStatic || now_ms < e.next_action_ms) continue;
    switch (e.state) {
      case State::kReachable:  // time to confirm it; keep forwarding meanwhile
        e.state = State::kRefreshing;
        e.requests_sent = 0;
        SendRequest(e, now_ms);
        break;
      case State::kIncomplete:
      case State::kRefreshing:
        if (e.requests_sent < options_.retries) {
          SendRequest(e, now_ms);
        } else {
          e.state = State::kFailed;
          e.requests_sent = 0;
          e.next_action_ms = now_ms + options_.reachable_ms;
          table_.SetFailed(index);
          DropHeld(e, DropReason::kNeighborFailed);
        }
        break;
      case State::kFailed:  // ask again now and then; workers drop meanwhile
        e.state = State::kIncomplete;
        e.requests_sent = 0;
        SendRequest(e, now_ms);
        break;
      case State::kStatic:
        break;
    }
  }
}

}  // namespace sluice::dataplane
