// A worker lcore: polls its RX queue on every port, processes bursts in stages (parse and
// classify, bulk flow lookup, pick and rewrite, buffered TX), reports an RCU quiescent
// state once per iteration and backs off when idle. Owns nothing shared: its flow table,
// counters and TX buffers are its own (STYLE.md items 3 and 4).
#ifndef SLUICE_DATAPLANE_WORKER_H_
#define SLUICE_DATAPLANE_WORKER_H_

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/flow_table.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/neighbor_table.h"
#include "dataplane/table_publisher.h"

namespace sluice::dataplane {

inline constexpr uint16_t kBurstSize = 32;

// What the slow path needs to know about a packet a worker hands over, stored in the
// mbuf: `port` is the port index (ingress for ARP and Neighbor Discovery, egress for a
// packet awaiting its next hop's MAC) and hash.usr is 0 for ARP or ND (the slow path
// tells them apart by parsing) or the neighbour index + 1.
inline constexpr uint32_t kSlowPathNeighborDiscovery = 0;
inline constexpr uint32_t kSlowPathArp = kSlowPathNeighborDiscovery;

struct WorkerSetup {
  uint32_t index = 0;                // RCU reader id; also the RX/TX queue id on each port
  std::vector<uint16_t> dpdk_ports;  // by port index
  bool idle_backoff = true;
  uint32_t idle_sleep_max_us = 200;
  uint32_t tx_drain_us = 100;   // buffered packets leave at most this late
  uint32_t sweep_budget = 256;  // flow entries examined per iteration
};

class Worker {
 public:
  // `inject` (may be null) carries the control thread's packets to transmit; only one
  // worker drains it.
  Worker(const WorkerSetup& setup, TablePublisher& publisher, const NeighborTable& neighbors,
         FlowTable& flows, LcoreStats& stats, rte_ring* slow_path, rte_ring* inject);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The lcore's loop, until `stop` is set; flushes TX before returning.
  void Run(const std::atomic<bool>& stop);

  // One loop iteration: RX on every port, process, drain injected packets, flush TX on
  // the drain timer, age flows. Returns the number of packets received. Tests and
  // benchmarks drive the worker through this and ProcessBurst.
  uint32_t PollOnce();

  // Processes packets received on port `port_index` under `table`.
  void ProcessBurst(const ForwardingTable& table, uint16_t port_index, rte_mbuf** pkts, uint16_t n);

  // Sends everything buffered.
  void FlushTx();

  LcoreStats& stats() { return stats_; }

 private:
  void Transmit(uint16_t port_index, rte_mbuf* m);
  void ToSlowPath(rte_mbuf* m, uint16_t port_index, uint32_t tag);
  void Drop(rte_mbuf* m, DropReason reason);
  void DrainInjected();
  void UpdateClock();
  void Age(const ForwardingTable& table);

  WorkerSetup setup_;
  TablePublisher& publisher_;
  const NeighborTable& neighbors_;
  FlowTable& flows_;
  LcoreStats& stats_;
  rte_ring* slow_path_;
  rte_ring* inject_;
  std::vector<rte_eth_dev_tx_buffer*> tx_buffers_;  // by port index

  uint64_t tsc_hz_;
  uint64_t tsc_per_ms_;
  uint64_t drain_tsc_;
  uint64_t now_tsc_ = 0;
  uint32_t now_ms_ = 0;
  uint64_t last_flush_tsc_ = 0;
  uint32_t last_sweep_ms_ = 0;
  uint32_t idle_rounds_ = 0;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_WORKER_H_
