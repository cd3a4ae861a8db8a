// Packet capture: rte_pdump in the primary, and what shared config leaves behind.
#include "dataplane/packet_capture.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_pdump.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"

namespace sluice::dataplane {
namespace {
bool capture_enabled = false;  // control thread only

bool HasOption(const std::vector<std::string>& args, const std::string& option) {
  return std::ranges::any_of(
      args, [&](const std::string& a) { return a == option || a.starts_with(option + "="); });
}
}  // namespace

std::string CaptureBlockingOption(const std::vector<std::string>& eal_args) {
  for (const char* option : {"--in-memory", "--no-shconf", "--no-huge"}) {
    if (HasOption(eal_args, option)) return option;
  }
  return "";
}

absl::Status EnablePacketCapture() {
  if (rte_pdump_init() != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("rte_pdump_init: %s", rte_strerror(rte_errno)));
  }
  capture_enabled = true;
  return absl::OkStatus();
}

void DisablePacketCapture() {
  if (!capture_enabled) return;
  rte_pdump_uninit();
  capture_enabled = false;
}

std::string EalFilePrefix() {
  return std::filesystem::path(rte_eal_get_runtime_dir()).filename().string();
}

int RemoveHugepageFiles(const std::string& file_prefix) {
  const std::string stem = file_prefix + "map_";
  std::ifstream mounts("/proc/mounts");
  std::string line;
  int removed = 0;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device;
    std::string dir;
    std::string type;
    if (!(fields >> device >> dir >> type) || type != "hugetlbfs") continue;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with(stem)) continue;
      const std::string n = name.substr(stem.size());
      if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
      std::error_code remove_ec;
      if (std::filesystem::remove(entry.path(), remove_ec)) ++removed;
    }
  }
  return removed;
}

}  // namespace sluice::dataplane
