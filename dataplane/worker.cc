#include "dataplane/worker.h"

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "dataplane/icmp_echo.h"
#include "dataplane/packet_parser.h"

namespace sluice::dataplane {

namespace {

// Packets a NIC refused: freed, counted as tx_full, and taken back out of tx.
void CountRefused(rte_mbuf** unsent, uint16_t count, void* userdata) {
  auto* counters = static_cast<LcoreCounters*>(userdata);
  for (uint16_t i = 0; i < count; ++i) {
    counters->tx_bytes -= rte_pktmbuf_pkt_len(unsent[i]);
    rte_pktmbuf_free(unsent[i]);
  }
  counters->tx_packets -= count;
  counters->drops[static_cast<size_t>(DropReason::kTxFull)] += count;
}

bool IsForUs(const rte_ether_hdr& eth, const rte_ether_addr& port_mac) {
  // Broadcast and multicast (ARP requests) are ours to look at; other unicast is not.
  return rte_is_same_ether_addr(&eth.dst_addr, &port_mac) ||
         rte_is_multicast_ether_addr(&eth.dst_addr);
}

// Idle rounds spent polling before the first sleep: enough to ride out the gaps inside
// a burst of traffic without a syscall.
constexpr uint32_t kIdleSpinRounds = 64;

// Datagrams in flight whose later fragments a worker can follow (per direction).
constexpr uint32_t kFragmentSlots = 4096;

}  // namespace

Worker::Worker(const WorkerSetup& setup, const WorkerContext& context)
    : setup_(setup),
      publisher_(context.publisher),
      neighbors_(context.neighbors),
      flows_(context.flows),
      flows6_(context.flows6),
      nat_sessions_(context.nat_sessions),
      stats_(context.stats),
      slow_path_(context.slow_path),
      inject_(context.inject),
      pool_(context.pool),
      mailbox_(context.mailbox),
      fragments_(kFragmentSlots),
      reply_fragments_(kFragmentSlots),
      tsc_hz_(rte_get_tsc_hz()),
      tsc_per_ms_(std::max<uint64_t>(tsc_hz_ / 1000, 1)),
      drain_tsc_(tsc_hz_ / 1000000 * setup.tx_drain_us) {
  // rte_meter counts bytes; one "byte" per ICMP error makes it a packet rate limit.
  rte_meter_srtcm_params icmp_rate{.cir = std::max<uint32_t>(setup_.icmp_errors_per_second, 1),
                                   .cbs = std::max<uint32_t>(setup_.icmp_error_burst, 1),
                                   .ebs = 0};
  rte_meter_srtcm_profile_config(&icmp_profile_, &icmp_rate);
  rte_meter_srtcm_config(&icmp_meter_, &icmp_profile_);
  for (size_t i = 0; i < setup_.dpdk_ports.size(); ++i) {
    auto* buffer = static_cast<rte_eth_dev_tx_buffer*>(
        rte_zmalloc("sluice_tx_buffer", RTE_ETH_TX_BUFFER_SIZE(kBurstSize), 0));
    rte_eth_tx_buffer_init(buffer, kBurstSize);
    rte_eth_tx_buffer_set_err_callback(buffer, CountRefused, &stats_.counters);
    tx_buffers_.push_back(buffer);
  }
  UpdateClock();
  last_sweep_ms_ = now_ms_;
}

Worker::~Worker() {
  for (rte_eth_dev_tx_buffer* buffer : tx_buffers_) rte_free(buffer);
}

void Worker::UpdateClock() {
  now_tsc_ = rte_rdtsc();
  now_ms_ = static_cast<uint32_t>(now_tsc_ / tsc_per_ms_);
}

void Worker::Transmit(uint16_t port_index, rte_mbuf* m) {
  LcoreCounters& c = stats_.counters;
  c.tx_packets += 1;
  c.tx_bytes += rte_pktmbuf_pkt_len(m);
  rte_eth_tx_buffer(setup_.dpdk_ports[port_index], static_cast<uint16_t>(setup_.index),
                    tx_buffers_[port_index], m);
}

void Worker::FlushTx() {
  for (size_t i = 0; i < tx_buffers_.size(); ++i) {
    rte_eth_tx_buffer_flush(setup_.dpdk_ports[i], static_cast<uint16_t>(setup_.index),
                            tx_buffers_[i]);
  }
  last_flush_tsc_ = now_tsc_;
}

void Worker::Drop(rte_mbuf* m, DropReason reason) {
  stats_.counters.drops[static_cast<size_t>(reason)] += 1;
  rte_pktmbuf_free(m);
}

void Worker::ToSlowPath(rte_mbuf* m, uint16_t port_index, uint32_t tag) {
  m->port = port_index;
  m->hash.usr = tag;
  if (rte_ring_enqueue(slow_path_, m) != 0) {
    Drop(m, DropReason::kSlowPathFull);
    return;
  }
  stats_.counters.slow_path_packets += 1;
}

uint32_t Worker::DrainInjected() {
  if (inject_ == nullptr) return 0;
  std::array<rte_mbuf*, kBurstSize> pkts;
  const unsigned n =
      rte_ring_dequeue_burst(inject_, reinterpret_cast<void**>(pkts.data()), kBurstSize, nullptr);
  for (unsigned i = 0; i < n; ++i) {
    stats_.counters.injected_packets += 1;
    if (pkts[i]->port >= tx_buffers_.size()) {
      Drop(pkts[i], DropReason::kTxFull);
      continue;
    }
    Transmit(pkts[i]->port, pkts[i]);
  }
  return n;
}

// The staged burst (STYLE.md item 4). Measured cost: bench/RESULTS.md.
void Worker::ProcessBurst(const ForwardingTable& table, uint16_t port_index, rte_mbuf** pkts,
                          uint16_t n) {
  LcoreCounters& c = stats_.counters;
  const PortInfo& port = table.ports[port_index];

  // Stage 1: parse and classify every packet; flows for services go on to stage 2.
  std::array<const ServiceInfo*, kBurstSize> service;
  std::array<FlowKeyV4, kBurstSize> keys;
  std::array<const void*, kBurstSize> key_ptrs;
  std::array<uint32_t, kBurstSize> hashes;
  std::array<uint16_t, kBurstSize> flow_pkt;  // candidate -> index into pkts
  std::array<uint16_t, kBurstSize> l3_offsets;
  std::array<uint32_t, kBurstSize> frag_ids;
  uint32_t first_fragments = 0;                      // bit k: candidate k is a first fragment
  std::array<uint16_t, kBurstSize> later_fragments;  // -> index into pkts
  uint32_t deferred = 0;
  auto handle_later_fragments = [&] {
    for (uint32_t d = 0; d < deferred; ++d) {
      rte_mbuf* m = pkts[later_fragments[d]];
      const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
      HandleException(
          table, port_index, m,
          ParseFrame(data, std::min<uint32_t>(rte_pktmbuf_data_len(m), rte_pktmbuf_pkt_len(m))));
    }
  };
  uint32_t candidates = 0;
  std::array<NatKey, kBurstSize> reply_keys;
  std::array<const NatKey*, kBurstSize> reply_key_ptrs;
  std::array<uint32_t, kBurstSize> reply_hashes;
  std::array<ParsedPacket, kBurstSize> reply_parsed;
  std::array<uint16_t, kBurstSize> reply_pkt;
  uint32_t replies = 0;
  std::array<FlowKeyV6, kBurstSize> keys6;
  std::array<const void*, kBurstSize> key_ptrs6;
  std::array<uint32_t, kBurstSize> hashes6;
  std::array<const ServiceInfo*, kBurstSize> svcs6;
  std::array<ParsedPacket, kBurstSize> parsed6;
  std::array<rte_mbuf*, kBurstSize> mbufs6;
  uint32_t v6 = 0;
  VipKey last_vip;
  const ServiceInfo* last_service = nullptr;

  for (uint16_t i = 0; i < n && i < 4; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
  for (uint16_t i = 0; i < n; ++i) {
    if (i + 4 < n) rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void*));
    rte_mbuf* m = pkts[i];
    c.rx_packets += 1;
    c.rx_bytes += rte_pktmbuf_pkt_len(m);
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint32_t len = rte_pktmbuf_data_len(m);
    service[i] = nullptr;
    // A local, not an array slot: stage 3 does not need it, and copying the struct into
    // an array stalled on store forwarding (bench/RESULTS.md: 60 -> 51 ns at 1k flows).
    const ParsedPacket p = ParseFrame(data, std::min<uint32_t>(len, rte_pktmbuf_pkt_len(m)));
    if (p.kind == PacketKind::kDrop) {
      Drop(m, p.drop);
      pkts[i] = nullptr;
      continue;
    }
    if (!IsForUs(*reinterpret_cast<const rte_ether_hdr*>(data), port.mac)) {
      Drop(m, DropReason::kOtherHost);
      pkts[i] = nullptr;
      continue;
    }
    if (p.later_fragment && p.kind == PacketKind::kIpv4) [[unlikely]] {
      // After stage 3: its first fragment may be in this burst, not yet remembered.
      later_fragments[deferred++] = i;
      continue;
    }
    if (p.kind == PacketKind::kIpv6 && !p.is_fragment &&
        (p.ip_proto == IPPROTO_TCP || p.ip_proto == IPPROTO_UDP)) {
      const uint8_t* dst6 = Ipv6Dst(data, p);
      const ServiceInfo* svc6 =
          table.IsVip6(dst6) ? table.FindService6(dst6, p.dst_port, p.ip_proto) : nullptr;
      if (svc6 != nullptr) {
        FlowKeyV6& key6 = keys6[v6];
        key6 = FlowKeyV6{};
        std::memcpy(key6.src_ip, Ipv6Src(data, p), 16);
        std::memcpy(key6.dst_ip, dst6, 16);
        key6.src_port = p.src_port;
        key6.dst_port = p.dst_port;
        key6.ip_proto = p.ip_proto;
        key_ptrs6[v6] = &key6;
        hashes6[v6] = flows6_.Hash(key6);
        svcs6[v6] = svc6;
        parsed6[v6] = p;
        mbufs6[v6] = m;
        ++v6;
        pkts[i] = nullptr;
        continue;
      }
    }
    if (p.kind != PacketKind::kIpv4) [[unlikely]] {
      if (p.kind == PacketKind::kArp) {
        ToSlowPath(m, port_index, kSlowPathArp);
      } else {
        HandleException(table, port_index, m, p);
      }
      pkts[i] = nullptr;
      continue;
    }
    // First fragments carry their ports and follow their flow like any packet.
    const bool l4_service =
        !p.later_fragment && (p.ip_proto == IPPROTO_TCP || p.ip_proto == IPPROTO_UDP);
    const ServiceInfo* svc = nullptr;
    if (l4_service) {
      // Bursts are mostly for one service: remember the last lookup (51 -> 41 ns).
      const VipKey vip{.address = p.dst_ip, .port = p.dst_port, .ip_proto = p.ip_proto};
      if (last_service == nullptr || !(vip == last_vip)) {
        last_vip = vip;
        last_service = table.FindService(p.dst_ip, p.dst_port, p.ip_proto);
      }
      svc = last_service;
    }
    if (svc != nullptr) [[likely]] {
      service[i] = svc;
      FlowKeyV4& key = keys[candidates];
      key = FlowKeyV4{.src_ip = p.src_ip,
                      .dst_ip = p.dst_ip,
                      .src_port = p.src_port,
                      .dst_port = p.dst_port,
                      .ip_proto = p.ip_proto,
                      .pad = {0, 0, 0}};
      key_ptrs[candidates] = &key;
      hashes[candidates] = flows_.Hash(key);
      flow_pkt[candidates] = i;
      if (p.is_fragment) [[unlikely]] {
        first_fragments |= uint32_t{1} << candidates;
        frag_ids[candidates] = p.frag_id;
      }
      l3_offsets[candidates] = p.l3_offset;
      ++candidates;
      continue;
    }
    if (table.has_nat && nat_sessions_ != nullptr && !p.is_fragment &&
        (p.ip_proto == IPPROTO_TCP || p.ip_proto == IPPROTO_UDP)) {
      // A NAT reply, probably: looked up for the whole burst after this loop.
      NatKey& nk = reply_keys[replies];
      nk = ReplyKey(p);
      reply_key_ptrs[replies] = &nk;
      reply_hashes[replies] = nat_sessions_->Hash(nk);
      reply_parsed[replies] = p;
      reply_pkt[replies] = i;
      ++replies;
      continue;
    }
    if (p.is_fragment || p.ip_proto == IPPROTO_ICMP || table.has_nat) [[unlikely]] {
      HandleException(table, port_index, m, p);
      pkts[i] = nullptr;
      continue;
    }
    Drop(m, NotForAService(table, p.dst_ip));
    pkts[i] = nullptr;
  }
  // IPv6 flows and NAT replies, each with one bulk lookup for the burst (one at a time,
  // at 1M flows, they cost 380 and 320 ns; bench/RESULTS.md).
  if (v6 != 0) {
    std::array<int32_t, kBurstSize> pos6;
    flows6_.LookupBulk(key_ptrs6.data(), hashes6.data(), v6, pos6.data());
    for (uint32_t k = 0; k < v6; ++k) {
      if (pos6[k] >= 0) rte_prefetch0(&flows6_.entry(pos6[k]));
    }
    for (uint32_t k = 0; k < v6; ++k) {
      // A flow inserted earlier in this burst (the bulk lookup ran before it).
      if (pos6[k] < 0) pos6[k] = flows6_.Lookup(key_ptrs6[k], hashes6[k]);
      ForwardFlow6At(table, *svcs6[k], port_index, mbufs6[k], parsed6[k], keys6[k], hashes6[k],
                     pos6[k]);
    }
  }
  if (replies != 0) {
    std::array<NatSession, kBurstSize> sessions;
    const uint64_t hits = nat_sessions_->LookupBulk(reply_key_ptrs.data(), reply_hashes.data(),
                                                    replies, sessions.data());
    for (uint32_t r = 0; r < replies; ++r) {
      rte_mbuf* m = pkts[reply_pkt[r]];
      pkts[reply_pkt[r]] = nullptr;
      const DropReason not_ours = NotForAService(table, reply_parsed[r].dst_ip);
      if (not_ours == DropReason::kNotLocal && (hits >> r & 1) != 0 &&
          TranslateNatReply(table, m, reply_parsed[r], sessions[r])) {
        continue;
      }
      Drop(m, not_ours);  // looked up once: not a reply whose session exists
    }
  }
  if (candidates == 0) {
    if (deferred != 0) [[unlikely]]
      handle_later_fragments();
    return;
  }

