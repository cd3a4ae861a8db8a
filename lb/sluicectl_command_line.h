// sluicectl's command line:
//   sluicectl [--socket PATH] [--json] COMMAND [ARGS...]
// The socket defaults to $SLUICE_SOCKET, else /run/sluice/sluice.sock. Commands and their
// argument counts are checked here; what they mean is the daemon's business. Called from
// sluicectl's main.
#ifndef SLUICE_LB_SLUICECTL_COMMAND_LINE_H_
#define SLUICE_LB_SLUICECTL_COMMAND_LINE_H_

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::lb {

inline constexpr std::string_view kDefaultControlSocket = "/run/sluice/sluice.sock";

struct SluicectlCommandLine {
  bool help = false;
  std::string socket_path;
  // Sent to the daemon as they are: ["--json"]? COMMAND ARGS...
  std::vector<std::string> request;
};

// `args` excludes argv[0]; `env_socket` is $SLUICE_SOCKET or empty. Fails with
// InvalidArgument (a usage error, exit status 2).
absl::StatusOr<SluicectlCommandLine> ParseSluicectlCommandLine(
    std::span<const std::string_view> args, std::string_view env_socket);

std::string SluicectlUsage(std::string_view program);

}  // namespace sluice::lb

#endif  // SLUICE_LB_SLUICECTL_COMMAND_LINE_H_
