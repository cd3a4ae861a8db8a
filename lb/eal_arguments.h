// Turns the config into DPDK EAL arguments (dataplane.ports[].device -> -a / --vdev,
// workers -> lcores, dataplane.eal and the command line's `-- ARGS` appended verbatim)
// and checks, before DPDK starts, the things whose EAL error messages are hard to read:
// too few CPUs, no hugepages, a vdev interface that does not exist.
#ifndef SLUICE_LB_EAL_ARGUMENTS_H_
#define SLUICE_LB_EAL_ARGUMENTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/config.h"

namespace sluice::lb {

// True for a PCI address (0000:03:00.0 or 03:00.0, optionally followed by ",devargs").
bool IsPciDevice(std::string_view device);

// The ethdev name DPDK gives a device: the part before the first ','.
std::string EthdevName(std::string_view device);

// The value of `key=` in a vdev string ("net_af_packet0,iface=eth1" -> "eth1"), or "".
std::string DeviceArgument(std::string_view device, std::string_view key);

// `cpus` are the CPUs this process may run on (sched_getaffinity). Unless the EAL
// arguments already choose lcores (-l, -c, --lcores), the first workers + 1 of them are
// used: the first for the control thread, the rest for workers.
absl::StatusOr<std::vector<std::string>> BuildEalArguments(
    const config::Config& config, const std::vector<std::string>& command_line_eal,
    const std::vector<int>& cpus);

// Whether `args` contain `option` as a word or as `option=...` (or `-lX` for short ones).
bool HasEalOption(const std::vector<std::string>& args, std::string_view option);

// Fails with an actionable message when DPDK would start without memory: no free
// hugepages and no --no-huge. `free_hugepages` is the sum over page sizes.
absl::Status CheckHugepages(const std::vector<std::string>& eal_args, uint64_t free_hugepages);

}  // namespace sluice::lb

#endif  // SLUICE_LB_EAL_ARGUMENTS_H_
