// Reloads the config file into the running appliance: load and validate it whole,
// apply it through the controller, hand the new checks to the health thread, record
// the outcome for sluicectl and metrics, log it. A bad file changes nothing and never
// stops the daemon. Control thread only.
#ifndef SLUICE_LB_RELOADER_H_
#define SLUICE_LB_RELOADER_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "health/health_checker.h"
#include "lb/controller.h"
#include "lb/status_board.h"

namespace sluice::lb {

struct ReloadOutcome {
  bool ok = false;
  std::string text;  // the summary, or the errors one per line (FILE:LINE:COLUMN: ...)
};

class Reloader {
 public:
  // `checker` may be null (no health thread).
  Reloader(std::string path, Controller& controller, health::HealthChecker* checker,
           StatusBoard& board);

  // `reason` is for the log: "SIGHUP", "file replaced", "sluicectl".
  ReloadOutcome Reload(std::string_view reason);
  // After anything else changed what the board shows (health, drains).
  void RefreshBoard();
  // Hands the controller's current checks to the health thread.
  void UpdateChecks();

  const std::string& path() const { return path_; }

 private:
  void Fail(std::string_view reason, const std::string& errors, absl::Time now);

  std::string path_;
  Controller& controller_;
  health::HealthChecker* checker_;
  StatusBoard& board_;
  ReloadStatus status_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_RELOADER_H_
