// The control thread's side of neighbour resolution: which next hops exist, their state
// machine (requests, retries, refresh, failure), static entries, and packets held while
// a next hop is unresolved. One state machine for both families: IPv4 next hops are
// asked for by ARP, IPv6 ones by Neighbor Solicitation (RFC 4861), with the same timers. It is the
// only writer of the NeighborTable the workers read. Timers are driven by Tick(now_ms) so tests
// control time.
#ifndef SLUICE_DATAPLANE_NEIGHBOR_CACHE_H_
#define SLUICE_DATAPLANE_NEIGHBOR_CACHE_H_

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dataplane/counters.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/neighbor_address.h"
#include "dataplane/neighbor_table.h"

namespace sluice::dataplane {

struct NeighborCacheOptions {
  uint64_t reachable_ms = 30000;
  uint64_t retry_ms = 1000;
  uint32_t retries = 3;
  uint32_t hold_packets = 3;
};

class NeighborCache {
 public:
  enum class State : uint8_t { kIncomplete, kReachable, kRefreshing, kFailed, kStatic };

  // Hands a packet to a port for transmission (the slow path's injection ring).
  using Sender = std::function<void(uint16_t port_index, rte_mbuf* m)>;

  NeighborCache(const NeighborCacheOptions& options, NeighborTable& table, rte_mempool* pool,
                std::vector<PortInfo> ports, LcoreCounters& counters, Sender sender);
  ~NeighborCache();
  NeighborCache(const NeighborCache&) = delete;
  NeighborCache& operator=(const NeighborCache&) = delete;

  // The index of the entry for `address` on `port_index`, created if needed; a new entry
  // is asked for at the next Tick. Returns -1 when the table is full. An IPv6 next hop
  // is solicited from the port's IPv6 address; on a port without one nothing is sent
  // and the entry fails when its retries run out.
  int64_t Resolve(const NeighborAddress& address, uint16_t port_index);
  // A static entry: resolved now, never asked for, never expires.
  int64_t AddStatic(const NeighborAddress& address, uint16_t port_index, const rte_ether_addr& mac);

  // An ARP packet or a Neighbor Discovery message said `address` is at `mac`. Only
  // existing entries are updated: random traffic does not fill the cache. An NA without
  // the Override flag (`override_mac` false) confirms a resolved entry's MAC but does
  // not replace it with another (RFC 4861 7.2.5); it does resolve an unresolved one.
  void Learn(const NeighborAddress& address, const rte_ether_addr& mac, uint64_t now_ms,
             bool override_mac = true);

  // A packet for the next hop `index` that a worker could not send yet.
  void Hold(uint32_t index, rte_mbuf* m, uint64_t now_ms);

  // Sends due requests, refreshes, gives up on unanswered entries.
  void Tick(uint64_t now_ms);

  State state(uint32_t index) const { return entries_[index].state; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    NeighborAddress address;
    uint16_t port_index = 0;
    State state = State::kIncomplete;
    rte_ether_addr mac{};
    uint64_t resolved_at_ms = 0;
    uint64_t next_action_ms = 0;  // when Tick next acts on this entry
    uint32_t requests_sent = 0;
    std::vector<rte_mbuf*> held;
  };

  void SendRequest(Entry& e, uint64_t now_ms);
  void Release(Entry& e);
  void DropHeld(Entry& e, DropReason reason);

  NeighborCacheOptions options_;
  NeighborTable& table_;
  rte_mempool* pool_;
  std::vector<PortInfo> ports_;
  LcoreCounters& counters_;
  Sender sender_;
  std::vector<Entry> entries_;  // index = NeighborTable index
  absl::flat_hash_map<NeighborAddress, uint32_t> by_address_;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_NEIGHBOR_CACHE_H_
