// TelemetryCommands: the /sluice/ telemetry handlers and the registry they read.
// Telemetry threads (handlers), control thread (construction, destruction).
#include "lb/telemetry_commands.h"

#include <rte_telemetry.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "dataplane/drop_reason.h"
#include "dataplane/forwarding_table.h"
#include "lb/lcore_sums.h"

namespace sluice::lb {
namespace {

using dataplane::LcoreCounters;
using dataplane::LcoreStats;
using dataplane::TrafficCounters;

// The registry (telemetry_commands.h): what the handlers read, set by the live
// TelemetryCommands. Function-local statics: no order-of-destruction issue at exit.
absl::Mutex& RegistryMutex() {
  static auto* const mu = new absl::Mutex();
  return *mu;
}
std::optional<CounterSources>& Registry() ABSL_EXCLUSIVE_LOCKS_REQUIRED(RegistryMutex()) {
  static auto* const sources = new std::optional<CounterSources>();
  return *sources;
}

// Telemetry strings are at most RTE_TEL_MAX_STRING_LEN - 1 bytes, and not every 22.11
// release escapes them in its JSON: keep them printable and free of '"' and '\'.
std::string TelemetryString(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (out.size() + 1 >= RTE_TEL_MAX_STRING_LEN) break;
    if (c == '"') {
      out += '\'';
    } else if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += c == '\n' ? ';' : ' ';
    } else {
      out += c;
    }
  }
  return out;
}

void AddString(rte_tel_data* d, const char* name, const std::string& value) {
  rte_tel_data_add_dict_string(d, name, TelemetryString(value).c_str());
}

uint64_t UnixSeconds(absl::Time t) {
  return t == absl::InfinitePast() ? 0 : static_cast<uint64_t>(absl::ToUnixSeconds(t));
}

// Adds `container` (an array from rte_tel_data_alloc, or null after a failed allocation)
// under `name`; telemetry frees it after the answer is written, or it is freed here when
// the dict refuses it.
void AddContainer(rte_tel_data* d, const std::string& name, rte_tel_data* container) {
  if (container == nullptr) return;
  if (rte_tel_data_add_dict_container(d, name.c_str(), container, /*keep=*/0) != 0) {
    rte_tel_data_free(container);
  }
}

void AddTraffic(rte_tel_data* d, const TrafficCounters& t) {
  rte_tel_data_add_dict_u64(d, "packets", t.packets);
  rte_tel_data_add_dict_u64(d, "bytes", t.bytes);
  rte_tel_data_add_dict_u64(d, "new_flows", t.new_flows);
  rte_tel_data_add_dict_u64(d, "active_flows", t.active_flows);
}

// /sluice/status: {"table_generation": N, "worker_table_generation": [N, ...],
// "last_reload_successful": 1, "reloads_succeeded": N, "reloads_failed": N,
// "last_reload_success_time": UNIX, "last_reload_error": "..."}
int HandleStatus(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
  absl::MutexLock lock(&RegistryMutex());
  const std::optional<CounterSources>& sources = Registry();
  if (!sources.has_value() || sources->board == nullptr) return -ENODEV;
  const StatusSnapshot s = sources->board->Snapshot();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "table_generation", s.table_generation);
  rte_tel_data* workers = rte_tel_data_alloc();
  if (workers == nullptr) return -ENOMEM;
  rte_tel_data_start_array(workers, RTE_TEL_U64_VAL);
  for (const LcoreStats* worker : sources->workers) {
    rte_tel_data_add_array_u64(workers, worker->counters.table_generation);
  }
  AddContainer(d, "worker_table_generation", workers);
  rte_tel_data_add_dict_int(d, "last_reload_successful", s.reload.last_successful ? 1 : 0);
  rte_tel_data_add_dict_u64(d, "reloads_succeeded", s.reload.successes);
  rte_tel_data_add_dict_u64(d, "reloads_failed", s.reload.failures);
  rte_tel_data_add_dict_u64(d, "last_reload_success_time", UnixSeconds(s.reload.last_success_time));
  AddString(d, "last_reload_error", s.reload.last_error);
  return 0;
}

