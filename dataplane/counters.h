// Per-lcore counters (STYLE.md item 3): each worker and the control thread own one
// LcoreCounters; they write with plain stores and readers (metrics, logs, tests) sum
// over lcores. A reader may see a value one update behind, never a torn one (aligned
// 64-bit stores).
//
// Accounting identity, per worker, once its TX buffers are flushed:
//   rx_packets + injected_packets + generated_packets
//       == tx_packets + sum(drops) + slow_path_packets
// where injected packets are the control thread's (ARP requests and replies, Neighbor
// Solicitations and Advertisements, packets released after resolution) handed to
// worker 0 for transmission, and generated packets are the extra ones fragmentation
// made (a packet cut in 3 generates 2). A packet answered in its place (echo reply,
// ICMP too big) counts once, as sent.
#ifndef SLUICE_DATAPLANE_COUNTERS_H_
#define SLUICE_DATAPLANE_COUNTERS_H_

#include <rte_common.h>

#include <array>
#include <cstdint>
#include <memory>

#include "dataplane/drop_reason.h"
#include "dataplane/forwarding_table.h"

namespace sluice::dataplane {

struct TrafficCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t new_flows = 0;
  // Flows of this service or backend in this lcore's flow tables now: +1 when an entry is
  // inserted or re-picked to it, -1 when the sweep removes it or a re-pick moves it away.
  // A gauge; only the sum over lcores is meaningful (each lcore's own stays >= 0).
  uint64_t active_flows = 0;
};

struct alignas(RTE_CACHE_LINE_SIZE) LcoreCounters {
  uint64_t rx_packets = 0;
  uint64_t rx_bytes = 0;
  uint64_t tx_packets = 0;  // accepted by a NIC TX queue
  uint64_t tx_bytes = 0;
  uint64_t slow_path_packets = 0;  // handed to the control thread
  uint64_t injected_packets = 0;   // taken from the control thread for TX
  uint64_t forwarded_packets = 0;  // to a backend (before the NIC accepts them)
  uint64_t icmp_echo_replies = 0;
  uint64_t icmp_too_big_sent = 0;       // frag-needed / packet-too-big to clients
  uint64_t icmp_errors_suppressed = 0;  // ... that the rate limit held back
  uint64_t icmp_errors_forwarded = 0;   // ICMP errors about a VIP flow sent to its backend
  uint64_t nat_reply_packets = 0;       // backend -> client, translated back to the VIP
  uint64_t nat_reply_bytes = 0;
  uint64_t nat_sessions_full = 0;    // new NAT flows whose session could not be stored
  uint64_t fragments_forwarded = 0;  // later fragments that followed their first
  uint64_t generated_packets = 0;    // extra packets made by fragmentation
  uint64_t new_flows = 0;
  uint64_t flow_hits = 0;
  uint64_t flow_repicks = 0;       // an entry whose backend was gone, or expired
  uint64_t flow_table_full = 0;    // new flows forwarded by Maglev without an entry
  uint64_t flows_expired = 0;      // removed by the aging sweep
  uint64_t flow_entries = 0;       // current size of this lcore's flow tables (both families)
  uint64_t flow_entries_ipv4 = 0;  // ... of which the IPv4 table
  uint64_t flow_entries_ipv6 = 0;  // ... and the IPv6 table
  uint64_t table_generation = 0;   // generation of the forwarding table last used
  // Control thread (slow path) only.
  uint64_t arp_requests_sent = 0;
  uint64_t arp_replies_sent = 0;
  uint64_t arp_learned = 0;             // neighbour entries resolved or refreshed by ARP
  uint64_t nd_solicitations_sent = 0;   // IPv6 next hops asked for (NS)
  uint64_t nd_advertisements_sent = 0;  // NS for a port address or VIP answered (NA)
  uint64_t nd_learned = 0;              // neighbour entries resolved or refreshed by ND
  uint64_t held_released = 0;           // packets sent after their next hop was resolved
  uint64_t iterations = 0;
  uint64_t idle_sleeps = 0;
  // Worker loop time in TSC cycles (rte_get_tsc_hz per second): all of it, from the
  // first iteration's start to the latest one's (idle sleeps included), and the part
  // spent in iterations that did work (received, drained injected packets or expired
  // flows), each from its start to the next one's or to an idle sleep (Worker::PollOnce).
  // busy / loop is the worker's load, which CPU usage cannot show: a polling worker is
  // always at 100% CPU.
  uint64_t loop_cycles = 0;
  uint64_t busy_cycles = 0;
  std::array<uint64_t, kDropReasonCount> drops{};

  uint64_t total_drops() const {
    uint64_t sum = 0;
    for (uint64_t d : drops) sum += d;
    return sum;
  }
};

// Everything one lcore counts: the totals above plus per service and per backend
// traffic indexed by id.
struct LcoreStats {
  LcoreCounters counters;
  std::unique_ptr<TrafficCounters[]> services = std::make_unique<TrafficCounters[]>(kMaxServiceIds);
  std::unique_ptr<TrafficCounters[]> backends = std::make_unique<TrafficCounters[]>(kMaxBackendIds);
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_COUNTERS_H_