  // Stage 2: one bulk lookup for the burst (rte_hash prefetches its buckets itself).
  std::array<int32_t, kBurstSize> positions;
  flows_.LookupBulk(key_ptrs.data(), hashes.data(), candidates, positions.data());
  // rte_hash prefetched its buckets, not our entry array: without this every hit in a
  // large table is a cache miss in stage 3 (bench/RESULTS.md: 1M flows 132 -> 80 ns).
  for (uint32_t k = 0; k < candidates; ++k) {
    if (positions[k] >= 0) rte_prefetch0(&flows_.entry(positions[k]));
  }

  // Stage 3: flow hit or Maglev pick, then the DR rewrite and TX.
  uint32_t inserted = 0;  // bit k: candidate k added its flow (a later miss may be it)
  for (uint32_t k = 0; k < candidates; ++k) {
    const uint16_t i = flow_pkt[k];
    rte_mbuf* m = pkts[i];
    const ServiceInfo& svc = *service[i];
    const uint32_t timeout =
        svc.ip_proto == IPPROTO_TCP ? table.tcp_timeout_ms : table.udp_timeout_ms;
    if (positions[k] < 0 && inserted != 0) {
      // Packets of one new flow in the same burst (a UDP burst, a retransmitted SYN):
      // the first inserted it after the bulk lookup, the rest are hits, not new flows.
      // Look again only when an earlier insert had the same hash (a blanket re-lookup
      // cost 40 ns per new-flow packet; bench/RESULTS.md).
      for (uint32_t j = 0; j < k; ++j) {
        if ((inserted >> j & 1) != 0 && hashes[j] == hashes[k]) {
          flows_.LookupBulk(&key_ptrs[k], &hashes[k], 1, &positions[k]);
          break;
        }
      }
    }

    BackendId id = kNoBackend;
    FlowEntry* entry = nullptr;
    bool new_flow = true;
    if (positions[k] >= 0) {
      entry = &flows_.entry(positions[k]);
      const BackendInfo* b = table.Backend(entry->backend);
      if (b != nullptr && b->service == svc.id && b->up &&
          now_ms_ - entry->last_seen_ms <= timeout) {
        id = entry->backend;
        new_flow = false;
        c.flow_hits += 1;
      } else {
        c.flow_repicks += 1;
      }
    }
    if (new_flow) {
      if (!svc.maglev.empty()) id = svc.maglev[MaglevSlot(hashes[k], svc.maglev.size())];
      if (id == kNoBackend) {
        Drop(m, DropReason::kNoUsableBackend);
        continue;
      }
      if (entry == nullptr) {
        const int32_t pos = flows_.Insert(keys[k], hashes[k]);
        if (pos == FlowTable::kMiss) {
          c.flow_table_full += 1;
        } else {
          entry = &flows_.entry(pos);
          inserted |= uint32_t{1} << k;
          CountFlowAdded(table, id);
        }
      } else if (entry->backend != id) {
        EndNatSession(table, entry->backend, keys[k]);  // re-picked: the old session ends
        CountFlowRemoved(table, entry->backend);
        CountFlowAdded(table, id);
      }
      if (entry != nullptr) entry->backend = id;
      c.new_flows += 1;
    }
    if (entry != nullptr) entry->last_seen_ms = now_ms_;
    if ((first_fragments >> k & 1) != 0) [[unlikely]] {
      FragmentKey fk{.ipv6 = false, .ip_proto = keys[k].ip_proto, .id = frag_ids[k]};
      std::memcpy(fk.src.data(), &keys[k].src_ip, 4);
      std::memcpy(fk.dst.data(), &keys[k].dst_ip, 4);
      fragments_.Remember(fk, FragmentValue(id, hashes[k]), now_ms_);
    }
    CountServiceTraffic(svc, id, rte_pktmbuf_pkt_len(m), new_flow);
    ForwardToBackend(table, svc, id, port_index, m, l3_offsets[k], Payload::kFlow, hashes[k],
                     new_flow);
  }
  if (deferred != 0) [[unlikely]]
    handle_later_fragments();
}

