// The `sluicectl` entry point: parse the command line, send one request over the control
// socket, print the answer (stdout on success, stderr otherwise) and exit with the
// daemon's exit code; 2 for usage errors, 3 when the daemon cannot be reached.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "lb/control_client.h"
#include "lb/sluicectl_command_line.h"

namespace {

// Longer than the server's 30 s wait for the control thread, so that a busy daemon
// answers "did not answer" itself rather than the client giving up first.
constexpr absl::Duration kTimeout = absl::Seconds(35);

}  // namespace

int main(int argc, char** argv) {
  const std::string_view program = "sluicectl";
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const char* env_socket = std::getenv("SLUICE_SOCKET");
  auto cl = sluice::lb::ParseSluicectlCommandLine(args, env_socket ? env_socket : "");
  if (!cl.ok()) {
    std::fprintf(stderr, "sluicectl: %s\n%s", std::string(cl.status().message()).c_str(),
                 sluice::lb::SluicectlUsage(program).c_str());
    return 2;
  }
  if (cl->help) {
    std::fputs(sluice::lb::SluicectlUsage(program).c_str(), stdout);
    return 0;
  }
  auto response = sluice::lb::SendControlRequest(cl->socket_path, cl->request, kTimeout);
  if (!response.ok()) {
    std::fprintf(stderr, "sluicectl: %s\n", std::string(response.status().message()).c_str());
    return 3;
  }
  std::FILE* out = response->exit_code == 0 ? stdout : stderr;
  std::fwrite(response->text.data(), 1, response->text.size(), out);
  // Every answer ends a line, whatever the daemon's text did.
  if (!response->text.empty() && response->text.back() != '\n') std::fputc('\n', out);
  return response->exit_code;
}
