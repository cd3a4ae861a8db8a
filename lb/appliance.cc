#include "lb/appliance.h"

#include <rte_eal.h>
#include <rte_lcore.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "dataplane/port.h"
#include "lb/eal_arguments.h"
#include "lb/table_builder.h"

namespace sluice::lb {

namespace {

namespace dp = ::sluice::dataplane;

constexpr unsigned kRingSize = 4096;
// Next hops the control thread can track: every backend plus gateways and statics.
constexpr uint32_t kNeighborCapacity = dp::kMaxBackendIds + 8192;

void Log(const std::string& message) { absl::FPrintF(stderr, "sluice: %s\n", message); }

int WorkerMain(void* arg) {
  auto* launch = static_cast<Appliance::WorkerLaunch*>(arg);
  launch->worker->Run(*launch->stop);
  return 0;
}

// "label=count ..." for the non-zero drop counters, or "none".
std::string DropList(const dp::LcoreCounters& counters) {
  std::vector<std::string> drops;
  for (size_t r = 0; r < dp::kDropReasonCount; ++r) {
    if (counters.drops[r] != 0) {
      drops.push_back(absl::StrFormat("%s=%u", dp::kDropReasonInfo[r].label, counters.drops[r]));
    }
  }
  return drops.empty() ? "none" : absl::StrJoin(drops, " ");
}

void FreeRing(rte_ring* ring) {
  if (ring == nullptr) return;
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  rte_ring_free(ring);
}

}  // namespace

absl::Status Appliance::Start() {
  const config::DataplaneConfig& dpc = config_.dataplane;
  const uint32_t workers = dpc.workers;
  if (rte_lcore_count() < workers + 1) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "dataplane.workers: %u workers need %u lcores, the EAL has %u (check -l/--lcores)", workers,
        workers + 1, rte_lcore_count()));
  }
  absl::StatusOr<rte_mempool*> pool =
      dp::CreatePacketPool(dp::PacketPoolSize{.ports = static_cast<uint32_t>(dpc.ports.size()),
                                              .workers = workers,
                                              .rx_descriptors = dpc.rx_descriptors,
                                              .tx_descriptors = dpc.tx_descriptors,
                                              .mtu = [&] {
                                                uint32_t mtu = 0;
                                                for (const auto& p : dpc.ports)
                                                  mtu = std::max(mtu, p.mtu);
                                                return mtu;
                                              }()});
  if (!pool.ok()) return pool.status();
  pool_ = *pool;

  for (const config::Port& port : dpc.ports) {
    absl::StatusOr<dp::StartedPort> started =
        dp::StartPort(dp::PortSetup{.name = port.name,
                                    .ethdev_name = EthdevName(port.device),
                                    .queues = static_cast<uint16_t>(workers),
                                    .rx_descriptors = static_cast<uint16_t>(dpc.rx_descriptors),
                                    .tx_descriptors = static_cast<uint16_t>(dpc.tx_descriptors),
                                    .mtu = static_cast<uint16_t>(port.mtu)},
                      pool_);
    if (!started.ok()) return started.status();
    started_ports_.push_back(started->dpdk_port);
    dp::PortInfo info;
    info.dpdk_port = started->dpdk_port;
    info.mac = started->mac;
    ports_.push_back(info);
    port_names_.push_back(port.name);
    char mac[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(mac, sizeof(mac), &started->mac);
    Log(absl::StrFormat("port %s: %s up, MAC %s, %u queue pair%s%s", port.name, port.device, mac,
                        workers, workers == 1 ? "" : "s", started->rss ? ", RSS" : ""));
  }

  absl::StatusOr<std::unique_ptr<dp::TablePublisher>> publisher =
      dp::TablePublisher::Create(workers);
  if (!publisher.ok()) return publisher.status();
  publisher_ = std::move(*publisher);
  slow_path_ring_ = rte_ring_create("sluice_slow_path", kRingSize, SOCKET_ID_ANY, RING_F_SC_DEQ);
  inject_ring_ =
      rte_ring_create("sluice_inject", kRingSize, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (slow_path_ring_ == nullptr || inject_ring_ == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate the slow-path rings");
  }
  neighbor_table_ = std::make_unique<dp::NeighborTable>(kNeighborCapacity);

  // The cache sends ARP requests from the ports' own addresses.
  const std::vector<dp::PortInfo> addressed = AddressPorts(config_, ports_);
  dp::NeighborCacheOptions options{
      .reachable_ms =
          static_cast<uint64_t>(absl::ToInt64Milliseconds(dpc.neighbor_cache.reachable_time)),
      .retry_ms =
          static_cast<uint64_t>(absl::ToInt64Milliseconds(dpc.neighbor_cache.retry_interval)),
      .retries = dpc.neighbor_cache.retries,
      .hold_packets = dpc.neighbor_cache.hold_packets};
  rte_ring* inject = inject_ring_;
  dp::LcoreCounters* control = &control_stats_.counters;
  neighbor_cache_ = std::make_unique<dp::NeighborCache>(
      options, *neighbor_table_, pool_, addressed, control_stats_.counters,
      [inject, control](uint16_t port_index, rte_mbuf* m) {
        m->port = port_index;
        if (rte_ring_enqueue(inject, m) != 0) {
          control->drops[static_cast<size_t>(dp::DropReason::kTxFull)] += 1;
          rte_pktmbuf_free(m);
        }
      });
  slow_path_ = std::make_unique<dp::SlowPath>(slow_path_ring_, inject_ring_, *neighbor_cache_,
                                              *publisher_, control_stats_.counters);

  auto port_index_of = [&](const std::string& name, const config::IpAddress& address) {
    for (size_t i = 0; i < dpc.ports.size(); ++i) {
      const auto& own = address.is_v4() ? dpc.ports[i].address : dpc.ports[i].address6;
      if (!name.empty() ? dpc.ports[i].name == name : own && own->Contains(address)) {
        return static_cast<uint16_t>(i);
      }
    }
    return uint16_t{0};
  };
  for (const config::Neighbor& n : dpc.neighbors) {
    rte_ether_addr mac;
    std::memcpy(mac.addr_bytes, n.mac.bytes.data(), RTE_ETHER_ADDR_LEN);
    neighbor_cache_->AddStatic(ToNeighborAddress(n.address), port_index_of(n.port, n.address), mac);
  }

  const bool has_nat =
      std::any_of(config_.services.begin(), config_.services.end(),
                  [](const auto& s) { return s.forwarding == config::Forwarding::kNat; });
  if (has_nat) {
    // One table for all workers: a reply finds its session whichever worker RSS gives
    // it to. Sized for every worker's flow table full of NAT flows.
    absl::StatusOr<std::unique_ptr<dp::NatSessionTable>> sessions = dp::NatSessionTable::Create(
        "sluice_nat", dpc.flow_table.capacity * workers, publisher_->qsbr(), SOCKET_ID_ANY);
    if (!sessions.ok()) return sessions.status();
    nat_sessions_ = std::move(*sessions);
  }
  dp::TablePublisher* publisher_ptr = publisher_.get();
  controller_ = std::make_unique<Controller>(
      ports_,
      [this](const dp::NeighborAddress& address, uint16_t port_index) {
        return neighbor_cache_->Resolve(address, port_index);
      },
      [publisher_ptr](std::unique_ptr<dp::ForwardingTable> table) {
        return publisher_ptr->Publish(std::move(table));
      },
      ControllerOptions{.health_checks = options_.health_checks,
                        .nat_sessions = nat_sessions_ != nullptr});
  if (absl::Status s = controller_->Start(config_, absl::Now()); !s.ok()) return s;
  const uint64_t generation = controller_->generation();
  const uint32_t workers_n = workers;

  const uint32_t idle_sleep_us =
      static_cast<uint32_t>(absl::ToInt64Microseconds(dpc.idle_sleep_max));
  std::vector<uint16_t> dpdk_ports;
  for (const dp::PortInfo& p : ports_) dpdk_ports.push_back(p.dpdk_port);
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (uint32_t w = 0; w < workers; ++w, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    const int socket = static_cast<int>(rte_lcore_to_socket_id(lcore));
    absl::StatusOr<std::unique_ptr<dp::FlowTable>> flows = dp::FlowTable::Create(
        absl::StrFormat("sluice_flows_%u", w), dpc.flow_table.capacity, socket);
    if (!flows.ok()) return flows.status();
    flow_tables_.push_back(std::move(*flows));
    absl::StatusOr<std::unique_ptr<dp::FlowTable>> flows6 =
        dp::FlowTable::Create(absl::StrFormat("sluice_flows6_%u", w), dpc.flow_table.capacity6,
                              socket, dp::FlowFamily::kIpv6);
    if (!flows6.ok()) return flows6.status();
    flow_tables_.push_back(std::move(*flows6));
    worker_stats_.push_back(std::make_unique<dp::LcoreStats>());
    mailboxes_.push_back(std::make_unique<dp::FlowMailbox>());
    workers_.push_back(std::make_unique<dp::Worker>(
        dp::WorkerSetup{.index = w,
                        .dpdk_ports = dpdk_ports,
                        .idle_backoff = dpc.idle_backoff,
                        .idle_sleep_max_us = idle_sleep_us,
                        .icmp_errors_per_second = dpc.icmp_errors_per_second,
                        .icmp_error_burst = dpc.icmp_error_burst},
        dp::WorkerContext{.publisher = *publisher_,
                          .neighbors = *neighbor_table_,
                          .flows = *flow_tables_[flow_tables_.size() - 2],
                          .flows6 = *flow_tables_.back(),
                          .nat_sessions = nat_sessions_.get(),
                          .stats = *worker_stats_.back(),
                          .slow_path = slow_path_ring_,
                          .inject = w == 0 ? inject_ring_ : nullptr,
                          .pool = pool_,
                          .mailbox = mailboxes_.back().get()}));
  }
  Log(absl::StrFormat("%u port%s up, %u worker%s, %u service%s, table generation %u", ports_.size(),
                      ports_.size() == 1 ? "" : "s", workers_n, workers_n == 1 ? "" : "s",
                      config_.services.size(), config_.services.size() == 1 ? "" : "s",
                      generation));
  return absl::OkStatus();
}

absl::Status Appliance::LaunchWorkers() {
  const auto workers = static_cast<uint32_t>(workers_.size());
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  launches_.reserve(workers);
  for (uint32_t w = 0; w < workers; ++w, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    launches_.push_back(WorkerLaunch{.worker = workers_[w].get(), .stop = &stop_workers_});
    if (rte_eal_remote_launch(WorkerMain, &launches_.back(), lcore) != 0) {
      return absl::InternalError(absl::StrFormat("cannot launch worker %u on lcore %u", w, lcore));
    }
    workers_running_ = true;
  }
  return absl::OkStatus();
}

void Appliance::StopWorkers() {
  stop_workers_.store(true, std::memory_order_relaxed);
  if (workers_running_) rte_eal_mp_wait_lcore();
  workers_running_ = false;
}

void Appliance::LogSummary() const {
  dp::LcoreCounters total;
  for (size_t w = 0; w < worker_stats_.size(); ++w) {
    const dp::LcoreCounters& c = worker_stats_[w]->counters;
    if (worker_stats_.size() > 1) {
      Log(absl::StrFormat("worker %u: rx %u, tx %u, new flows %u, nat replies %u", w, c.rx_packets,
                          c.tx_packets, c.new_flows, c.nat_reply_packets));
    }
    total.rx_packets += c.rx_packets;
    total.tx_packets += c.tx_packets;
    total.injected_packets += c.injected_packets;
    total.slow_path_packets += c.slow_path_packets;
    total.new_flows += c.new_flows;
    total.flow_table_full += c.flow_table_full;
    total.icmp_echo_replies += c.icmp_echo_replies;
    total.generated_packets += c.generated_packets;
    total.nat_reply_packets += c.nat_reply_packets;
    total.icmp_too_big_sent += c.icmp_too_big_sent;
    total.icmp_errors_forwarded += c.icmp_errors_forwarded;
    total.fragments_forwarded += c.fragments_forwarded;
    for (size_t r = 0; r < dp::kDropReasonCount; ++r) total.drops[r] += c.drops[r];
  }
  Log(absl::StrFormat(
      "workers: rx %u, injected %u, tx %u, slow path %u, dropped %u, generated %u; new flows "
      "%u (%u without an entry), nat replies %u, echo replies %u, too big sent %u, icmp "
      "errors to backends %u, fragments followed %u; drops: %s",
      total.rx_packets, total.injected_packets, total.tx_packets, total.slow_path_packets,
      total.total_drops(), total.generated_packets, total.new_flows, total.flow_table_full,
      total.nat_reply_packets, total.icmp_echo_replies, total.icmp_too_big_sent,
      total.icmp_errors_forwarded, total.fragments_forwarded, DropList(total)));
  const dp::LcoreCounters& c = control_stats_.counters;
  Log(
      absl::StrFormat("control: slow path %u, ARP replies %u, ARP requests %u, learned %u, "
                      "released after resolution %u, dropped %u; drops: %s",
                      c.rx_packets, c.arp_replies_sent, c.arp_requests_sent, c.arp_learned,
                      c.held_released, c.total_drops(), DropList(c)));
}

std::vector<std::optional<dp::FlowAnswer>> Appliance::QueryFlow(const dp::FlowQuery& query,
                                                                absl::Duration timeout) {
  std::vector<std::optional<dp::FlowAnswer>> answers(mailboxes_.size());
  std::vector<bool> posted(mailboxes_.size());
  for (size_t w = 0; w < mailboxes_.size(); ++w) posted[w] = mailboxes_[w]->Post(query);
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    bool waiting = false;
    for (size_t w = 0; w < mailboxes_.size(); ++w) {
      dp::FlowAnswer answer;
      if (!posted[w] || answers[w].has_value()) continue;
      if (mailboxes_[w]->TryTake(&answer)) {
        answers[w] = answer;
      } else {
        waiting = true;
      }
    }
    if (!waiting || absl::Now() >= deadline) break;
    absl::SleepFor(absl::Microseconds(50));
  }
  return answers;
}

void Appliance::Teardown() {
  StopWorkers();
  workers_.clear();
  mailboxes_.clear();
  launches_.clear();
  for (uint16_t port : started_ports_) dp::StopPort(port);
  started_ports_.clear();
  slow_path_.reset();
  neighbor_cache_.reset();  // frees held packets
  FreeRing(slow_path_ring_);
  FreeRing(inject_ring_);
  slow_path_ring_ = inject_ring_ = nullptr;
  flow_tables_.clear();
  controller_.reset();
  nat_sessions_.reset();  // before the RCU variable it is attached to
  publisher_.reset();
  if (pool_ != nullptr) rte_mempool_free(pool_);
  pool_ = nullptr;
}

}  // namespace sluice::lb