// Why an IPv4 TCP/UDP packet that no service takes is dropped: the LB's own address, a
// VIP on another port or protocol, or not ours at all.
DropReason Worker::NotForAService(const ForwardingTable& table, uint32_t dst_ip) {
  if (table.vip_addresses.contains(dst_ip)) return DropReason::kNoService;
  return table.PortWithAddress(dst_ip) >= 0 ? DropReason::kToLocalAddress : DropReason::kNotLocal;
}

void Worker::CountServiceTraffic(const ServiceInfo& svc, BackendId id, uint32_t bytes,
                                 bool new_flow) {
  TrafficCounters& sc = stats_.services[svc.id];
  TrafficCounters& bc = stats_.backends[id];
  sc.packets += 1;
  sc.bytes += bytes;
  bc.packets += 1;
  bc.bytes += bytes;
  if (new_flow) {
    sc.new_flows += 1;
    bc.new_flows += 1;
  }
}

// A NAT flow that ends takes its reply session with it (the session table is shared
// and bounded; nothing else removes sessions).
void Worker::EndNatSession(const ForwardingTable& table, BackendId id, const FlowKeyV4& key) {
  if (nat_sessions_ == nullptr) return;
  // By the backend alone: a backend removed by a reload is still in the table (retired)
  // while its flows may exist, and its service may be gone.
  const BackendInfo* b = table.Backend(id);
  if (b == nullptr || !b->nat || b->ipv6) return;
  nat_sessions_->Remove(NatKey{.backend_ip = b->address,
                               .client_ip = key.src_ip,
                               .backend_port = b->port,
                               .client_port = key.src_port,
                               .ip_proto = key.ip_proto,
                               .pad = {0, 0, 0}});
}

