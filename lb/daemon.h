// The running appliance: starts DPDK from the config, brings the ports up, publishes the
// first forwarding table, launches the workers, runs the control loop (slow path,
// neighbour timers) until SIGTERM/SIGINT, then stops everything in order.
#ifndef SLUICE_LB_DAEMON_H_
#define SLUICE_LB_DAEMON_H_

#include <string>
#include <vector>

#include "config/config.h"

namespace sluice::lb {

// Returns the process exit status: 0 after a clean stop, 1 when start-up failed (the
// reason is on stderr).
int RunDaemon(const config::Config& config, const std::vector<std::string>& command_line_eal);

}  // namespace sluice::lb

#endif  // SLUICE_LB_DAEMON_H_
