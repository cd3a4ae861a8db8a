// Worker::ProcessBurst on synthetic bursts, with no NIC: one DR service with 10
// backends, a net_null port for TX (its TX frees the mbufs), everything on one lcore.
// Cases: established flows (1e3, 1e6, 1e7 flows, picked uniformly at random), the same
// plus a 256-entry aging sweep per burst (what Worker::PollOnce did up to 93e22c8), new
// flows (every packet a never-seen TCP SYN) and a baseline (parse + MAC swap + the same
// TX path), all in the same run. Every case allocates its mbufs and writes its frames the
// same way, so the differences are the worker's own cost. Command, machine and results:
// bench/RESULTS.md; how to run: bench/README.md.
#include <benchmark/benchmark.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "dataplane/counters.h"
#include "dataplane/flow_table.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/neighbor_table.h"
#include "dataplane/packet_parser.h"
#include "dataplane/port.h"
#include "dataplane/table_publisher.h"
#include "dataplane/worker.h"
#include "lb/maglev.h"

namespace sluice::dataplane {
namespace {

// A minimum-size Ethernet frame without FCS: Ethernet + IPv4 + TCP, 6 bytes of padding.
constexpr uint16_t kFrameLen = 60;
constexpr uint16_t kIpTotalLen = sizeof(rte_ipv4_hdr) + sizeof(rte_tcp_hdr);
constexpr size_t kSrcIpOffset = sizeof(rte_ether_hdr) + offsetof(rte_ipv4_hdr, src_addr);
constexpr size_t kSrcPortOffset =
    sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + offsetof(rte_tcp_hdr, src_port);
using Frame = std::array<uint8_t, kFrameLen>;

// The real loop flushes on a 100 us drain timer, i.e. after many bursts at these rates;
// rte_eth_tx_buffer sends by itself whenever 32 packets are buffered.
constexpr uint64_t kFlushEveryBursts = 4;

constexpr uint32_t kBackends = 10;
constexpr ServiceId kServiceId = 1;
constexpr uint16_t kServicePort = 80;
constexpr uint32_t kMaglevSize = lb::kDefaultMaglevTableSize;
// The flow table capacity the config gives by default (config.h FlowTableConfig).
constexpr uint32_t kDefaultFlowCapacity = 1048576;

uint32_t Ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return rte_cpu_to_be_32(RTE_IPV4(a, b, c, d));
}

// What a benchmark patches into the frame template: the client's address and port.
struct Tuple {
  uint32_t src_ip;  // network byte order
  uint16_t src_port;
  uint16_t pad;
};

// Established flow i comes from 11.0.0.0/8, new flow i from 12.0.0.0/8, so no new flow
// ever hits an established one.
Tuple EstablishedTuple(uint32_t i) {
  return {.src_ip = rte_cpu_to_be_32(RTE_IPV4(11, 0, 0, 0) + i),
          .src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + i % 60000)),
          .pad = 0};
}
Tuple NewFlowTuple(uint32_t i) {
  return {.src_ip = rte_cpu_to_be_32(RTE_IPV4(12, 0, 0, 0) + i),
          .src_port = rte_cpu_to_be_16(static_cast<uint16_t>(1024 + i % 60000)),
          .pad = 0};
}

// Flows drawn uniformly from [0, flows), precomputed so that the RNG is not timed. The
// length is a power of two (mask indexing) and at least the flow count, so a timed run
// does not replay a small hot subset of a large table.
std::vector<Tuple> RandomSequence(uint32_t flows, uint64_t seed) {
  const size_t length = std::max<size_t>(std::bit_ceil(flows), size_t{1} << 20);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<uint32_t> pick(0, flows - 1);
  std::vector<Tuple> sequence(length);
  for (Tuple& t : sequence) t = EstablishedTuple(pick(rng));
  return sequence;
}

// Set up once by main() before any benchmark runs.
struct BenchEnv {
  rte_mempool* pool = nullptr;
  uint16_t dpdk_port = 0;
  rte_ether_addr port_mac{};
  rte_ring* slow_path = nullptr;
  std::string runtime_dir;  // the EAL's, empty after cleanup; removed at exit
};
BenchEnv g_env;

