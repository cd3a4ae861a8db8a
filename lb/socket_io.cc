#include "lb/socket_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sluice::lb {
namespace {

// Waits until `fd` is ready for `events`. OK when ready (or on POLLHUP/POLLERR, which the
// next read or write reports), else DeadlineExceeded / Cancelled / Internal.
absl::Status WaitFor(int fd, short events, absl::Time deadline, int stop_fd) {
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("timed out");
    std::array<pollfd, 2> fds = {{{.fd = fd, .events = events}, {.fd = stop_fd, .events = POLLIN}}};
    const nfds_t count = stop_fd >= 0 ? 2 : 1;
    const int timeout_ms =
        static_cast<int>(absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1))));
    const int n = ::poll(fds.data(), count, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (count == 2 && fds[1].revents != 0) return absl::CancelledError("stopping");
    if (fds[0].revents != 0) return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<std::string> ReadUntilEof(int fd, absl::Time deadline, size_t max_bytes,
                                         int stop_fd) {
  std::string data;
  std::array<char, 4096> buffer;
  for (;;) {
    if (absl::Status s = WaitFor(fd, POLLIN, deadline, stop_fd); !s.ok()) return s;
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::InternalError(absl::StrCat("read: ", std::strerror(errno)));
    }
    if (n == 0) return data;
    if (data.size() + static_cast<size_t>(n) > max_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("more than ", max_bytes, " bytes"));
    }
    data.append(buffer.data(), static_cast<size_t>(n));
  }
}

absl::Status WriteAll(int fd, std::string_view data, absl::Time deadline, int stop_fd) {
  while (!data.empty()) {
    if (absl::Status s = WaitFor(fd, POLLOUT, deadline, stop_fd); !s.ok()) return s;
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::InternalError(absl::StrCat("write: ", std::strerror(errno)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace sluice::lb
