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
  // Options the command may take after its name (at most one), e.g. list --stats.
  std::initializer_list<std::string_view> options = {};
};

constexpr std::string_view kListOptions[] = {"--stats", "--rate"};

const Command kCommands[] = {
    {"list", 0, "list [--stats|--rate]", {kListOptions[0], kListOptions[1]}},
    {"status", 0, "status"},
    {"announce", 0, "announce"},
    {"reload", 0, "reload"},
    {"drain", 2, "drain SERVICE BACKEND"},
    {"undrain", 2, "undrain SERVICE BACKEND"},
    {"lookup", 5, "lookup tcp|udp SRC SPORT DST DPORT"},
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
  size_t given = args.size() - i - 1;
  for (const Command& command : kCommands) {
    if (command.name != name) continue;
    if (given > 0 && args[i + 1].starts_with("--")) {
      bool known = false;
      for (std::string_view option : command.options) known = known || option == args[i + 1];
      if (!known) {
        return absl::InvalidArgumentError(absl::StrFormat("'%s' has no option '%s': sluicectl %s",
                                                          name, args[i + 1], command.synopsis));
      }
      --given;
    }
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
      "  list                      services and backends: health, drain state, active flows\n"
      "  list --stats              ... with packets, bytes and new flows since start\n"
      "  list --rate               ... with new flows, packets and bytes per second\n"
      "  status                    table generation and the result of the last reload\n"
      "  announce                  each VIP: up (a service on it has a serving backend:\n"
      "                            advertise it) or down (withdraw it); docs/bgp.md\n"
      "  reload                    re-read the config file (as SIGHUP)\n"
      "  drain SERVICE BACKEND     take no new flows on BACKEND until undrain\n"
      "  undrain SERVICE BACKEND   undo drain\n"
      "  lookup tcp|udp SRC SPORT DST DPORT\n"
      "                            which backend this flow gets, and why (IPv4 or IPv6)\n"
      "BACKEND is ADDRESS:PORT, [IPv6]:PORT, or ADDRESS when it is unique in the service.\n"
      "\n"
      "Options:\n"
      "  --socket PATH   control socket (default $SLUICE_SOCKET, else %s)\n"
      "  --json          answer list, status, announce and lookup in JSON\n"
      "  -h, --help      this text\n"
      "\n"
      "Exit status: 0 ok, 1 the daemon refused or failed, 2 usage error, 3 cannot reach sluice.\n",
      program, kDefaultControlSocket);
}

}  // namespace sluice::lb
