// The controller: the one owner of what the workers forward by. It turns the config,
// the backends' health and runtime drains into forwarding tables and publishes them
// (DESIGN.md "Threads and the way data flows"). Control thread only.
//
//   - Start: the first config. Its dataplane, metrics and control sections are the
//     running ones until a restart; later reloads report changes to restart-only keys
//     (docs/config.md) and leave them as they are.
//   - Reload: validate-time checks already passed; assigns stable ids (lb/id_registry.h),
//     re-resolves backends, rebuilds the Maglev table of every service whose Maglev
//     input changed and reuses the others, publishes once. Unchanged services and
//     backends keep their ids, flows, health state and runtime drain. On any error
//     nothing changes.
//   - SetHealth / SetDrain mark services dirty; Flush rebuilds only their Maglev tables
//     and publishes one table for all of them.
//
// A backend takes new flows (has Maglev slots) when it is up, its weight is not 0 and it
// is not drained (config or runtime). A backend that is down is also marked not up in
// the table, so its flows are re-picked; a drained one keeps its flows. A backend a
// reload removes stays in the table, retired (not up), until its id's grace period ends.
#ifndef SLUICE_LB_CONTROLLER_H_
#define SLUICE_LB_CONTROLLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "config/config.h"
#include "dataplane/forwarding_table.h"
#include "dataplane/route_table.h"
#include "health/health_checker.h"
#include "lb/id_registry.h"
#include "lb/maglev.h"
#include "lb/status_board.h"
#include "lb/table_builder.h"

namespace sluice::lb {

struct ControllerOptions {
  // false: every backend counts as up whatever its health_check says (no health thread:
  // the golden tests, benchmarks, BuildForwardingTable).
  bool health_checks = true;
  // The appliance has a NAT session table (the start-up config had a nat service). Without
  // one, a reload that adds a nat service is refused: it needs a restart.
  bool nat_sessions = true;
};

// What a reload did, for the log and `sluicectl status`.
struct ReloadReport {
  std::vector<std::string> changes;           // "service api added", ...
  std::vector<std::string> restart_required;  // "dataplane.workers: 1 -> 2"
  size_t maglev_rebuilt = 0;
  uint64_t generation = 0;
  std::string Summary() const;
};

class Controller {
 public:
  using Publish = std::function<uint64_t(std::unique_ptr<dataplane::ForwardingTable>)>;

  // `ports` in config order, with what only the running dataplane knows (DPDK ids, MACs).
  Controller(std::vector<dataplane::PortInfo> ports, NextHopResolver resolve_next_hop,
             Publish publish, ControllerOptions options);

  absl::Status Start(config::Config config, absl::Time now);
  absl::StatusOr<ReloadReport> Reload(config::Config config, absl::Time now);

  // A health verdict for a backend id (unknown ids are ignored: a change that raced a
  // reload). Takes effect at the next Flush.
  void SetHealth(uint32_t backend, bool up, std::string_view detail);
  // `sluicectl drain|undrain SERVICE BACKEND`: BACKEND is ADDRESS:PORT, [IPV6]:PORT, or
  // an address that only one backend of the service has. Takes effect at the next Flush.
  absl::Status SetDrain(std::string_view service, std::string_view backend, bool drain);
  // Publishes a table if health or drains changed since the last one; returns the
  // number of Maglev tables rebuilt.
  size_t Flush();

  // The checks the health thread should run (none with options.health_checks false).
  std::vector<health::CheckSpec> HealthChecks() const;
  std::vector<ServiceStatus> Status() const;
  // Log lines about what changed (health transitions, services left with no serving
  // backend and back), oldest first; the caller drains them.
  std::vector<std::string> TakeEvents();

  uint64_t generation() const { return generation_; }
  // The running dataplane, metrics and control sections (services: see Status()).
  const config::Config& running() const { return running_; }

 private:
  struct BackendState {
    uint32_t id = 0;
    config::Backend config;
    dataplane::BackendInfo info;  // resolved; `up` set when a table is assembled
    bool up = true;
    std::string detail;
    bool runtime_drain = false;
    uint32_t MaglevWeight() const {
      return up && !config.drain && !runtime_drain ? config.weight : 0;
    }
  };
  struct ServiceState {
    uint32_t id = 0;
    config::Service config;
    dataplane::ServiceInfo info;              // with the current Maglev slots
    std::vector<MaglevBackend> maglev_input;  // what info.maglev was built from
    bool maglev_built = false;
    std::vector<BackendState> backends;
    bool dirty = false;
    size_t serving = 0;  // backends with Maglev slots at the last publish
  };
  struct Retired {
    dataplane::BackendInfo info;
    absl::Time until;
  };