Frame MakeFrame(uint8_t tcp_flags) {
  rte_ether_hdr eth{};
  eth.dst_addr = g_env.port_mac;
  eth.src_addr = rte_ether_addr{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};
  eth.ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
  rte_ipv4_hdr ip{};
  ip.version_ihl = RTE_IPV4_VHL_DEF;
  ip.total_length = rte_cpu_to_be_16(kIpTotalLen);
  ip.time_to_live = 64;
  ip.next_proto_id = IPPROTO_TCP;
  ip.src_addr = Ipv4(11, 0, 0, 0);
  ip.dst_addr = Ipv4(10, 0, 0, 1);
  // Checksum of the template only: patched copies are not re-summed, since neither the
  // worker nor the baseline checks it (DR leaves the IP header alone).
  ip.hdr_checksum = rte_ipv4_cksum(&ip);
  rte_tcp_hdr tcp{};
  tcp.src_port = rte_cpu_to_be_16(1024);
  tcp.dst_port = rte_cpu_to_be_16(kServicePort);
  tcp.data_off = 5 << 4;
  tcp.tcp_flags = tcp_flags;
  tcp.rx_win = rte_cpu_to_be_16(65535);
  Frame f{};
  std::memcpy(f.data(), &eth, sizeof(eth));
  std::memcpy(f.data() + sizeof(eth), &ip, sizeof(ip));
  std::memcpy(f.data() + sizeof(eth) + sizeof(ip), &tcp, sizeof(tcp));
  return f;
}

// The per-burst work every case shares: 32 mbufs from the pool, the template copied in
// and the 5-tuple patched.
[[gnu::always_inline]] inline bool FillBurst(const Frame& frame, const Tuple* tuples,
                                             std::array<rte_mbuf*, kBurstSize>& pkts) {
  if (rte_pktmbuf_alloc_bulk(g_env.pool, pkts.data(), kBurstSize) != 0) return false;
  for (uint16_t i = 0; i < kBurstSize; ++i) {
    rte_mbuf* m = pkts[i];
    auto* data = rte_pktmbuf_mtod(m, uint8_t*);
    std::memcpy(data, frame.data(), kFrameLen);
    std::memcpy(data + kSrcIpOffset, &tuples[i].src_ip, sizeof(tuples[i].src_ip));
    std::memcpy(data + kSrcPortOffset, &tuples[i].src_port, sizeof(tuples[i].src_port));
    m->data_len = kFrameLen;
    m->pkt_len = kFrameLen;
  }
  return true;
}