// /sluice/services: ["web", ...]
int HandleServices(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
  absl::MutexLock lock(&RegistryMutex());
  const std::optional<CounterSources>& sources = Registry();
  if (!sources.has_value() || sources->board == nullptr) return -ENODEV;
  const StatusSnapshot s = sources->board->Snapshot();
  rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
  for (const ServiceStatus& service : s.services) {
    rte_tel_data_add_array_string(d, TelemetryString(service.name).c_str());
  }
  return 0;
}

// A u64 array container, for a dict value.
rte_tel_data* U64Array() {
  rte_tel_data* a = rte_tel_data_alloc();
  if (a != nullptr) rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
  return a;
}

// /sluice/service,NAME: the service's fields and traffic, then its backends as parallel
// arrays: "backends" (addresses) and, in the same order, "backend_weight", "backend_up",
// "backend_draining", "backend_serving", "backend_packets", "backend_bytes",
// "backend_new_flows", "backend_active_flows". DPDK 22.11 lets a dict hold arrays but not dicts,
// hence columns rather than one object per backend. An answer is at most 16 KiB: a pool of more
// than about 150 backends is cut short there (sluicectl and the metrics show all).
int HandleService(const char* /*cmd*/, const char* params, rte_tel_data* d) {
  if (params == nullptr || *params == '\0') return -EINVAL;
  absl::MutexLock lock(&RegistryMutex());
  const std::optional<CounterSources>& sources = Registry();
  if (!sources.has_value() || sources->board == nullptr) return -ENODEV;
  const StatusSnapshot s = sources->board->Snapshot();
  const std::string name = params;
  for (const ServiceStatus& service : s.services) {
    if (service.name != name) continue;
    rte_tel_data_start_dict(d);
    AddString(d, "name", service.name);
    AddString(d, "vip", service.vip);
    AddString(d, "protocol", service.protocol);
    AddString(d, "forwarding", service.forwarding);
    AddString(d, "scheduler", service.scheduler);
    AddString(d, "health_check", service.health_check);
    rte_tel_data_add_dict_u64(d, "backends_serving", service.serving_backends());
    AddTraffic(d, ServiceTraffic(sources->workers, service.id));
    // All nine columns or none: a null container must not reach rte_tel_data_add_*.
    std::array<rte_tel_data*, 9> columns{};
    columns[0] = rte_tel_data_alloc();
    if (columns[0] != nullptr) rte_tel_data_start_array(columns[0], RTE_TEL_STRING_VAL);
    for (size_t i = 1; i < columns.size(); ++i) columns[i] = U64Array();
    if (std::find(columns.begin(), columns.end(), nullptr) != columns.end()) {
      for (rte_tel_data* c : columns) {
        if (c != nullptr) rte_tel_data_free(c);
      }
      return -ENOMEM;
    }
    auto [addresses, weight, up, draining, serving, packets, bytes, new_flows, active_flows] =
        columns;
    for (const BackendStatus& backend : service.backends) {
      const TrafficCounters t = BackendTraffic(sources->workers, backend.id);
      // Arrays hold RTE_TEL_MAX_ARRAY_ENTRIES; all columns stop at the same row.
      if (rte_tel_data_add_array_string(addresses, TelemetryString(backend.address).c_str()) != 0) {
        break;
      }
      rte_tel_data_add_array_u64(weight, backend.weight);
      rte_tel_data_add_array_u64(up, backend.up ? 1 : 0);
      rte_tel_data_add_array_u64(draining, backend.config_drain || backend.runtime_drain ? 1 : 0);
      rte_tel_data_add_array_u64(serving, backend.serving() ? 1 : 0);
      rte_tel_data_add_array_u64(packets, t.packets);
      rte_tel_data_add_array_u64(bytes, t.bytes);
      rte_tel_data_add_array_u64(new_flows, t.new_flows);
      rte_tel_data_add_array_u64(active_flows, t.active_flows);
    }
    AddContainer(d, "backends", addresses);
    AddContainer(d, "backend_weight", weight);
    AddContainer(d, "backend_up", up);
    AddContainer(d, "backend_draining", draining);
    AddContainer(d, "backend_serving", serving);
    AddContainer(d, "backend_packets", packets);
    AddContainer(d, "backend_bytes", bytes);
    AddContainer(d, "backend_new_flows", new_flows);
    AddContainer(d, "backend_active_flows", active_flows);
    return 0;
  }
  return -ENOENT;
}

