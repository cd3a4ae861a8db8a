// The daemon's control thread once the appliance runs: slow-path packets and neighbour
// timers, the health thread's verdicts, reload triggers (SIGHUP, the config file
// replaced, `sluicectl reload`), sluicectl commands, until SIGTERM/SIGINT. Owns the
// health thread (started and joined here). Main lcore only.
#ifndef SLUICE_LB_CONTROL_LOOP_H_
#define SLUICE_LB_CONTROL_LOOP_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "health/health_checker.h"
#include "lb/appliance.h"
#include "lb/config_watch.h"
#include "lb/rate_estimator.h"
#include "lb/reloader.h"
#include "lb/status_board.h"
#include "lb/status_format.h"

namespace sluice::lb {

// How often the config file's identity is checked for a replacement.
inline constexpr uint64_t kConfigWatchIntervalMs = 500;
// How often the workers' busy ratios are taken (sluice_worker_busy_ratio: "the last ~1 s").
inline constexpr uint64_t kBusySampleIntervalMs = 1000;
// How long `sluicectl lookup` waits for the workers' answers. A running worker answers
// within one loop iteration: a burst, or an idle sleep of at most
// dataplane.idle_sleep_max (200 us by default); this bound only matters for a worker
// that is stuck or stopped, whose entry is then reported as unknown.
inline constexpr absl::Duration kFlowQueryTimeout = absl::Milliseconds(100);

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
  // The dataplane's numbers for the services and backends of `snapshot`.
  ListTrafficByIds Traffic(const StatusSnapshot& snapshot) const;
  // Feeds the rate estimators (about once a second, from Run).
  void SampleRates(absl::Time now);
  std::pair<int, std::string> Lookup(const std::vector<std::string>& args, bool json);
  // reloader_.Reload between RELOADING=1 and READY=1 to the service manager.
  ReloadOutcome Reload(std::string_view reason);

  Appliance& appliance_;
  health::HealthChecker& checker_;
  StatusBoard board_;
  Reloader reloader_;
  ConfigWatch watch_;
  std::vector<const dataplane::LcoreStats*> worker_stats_;
  RateEstimator service_rates_;
  RateEstimator backend_rates_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_CONTROL_LOOP_H_
