#include "lb/sluicectl_command_line.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sluice::lb {
namespace {

struct Command {
  std::string_view name;
  size_t args;
  std::string_view synopsis;
};

constexpr Command kCommands[] = {
    {"list", 0, "list"},
    {"status", 0, "status"},
    {"reload", 0, "reload"},
    {"drain", 2, "drain SERVICE BACKEND"},
    {"undrain", 2, "undrain SERVICE BACKEND"},
};

}  // namespace

absl::StatusOr<SluicectlCommandLine> ParseSluicectlCommandLine(
    std::span<const std::string_view> args, std::string_view env_socket) {
  SluicectlCommandLine cl;
  cl.socket_path =
      env_socket.empty() ? std::string(kDefaultControlSocket) : std::string(env_socket);
  bool json = false;
  size_t i = 0;
  for (; i < args.size() && args[i].starts_with("-"); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      cl.help = true;
      return cl;
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--socket") {
      if (i + 1 == args.size()) return absl::InvalidArgumentError("--socket needs a PATH");
      cl.socket_path = std::string(args[++i]);
    } else if (arg.starts_with("--socket=")) {
      cl.socket_path = std::string(arg.substr(std::string_view("--socket=").size()));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", std::string(arg), "'"));
    }
  }
  if (cl.socket_path.empty()) return absl::InvalidArgumentError("--socket needs a PATH");
  if (i == args.size()) return absl::InvalidArgumentError("no command");
  const std::string_view name = args[i];
  const size_t given = args.size() - i - 1;
  for (const Command& command : kCommands) {
    if (command.name != name) continue;
    if (given != command.args) {
      return absl::InvalidArgumentError(
          absl::StrFormat("'%s' takes %d argument(s), got %d: sluicectl %s", name, command.args,
                          given, command.synopsis));
    }
    if (json) cl.request.emplace_back("--json");
    cl.request.insert(cl.request.end(), args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return cl;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown command '", std::string(name), "'"));
}

std::string SluicectlUsage(std::string_view program) {
  return absl::StrFormat(
      "Usage: %s [--socket PATH] [--json] COMMAND [ARGS...]\n"
      "\n"
      "Commands:\n"
      "  list                      services and backends, with health and drain state\n"
      "  status                    table generation and the result of the last reload\n"
      "  reload                    re-read the config file (as SIGHUP)\n"
      "  drain SERVICE BACKEND     take no new flows on BACKEND until undrain\n"
      "  undrain SERVICE BACKEND   undo drain\n"
      "BACKEND is ADDRESS:PORT, [IPv6]:PORT, or ADDRESS when it is unique in the service.\n"
      "\n"
      "Options:\n"
      "  --socket PATH   control socket (default $SLUICE_SOCKET, else %s)\n"
      "  --json          answer list and status in JSON\n"
      "  -h, --help      this text\n"
      "\n"
      "Exit status: 0 ok, 1 the daemon refused or failed, 2 usage error, 3 cannot reach sluice.\n",
      program, kDefaultControlSocket);
}

}  // namespace sluice::lb