// The backend's service, not the packet's: a backend id belongs to one service for its
// whole life (lb/id_registry.h), and a backend a reload removed stays in the table,
// retired, until every flow naming it has expired, so the service is found at removal.
void Worker::CountFlowAdded(const ForwardingTable& table, BackendId id) {
  stats_.backends[id].active_flows += 1;
  if (const BackendInfo* b = table.Backend(id); b != nullptr) {
    stats_.services[b->service].active_flows += 1;
  }
}

void Worker::CountFlowRemoved(const ForwardingTable& table, BackendId id) {
  stats_.backends[id].active_flows -= 1;
  if (const BackendInfo* b = table.Backend(id); b != nullptr) {
    stats_.services[b->service].active_flows -= 1;
  }
}

void Worker::OnFlowExpired(void* worker, const void* key, const FlowEntry& entry) {
  auto* self = static_cast<Worker*>(worker);
  self->CountFlowRemoved(*self->aging_table_, entry.backend);
  if (self->aging_table_->has_nat) {
    self->EndNatSession(*self->aging_table_, entry.backend, *static_cast<const FlowKeyV4*>(key));
  }
}

void Worker::OnFlowExpired6(void* worker, const void* /*key*/, const FlowEntry& entry) {
  auto* self = static_cast<Worker*>(worker);
  self->CountFlowRemoved(*self->aging_table_, entry.backend);
}

