// Read-only DPDK telemetry commands under /sluice/, so that the stock
// `dpdk-telemetry.py -f PREFIX` shows what `sluicectl` and the metrics endpoint show:
//   /sluice/status           table generation (applied and per worker), reload result
//   /sluice/services         the service names
//   /sluice/service,NAME     one service and its backends (weight, up, draining, traffic)
//   /sluice/stats            rx/tx totals, drops by reason, flow table, ICMP and NAT
// The handlers run on DPDK's telemetry threads (one per connected client), so they read
// only thread-safe data: StatusBoard snapshots and the per-lcore counters (plain loads,
// lcore_sums.h). docs/observability.md shows the answers.
#ifndef SLUICE_LB_TELEMETRY_COMMANDS_H_
#define SLUICE_LB_TELEMETRY_COMMANDS_H_

#include "lb/counter_collector.h"

namespace sluice::lb {

// DPDK 22.11's rte_telemetry has no user-data pointer for a command, and commands cannot
// be unregistered. So the commands are registered once per process (the first
// TelemetryCommands) and read a process-wide registry that a TelemetryCommands object
// fills for its lifetime: construction sets it, destruction clears it under the same
// mutex every handler holds while it reads. A handler that runs with the registry clear
// (before Sluice is ready, or while it stops) answers null. At most one object at a
// time; everything `sources` points to must outlive it (ControlLoop::Run keeps it
// local, the Appliance and the status board live longer).
class TelemetryCommands {
 public:
  explicit TelemetryCommands(CounterSources sources);
  ~TelemetryCommands();
  TelemetryCommands(const TelemetryCommands&) = delete;
  TelemetryCommands& operator=(const TelemetryCommands&) = delete;

  // False if DPDK refused a command (logged); the daemon carries on without them.
  bool registered() const { return registered_; }

 private:
  bool registered_ = false;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_TELEMETRY_COMMANDS_H_
