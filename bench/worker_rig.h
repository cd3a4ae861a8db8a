// What worker_bench's cases share: the DPDK environment (no NIC: a net_null port whose TX
// frees the mbufs), synthetic frames and how they are written into mbufs, a worker with
// a hand-built forwarding table of one service (any mode and address family), and the
// counter checks that make sure a case measured what it claims. Single-threaded: the
// benchmark runs everything on one lcore.
#ifndef SLUICE_BENCH_WORKER_RIG_H_
#define SLUICE_BENCH_WORKER_RIG_H_

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataplane/counters.h"
#include "dataplane/flow_table.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/nat_sessions.h"
#include "dataplane/neighbor_table.h"
#include "dataplane/table_publisher.h"
#include "dataplane/worker.h"

namespace sluice::dataplane::bench {

constexpr uint32_t kBackends = 10;
constexpr ServiceId kServiceId = 1;
constexpr uint16_t kServicePort = 80;  // host byte order
// NAT backends listen elsewhere, so that the rewrite changes the port too.
constexpr uint16_t kNatBackendPort = 8080;

// Set up once by SetUpEnv() before any benchmark runs.
struct BenchEnv {
  rte_mempool* pool = nullptr;
  uint16_t dpdk_port = 0;
  rte_ether_addr port_mac{};
  rte_ring* slow_path = nullptr;
  std::string runtime_dir;  // the EAL's, empty after cleanup; removed at exit
};
extern BenchEnv g_env;

// DPDK without hugepages, NIC or PCI; `memory_mb` of rte_malloc memory.
absl::Status SetUpEnv(uint32_t memory_mb);
void TearDownEnv();

inline uint32_t Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return rte_cpu_to_be_32(RTE_IPV4(a, b, c, d));
}

// --- Flows ---------------------------------------------------------------------------

// What a benchmark patches into a client's frame: the client's address (IPv4, or the
// low 32 bits of an IPv6 address) and port.
struct Tuple {
  uint32_t src_ip;  // network byte order
  uint16_t src_port;
  uint16_t pad;
};

// What it patches into a NAT reply: backend -> client (the backend's port is fixed).
struct ReplyTuple {
  uint32_t backend_ip;  // network byte order
  uint32_t client_ip;
  uint16_t client_port;
  uint16_t pad;
};

// Established flow i comes from 11.0.0.0/8 (IPv6: 2001:db8:11::/96), new flow i from
// 12.0.0.0/8, so no new flow ever hits an established one.
inline Tuple EstablishedTuple(uint32_t i) {
  return {.src_ip = rte_cpu_to_be_32(RTE_IPV4(11, 0, 0, 0) + i),
          .src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + i % 60000)),
          .pad = 0};
}
inline Tuple NewFlowTuple(uint32_t i) {
  return {.src_ip = rte_cpu_to_be_32(RTE_IPV4(12, 0, 0, 0) + i),
          .src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + i % 60000)),
          .pad = 0};
}

// Flows drawn uniformly from [0, flows), precomputed so that the RNG is not timed. The
// length is a power of two (mask indexing) and at least the flow count, so a timed run
// does not replay a small hot subset of a large table.
std::vector<Tuple> RandomSequence(uint32_t flows, uint64_t seed);

// --- Frames --------------------------------------------------------------------------

// A frame layout: its length and how a tuple is patched into the template. All TCP,
// without FCS.

// client -> IPv4 VIP: Ethernet + IPv4 + TCP, 6 bytes of padding (a minimum-size frame).
struct ClientFrame4 {
  using TupleType = Tuple;
  static constexpr uint16_t kLen = 60;
  static constexpr size_t kSrcIp = sizeof(rte_ether_hdr) + offsetof(rte_ipv4_hdr, src_addr);
  static constexpr size_t kSrcPort =
      sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + offsetof(rte_tcp_hdr, src_port);
  static void Patch(uint8_t* data, const Tuple& t) {
    std::memcpy(data + kSrcIp, &t.src_ip, sizeof(t.src_ip));
    std::memcpy(data + kSrcPort, &t.src_port, sizeof(t.src_port));
  }
};

// client -> IPv6 VIP: Ethernet + IPv6 + TCP (74 bytes, no padding); the tuple gives the
// low 32 bits of the client's address.
struct ClientFrame6 {
  using TupleType = Tuple;
  static constexpr uint16_t kLen =
      sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr) + sizeof(rte_tcp_hdr);
  static constexpr size_t kSrcIpLow = sizeof(rte_ether_hdr) + offsetof(rte_ipv6_hdr, src_addr) + 12;
  static constexpr size_t kSrcPort =
      sizeof(rte_ether_hdr) + sizeof(rte_ipv6_hdr) + offsetof(rte_tcp_hdr, src_port);
  static void Patch(uint8_t* data, const Tuple& t) {
    std::memcpy(data + kSrcIpLow, &t.src_ip, sizeof(t.src_ip));
    std::memcpy(data + kSrcPort, &t.src_port, sizeof(t.src_port));
  }
};

// NAT reply, backend:kNatBackendPort -> client: Ethernet + IPv4 + TCP, 6 bytes padding.
struct ReplyFrame4 {
  using TupleType = ReplyTuple;
  static constexpr uint16_t kLen = 60;
  static constexpr size_t kSrcIp = sizeof(rte_ether_hdr) + offsetof(rte_ipv4_hdr, src_addr);
  static constexpr size_t kDstIp = sizeof(rte_ether_hdr) + offsetof(rte_ipv4_hdr, dst_addr);
  static constexpr size_t kDstPort =
      sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + offsetof(rte_tcp_hdr, dst_port);
  static void Patch(uint8_t* data, const ReplyTuple& t) {
    std::memcpy(data + kSrcIp, &t.backend_ip, sizeof(t.backend_ip));
    std::memcpy(data + kDstIp, &t.client_ip, sizeof(t.client_ip));
    std::memcpy(data + kDstPort, &t.client_port, sizeof(t.client_port));
  }
};

