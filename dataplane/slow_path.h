// The control thread's packet work: ARP packets and IPv6 Neighbor Discovery messages the
// workers handed over (answer requests and solicitations for port addresses and VIPs,
// learn from what neighbours say), packets waiting for a next hop's MAC, and the
// neighbour timers. What it sends goes through the injection ring to worker 0,
// which owns the TX queues (one per worker per port; the control thread has none).
#ifndef SLUICE_DATAPLANE_SLOW_PATH_H_
#define SLUICE_DATAPLANE_SLOW_PATH_H_

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>

#include "dataplane/counters.h"
#include "dataplane/neighbor_cache.h"
#include "dataplane/packet_parser.h"
#include "dataplane/table_publisher.h"

namespace sluice::dataplane {

class SlowPath {
 public:
  SlowPath(rte_ring* from_workers, rte_ring* to_workers, NeighborCache& neighbors,
           const TablePublisher& publisher, LcoreCounters& counters)
      : from_workers_(from_workers),
        to_workers_(to_workers),
        neighbors_(neighbors),
        publisher_(publisher),
        counters_(counters) {}

  // Handles what is queued and runs the timers. Returns the packets handled.
  uint32_t Poll(uint64_t now_ms);

  // Queues `m` for transmission on `port_index` (used by the NeighborCache too).
  void Send(uint16_t port_index, rte_mbuf* m);

 private:
  // ARP or ND (tag kSlowPathNeighborDiscovery): told apart by parsing.
  void HandleNeighborPacket(rte_mbuf* m, uint64_t now_ms);
  void HandleArp(rte_mbuf* m, const ParsedPacket& p, const ForwardingTable& table, uint64_t now_ms);
  void HandleNd(rte_mbuf* m, const ParsedPacket& p, const ForwardingTable& table, uint64_t now_ms);
  void Drop(rte_mbuf* m, DropReason reason);

  rte_ring* from_workers_;
  rte_ring* to_workers_;
  NeighborCache& neighbors_;
  const TablePublisher& publisher_;
  LcoreCounters& counters_;
  uint64_t last_tick_ms_ = 0;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_SLOW_PATH_H_