// The sweep is paced by time, not by iterations: examining the whole table four times
// per shortest timeout finds every idle flow within 1.25 timeouts, at a cost that does
// not grow with the packet rate (a fixed budget per iteration cost 300 ns per packet at
// 1M flows under load; bench/RESULTS.md).
uint64_t Worker::Age(const ForwardingTable& table) {
  const uint32_t shortest =
      std::max<uint32_t>(std::min(table.tcp_timeout_ms, table.udp_timeout_ms), 1);
  const uint64_t elapsed_ms = static_cast<uint32_t>(now_ms_ - last_sweep_ms_);  // wraps
  const uint64_t due = elapsed_ms * flows_.capacity() * 4 / shortest;
  if (due == 0) return 0;  // less than one entry's worth of time: let it accumulate
  last_sweep_ms_ = now_ms_;
  const auto budget = static_cast<uint32_t>(std::min<uint64_t>(due, setup_.sweep_budget));
  aging_table_ = &table;
  const uint64_t expired = flows_.Sweep(now_ms_, budget, table.tcp_timeout_ms, table.udp_timeout_ms,
                                        &Worker::OnFlowExpired, this) +
                           flows6_.Sweep(now_ms_, budget, table.tcp_timeout_ms,
                                         table.udp_timeout_ms, &Worker::OnFlowExpired6, this);
  stats_.counters.flows_expired += expired;
  return expired;
}