template <typename Layout>
using FrameOf = std::array<uint8_t, Layout::kLen>;

// Templates to the service's VIP (IPv4 10.0.0.1, IPv6 2001:db8::1) port 80. IPv4
// checksums are those of the template only: patched copies are not re-summed, since
// nothing on these paths checks them (NAT updates them incrementally).
FrameOf<ClientFrame4> MakeClientFrame4(uint8_t tcp_flags);
FrameOf<ClientFrame6> MakeClientFrame6(uint8_t tcp_flags);
FrameOf<ReplyFrame4> MakeReplyFrame4();  // an ACK

// The per-burst work every case shares: kBurstSize mbufs from the pool, the template
// copied in and the tuple patched. Every burst starts from fresh frames, so rewrites
// and encapsulation (which prepends into the headroom) never accumulate.
template <typename Layout>
[[gnu::always_inline]] inline bool FillBurst(const FrameOf<Layout>& frame,
                                             const typename Layout::TupleType* tuples,
                                             std::array<rte_mbuf*, kBurstSize>& pkts) {
  if (rte_pktmbuf_alloc_bulk(g_env.pool, pkts.data(), kBurstSize) != 0) return false;
  for (uint16_t i = 0; i < kBurstSize; ++i) {
    rte_mbuf* m = pkts[i];
    auto* data = rte_pktmbuf_mtod(m, uint8_t*);
    std::memcpy(data, frame.data(), Layout::kLen);
    Layout::Patch(data, tuples[i]);
    m->data_len = Layout::kLen;
    m->pkt_len = Layout::kLen;
  }
  return true;
}

// --- The worker ----------------------------------------------------------------------

// The one service of the table: 10.0.0.1:80/TCP or [2001:db8::1]:80/TCP, backends
// 1..10 at 10.0.1.1..10 or 2001:db8:1::1..10, all on-link on port 0 (10.0.0.2/24,
// 2001:db8::2/64), port 80 (NAT: kNatBackendPort), Maglev table of the default size.
struct ServiceSetup {
  ForwardingMode mode = ForwardingMode::kDr;
  bool vip6 = false;
  bool backends6 = false;  // tunnel only: IPv4 VIP, IPv6 backends is IPv4-in-IPv6
  bool no_ports = false;   // a worker polling no port: PollOnce is the bare loop overhead
  bool mailbox = false;    // give the worker a FlowMailbox (sluicectl lookup)
};

// A worker with everything it reads: the published table, resolved neighbours, its own
// counters and flow tables, and for NAT the shared session table.
class WorkerRig {
 public:
  // `flow_capacity` sizes the flow table of the VIP's family (the other one is small)
  // and, for NAT, the session table (capacity x 1 worker, as the daemon sizes it).
  static absl::StatusOr<std::unique_ptr<WorkerRig>> Create(const ServiceSetup& setup,
                                                           uint32_t flow_capacity);
  ~WorkerRig();
  WorkerRig(const WorkerRig&) = delete;
  WorkerRig& operator=(const WorkerRig&) = delete;

  // Empty flow tables, and a new worker to use them (Worker keeps references). The NAT
  // session table is kept: only for rigs without NAT.
  absl::Status ResetFlows();

  Worker& worker() { return *worker_; }
  FlowTable& flows() { return setup_.vip6 ? *flows6_ : *flows_; }  // the VIP's family
  NatSessionTable* nat_sessions() { return nat_sessions_.get(); }
  const ForwardingTable& table() const { return *publisher_->current(); }
  const LcoreCounters& counters() const { return stats_.counters; }
  const ServiceSetup& setup() const { return setup_; }

 private:
  WorkerRig(const ServiceSetup& setup, std::unique_ptr<TablePublisher> publisher, uint32_t capacity)
      : setup_(setup), publisher_(std::move(publisher)), capacity_(capacity) {}

  LcoreStats stats_;  // cache-line aligned: first, so that nothing pads around it
  ServiceSetup setup_;
  std::unique_ptr<TablePublisher> publisher_;
  NeighborTable neighbors_{kBackends};
  uint32_t capacity_;
  std::unique_ptr<NatSessionTable> nat_sessions_;  // after publisher_: its qsbr outlives it
  std::unique_ptr<FlowTable> flows_;
  std::unique_ptr<FlowTable> flows6_;
  FlowMailbox mailbox_;
  std::unique_ptr<Worker> worker_;  // last: destroyed before what it refers to
};

// --- Checks --------------------------------------------------------------------------

struct CounterSnapshot {
  uint64_t rx, tx, forwarded, drops, slow_path, hits, new_flows, table_full, nat_replies,
      nat_sessions_full;
  static CounterSnapshot Of(const LcoreCounters& c);
};

// What every packet of a case must have done, besides being received and sent once with
// nothing dropped, handed to the slow path or refused a flow entry or NAT session.
enum class Expect : uint8_t {
  kFlowHits,    // forwarded to a backend, its flow found
  kNewFlows,    // forwarded to a backend, its flow created
  kNatReplies,  // translated back to the VIP (no flow lookup)
};

// Empty when the counters moved as `expect` says for `packets` packets; otherwise what
// went wrong.
std::string CheckCounters(const CounterSnapshot& before, const CounterSnapshot& after,
                          uint64_t packets, Expect expect);

}  // namespace sluice::dataplane::bench

#endif  // SLUICE_BENCH_WORKER_RIG_H_
