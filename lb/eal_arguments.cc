#include "lb/eal_arguments.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sluice::lb {

namespace {

bool AllHex(std::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

}  // namespace

bool IsPciDevice(std::string_view device) {
  const std::string name = EthdevName(device);
  // [DOMAIN:]BUS:DEVICE.FUNCTION
  std::vector<std::string> parts = absl::StrSplit(name, ':');
  if (parts.size() == 3) {
    if (parts[0].size() != 4 || !AllHex(parts[0])) return false;
    parts.erase(parts.begin());
  }
  if (parts.size() != 2 || parts[0].size() != 2 || !AllHex(parts[0])) return false;
  const std::vector<std::string> dev_fn = absl::StrSplit(parts[1], '.');
  return dev_fn.size() == 2 && dev_fn[0].size() == 2 && AllHex(dev_fn[0]) &&
         dev_fn[1].size() == 1 && dev_fn[1][0] >= '0' && dev_fn[1][0] <= '7';
}

std::string EthdevName(std::string_view device) {
  return std::string(device.substr(0, device.find(',')));
}

std::string DeviceArgument(std::string_view device, std::string_view key) {
  const std::vector<std::string> parts = absl::StrSplit(std::string(device), ',');
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    if (part.size() > key.size() && part.substr(0, key.size()) == key && part[key.size()] == '=') {
      return std::string(part.substr(key.size() + 1));
    }
  }
  return "";
}

bool HasEalOption(const std::vector<std::string>& args, std::string_view option) {
  const bool short_option = option.size() == 2 && option[0] == '-';
  for (const std::string& a : args) {
    const std::string_view arg = a;
    if (arg == option) return true;
    if (arg.starts_with(option) && arg.size() > option.size() &&
        (arg[option.size()] == '=' || short_option)) {
      return true;  // --lcores=..., -l0-2
    }
  }
  return false;
}

absl::StatusOr<std::vector<std::string>> BuildEalArguments(
    const config::Config& config, const std::vector<std::string>& command_line_eal,
    const std::vector<int>& cpus) {
  std::vector<std::string> user = config.dataplane.eal;
  user.insert(user.end(), command_line_eal.begin(), command_line_eal.end());

  std::vector<std::string> args = {"sluice"};
  const uint32_t lcores = config.dataplane.workers + 1;
  if (!HasEalOption(user, "-l") && !HasEalOption(user, "-c") && !HasEalOption(user, "--lcores")) {
    if (cpus.size() < lcores) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "dataplane.workers: %u workers need %u CPUs (one more for the control thread), but "
          "this process may run on %u (CPUs %s); lower dataplane.workers, or map lcores to "
          "CPUs yourself with --lcores in dataplane.eal",
          config.dataplane.workers, lcores, cpus.size(), absl::StrJoin(cpus, ",")));
    }
    std::vector<int> chosen(cpus.begin(), cpus.begin() + lcores);
    args.push_back("-l");
    args.push_back(absl::StrJoin(chosen, ","));
  }
  bool any_pci = false;
  for (const config::Port& port : config.dataplane.ports) {
    if (IsPciDevice(port.device)) {
      any_pci = true;
      args.push_back("-a");
    } else {
      args.push_back("--vdev");
    }
    args.push_back(port.device);
  }
  // Without an allow-list entry the EAL would probe (and may take) every PCI NIC.
  if (!any_pci && !HasEalOption(user, "-a") && !HasEalOption(user, "--allow")) {
    args.push_back("--no-pci");
  }
  args.insert(args.end(), user.begin(), user.end());
  return args;
}

absl::Status CheckHugepages(const std::vector<std::string>& eal_args, uint64_t free_hugepages) {
  if (HasEalOption(eal_args, "--no-huge") || free_hugepages > 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "no free hugepages: reserve some (for example `dpdk-hugepages.py --setup 1G`, or "
      "`echo 512 > /proc/sys/vm/nr_hugepages`), or run without them by adding "
      "\"--no-huge\", \"-m\", \"512\", \"--no-shconf\" to dataplane.eal");
}

}  // namespace sluice::lb
