// The sluice daemon's entry point. Exit status: 0 ok, 1 invalid config or start-up
// failure, 2 usage error.
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_format.h"
#include "build_config.h"
#include "config/loader.h"
#include "dataplane/dpdk_version.h"
#include "lb/command_line.h"
#include "lb/daemon.h"
#include "lb/service_notify.h"

namespace {

constexpr int kExitInvalid = 1;
constexpr int kExitUsage = 2;

int Run(const sluice::lb::CommandLine& cl) {
  std::vector<sluice::config::Diagnostic> diagnostics;
  const absl::StatusOr<sluice::config::Config> config =
      sluice::config::LoadFile(cl.config_path, &diagnostics);
  if (!config.ok()) {
    for (const auto& d : diagnostics) absl::FPrintF(stderr, "%s\n", d.ToString());
    if (diagnostics.size() > sluice::config::kMaxDiagnostics) {
      absl::FPrintF(stderr, "%s: invalid config: more than %d errors\n", cl.config_path,
                    sluice::config::kMaxDiagnostics);
    } else {
      absl::FPrintF(stderr, "%s: invalid config: %d error%s\n", cl.config_path, diagnostics.size(),
                    diagnostics.size() == 1 ? "" : "s");
    }
    // Under systemd (not for --check, which ExecStartPre and ExecReload run): why the
    // unit failed, in `systemctl status`.
    if (!cl.check) {
      sluice::lb::NotifyStatus(absl::StrFormat("cannot start: %s: invalid config (%d error%s)",
                                               cl.config_path, diagnostics.size(),
                                               diagnostics.size() == 1 ? "" : "s"));
    }
    return kExitInvalid;
  }
  if (cl.check) {
    absl::PrintF("%s: valid: %d service%s, %d backend%s\n", cl.config_path, config->services.size(),
                 config->services.size() == 1 ? "" : "s", config->backend_count(),
                 config->backend_count() == 1 ? "" : "s");
    return 0;
  }
  return sluice::lb::RunDaemon(cl.config_path, *config, cl.eal_args);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const absl::StatusOr<sluice::lb::CommandLine> cl = sluice::lb::ParseCommandLine(args);
  if (!cl.ok()) {
    absl::FPrintF(stderr, "sluice: %s\n\n%s", cl.status().message(), sluice::lb::Usage("sluice"));
    return kExitUsage;
  }
  if (cl->help) {
    absl::PrintF("%s", sluice::lb::Usage("sluice"));
    return 0;
  }
  if (cl->version) {
    absl::PrintF("sluice %s (%s)\n", SLUICE_VERSION, sluice::dataplane::DpdkVersion());
    return 0;
  }
  return Run(*cl);
}
