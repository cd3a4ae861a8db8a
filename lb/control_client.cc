#include "lb/control_client.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lb/socket_io.h"

namespace sluice::lb {
namespace {

// Closes the fd on every return path.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

// " or as a member of group G" when the socket is open to its group (control.group).
std::string GroupHint(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & S_IWGRP) == 0) return "";
  group gr{};
  group* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getgrgid_r(st.st_gid, &gr, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return absl::StrCat(" or as a member of group ", st.st_gid);
  }
  return absl::StrCat(" or as a member of group ", gr.gr_name);
}

absl::Status ConnectError(int err, const std::string& path) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::UnavailableError(
          absl::StrCat("sluice is not running (no control socket at ", path, ")"));
    case ECONNREFUSED:
      return absl::UnavailableError(
          absl::StrCat("sluice is not running (stale control socket at ", path, ")"));
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(
          absl::StrCat("permission denied on ", path, ": run as root", GroupHint(path)));
    default:
      return absl::InternalError(
          absl::StrCat("cannot connect to ", path, ": ", std::strerror(err)));
  }
}

}  // namespace

absl::StatusOr<ControlResponse> SendControlRequest(const std::string& socket_path,
                                                   const std::vector<std::string>& args,
                                                   absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  const absl::Status timed_out = absl::DeadlineExceededError(
      absl::StrCat("no answer from sluice within ", absl::ToDoubleSeconds(timeout), " s"));
  absl::StatusOr<std::string> request = EncodeControlRequest(args);
  if (!request.ok()) return request.status();

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("control socket path '", socket_path, "' is empty or too long"));
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket(): ", std::strerror(errno)));
  FdCloser closer(fd);
  // A blocking AF_UNIX connect() waits only while the listen backlog is full, and honours
  // SO_SNDTIMEO; afterwards the socket is non-blocking and socket_io bounds each step.
  const timeval tv = absl::ToTimeval(timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno == EAGAIN || errno == EINPROGRESS) return timed_out;
    return ConnectError(errno, socket_path);
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  auto failed = [&](const absl::Status& s) {
    if (absl::IsDeadlineExceeded(s)) return timed_out;
    return absl::Status(s.code(), absl::StrCat("control socket ", socket_path, ": ", s.message()));
  };
  if (absl::Status s = WriteAll(fd, *request, deadline); !s.ok()) return failed(s);
  ::shutdown(fd, SHUT_WR);
  // The answer is text for a terminal; 64 MiB bounds a confused peer, not a real answer.
  absl::StatusOr<std::string> answer = ReadUntilEof(fd, deadline, 64 << 20);
  if (!answer.ok()) return failed(answer.status());
  if (answer->empty()) {
    return absl::UnavailableError("sluice closed the control connection without an answer");
  }
  absl::StatusOr<ControlResponse> response = DecodeControlResponse(*answer);
  if (!response.ok()) return failed(response.status());
  return response;
}

}  // namespace sluice::lb
