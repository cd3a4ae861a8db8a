// The daemon's command line (DESIGN.md, "Command-line contract"):
//   sluice --config FILE [--check] [-- EAL-ARGS...]
#ifndef SLUICE_LB_COMMAND_LINE_H_
#define SLUICE_LB_COMMAND_LINE_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::lb {

struct CommandLine {
  std::string config_path;
  bool check = false;                 // validate the config, print a summary, exit
  bool help = false;                  // print usage, exit 0
  bool version = false;               // print versions, exit 0
  std::vector<std::string> eal_args;  // everything after "--", passed to DPDK verbatim
};

// `args` excludes argv[0]. Fails with InvalidArgument (a usage error, exit status 2).
absl::StatusOr<CommandLine> ParseCommandLine(std::span<const std::string_view> args);

std::string Usage(std::string_view program);

}  // namespace sluice::lb

#endif  // SLUICE_LB_COMMAND_LINE_H_
