// What the running appliance reports about itself, for sluicectl and the metrics
// endpoint: the services and backends as the controller last applied them and the
// result of the last config reload. The control thread writes whole snapshots; any
// thread (the control socket, a metrics scrape) reads a consistent copy.
#ifndef SLUICE_LB_STATUS_BOARD_H_
#define SLUICE_LB_STATUS_BOARD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sluice::lb {

struct BackendStatus {
  uint32_t id = 0;             // stable backend id (DESIGN.md)
  std::string address;         // "10.0.0.11:80", "[fd00::11]:80"
  uint32_t weight = 0;         // from the config
  bool config_drain = false;   // `drain: true` in the config
  bool runtime_drain = false;  // `sluicectl drain`
  bool up = false;             // health (always true with `type: none`)
  std::string health_detail;   // the probe result behind the last change
  // Takes new flows: up, weight > 0 and not drained.
  bool serving() const { return up && weight > 0 && !config_drain && !runtime_drain; }
};

struct ServiceStatus {
  uint32_t id = 0;  // stable service id
  std::string name;
  std::string vip;       // "10.0.100.1:80"
  std::string protocol;  // "tcp" | "udp"
  std::string forwarding;
  std::string scheduler;
  std::string health_check;  // "tcp", "http", "udp", "none"
  std::vector<BackendStatus> backends;
  size_t serving_backends() const {
    size_t n = 0;
    for (const auto& b : backends) n += b.serving() ? 1 : 0;
    return n;
  }
};

struct ReloadStatus {
  uint64_t successes = 0;
  uint64_t failures = 0;
  bool last_successful = true;  // the start-up config counts as a success
  absl::Time last_success_time = absl::InfinitePast();
  absl::Time last_attempt_time = absl::InfinitePast();
  std::string last_error;                     // FILE:LINE:COLUMN lines, empty after a success
  std::string last_summary;                   // what the last successful reload changed
  std::vector<std::string> restart_required;  // changes left for a restart
};

struct StatusSnapshot {
  uint64_t table_generation = 0;
  std::vector<ServiceStatus> services;
  ReloadStatus reload;
  bool per_backend_metrics = true;  // config metrics.per_backend, as last applied
  // The generation each worker last used, indexed by worker. Not kept on the board:
  // whoever answers `status` reads it from the workers' counters at that moment.
  std::vector<uint64_t> worker_table_generations;
};

class StatusBoard {
 public:
  void SetServices(uint64_t generation, std::vector<ServiceStatus> services) {
    absl::MutexLock lock(&mu_);
    snapshot_.table_generation = generation;
    snapshot_.services = std::move(services);
  }
  void SetPerBackendMetrics(bool on) {
    absl::MutexLock lock(&mu_);
    snapshot_.per_backend_metrics = on;
  }
  void SetReload(ReloadStatus reload) {
    absl::MutexLock lock(&mu_);
    snapshot_.reload = std::move(reload);
  }
  StatusSnapshot Snapshot() const {
    absl::MutexLock lock(&mu_);
    return snapshot_;
  }

 private:
  mutable absl::Mutex mu_;
  StatusSnapshot snapshot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_STATUS_BOARD_H_
