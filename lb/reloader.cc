#include "lb/reloader.h"

#include <cstdio>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "config/diagnostic.h"
#include "config/loader.h"

namespace sluice::lb {

namespace {
void Log(const std::string& message) { absl::FPrintF(stderr, "sluice: %s\n", message); }
}  // namespace

Reloader::Reloader(std::string path, Controller& controller, health::HealthChecker* checker,
                   StatusBoard& board)
    : path_(std::move(path)), controller_(controller), checker_(checker), board_(board) {
  status_.last_success_time = absl::Now();  // the start-up config
  status_.last_summary = "start-up config";
  board_.SetReload(status_);
  RefreshBoard();
}

void Reloader::RefreshBoard() {
  board_.SetServices(controller_.generation(), controller_.Status());
  board_.SetPerBackendMetrics(controller_.running().metrics.per_backend);
}

void Reloader::UpdateChecks() {
  if (checker_ == nullptr) return;
  if (absl::Status s = checker_->SetChecks(controller_.HealthChecks()); !s.ok()) {
    Log(absl::StrFormat("health checks not updated: %s", s.message()));
  }
}

void Reloader::Fail(std::string_view reason, const std::string& errors, absl::Time now) {
  status_.failures += 1;
  status_.last_successful = false;
  status_.last_attempt_time = now;
  status_.last_error = errors;
  board_.SetReload(status_);
  Log(absl::StrFormat("reload (%s) failed; still serving table generation %u:", reason,
                      controller_.generation()));
  absl::FPrintF(stderr, "%s\n", errors);
}

ReloadOutcome Reloader::Reload(std::string_view reason) {
  const absl::Time now = absl::Now();
  std::vector<config::Diagnostic> diagnostics;
  absl::StatusOr<config::Config> config = config::LoadFile(path_, &diagnostics);
  if (!config.ok()) {
    std::vector<std::string> lines;
    for (size_t i = 0; i < diagnostics.size() && i < config::kMaxDiagnostics; ++i) {
      lines.push_back(diagnostics[i].ToString());
    }
    if (lines.empty()) lines.push_back(absl::StrFormat("%s: %s", path_, config.status().message()));
    lines.push_back(absl::StrFormat("%s: invalid config: %u error%s; nothing applied", path_,
                                    diagnostics.size(), diagnostics.size() == 1 ? "" : "s"));
    const std::string errors = absl::StrJoin(lines, "\n");
    Fail(reason, errors, now);
    return {.ok = false, .text = errors};
  }
  absl::StatusOr<ReloadReport> report = controller_.Reload(*std::move(config), now);
  if (!report.ok()) {
    const std::string errors =
        absl::StrFormat("%s: %s; nothing applied", path_, report.status().message());
    Fail(reason, errors, now);
    return {.ok = false, .text = errors};
  }
  status_.successes += 1;
  status_.last_successful = true;
  status_.last_attempt_time = now;
  status_.last_success_time = now;
  status_.last_error.clear();
  status_.last_summary = report->Summary();
  status_.restart_required = report->restart_required;
  board_.SetReload(status_);
  UpdateChecks();
  RefreshBoard();
  Log(absl::StrFormat("reload (%s): %s", reason, status_.last_summary));
  std::string text = status_.last_summary;
  for (const std::string& change : report->restart_required) {
    Log(absl::StrFormat("reload (%s): %s: needs a restart, not applied", reason, change));
    absl::StrAppendFormat(&text, "\n%s: needs a restart, not applied", change);
  }
  return {.ok = true, .text = text};
}

}  // namespace sluice::lb