// /sluice/stats: totals over the workers (and the control thread for drops, ICMP and
// NAT, as in the metrics).
int HandleStats(const char* /*cmd*/, const char* /*params*/, rte_tel_data* d) {
  absl::MutexLock lock(&RegistryMutex());
  const std::optional<CounterSources>& sources = Registry();
  if (!sources.has_value()) return -ENODEV;
  const std::vector<const LcoreStats*>& workers = sources->workers;
  std::vector<const LcoreStats*> all = workers;
  if (sources->control != nullptr) all.push_back(sources->control);
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "rx_packets", SumCounter(workers, &LcoreCounters::rx_packets));
  rte_tel_data_add_dict_u64(d, "rx_bytes", SumCounter(workers, &LcoreCounters::rx_bytes));
  rte_tel_data_add_dict_u64(d, "tx_packets", SumCounter(workers, &LcoreCounters::tx_packets));
  rte_tel_data_add_dict_u64(d, "tx_bytes", SumCounter(workers, &LcoreCounters::tx_bytes));
  // One key per reason ("drops_no_route"), zeros included: a dict cannot hold a dict.
  uint64_t total_drops = 0;
  for (size_t r = 0; r < dataplane::kDropReasonCount; ++r) total_drops += SumDrops(all, r);
  rte_tel_data_add_dict_u64(d, "drops_total", total_drops);
  for (size_t r = 0; r < dataplane::kDropReasonCount; ++r) {
    const std::string key = "drops_" + std::string(dataplane::kDropReasonInfo[r].label);
    rte_tel_data_add_dict_u64(d, key.c_str(), SumDrops(all, r));
  }
  rte_tel_data_add_dict_u64(d, "new_flows", SumCounter(workers, &LcoreCounters::new_flows));
  rte_tel_data_add_dict_u64(d, "flow_table_entries",
                            SumCounter(workers, &LcoreCounters::flow_entries));
  rte_tel_data_add_dict_u64(d, "flow_table_capacity_ipv4", sources->flow_capacity_ipv4);
  rte_tel_data_add_dict_u64(d, "flow_table_capacity_ipv6", sources->flow_capacity_ipv6);
  rte_tel_data_add_dict_u64(d, "icmp_echo_replies",
                            SumCounter(all, &LcoreCounters::icmp_echo_replies));
  rte_tel_data_add_dict_u64(d, "icmp_too_big_sent",
                            SumCounter(all, &LcoreCounters::icmp_too_big_sent));
  rte_tel_data_add_dict_u64(d, "nat_reply_packets",
                            SumCounter(all, &LcoreCounters::nat_reply_packets));
  return 0;
}

struct Command {
  const char* name;
  telemetry_cb handler;
  const char* help;
};

constexpr Command kCommands[] = {
    {"/sluice/status", HandleStatus,
     "Sluice: applied and per-worker table generation, last config reload. No parameters."},
    {"/sluice/services", HandleServices, "Sluice: the service names. No parameters."},
    {"/sluice/service", HandleService,
     "Sluice: a service and its backends (weight, up, draining, traffic). Parameter: name."},
    {"/sluice/stats", HandleStats,
     "Sluice: rx/tx totals, drops by reason, flow table, ICMP and NAT. No parameters."},
};

// Registers kCommands once per process; returns whether all were accepted.
bool RegisterOnce() {
  static const bool ok = [] {
    bool all = true;
    for (const Command& c : kCommands) {
      const int ret = rte_telemetry_register_cmd(c.name, c.handler, c.help);
      if (ret != 0) {
        absl::FPrintF(stderr, "sluice: telemetry command %s not registered: error %d\n", c.name,
                      ret);
        all = false;
      }
    }
    return all;
  }();
  return ok;
}

}  // namespace

TelemetryCommands::TelemetryCommands(CounterSources sources) {
  {
    absl::MutexLock lock(&RegistryMutex());
    Registry() = std::move(sources);
  }
  registered_ = RegisterOnce();
}

TelemetryCommands::~TelemetryCommands() {
  // Waits for a handler that is reading; later ones find the registry empty.
  absl::MutexLock lock(&RegistryMutex());
  Registry().reset();
}

}  // namespace sluice::lb
