// Everything the running dataplane owns, wired together: packet pool, started ports,
// the RCU publisher and the first forwarding table, slow-path rings, neighbour cache,
// per-worker flow tables, counters and workers. Used by the daemon (which launches the
// workers on their lcores) and by the golden-packet tests (which step the workers and
// the control thread themselves). Requires an initialized EAL; torn down in reverse
// order of creation by the destructor.
#ifndef SLUICE_LB_APPLIANCE_H_
#define SLUICE_LB_APPLIANCE_H_

#include <rte_mempool.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "dataplane/counters.h"
#include "dataplane/flow_mailbox.h"
#include "dataplane/flow_table.h"
#include "dataplane/nat_sessions.h"
#include "dataplane/neighbor_cache.h"
#include "dataplane/neighbor_table.h"
#include "dataplane/slow_path.h"
#include "dataplane/table_publisher.h"
#include "dataplane/worker.h"
#include "lb/controller.h"

namespace sluice::lb {

struct ApplianceOptions {
  // Backends start as their health_check.assume says and follow the health thread's
  // verdicts. false (the golden tests): every backend is up.
  bool health_checks = false;
};

class Appliance {
 public:
  explicit Appliance(const config::Config& config, ApplianceOptions options = {})
      : config_(config), options_(options) {}
  ~Appliance() { Teardown(); }
  Appliance(const Appliance&) = delete;
  Appliance& operator=(const Appliance&) = delete;

  // Starts the ports named by the config and builds everything else; workers are
  // constructed but not running.
  absl::Status Start();
  // Runs each worker's loop on its own lcore until StopWorkers().
  absl::Status LaunchWorkers();
  void StopWorkers();

  // One round of control-thread packet work (ARP, held packets, neighbour timers).
  uint32_t PollControl(uint64_t now_ms) { return slow_path_->Poll(now_ms); }

  void LogSummary() const;

  size_t worker_count() const { return workers_.size(); }
  dataplane::Worker& worker(size_t i) { return *workers_[i]; }
  const dataplane::LcoreStats& worker_stats(size_t i) const { return *worker_stats_[i]; }
  const dataplane::LcoreStats& control_stats() const { return control_stats_; }
  const dataplane::NeighborCache& neighbor_cache() const { return *neighbor_cache_; }
  const dataplane::TablePublisher& publisher() const { return *publisher_; }
  // Control thread: reloads, health verdicts, drains.
  Controller& controller() { return *controller_; }
  rte_mempool* pool() const { return pool_; }
  // The started ports, by port index: DPDK port ids and the config's names.
  const std::vector<dataplane::PortInfo>& ports() const { return ports_; }
  const std::vector<std::string>& port_names() const { return port_names_; }
  // Flow-table capacity summed over the workers, IPv4 or IPv6 tables.
  uint64_t flow_capacity(bool ipv6) const {
    uint64_t sum = 0;
    for (size_t i = ipv6 ? 1 : 0; i < flow_tables_.size(); i += 2) {
      sum += flow_tables_[i]->capacity();
    }
    return sum;
  }

  // Control thread, `sluicectl lookup`: asks every worker for its flow entry of `query`
  // through its mailbox and waits up to `timeout` for the answers; a worker that does
  // not answer in time (stopped, or still busy with the previous query) has nullopt.
  // Running workers poll their mailbox at least every idle_sleep_max (200 us by default)
  // plus one burst, so answers normally come within a millisecond.
  std::vector<std::optional<dataplane::FlowAnswer>> QueryFlow(const dataplane::FlowQuery& query,
                                                              absl::Duration timeout);
  // The flow hash of `query` as the workers compute it (FlowTable::Hash, a pure function
  // of the key; safe from the control thread).
  uint32_t FlowHash(const dataplane::FlowQuery& query) const {
    return query.family == dataplane::FlowFamily::kIpv4 ? flow_tables_[0]->Hash(query.key4)
                                                        : flow_tables_[1]->Hash(query.key6);
  }
  dataplane::FlowMailbox& mailbox(size_t worker) { return *mailboxes_[worker]; }

  // What a worker lcore is started with (rte_eal_remote_launch takes one pointer).
  struct WorkerLaunch {
    dataplane::Worker* worker;
    const std::atomic<bool>* stop;
  };

 private:
  void Teardown();

  const config::Config& config_;  // the start-up config
  ApplianceOptions options_;
  rte_mempool* pool_ = nullptr;
  std::vector<uint16_t> started_ports_;
  std::vector<dataplane::PortInfo> ports_;
  std::vector<std::string> port_names_;  // parallel to ports_
  std::unique_ptr<dataplane::TablePublisher> publisher_;
  rte_ring* slow_path_ring_ = nullptr;
  rte_ring* inject_ring_ = nullptr;
  std::unique_ptr<dataplane::NeighborTable> neighbor_table_;
  std::vector<std::unique_ptr<dataplane::LcoreStats>> worker_stats_;
  dataplane::LcoreStats control_stats_;
  std::unique_ptr<dataplane::NeighborCache> neighbor_cache_;
  std::unique_ptr<dataplane::SlowPath> slow_path_;
  std::vector<std::unique_ptr<dataplane::FlowTable>> flow_tables_;  // IPv4, IPv6 per worker
  std::unique_ptr<dataplane::NatSessionTable> nat_sessions_;        // with nat services only
  std::unique_ptr<Controller> controller_;
  std::vector<std::unique_ptr<dataplane::FlowMailbox>> mailboxes_;  // one per worker
  std::vector<std::unique_ptr<dataplane::Worker>> workers_;
  std::vector<WorkerLaunch> launches_;
  std::atomic<bool> stop_workers_{false};
  bool workers_running_ = false;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_APPLIANCE_H_
