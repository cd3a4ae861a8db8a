#include "lb/command_line.h"

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace sluice::lb {

absl::StatusOr<CommandLine> ParseCommandLine(std::span<const std::string_view> args) {
  CommandLine cl;
  bool have_config = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--") {
      cl.eal_args.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg == "--help" || arg == "-h") {
      cl.help = true;
    } else if (arg == "--version") {
      cl.version = true;
    } else if (arg == "--check") {
      cl.check = true;
    } else if (arg == "--config" || arg.starts_with("--config=")) {
      if (have_config) return absl::InvalidArgumentError("--config given more than once");
      std::string_view value;
      if (arg == "--config") {
        if (i + 1 == args.size()) return absl::InvalidArgumentError("--config needs a FILE");
        value = args[++i];
      } else {
        value = arg.substr(std::string_view("--config=").size());
      }
      if (value.empty()) return absl::InvalidArgumentError("--config needs a FILE");
      cl.config_path = std::string(value);
      have_config = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrFormat("unexpected argument '%s' (EAL arguments go after '--')", arg));
    }
  }
  if (!have_config && !cl.help && !cl.version) {
    return absl::InvalidArgumentError("--config FILE is required");
  }
  if (!cl.eal_args.empty() && cl.check) {
    return absl::InvalidArgumentError("--check takes no EAL arguments: it touches no NIC");
  }
  return cl;
}

std::string Usage(std::string_view program) {
  return absl::StrFormat(
      "usage: %1$s --config FILE [-- EAL-ARGS...]   run the load balancer\n"
      "       %1$s --config FILE --check            validate FILE and exit\n"
      "       %1$s --version | --help\n"
      "\n"
      "--check exits 0 when FILE is valid, 1 when it is not (errors on stderr as\n"
      "FILE:LINE:COLUMN: error: PATH: MESSAGE), 2 on a usage error. It touches no NIC\n"
      "and no hugepage. EAL-ARGS are appended to the EAL arguments built from the config.\n",
      program);
}

}  // namespace sluice::lb
