// Bounded reads and writes on a non-blocking stream socket, for the control socket's
// server thread and for sluicectl: every call ends by a deadline, and the server's calls
// also end when its stop eventfd becomes readable. Any thread (one caller per fd).
#ifndef SLUICE_LB_SOCKET_IO_H_
#define SLUICE_LB_SOCKET_IO_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sluice::lb {

// Reads until EOF. Fails with DeadlineExceeded at `deadline`, ResourceExhausted past
// `max_bytes`, Cancelled when `stop_fd` (if >= 0) is readable, Internal on a socket error.
absl::StatusOr<std::string> ReadUntilEof(int fd, absl::Time deadline, size_t max_bytes,
                                         int stop_fd = -1);

// Writes all of `data` (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE). Same
// failures as ReadUntilEof.
absl::Status WriteAll(int fd, std::string_view data, absl::Time deadline, int stop_fd = -1);

}  // namespace sluice::lb

#endif  // SLUICE_LB_SOCKET_IO_H_
