// The daemon's control thread once the appliance runs: slow-path packets and neighbour
// timers, the health thread's verdicts, reload triggers (SIGHUP, the config file
// replaced, `sluicectl reload`), sluicectl commands, until SIGTERM/SIGINT. Owns the
// health thread (started and joined here). Main lcore only.
#ifndef SLUICE_LB_CONTROL_LOOP_H_
#define SLUICE_LB_CONTROL_LOOP_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "health/health_checker.h"
#include "lb/appliance.h"
#include "lb/config_watch.h"
#include "lb/reloader.h"
#include "lb/status_board.h"

namespace sluice::lb {

// How often the config file's identity is checked for a replacement.
inline constexpr uint64_t kConfigWatchIntervalMs = 500;
// How often the workers' busy ratios are taken (sluice_worker_busy_ratio: "the last ~1 s").
inline constexpr uint64_t kBusySampleIntervalMs = 1000;

class ControlLoop {
 public:
  ControlLoop(const std::string& config_path, Appliance& appliance, health::HealthChecker& checker);

  // Runs until a stop signal; then stops the workers and logs the summary. Fails only
  // when something it starts (the control socket, the metrics endpoint) cannot start.
  absl::Status Run();

  // One sluicectl command (args as typed after the options); returns the exit code and
  // the text to print.
  std::pair<int, std::string> Command(const std::vector<std::string>& args);

 private:
  // Applies health verdicts and drains; returns whether anything changed.
  bool ApplyChanges();
  void LogEvents();

  Appliance& appliance_;
  health::HealthChecker& checker_;
  StatusBoard board_;
  Reloader reloader_;
  ConfigWatch watch_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_CONTROL_LOOP_H_
