// sluicectl's side of the control socket: one request, one answer (wire format in
// control_protocol.h). Blocking, bounded by `timeout`; any thread.
#ifndef SLUICE_LB_CONTROL_CLIENT_H_
#define SLUICE_LB_CONTROL_CLIENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "lb/control_protocol.h"

namespace sluice::lb {

// Errors (messages are meant for the user as they are):
//   Unavailable       "sluice is not running (no control socket at PATH)"
//                     "sluice is not running (stale control socket at PATH)"
//   PermissionDenied  "permission denied on PATH: run as root"
//   DeadlineExceeded  "no answer from sluice within N s"
//   Internal          anything else (the message names the path and errno)
absl::StatusOr<ControlResponse> SendControlRequest(const std::string& socket_path,
                                                   const std::vector<std::string>& args,
                                                   absl::Duration timeout);

}  // namespace sluice::lb

#endif  // SLUICE_LB_CONTROL_CLIENT_H_
