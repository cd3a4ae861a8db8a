#include "lb/control_protocol.h"

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sluice::lb {

absl::StatusOr<std::string> EncodeControlRequest(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& arg : args) {
    if (arg.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("an argument contains a NUL byte");
    }
    out += arg;
    out += '\0';
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> DecodeControlRequest(std::string_view bytes) {
  std::vector<std::string> args;
  if (bytes.empty()) return args;
  if (bytes.back() != '\0') {
    return absl::InvalidArgumentError("malformed request: the last argument is not NUL-terminated");
  }
  size_t start = 0;
  while (start < bytes.size()) {
    const size_t end = bytes.find('\0', start);
    args.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

std::string EncodeControlResponse(const ControlResponse& response) {
  return absl::StrCat(response.exit_code, "\n", response.text);
}

absl::StatusOr<ControlResponse> DecodeControlResponse(std::string_view bytes) {
  const size_t newline = bytes.find('\n');
  ControlResponse response;
  if (newline == std::string_view::npos || newline == 0 ||
      !absl::SimpleAtoi(absl::string_view(bytes.data(), newline), &response.exit_code)) {
    return absl::InvalidArgumentError("malformed answer: no exit code line");
  }
  response.text = std::string(bytes.substr(newline + 1));
  return response;
}

}  // namespace sluice::lb
