// Worker::ProcessBurst on synthetic bursts, with no NIC: one service with 10 backends, a
// net_null port for TX (its TX frees the mbufs), everything on one lcore (the rig:
// worker_rig.h). Cases: established flows of a DR IPv4 service (1e3, 1e6, 1e7 flows,
// picked uniformly at random), the same plus a 256-entry aging sweep per burst (what
// Worker::PollOnce did up to 93e22c8), new flows (every packet a never-seen TCP SYN),
// established flows in the other modes and families (DR over IPv6, tunnel IPv4-in-IPv4,
// IPv6-in-IPv6 and IPv4-in-IPv6, NAT client -> VIP) and NAT replies (backend -> client
// through the shared session table), and a baseline (parse + MAC swap + the same TX
// path), all in the same run. Every case allocates its mbufs and writes its frames the
// same way, so the differences are the worker's own cost. Command, machine and results:
// bench/RESULTS.md; how to run: bench/README.md.
#include <benchmark/benchmark.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "bench/worker_rig.h"
#include "dataplane/flow_table.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/packet_parser.h"
#include "dataplane/worker.h"

namespace sluice::dataplane::bench {
namespace {

// The real loop flushes on a 100 us drain timer, i.e. after many bursts at these rates;
// rte_eth_tx_buffer sends by itself whenever 32 packets are buffered.
constexpr uint64_t kFlushEveryBursts = 4;

// The flow table capacity the config gives by default (config.h FlowTableConfig).
constexpr uint32_t kDefaultFlowCapacity = 1048576;

// Set when a case failed: Google Benchmark reports a skipped case but still exits with
// 0, and the smoke test (bench/meson.build) must fail when packets stop being forwarded.
bool g_failed = false;

void Fail(benchmark::State& state, absl::string_view why) {
  g_failed = true;
  state.SkipWithError(std::string(why).c_str());
}

void SetRates(benchmark::State& state) {
  const auto packets = static_cast<int64_t>(state.iterations()) * kBurstSize;
  state.SetItemsProcessed(packets);
  // Time per packet: inverted rate, printed with an SI prefix ("31.2ns").
  state.counters["per_pkt"] = benchmark::Counter(
      kBurstSize, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// The timed loop every established case runs: fresh frames from `frame` patched with
// the tuples of `sequence` in order (wrapping; its size is a power of two), one
// ProcessBurst per iteration, a flush every kFlushEveryBursts. Then the counters must
// say that every packet did what `expect` says. `sweep`: also run FlowTable::Sweep over
// `sweep` entries after every burst; nothing expires (infinite timeouts): this is the
// cost of looking, not of deleting.
template <typename Layout>
void TimeBursts(benchmark::State& state, WorkerRig& rig, const FrameOf<Layout>& frame,
                const std::vector<typename Layout::TupleType>& sequence, Expect expect,
                uint32_t sweep = 0) {
  const size_t mask = sequence.size() - 1;
  const ForwardingTable& table = rig.table();
  Worker& worker = rig.worker();
  std::array<rte_mbuf*, kBurstSize> pkts{};
  const CounterSnapshot before = CounterSnapshot::Of(rig.counters());
  size_t next = 0;
  uint64_t bursts = 0;
  uint32_t expired = 0;
  for (auto _ : state) {
    if (!FillBurst<Layout>(frame, &sequence[next], pkts)) {
      Fail(state, "mbuf pool empty");
      break;
    }
    next = (next + kBurstSize) & mask;
    worker.ProcessBurst(table, 0, pkts.data(), kBurstSize);
    if (sweep != 0) expired += rig.flows().Sweep(0, sweep, UINT32_MAX, UINT32_MAX);
    if (++bursts % kFlushEveryBursts == 0) worker.FlushTx();
  }
  worker.FlushTx();
  const std::string error = CheckCounters(before, CounterSnapshot::Of(rig.counters()),
                                          state.iterations() * kBurstSize, expect);
  if (!error.empty()) Fail(state, error);
  if (expired != 0) Fail(state, "the sweep removed flows");
  SetRates(state);
}

// --- Established flows ---------------------------------------------------------------

// The service each established case forwards to (worker_rig.h ServiceSetup).
enum class Scenario : uint8_t { kDr4, kDr6, kTunnel4in4, kTunnel6in6, kTunnel4in6, kNat4 };

ServiceSetup SetupOf(Scenario scenario) {
  switch (scenario) {
    case Scenario::kDr4:
      return {.mode = ForwardingMode::kDr};
    case Scenario::kDr6:
      return {.mode = ForwardingMode::kDr, .vip6 = true};
    case Scenario::kTunnel4in4:
      return {.mode = ForwardingMode::kTunnel};
    case Scenario::kTunnel6in6:
      return {.mode = ForwardingMode::kTunnel, .vip6 = true};
    case Scenario::kTunnel4in6:
      return {.mode = ForwardingMode::kTunnel, .backends6 = true};
    case Scenario::kNat4:
      return {.mode = ForwardingMode::kNat};
  }
  return {};
}

struct EstablishedRig {
  std::unique_ptr<WorkerRig> rig;
  std::vector<Tuple> sequence;
  // NAT: the reply to each packet of `sequence`, from the backend its flow went to.
  std::vector<ReplyTuple> replies;
};

// Built once per (scenario, flow count) and kept for every run and repetition (the 10M
// pre-fill takes seconds), so repetitions can also be interleaved. The NAT forward and
// reply cases share a rig: the forward pre-fill creates the sessions the replies use.
std::map<std::pair<Scenario, uint32_t>, std::unique_ptr<EstablishedRig>> g_established;

// Every flow once, in order, as a SYN: each creates its flow (and for NAT its session).
template <typename Layout>
absl::Status PreFill(WorkerRig& rig, const FrameOf<Layout>& syn, uint32_t flows) {
  std::array<rte_mbuf*, kBurstSize> pkts{};
  std::array<Tuple, kBurstSize> tuples{};
  const CounterSnapshot before = CounterSnapshot::Of(rig.counters());
  uint32_t sent = 0;
  while (sent < flows) {
    for (uint32_t i = 0; i < kBurstSize; ++i) tuples[i] = EstablishedTuple((sent + i) % flows);
    const auto n = static_cast<uint16_t>(std::min<uint32_t>(kBurstSize, flows - sent));
    if (!FillBurst<Layout>(syn, tuples.data(), pkts)) {
      return absl::ResourceExhaustedError("mbuf pool");
    }
    rte_pktmbuf_free_bulk(pkts.data() + n, kBurstSize - n);
    rig.worker().ProcessBurst(rig.table(), 0, pkts.data(), n);
    sent += n;
  }
  rig.worker().FlushTx();
  const std::string error =
      CheckCounters(before, CounterSnapshot::Of(rig.counters()), flows, Expect::kNewFlows);
  if (!error.empty()) return absl::InternalError("pre-fill: " + error);
  return absl::OkStatus();
}

// The reply backend -> client for each client packet of `sequence`: the backend is the
// one the flow table holds for it.
absl::StatusOr<std::vector<ReplyTuple>> NatReplies(WorkerRig& rig,
                                                   const std::vector<Tuple>& sequence) {
  const ServiceInfo& svc = rig.table().services[0];
  std::vector<ReplyTuple> replies(sequence.size());
  for (size_t i = 0; i < sequence.size(); ++i) {
    const FlowKeyV4 key{.src_ip = sequence[i].src_ip,
                        .dst_ip = svc.vip,
                        .src_port = sequence[i].src_port,
                        .dst_port = svc.port,
                        .ip_proto = svc.ip_proto,
                        .pad = {0, 0, 0}};
    const int32_t pos = rig.flows().Lookup(&key, rig.flows().Hash(key));
    const BackendInfo* backend =
        pos == FlowTable::kMiss ? nullptr : rig.table().Backend(rig.flows().entry(pos).backend);
    if (backend == nullptr) return absl::InternalError("a pre-filled NAT flow has no backend");
    replies[i] = ReplyTuple{.backend_ip = backend->address,
                            .client_ip = sequence[i].src_ip,
                            .client_port = sequence[i].src_port,
                            .pad = 0};
  }
  return replies;
}

absl::StatusOr<EstablishedRig*> GetEstablished(Scenario scenario, uint32_t flows) {
  const auto id = std::make_pair(scenario, flows);
  if (auto it = g_established.find(id); it != g_established.end()) return it->second.get();
  const ServiceSetup setup = SetupOf(scenario);
  auto est = std::make_unique<EstablishedRig>();
  // Twice the flows: an operator sizes the table with headroom; rte_hash rounds the
  // bucket array up to a power of two, so it is 30-50% full.
  absl::StatusOr<std::unique_ptr<WorkerRig>> rig = WorkerRig::Create(setup, 2 * flows);
  if (!rig.ok()) return rig.status();
  est->rig = *std::move(rig);
  WorkerRig& r = *est->rig;
  const absl::Status filled =
      setup.vip6 ? PreFill<ClientFrame6>(r, MakeClientFrame6(RTE_TCP_SYN_FLAG), flows)
                 : PreFill<ClientFrame4>(r, MakeClientFrame4(RTE_TCP_SYN_FLAG), flows);
  if (!filled.ok()) return filled;
  if (r.flows().size() != flows) {
    return absl::InternalError(
        absl::StrFormat("pre-fill left %u flows in the table, not %u", r.flows().size(), flows));
  }
  est->sequence = RandomSequence(flows, /*seed=*/flows);
  if (r.nat_sessions() != nullptr) {
    if (r.nat_sessions()->size() != flows) {
      return absl::InternalError(absl::StrFormat("pre-fill left %u NAT sessions, not %u",
                                                 r.nat_sessions()->size(), flows));
    }
    absl::StatusOr<std::vector<ReplyTuple>> replies = NatReplies(r, est->sequence);
    if (!replies.ok()) return replies.status();
    est->replies = *std::move(replies);
  }
  return g_established.emplace(id, std::move(est)).first->second.get();
}

// Aging as Worker::PollOnce did it up to commit 93e22c8: FlowTable::Sweep over 256
// entries every loop iteration, i.e. every burst under load (bench/RESULTS.md).
constexpr uint32_t kSweepPerBurst = 256;

// Client -> VIP packets (TCP ACKs) of established flows of `scenario`, state.range(0)
// flows.
void RunEstablished(benchmark::State& state, Scenario scenario, uint32_t sweep = 0) {
  absl::StatusOr<EstablishedRig*> est =
      GetEstablished(scenario, static_cast<uint32_t>(state.range(0)));
  if (!est.ok()) {
    Fail(state, est.status().message());
    return;
  }
  WorkerRig& rig = *(*est)->rig;
  if (rig.setup().vip6) {
    TimeBursts<ClientFrame6>(state, rig, MakeClientFrame6(RTE_TCP_ACK_FLAG), (*est)->sequence,
                             Expect::kFlowHits, sweep);
  } else {
    TimeBursts<ClientFrame4>(state, rig, MakeClientFrame4(RTE_TCP_ACK_FLAG), (*est)->sequence,
                             Expect::kFlowHits, sweep);
  }
}

void BM_Established(benchmark::State& state) { RunEstablished(state, Scenario::kDr4); }
void BM_EstablishedWithSweep(benchmark::State& state) {
  RunEstablished(state, Scenario::kDr4, kSweepPerBurst);
}
// IPv6 services take the per-packet path (Worker::HandleIpv6 -> ForwardFlow6), not the
// staged burst.
void BM_EstablishedDr6(benchmark::State& state) { RunEstablished(state, Scenario::kDr6); }
void BM_EstablishedTunnel4in4(benchmark::State& state) {
  RunEstablished(state, Scenario::kTunnel4in4);
}
void BM_EstablishedTunnel6in6(benchmark::State& state) {
  RunEstablished(state, Scenario::kTunnel6in6);
}
void BM_EstablishedTunnel4in6(benchmark::State& state) {
  RunEstablished(state, Scenario::kTunnel4in6);
}
void BM_EstablishedNat(benchmark::State& state) { RunEstablished(state, Scenario::kNat4); }

// NAT replies, backend -> client, for the flows of the NAT rig (uniformly at random, the
// same sequence as BM_EstablishedNat): no flow lookup, a session lookup in the shared
// table (Worker::HandleNatReply), the source rewritten to the VIP.
void BM_NatReply(benchmark::State& state) {
  absl::StatusOr<EstablishedRig*> est =
      GetEstablished(Scenario::kNat4, static_cast<uint32_t>(state.range(0)));
  if (!est.ok()) {
    Fail(state, est.status().message());
    return;
  }
  TimeBursts<ReplyFrame4>(state, *(*est)->rig, MakeReplyFrame4(), (*est)->replies,
                          Expect::kNatReplies);
}

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
  absl::StatusOr<std::unique_ptr<WorkerRig>> rig =
      WorkerRig::Create(SetupOf(Scenario::kDr4), kDefaultFlowCapacity);
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
    Fail(state, rig.status().message());
    return;
  }
  NewFlowRig& nf = **rig;
  if (nf.next != 0) {
    if (absl::Status s = nf.rig->ResetFlows(); !s.ok()) {
      Fail(state, s.message());
      return;
    }
    nf.next = 0;
  }
  const FrameOf<ClientFrame4> syn = MakeClientFrame4(RTE_TCP_SYN_FLAG);
  std::array<rte_mbuf*, kBurstSize> pkts{};
  const CounterSnapshot before = CounterSnapshot::Of(nf.rig->counters());
  uint64_t bursts = 0;
  for (auto _ : state) {
    if (nf.next == nf.tuples.size()) {
      state.PauseTiming();
      if (absl::Status s = nf.rig->ResetFlows(); !s.ok()) {
        Fail(state, s.message());
        break;
      }
      nf.next = 0;
      state.ResumeTiming();
    }
    if (!FillBurst<ClientFrame4>(syn, &nf.tuples[nf.next], pkts)) {
      Fail(state, "mbuf pool empty");
      break;
    }
    nf.next += kBurstSize;
    // Each packet: bulk lookup (a miss), Maglev pick, insert.
    nf.rig->worker().ProcessBurst(nf.rig->table(), 0, pkts.data(), kBurstSize);
    if (++bursts % kFlushEveryBursts == 0) nf.rig->worker().FlushTx();
  }
  nf.rig->worker().FlushTx();
  const std::string error = CheckCounters(before, CounterSnapshot::Of(nf.rig->counters()),
                                          state.iterations() * kBurstSize, Expect::kNewFlows);
  if (!error.empty()) Fail(state, error);
  SetRates(state);
}

// --- Baseline ------------------------------------------------------------------------

// The least any forwarder does: parse, swap the MACs, and send through a TX buffer like
// the worker's (rte_eth_tx_buffer of 32, flushed every kFlushEveryBursts bursts).
void BM_Baseline(benchmark::State& state) {
  static const std::vector<Tuple> sequence = RandomSequence(1000000, /*seed=*/1);
  const size_t mask = sequence.size() - 1;
  const FrameOf<ClientFrame4> ack = MakeClientFrame4(RTE_TCP_ACK_FLAG);
  auto* buffer = static_cast<rte_eth_dev_tx_buffer*>(
      rte_zmalloc("bench_tx_buffer", RTE_ETH_TX_BUFFER_SIZE(kBurstSize), 0));
  if (buffer == nullptr || rte_eth_tx_buffer_init(buffer, kBurstSize) != 0) {
    Fail(state, "cannot allocate a TX buffer");
    rte_free(buffer);
    return;
  }
  std::array<rte_mbuf*, kBurstSize> pkts{};
  size_t next = 0;
  uint64_t bursts = 0;
  uint64_t dropped = 0;
  for (auto _ : state) {
    if (!FillBurst<ClientFrame4>(ack, &sequence[next], pkts)) {
      Fail(state, "mbuf pool empty");
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
  if (dropped != 0) Fail(state, "baseline dropped packets");
  SetRates(state);
}

// Whole worker loop iterations (Worker::PollOnce, what Worker::Run repeats): rx_burst
// from the net_null port, whose RX hands out 32 pool mbufs of 64 bytes per call, the
// staged burst, aging, the drain timer and the per-iteration bookkeeping (busy-time
// accounting included). The pool's buffers are zeroed first, so every frame is the same
// all-zero frame, which the parser drops: a busy iteration whose packet work is small,
// to show the loop's fixed costs. Per packet as everywhere; x32 for per iteration.
std::unique_ptr<WorkerRig> g_poll_rig;

void BM_PollOnceNullRx(benchmark::State& state) {
  std::unique_ptr<WorkerRig>& rig = g_poll_rig;
  if (rig == nullptr) {
    absl::StatusOr<std::unique_ptr<WorkerRig>> made =
        WorkerRig::Create({.mode = ForwardingMode::kDr}, 1024);
    if (!made.ok()) {
      Fail(state, made.status().message());
      return;
    }
    rig = *std::move(made);
    std::vector<rte_mbuf*> all;
    while (rte_mbuf* m = rte_pktmbuf_alloc(g_env.pool)) {
      std::memset(m->buf_addr, 0, m->buf_len);
      all.push_back(m);
    }
    for (rte_mbuf* m : all) rte_pktmbuf_free(m);
  }
  Worker& worker = rig->worker();
  const LcoreCounters before = rig->counters();
  for (auto _ : state) benchmark::DoNotOptimize(worker.PollOnce());
  const LcoreCounters& after = rig->counters();
  const uint64_t rx = after.rx_packets - before.rx_packets;
  if (rx != static_cast<uint64_t>(state.iterations()) * kBurstSize)
    Fail(state, "not 32 packets per iteration");
  if (after.total_drops() - before.total_drops() != rx) Fail(state, "not every packet dropped");
  // Every iteration received, so all of the loop's time was busy.
  const uint64_t loop = after.loop_cycles - before.loop_cycles;
  if ((loop == 0 && state.iterations() > 1) || after.busy_cycles - before.busy_cycles != loop) {
    Fail(state, absl::StrFormat("busy cycles %u are not the loop cycles %u",
                                after.busy_cycles - before.busy_cycles, loop));
  }
  SetRates(state);
}

// The smoke test (bench/meson.build) filters on these names: keep 1000 the only small
// flow count of the established cases.
// One worker loop iteration with nothing to receive (no port): the fixed cost every
// iteration pays, with and without the flow mailbox the worker checks for `sluicectl
// lookup` queries (nothing is ever posted: the common case).
void BM_IdlePollOnce(benchmark::State& state) {
  absl::StatusOr<std::unique_ptr<WorkerRig>> rig =
      WorkerRig::Create(ServiceSetup{.no_ports = true, .mailbox = state.range(0) != 0}, 1024);
  if (!rig.ok()) {
    Fail(state, std::string(rig.status().message()));
    return;
  }
  Worker& worker = (*rig)->worker();
  for (auto _ : state) benchmark::DoNotOptimize(worker.PollOnce());
}

BENCHMARK(BM_Baseline)->UseRealTime();
BENCHMARK(BM_IdlePollOnce)->ArgName("mailbox")->Arg(0)->Arg(1)->UseRealTime();
BENCHMARK(BM_Established)->ArgName("flows")->Arg(1000)->Arg(1000000)->Arg(10000000)->UseRealTime();
BENCHMARK(BM_EstablishedWithSweep)
    ->ArgName("flows")
    ->Arg(1000)
    ->Arg(1000000)
    ->Arg(10000000)
    ->UseRealTime();
BENCHMARK(BM_EstablishedDr6)->ArgName("flows")->Arg(1000)->Arg(1000000)->UseRealTime();
BENCHMARK(BM_EstablishedTunnel4in4)->ArgName("flows")->Arg(1000)->Arg(1000000)->UseRealTime();
BENCHMARK(BM_EstablishedTunnel6in6)->ArgName("flows")->Arg(1000)->Arg(1000000)->UseRealTime();
BENCHMARK(BM_EstablishedTunnel4in6)->ArgName("flows")->Arg(1000)->Arg(1000000)->UseRealTime();
BENCHMARK(BM_EstablishedNat)->ArgName("flows")->Arg(1000)->Arg(1000000)->UseRealTime();
BENCHMARK(BM_NatReply)->ArgName("flows")->Arg(1000)->Arg(1000000)->UseRealTime();
BENCHMARK(BM_PollOnceNullRx)->UseRealTime();
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

// The rigs hold DPDK memory: gone before the EAL is.
void ClearRigs() {
  g_established.clear();
  g_new_flows.clear();
  g_poll_rig.reset();
}

}  // namespace
}  // namespace sluice::dataplane::bench

int main(int argc, char** argv) {
  namespace bench = ::sluice::dataplane::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The 10M-flow table (sized for 20M keys) takes about 1.3 GiB of rte_malloc memory,
  // all cases together 2.7 GB peak RSS; the rest is headroom. Pages are only touched
  // when used.
  if (absl::Status s = bench::SetUpEnv(4096); !s.ok()) {
    std::fprintf(stderr, "worker_bench: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  bench::ClearRigs();
  bench::TearDownEnv();
  return bench::g_failed ? 1 : 0;
}
