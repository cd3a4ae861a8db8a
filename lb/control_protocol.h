// The control socket's wire format, shared by the daemon (ControlServer) and sluicectl
// (SendControlRequest). Pure functions; any thread.
//
// One request per connection, over an AF_UNIX SOCK_STREAM socket:
//   request  = each argument followed by a NUL byte ("list\0", "drain\0web\0""10.0.0.1:80\0"),
//              then the client half-closes (shutdown(SHUT_WR)); at most 64 KiB.
//   response = the decimal exit code, '\n', then the text until the server closes.
// Exit codes: 0 ok, 1 failed, 2 bad request (malformed, too large, unknown command).
#ifndef SLUICE_LB_CONTROL_PROTOCOL_H_
#define SLUICE_LB_CONTROL_PROTOCOL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::lb {

struct ControlResponse {
  int exit_code = 0;
  std::string text;
};

inline constexpr size_t kMaxControlRequestBytes = 64 * 1024;

// Fails with InvalidArgument if an argument contains a NUL byte.
absl::StatusOr<std::string> EncodeControlRequest(const std::vector<std::string>& args);
// Fails with InvalidArgument unless `bytes` is empty or ends with NUL.
absl::StatusOr<std::vector<std::string>> DecodeControlRequest(std::string_view bytes);

std::string EncodeControlResponse(const ControlResponse& response);
// Fails with InvalidArgument unless `bytes` starts with "DECIMAL\n".
absl::StatusOr<ControlResponse> DecodeControlResponse(std::string_view bytes);

}  // namespace sluice::lb

#endif  // SLUICE_LB_CONTROL_PROTOCOL_H_