// `sluicectl lookup`: this worker's entry for the flow, hashed as the burst hashes it.
FlowAnswer Worker::AnswerFlowQuery(const FlowQuery& query) const {
  const bool v4 = query.family == FlowFamily::kIpv4;
  const FlowTable& flows = v4 ? flows_ : flows6_;
  FlowAnswer answer{.now_ms = now_ms_};
  answer.hash = v4 ? flows_.Hash(query.key4) : flows6_.Hash(query.key6);
  const int32_t pos =
      flows.Lookup(v4 ? static_cast<const void*>(&query.key4) : &query.key6, answer.hash);
  if (pos != FlowTable::kMiss) {
    const FlowEntry& entry = flows.entry(pos);
    answer.found = true;
    answer.backend = entry.backend;
    answer.last_seen_ms = entry.last_seen_ms;
  }
  return answer;
}

// Busy time without a clock read of its own: an iteration's time runs from its start to
// the next one's, whose clock UpdateClock reads anyway, and counts as busy when the
// iteration did work. Run closes the interval itself before an idle sleep (a clock read on
// the idle path, which costs nothing that matters). Reading the clock again at the end of
// each busy iteration cost 40-60 ns per iteration here: bench/RESULTS.md, "Worker busy-
// time accounting".
uint32_t Worker::PollOnce() {
  UpdateClock();
  LcoreCounters& c = stats_.counters;
  if (last_poll_tsc_ != 0) {
    const uint64_t elapsed = now_tsc_ - last_poll_tsc_;
    c.loop_cycles += elapsed;
    if (previous_busy_) c.busy_cycles += elapsed;
  }
  last_poll_tsc_ = now_tsc_;
  const ForwardingTable* table = publisher_.Acquire();
  uint32_t received = 0;
  uint64_t work = 0;
  if (table != nullptr) {
    stats_.counters.table_generation = table->generation;
    std::array<rte_mbuf*, kBurstSize> pkts;
    for (uint16_t port_index = 0; port_index < setup_.dpdk_ports.size(); ++port_index) {
      const uint16_t n =
          rte_eth_rx_burst(setup_.dpdk_ports[port_index], static_cast<uint16_t>(setup_.index),
                           pkts.data(), kBurstSize);
      if (n == 0) continue;
      received += n;
      ProcessBurst(*table, port_index, pkts.data(), n);
    }
    work += Age(*table);
  }
  work += DrainInjected();
  if (mailbox_ != nullptr) {
    mailbox_->Serve([this](const FlowQuery& query) { return AnswerFlowQuery(query); });
  }
  if (now_tsc_ - last_flush_tsc_ >= drain_tsc_) FlushTx();
  c.flow_entries_ipv4 = flows_.size();
  c.flow_entries_ipv6 = flows6_.size();
  c.flow_entries = c.flow_entries_ipv4 + c.flow_entries_ipv6;
  c.iterations += 1;
  previous_busy_ = received + work != 0;
  return received;
}