  // One service of a reload's plan (Apply).
  struct Plan {
    const IdRegistry::ServiceIds* ids = nullptr;  // null: a new service
    ServiceState* old = nullptr;                  // its running state, if any
    bool reuse = false;         // same backends, same next hops: the old state is kept
    bool reset_health = false;  // its check changed: states start over from `assume`
    uint32_t id = 0;
    ServiceState fresh;  // !reuse: the new state, backends resolved
    std::vector<MaglevBackend> maglev_input;
    bool rebuild = false;
    dataplane::MaglevSlots slots;  // rebuild: the new slots
  };
  struct MaglevJob {
    const std::vector<MaglevBackend>* input = nullptr;
    uint32_t table_size = 0;
    const std::string* service = nullptr;
    absl::StatusOr<dataplane::MaglevSlots> result = dataplane::MaglevSlots();
  };

  absl::StatusOr<ReloadReport> Apply(config::Config config, absl::Time now, bool first);
  // Resolves a changed or new service's backends into plan.fresh, carrying ids, health
  // and runtime drains over from the running state; returns how many are new.
  absl::StatusOr<size_t> PlanBackends(const config::Service& service, Plan& plan,
                                      const BackendPlace& place,
                                      const std::vector<uint32_t>& new_ids, size_t& next_new_id,
                                      bool initially_up) const;
  static std::vector<MaglevBackend> MaglevInput(const std::vector<BackendState>& backends);
  static absl::StatusOr<dataplane::MaglevSlots> BuildSlots(const std::vector<MaglevBackend>& input,
                                                           uint32_t table_size,
                                                           const std::string& service);
  // Builds every job's slots; with `parallel`, on every CPU when there are many.
  static absl::Status BuildAll(std::vector<MaglevJob>& jobs, bool parallel);
  std::unique_ptr<dataplane::ForwardingTable> Assemble(
      const std::vector<ServiceState>& services,
      const absl::flat_hash_map<uint32_t, Retired>& retired,
      const config::DataplaneConfig& dataplane) const;
  void PublishAndNote(std::unique_ptr<dataplane::ForwardingTable> table);
  bool HealthChecked(const config::Service& service) const;
  BackendState* FindBackend(uint32_t id);
  const BackendState* FindBackend(uint32_t id) const;

  std::vector<dataplane::PortInfo> raw_ports_;
  NextHopResolver resolve_next_hop_;
  Publish publish_;
  ControllerOptions options_;

  config::Config running_;                  // without services: those live in services_
  std::vector<dataplane::PortInfo> ports_;  // addressed
  std::unique_ptr<dataplane::RouteTable> routes_;
  IdRegistry ids_;
  std::vector<ServiceState> services_;
  absl::flat_hash_map<uint32_t, size_t> service_index_;  // service id -> index in services_
  // backend id -> (service id, index in its backends): unchanged services keep theirs.
  absl::flat_hash_map<uint32_t, std::pair<uint32_t, uint32_t>> backend_index_;
  absl::flat_hash_map<uint32_t, Retired> retired_;
  uint64_t generation_ = 0;
  bool started_ = false;
  std::vector<std::string> events_;
};

// One table from one config with ids 1..N in config order and every backend up (no
// health checks): for tests and tools that need a table without running anything.
absl::StatusOr<std::unique_ptr<dataplane::ForwardingTable>> BuildForwardingTable(
    const config::Config& config, const std::vector<dataplane::PortInfo>& ports,
    const NextHopResolver& resolve_next_hop);

// The keys of `next` that a reload cannot change (docs/config.md "restart") get the
// running values back; returns each change that was undone, as "KEY: OLD -> NEW" or
// "KEY changed".
std::vector<std::string> KeepRestartOnlyKeys(const config::Config& running, config::Config& next);

}  // namespace sluice::lb

#endif  // SLUICE_LB_CONTROLLER_H_
