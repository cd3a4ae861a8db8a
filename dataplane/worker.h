// A worker lcore: polls its RX queue on every port, processes bursts in stages (parse and
// classify, bulk flow lookup, pick and rewrite, buffered TX), reports an RCU quiescent
// state once per iteration and backs off when idle. Owns nothing shared: its flow table,
// counters and TX buffers are its own (STYLE.md items 3 and 4).
#ifndef SLUICE_DATAPLANE_WORKER_H_
#define SLUICE_DATAPLANE_WORKER_H_

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_meter.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/counters.h"
#include "dataplane/flow_mailbox.h"
#include "dataplane/flow_table.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/fragment_table.h"
#include "dataplane/nat_sessions.h"
#include "dataplane/neighbor_table.h"
#include "dataplane/packet_parser.h"
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
  uint32_t tx_drain_us = 100;              // buffered packets leave at most this late
  uint32_t sweep_budget = 256;             // flow entries examined per iteration
  uint32_t icmp_errors_per_second = 1000;  // generated ICMP errors (too big), per worker
  uint32_t icmp_error_burst = 100;
};

// What a worker uses but does not own.
struct WorkerContext {
  TablePublisher& publisher;
  const NeighborTable& neighbors;
  FlowTable& flows;                         // IPv4, this worker's own
  FlowTable& flows6;                        // IPv6, this worker's own
  NatSessionTable* nat_sessions = nullptr;  // shared by all workers; null: no NAT
  LcoreStats& stats;
  rte_ring* slow_path = nullptr;
  rte_ring* inject = nullptr;      // the control thread's packets; only worker 0 drains it
  rte_mempool* pool = nullptr;     // for packets the worker creates (ICMP errors, fragments)
  FlowMailbox* mailbox = nullptr;  // the control thread's flow queries; null: none
};

class Worker {
 public:
  Worker(const WorkerSetup& setup, const WorkerContext& context);
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
  // How ForwardToBackend treats the packet (what the NAT rewrite may touch).
  enum class Payload : uint8_t {
    kFlow,           // a packet with its L4 header
    kLaterFragment,  // no L4 header: addresses only
    kIcmpError,      // an ICMP error already translated for the backend
  };

  // What the worker remembers for the later fragments of a datagram sent to a backend.
  static uint64_t FragmentValue(BackendId id, uint32_t flow_hash) {
    return static_cast<uint64_t>(flow_hash) << 32 | id;
  }
  // The NAT session key of a packet that may be a reply (backend -> client).
  static NatKey ReplyKey(const ParsedPacket& p) {
    return NatKey{.backend_ip = p.src_ip,
                  .client_ip = p.dst_ip,
                  .backend_port = p.src_port,
                  .client_port = p.dst_port,
                  .ip_proto = p.ip_proto,
                  .pad = {0, 0, 0}};
  }

  // worker.cc
  static DropReason NotForAService(const ForwardingTable& table, uint32_t dst_ip);
  void Transmit(uint16_t port_index, rte_mbuf* m);
  void ToSlowPath(rte_mbuf* m, uint16_t port_index, uint32_t tag);
  void Drop(rte_mbuf* m, DropReason reason);
  uint32_t DrainInjected();
  void UpdateClock();
  uint64_t Age(const ForwardingTable& table);
  FlowAnswer AnswerFlowQuery(const FlowQuery& query) const;
  static void OnFlowExpired(void* worker, const void* key, const FlowEntry& entry);
  static void OnFlowExpired6(void* worker, const void* key, const FlowEntry& entry);
  // active_flows bookkeeping: every insert, re-pick and removal goes through these.
  void CountFlowAdded(const ForwardingTable& table, BackendId id);
  void CountFlowRemoved(const ForwardingTable& table, BackendId id);
  void EndNatSession(const ForwardingTable& table, BackendId id, const FlowKeyV4& key);

  // worker_forward.cc: one packet of a service's flow to the chosen backend, by the
  // service's mode; MTU handling (ICMP too big, fragmentation) on the way.
  void ForwardToBackend(const ForwardingTable& table, const ServiceInfo& svc, BackendId id,
                        uint16_t ingress_port, rte_mbuf* m, uint16_t l3_offset, Payload payload,
                        uint32_t flow_hash, bool new_flow);
  void RecordNatSession(const ServiceInfo& svc, const BackendInfo& backend, uint16_t ingress_port,
                        const rte_mbuf* m, const uint8_t* l3);
  void EmitToBackend(const ForwardingTable& table, const ServiceInfo& svc,
                     const BackendInfo& backend, rte_mbuf* m, uint16_t l3_offset,
                     uint32_t flow_hash);
  void SendTooBig(const ForwardingTable& table, uint16_t ingress_port, rte_mbuf* m,
                  uint16_t l3_offset, bool ipv6, uint32_t mtu);
  bool IcmpErrorAllowed();

  // worker_exception.cc: everything that is not an IPv4 TCP/UDP packet for a service.
  void HandleException(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                       const ParsedPacket& p);
  void HandleIpv6(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                  const ParsedPacket& p);
  void ForwardFlow6(const ForwardingTable& table, const ServiceInfo& svc, uint16_t port_index,
                    rte_mbuf* m, const ParsedPacket& p);
  void ForwardFlow6At(const ForwardingTable& table, const ServiceInfo& svc, uint16_t port_index,
                      rte_mbuf* m, const ParsedPacket& p, const FlowKeyV6& key, uint32_t hash,
                      int32_t pos);
  void HandleIcmpError(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                       const ParsedPacket& p, bool ipv6);
  bool HandleNatReply(const ForwardingTable& table, rte_mbuf* m, const ParsedPacket& p);
  bool TranslateNatReply(const ForwardingTable& table, rte_mbuf* m, const ParsedPacket& p,
                         const NatSession& session);
  void HandleLaterFragment(const ForwardingTable& table, uint16_t port_index, rte_mbuf* m,
                           const ParsedPacket& p, bool to_vip);
  FragmentKey KeyOf(const rte_mbuf* m, const ParsedPacket& p) const;
  void CountServiceTraffic(const ServiceInfo& svc, BackendId id, uint32_t bytes, bool new_flow);

  WorkerSetup setup_;
  TablePublisher& publisher_;
  const NeighborTable& neighbors_;
  FlowTable& flows_;
  FlowTable& flows6_;
  NatSessionTable* nat_sessions_;
  LcoreStats& stats_;
  rte_ring* slow_path_;
  rte_ring* inject_;
  rte_mempool* pool_;
  FlowMailbox* mailbox_;
  std::vector<rte_eth_dev_tx_buffer*> tx_buffers_;  // by port index
  FragmentTable fragments_;        // later fragments of datagrams sent to a backend
  FragmentTable reply_fragments_;  // later fragments of NAT replies
  rte_meter_srtcm_profile icmp_profile_{};
  rte_meter_srtcm icmp_meter_{};
  const ForwardingTable* aging_table_ = nullptr;  // the table Age() runs under

  uint64_t tsc_hz_;
  uint64_t tsc_per_ms_;
  uint64_t drain_tsc_;
  uint64_t now_tsc_ = 0;
  uint32_t now_ms_ = 0;
  uint64_t last_flush_tsc_ = 0;
  uint64_t last_poll_tsc_ = 0;  // start of the previous PollOnce (loop_cycles)
  bool previous_busy_ = false;  // the previous PollOnce did work (busy_cycles)
  uint32_t last_sweep_ms_ = 0;
  uint32_t idle_rounds_ = 0;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_WORKER_H_
