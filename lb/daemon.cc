#include "lb/daemon.h"

#include <net/if.h>
#include <sched.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "dataplane/packet_capture.h"
#include "dataplane/port.h"
#include "lb/appliance.h"
#include "lb/control_loop.h"
#include "lb/eal_arguments.h"
#include "lb/service_notify.h"
#include "lb/signals.h"

namespace sluice::lb {

namespace {

namespace dp = ::sluice::dataplane;

void Log(const std::string& message) { absl::FPrintF(stderr, "sluice: %s\n", message); }

std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

uint64_t FreeHugepages() {
  uint64_t free = 0;
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator("/sys/kernel/mm/hugepages", ec)) {
    std::ifstream in(dir.path() / "free_hugepages");
    uint64_t n = 0;
    if (in >> n) free += n;
  }
  return free;
}

// Interfaces named by af_packet/af_xdp/pcap vdevs must exist in this network namespace.
absl::Status CheckInterfaces(const config::Config& config) {
  for (const config::Port& port : config.dataplane.ports) {
    const std::string iface = DeviceArgument(port.device, "iface");
    if (!iface.empty() && if_nametoindex(iface.c_str()) == 0) {
      return absl::NotFoundError(absl::StrFormat(
          "port %s: interface %s (device \"%s\") does not exist in this network namespace",
          port.name, iface, port.device));
    }
  }
  return absl::OkStatus();
}

// Lets dpdk-dumpcap attach when the EAL shares its memory (docs/observability.md) and
// says so either way. Returns whether the EAL runs with shared config and hugepage files.
bool StartPacketCapture(const std::vector<std::string>& eal_args, const std::string& file_prefix) {
  const std::string blocking = dp::CaptureBlockingOption(eal_args);
  if (!blocking.empty()) {
    Log(absl::StrFormat("packet capture: off (the EAL runs with %s; docs/observability.md)",
                        blocking));
    return false;
  }
  const absl::Status status = dp::EnablePacketCapture();
  if (status.ok()) {
    Log(absl::StrFormat("packet capture: on (dpdk-dumpcap --file-prefix=%s -i PORT)", file_prefix));
  } else {
    Log(absl::StrFormat("packet capture: off (%s)", status.message()));
  }
  return true;
}

}  // namespace

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

int RunDaemon(const std::string& config_path, const config::Config& config,
              const std::vector<std::string>& command_line_eal) {
  InstallSignalHandlers();
  absl::StatusOr<std::vector<std::string>> args =
      BuildEalArguments(config, command_line_eal, AllowedCpus());
  absl::Status status = args.ok() ? CheckHugepages(*args, FreeHugepages()) : args.status();
  if (status.ok()) status = CheckInterfaces(config);
  if (status.ok()) status = dp::InitEal(*args);
  if (!status.ok()) {
    Log(absl::StrFormat("cannot start: %s", status.message()));
    NotifyStatus(absl::StrFormat("cannot start: %s", status.message()));
    return 1;
  }
  // Captured before CleanupEal, which removes the runtime directory it is read from.
  const std::string file_prefix = dp::EalFilePrefix();
  const bool shared_memory = StartPacketCapture(*args, file_prefix);
  int exit_status = 0;
  {
    Appliance appliance(config, ApplianceOptions{.health_checks = true});
    status = appliance.Start();
    absl::StatusOr<std::unique_ptr<health::HealthChecker>> checker =
        status.ok() ? health::HealthChecker::Create(NowMs())
                    : absl::StatusOr<std::unique_ptr<health::HealthChecker>>(status);
    if (!checker.ok()) status = checker.status();
    if (status.ok()) status = appliance.LaunchWorkers();
    if (status.ok()) {
      ControlLoop loop(config_path, appliance, **checker);
      status = loop.Run();
    }
    if (!status.ok()) {
      Log(absl::StrFormat("cannot start: %s", status.message()));
      NotifyStatus(absl::StrFormat("cannot start: %s", status.message()));
      exit_status = 1;
    }
  }
  dp::DisablePacketCapture();
  dp::CleanupEal();
  if (shared_memory) {
    const int removed = dp::RemoveHugepageFiles(file_prefix);
    if (removed > 0) {
      Log(absl::StrFormat("removed %d hugepage files of prefix %s", removed, file_prefix));
    }
  }
  if (exit_status == 0) Log("stopped");
  return exit_status;
}

}  // namespace sluice::lb