void Worker::Run(const std::atomic<bool>& stop) {
  // Sleeps below are short; the default 50 us timer slack would dominate them.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
  publisher_.Online(setup_.index);
  while (!stop.load(std::memory_order_relaxed)) {
    const uint32_t received = PollOnce();
    publisher_.Quiescent(setup_.index);
    if (received != 0 || !setup_.idle_backoff) {
      idle_rounds_ = 0;
      continue;
    }
    if (++idle_rounds_ <= kIdleSpinRounds) continue;
    // Idle: send what is buffered, then sleep 1, 2, 4 ... us up to idle_sleep_max. The
    // worker is offline for RCU while asleep so that a publication does not wait for it.
    FlushTx();
    if (previous_busy_) {  // the iteration before the sleep did work: it ends here
      stats_.counters.busy_cycles += rte_rdtsc() - last_poll_tsc_;
      previous_busy_ = false;
    }
    const uint32_t shift = std::min<uint32_t>(idle_rounds_ - kIdleSpinRounds, 20);
    const uint64_t sleep_us = std::min<uint64_t>(uint64_t{1} << shift, setup_.idle_sleep_max_us);
    publisher_.Offline(setup_.index);
    timespec ts{.tv_sec = 0, .tv_nsec = static_cast<long>(sleep_us * 1000)};
    nanosleep(&ts, nullptr);
    publisher_.Online(setup_.index);
    stats_.counters.idle_sleeps += 1;
  }
  UpdateClock();
  FlushTx();
  publisher_.Offline(setup_.index);
}

}  // namespace sluice::dataplane
