// The running appliance: starts DPDK from the config, brings the ports up, publishes the
// first forwarding table, launches the workers and the health thread, runs the control
// loop (lb/control_loop.h) until SIGTERM/SIGINT, then stops everything in order.
#ifndef SLUICE_LB_DAEMON_H_
#define SLUICE_LB_DAEMON_H_

#include <string>
#include <vector>

#include "config/config.h"

namespace sluice::lb {

// Returns the process exit status: 0 after a clean stop, 1 when start-up failed (the
// reason is on stderr).
// `config` was loaded from `config_path`, which later reloads read again.
int RunDaemon(const std::string& config_path, const config::Config& config,
              const std::vector<std::string>& command_line_eal);

// Milliseconds on the monotonic clock (the control loop's and the neighbour cache's time).
uint64_t NowMs();

}  // namespace sluice::lb

#endif  // SLUICE_LB_DAEMON_H_