void SetRates(benchmark::State& state) {
  const auto packets = static_cast<int64_t>(state.iterations()) * kBurstSize;
  state.SetItemsProcessed(packets);
  // Time per packet: inverted rate, printed with an SI prefix ("31.2ns").
  state.counters["per_pkt"] = benchmark::Counter(
      kBurstSize, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// One DR service 10.0.0.1:80/TCP, backends 1..10 at 10.0.1.1..10 on port 0, Maglev
// table of the default size from lb::MaglevTable.
absl::StatusOr<std::unique_ptr<ForwardingTable>> BuildTable() {
  auto table = std::make_unique<ForwardingTable>();
  table->ports.push_back(PortInfo{.dpdk_port = g_env.dpdk_port,
                                  .mac = g_env.port_mac,
                                  .ipv4 = Ipv4(10, 0, 0, 2),
                                  .ipv4_mask = Ipv4(255, 255, 255, 0),
                                  .mtu = 1500});
  std::vector<lb::MaglevBackend> maglev_backends;
  table->backends.resize(kBackends + 1);
  for (uint32_t id = 1; id <= kBackends; ++id) {
    const uint32_t address = Ipv4(10, 0, 1, static_cast<uint8_t>(id));
    table->backends[id] = BackendInfo{.present = true,
                                      .service = kServiceId,
                                      .address = address,
                                      .port = rte_cpu_to_be_16(kServicePort),
                                      .egress_port = 0,
                                      .neighbor = id - 1};
    lb::MaglevBackend b;
    b.id = id;
    std::memcpy(b.identity.address.data(), &address, sizeof(address));
    b.identity.port = kServicePort;
    b.weight = 1;
    maglev_backends.push_back(b);
  }
  absl::StatusOr<lb::MaglevTable> maglev = lb::MaglevTable::Build(maglev_backends, kMaglevSize);
  if (!maglev.ok()) return maglev.status();
  ServiceInfo service{.id = kServiceId,
                      .mode = ForwardingMode::kDr,
                      .ip_proto = IPPROTO_TCP,
                      .vip = Ipv4(10, 0, 0, 1),
                      .port = rte_cpu_to_be_16(kServicePort),
                      .maglev = {}};
  service.maglev.assign(maglev->slots().begin(), maglev->slots().end());
  table->service_by_vip[VipKey{
      .address = service.vip, .port = service.port, .ip_proto = service.ip_proto}] = 0;
  table->vip_addresses[service.vip] = VipAddressInfo{.answer_arp = true};
  table->services.push_back(std::move(service));
  return table;
}

// rte_hash names are process-wide: every flow table gets its own.
uint32_t g_next_table_id = 0;

// A worker with everything it reads: the published table, resolved neighbours, its own
// counters and flow table.
class WorkerRig {
 public:
  static absl::StatusOr<std::unique_ptr<WorkerRig>> Create(uint32_t flow_capacity) {
    absl::StatusOr<std::unique_ptr<TablePublisher>> publisher = TablePublisher::Create(1);
    if (!publisher.ok()) return publisher.status();
    absl::StatusOr<std::unique_ptr<ForwardingTable>> table = BuildTable();
    if (!table.ok()) return table.status();
    (*publisher)->Publish(*std::move(table));
    auto rig = std::unique_ptr<WorkerRig>(new WorkerRig(*std::move(publisher), flow_capacity));
    for (uint32_t i = 0; i < kBackends; ++i) {
      rig->neighbors_.SetResolved(
          i, rte_ether_addr{{0x02, 0x00, 0x00, 0x00, 0x01, static_cast<uint8_t>(i + 1)}});
    }
    if (absl::Status s = rig->ResetFlows(); !s.ok()) return s;
    return rig;
  }

  ~WorkerRig() {
    if (worker_ != nullptr) worker_->FlushTx();
  }

  // An empty flow table, and a new worker to use it (Worker keeps a reference).
  absl::Status ResetFlows() {
    if (worker_ != nullptr) worker_->FlushTx();
    worker_.reset();
    flows_.reset();
    flows6_.reset();
    absl::StatusOr<std::unique_ptr<FlowTable>> flows =
        FlowTable::Create(absl::StrFormat("bench_flows_%u", g_next_table_id++), capacity_,
                          static_cast<int>(rte_socket_id()));
    if (!flows.ok()) return flows.status();
    flows_ = *std::move(flows);
    absl::StatusOr<std::unique_ptr<FlowTable>> flows6 =
        FlowTable::Create(absl::StrFormat("bench_flows6_%u", g_next_table_id++), 1024,
                          static_cast<int>(rte_socket_id()), FlowFamily::kIpv6);
    if (!flows6.ok()) return flows6.status();
    flows6_ = *std::move(flows6);
    WorkerSetup setup;
    setup.index = 0;
    setup.dpdk_ports = {g_env.dpdk_port};
    worker_ = std::make_unique<Worker>(setup, WorkerContext{.publisher = *publisher_,
                                                            .neighbors = neighbors_,
                                                            .flows = *flows_,
                                                            .flows6 = *flows6_,
                                                            .stats = stats_,
                                                            .slow_path = g_env.slow_path});
    return absl::OkStatus();
  }

  Worker& worker() { return *worker_; }
  FlowTable& flows() { return *flows_; }
  const ForwardingTable& table() const { return *publisher_->current(); }
  const LcoreCounters& counters() const { return stats_.counters; }

 private:
  WorkerRig(std::unique_ptr<TablePublisher> publisher, uint32_t capacity)
      : publisher_(std::move(publisher)), capacity_(capacity) {}

  LcoreStats stats_;  // cache-line aligned: first, so that nothing pads around it
  std::unique_ptr<TablePublisher> publisher_;
  NeighborTable neighbors_{kBackends};
  uint32_t capacity_;
  std::unique_ptr<FlowTable> flows_;
  std::unique_ptr<FlowTable> flows6_;
  std::unique_ptr<Worker> worker_;  // last: destroyed before what it refers to
};

// Checks the worker did what the case assumes: every packet forwarded, nothing dropped
// or handed to the slow path, flows hit (or created) as expected.
struct CounterSnapshot {
  uint64_t rx, forwarded, drops, slow_path, hits, new_flows, table_full;
  static CounterSnapshot Of(const LcoreCounters& c) {
    return {.rx = c.rx_packets,
            .forwarded = c.forwarded_packets,
            .drops = c.total_drops(),
            .slow_path = c.slow_path_packets,
            .hits = c.flow_hits,
            .new_flows = c.new_flows,
            .table_full = c.flow_table_full};
  }
};

std::string CheckCounters(const CounterSnapshot& before, const CounterSnapshot& after,
                          uint64_t packets, bool expect_new) {
  const uint64_t forwarded = after.forwarded - before.forwarded;
  const uint64_t hits = after.hits - before.hits;
  const uint64_t created = after.new_flows - before.new_flows;
  const bool ok = after.rx - before.rx == packets && forwarded == packets &&
                  after.drops == before.drops && after.slow_path == before.slow_path &&
                  after.table_full == before.table_full &&
                  (expect_new ? created == packets && hits == 0 : hits == packets && created == 0);
  if (ok) return "";
  return absl::StrFormat(
      "unexpected worker counters for %u packets: forwarded %u, hits %u, new flows %u, "
      "drops %u, slow path %u, table full %u",
      packets, forwarded, hits, created, after.drops - before.drops,
      after.slow_path - before.slow_path, after.table_full - before.table_full);
}

// --- Established flows ---------------------------------------------------------------

struct EstablishedRig {
  std::unique_ptr<WorkerRig> rig;
  std::vector<Tuple> sequence;
};

// Built once per flow count and kept for every run and repetition of that count (the
// 10M pre-fill takes seconds), so repetitions can also be interleaved.
std::map<uint32_t, std::unique_ptr<EstablishedRig>> g_established;

absl::StatusOr<EstablishedRig*> GetEstablished(uint32_t flows) {
  if (auto it = g_established.find(flows); it != g_established.end()) return it->second.get();
  auto est = std::make_unique<EstablishedRig>();
  // Twice the flows: an operator sizes the table with headroom; rte_hash rounds the
  // bucket array up to a power of two, so it is 30-50% full.
  absl::StatusOr<std::unique_ptr<WorkerRig>> rig = WorkerRig::Create(2 * flows);
  if (!rig.ok()) return rig.status();
  est->rig = *std::move(rig);

  // Pre-fill: every flow once, in order, as a SYN.
  const Frame syn = MakeFrame(RTE_TCP_SYN_FLAG);
  std::array<rte_mbuf*, kBurstSize> pkts{};
  std::array<Tuple, kBurstSize> tuples{};
  const CounterSnapshot before = CounterSnapshot::Of(est->rig->counters());
  uint32_t sent = 0;
  while (sent < flows) {
    for (uint32_t i = 0; i < kBurstSize; ++i) tuples[i] = EstablishedTuple((sent + i) % flows);
    const auto n = static_cast<uint16_t>(std::min<uint32_t>(kBurstSize, flows - sent));
    if (!FillBurst(syn, tuples.data(), pkts)) return absl::ResourceExhaustedError("mbuf pool");
    rte_pktmbuf_free_bulk(pkts.data() + n, kBurstSize - n);
    est->rig->worker().ProcessBurst(est->rig->table(), 0, pkts.data(), n);
    sent += n;
  }
  est->rig->worker().FlushTx();
  const std::string error =
      CheckCounters(before, CounterSnapshot::Of(est->rig->counters()), flows, /*expect_new=*/true);
  if (!error.empty()) return absl::InternalError("pre-fill: " + error);
  if (est->rig->flows().size() != flows) {
    return absl::InternalError(absl::StrFormat("pre-fill left %u flows in the table, not %u",
                                               est->rig->flows().size(), flows));
  }
  est->sequence = RandomSequence(flows, /*seed=*/flows);
  return g_established.emplace(flows, std::move(est)).first->second.get();
}

// Aging as Worker::PollOnce did it up to commit 93e22c8: FlowTable::Sweep over 256
// entries every loop iteration, i.e. every burst under load (bench/RESULTS.md).
constexpr uint32_t kSweepPerBurst = 256;

// `sweep`: also run FlowTable::Sweep(kSweepPerBurst) after every burst. Nothing expires
// (infinite timeouts): this is the cost of looking, not of deleting.
void RunEstablished(benchmark::State& state, bool sweep) {
  absl::StatusOr<EstablishedRig*> est = GetEstablished(static_cast<uint32_t>(state.range(0)));
  if (!est.ok()) {
    state.SkipWithError(std::string(est.status().message()).c_str());
    return;
  }
  WorkerRig& rig = *(*est)->rig;
  const std::vector<Tuple>& sequence = (*est)->sequence;
  const size_t mask = sequence.size() - 1;
  const Frame ack = MakeFrame(RTE_TCP_ACK_FLAG);
  const ForwardingTable& table = rig.table();
  Worker& worker = rig.worker();
  std::array<rte_mbuf*, kBurstSize> pkts{};
  const CounterSnapshot before = CounterSnapshot::Of(rig.counters());
  size_t next = 0;
  uint64_t bursts = 0;
  uint32_t expired = 0;
  for (auto _ : state) {
    if (!FillBurst(ack, &sequence[next], pkts)) {
      state.SkipWithError("mbuf pool empty");
      break;
    }
    next = (next + kBurstSize) & mask;
    worker.ProcessBurst(table, 0, pkts.data(), kBurstSize);
    if (sweep) expired += rig.flows().Sweep(0, kSweepPerBurst, UINT32_MAX, UINT32_MAX);
    if (++bursts % kFlushEveryBursts == 0) worker.FlushTx();
  }
  worker.FlushTx();
  const std::string error = CheckCounters(before, CounterSnapshot::Of(rig.counters()),
                                          state.iterations() * kBurstSize, false);
  if (!error.empty()) state.SkipWithError(error.c_str());
  if (expired != 0) state.SkipWithError("the sweep removed flows");
  SetRates(state);
}

void BM_Established(benchmark::State& state) { RunEstablished(state, /*sweep=*/false); }
void BM_EstablishedWithSweep(benchmark::State& state) { RunEstablished(state, /*sweep=*/true); }

// --- New flows -----------------------------------------------------------------------

// A table of the default capacity, filled from empty by the timed bursts up to fill_pct
// percent of its capacity, then replaced by an empty one (untimed). Every insert
// succeeds. The cost depends on how full the table is: rte_hash rounds the bucket array
// to the capacity here (2^20 slots), so near 100% most inserts must displace entries
// (cuckoo search) while below 50% almost none do. Each run therefore starts from an
// empty table and does a whole number of fills (fixed iteration counts below), so that
// every repetition averages over the same range of occupancy.
struct NewFlowRig {
  std::unique_ptr<WorkerRig> rig;
  std::vector<Tuple> tuples;  // distinct 5-tuples, one per insert before the reset
  size_t next = 0;
};
std::map<uint32_t, std::unique_ptr<NewFlowRig>> g_new_flows;  // by fill_pct

constexpr int64_t BurstsPerFill(uint32_t fill_pct) {
  return int64_t{kDefaultFlowCapacity} * fill_pct / 100 / kBurstSize;
}

absl::StatusOr<NewFlowRig*> GetNewFlows(uint32_t fill_pct) {
  if (auto it = g_new_flows.find(fill_pct); it != g_new_flows.end()) return it->second.get();
  absl::StatusOr<std::unique_ptr<WorkerRig>> rig = WorkerRig::Create(kDefaultFlowCapacity);
  if (!rig.ok()) return rig.status();
  auto nf = std::make_unique<NewFlowRig>();
  nf->rig = *std::move(rig);
  const auto inserts = static_cast<uint32_t>(BurstsPerFill(fill_pct) * kBurstSize);
  nf->tuples.resize(inserts);
  for (uint32_t i = 0; i < inserts; ++i) nf->tuples[i] = NewFlowTuple(i);
  return g_new_flows.emplace(fill_pct, std::move(nf)).first->second.get();
}

void BM_NewFlows(benchmark::State& state) {
  absl::StatusOr<NewFlowRig*> rig = GetNewFlows(static_cast<uint32_t>(state.range(0)));
  if (!rig.ok()) {
    state.SkipWithError(std::string(rig.status().message()).c_str());
    return;
  }
  NewFlowRig& nf = **rig;
  if (nf.next != 0) {
    if (absl::Status s = nf.rig->ResetFlows(); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
    nf.next = 0;
  }
  const Frame syn = MakeFrame(RTE_TCP_SYN_FLAG);
  std::array<rte_mbuf*, kBurstSize> pkts{};
  const CounterSnapshot before = CounterSnapshot::Of(nf.rig->counters());
  uint64_t bursts = 0;
  for (auto _ : state) {
    if (nf.next == nf.tuples.size()) {
      state.PauseTiming();
      if (absl::Status s = nf.rig->ResetFlows(); !s.ok()) {
        state.SkipWithError(std::string(s.message()).c_str());
        break;
      }
      nf.next = 0;
      state.ResumeTiming();
    }
    if (!FillBurst(syn, &nf.tuples[nf.next], pkts)) {
      state.SkipWithError("mbuf pool empty");
      break;
    }
    nf.next += kBurstSize;
    // Each packet: bulk lookup (a miss), Maglev pick, insert.
    nf.rig->worker().ProcessBurst(nf.rig->table(), 0, pkts.data(), kBurstSize);
    if (++bursts % kFlushEveryBursts == 0) nf.rig->worker().FlushTx();
  }
  nf.rig->worker().FlushTx();
  const std::string error = CheckCounters(before, CounterSnapshot::Of(nf.rig->counters()),
                                          state.iterations() * kBurstSize, true);
  if (!error.empty()) state.SkipWithError(error.c_str());
  SetRates(state);
}

// --- Baseline ------------------------------------------------------------------------

// The least any forwarder does: parse, swap the MACs, and send through a TX buffer like
// the worker's (rte_eth_tx_buffer of 32, flushed every kFlushEveryBursts bursts).
void BM_Baseline(benchmark::State& state) {
  static const std::vector<Tuple> sequence = RandomSequence(1000000, /*seed=*/1);
  const size_t mask = sequence.size() - 1;
  const Frame ack = MakeFrame(RTE_TCP_ACK_FLAG);
  auto* buffer = static_cast<rte_eth_dev_tx_buffer*>(
      rte_zmalloc("bench_tx_buffer", RTE_ETH_TX_BUFFER_SIZE(kBurstSize), 0));
  if (buffer == nullptr || rte_eth_tx_buffer_init(buffer, kBurstSize) != 0) {
    state.SkipWithError("cannot allocate a TX buffer");
    rte_free(buffer);
    return;
  }
  std::array<rte_mbuf*, kBurstSize> pkts{};
  size_t next = 0;
  uint64_t bursts = 0;
  uint64_t dropped = 0;
  for (auto _ : state) {
    if (!FillBurst(ack, &sequence[next], pkts)) {
      state.SkipWithError("mbuf pool empty");
      break;
    }
    next = (next + kBurstSize) & mask;
    for (rte_mbuf* m : pkts) {
      const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
      ParsedPacket p =
          ParseFrame(data, std::min<uint32_t>(rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m)));
      benchmark::DoNotOptimize(p);  // keep the whole parse, as the worker uses it
      if (p.kind != PacketKind::kIpv4) [[unlikely]] {
        ++dropped;
        rte_pktmbuf_free(m);
        continue;
      }
      auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
      const rte_ether_addr src = eth->src_addr;
      eth->src_addr = eth->dst_addr;
      eth->dst_addr = src;
      rte_eth_tx_buffer(g_env.dpdk_port, 0, buffer, m);
    }
    if (++bursts % kFlushEveryBursts == 0) rte_eth_tx_buffer_flush(g_env.dpdk_port, 0, buffer);
  }
  rte_eth_tx_buffer_flush(g_env.dpdk_port, 0, buffer);
  rte_free(buffer);
  if (dropped != 0) state.SkipWithError("baseline dropped packets");
  SetRates(state);
}

// The smoke test (bench/meson.build) filters on these names: keep 1000 the only small
// established case.
BENCHMARK(BM_Baseline)->UseRealTime();
BENCHMARK(BM_Established)->ArgName("flows")->Arg(1000)->Arg(1000000)->Arg(10000000)->UseRealTime();
BENCHMARK(BM_EstablishedWithSweep)
    ->ArgName("flows")
    ->Arg(1000)
    ->Arg(1000000)
    ->Arg(10000000)
    ->UseRealTime();
// About 2M packets per run each: four fills to 50%, two to 100%.
BENCHMARK(BM_NewFlows)
    ->ArgName("fill_pct")
    ->Arg(50)
    ->Iterations(4 * BurstsPerFill(50))
    ->UseRealTime();
BENCHMARK(BM_NewFlows)
    ->ArgName("fill_pct")
    ->Arg(100)
    ->Iterations(2 * BurstsPerFill(100))
    ->UseRealTime();

absl::Status SetUp() {
  const std::vector<std::string> eal_args = {
      "worker_bench",
      "--no-huge",
      // The 10M-flow table (sized for 20M keys) takes about 1.3 GiB of rte_malloc
      // memory, all cases together about 1.5 GiB (1.8 GiB peak RSS); the rest is
      // headroom. Pages are only touched when used.
      "-m",
      "4096",
      "--no-shconf",
      "--no-pci",
      "--file-prefix",
      absl::StrFormat("sluice-bench-%d", getpid()),
      "-l",
      "0",
      "--vdev",
      "net_null0",
      "--log-level",
      "lib.eal:warning",
  };
  if (absl::Status s = InitEal(eal_args); !s.ok()) return s;
  g_env.runtime_dir = rte_eal_get_runtime_dir();
  absl::StatusOr<rte_mempool*> pool = CreatePacketPool(PacketPoolSize{});
  if (!pool.ok()) return pool.status();
  g_env.pool = *pool;
  absl::StatusOr<StartedPort> port =
      StartPort(PortSetup{.name = "bench", .ethdev_name = "net_null0"}, g_env.pool);
  if (!port.ok()) return port.status();
  g_env.dpdk_port = port->dpdk_port;
  g_env.port_mac = port->mac;
  g_env.slow_path = rte_ring_create("bench_slow_path", 1024, static_cast<int>(rte_socket_id()),
                                    RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (g_env.slow_path == nullptr) return absl::ResourceExhaustedError("slow-path ring");
  return absl::OkStatus();
}

void TearDown() {
  g_established.clear();
  g_new_flows.clear();
  StopPort(g_env.dpdk_port);
  rte_ring_free(g_env.slow_path);
  rte_mempool_free(g_env.pool);
  CleanupEal();
  // rte_eal_cleanup leaves /var/run/dpdk/<file-prefix> behind; one per run would pile up.
  rmdir(g_env.runtime_dir.c_str());
}

}  // namespace
}  // namespace sluice::dataplane

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (absl::Status s = sluice::dataplane::SetUp(); !s.ok()) {
    std::fprintf(stderr, "worker_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  sluice::dataplane::TearDown();
  return 0;
}
