// How sluicectl shows a StatusSnapshot (status_board.h): `list` and `status`, as text for
// people and scripts that grep it, or as JSON (--json). Pure functions; the daemon's
// control thread calls them when it answers a control request.
//
// FormatList, one block per service (the spirit of `ipvsadm -L -n`):
//   service NAME VIP PROTOCOL FORWARDING SCHEDULER health=TYPE backends=N serving=M
//     backend ADDRESS weight W up|down[ drained][ drained(runtime)][ (DETAIL)]
// DETAIL is the last probe result, shown only for a backend that is down.
#ifndef SLUICE_LB_STATUS_FORMAT_H_
#define SLUICE_LB_STATUS_FORMAT_H_

#include <string>
#include <string_view>

#include "lb/status_board.h"

namespace sluice::lb {

std::string FormatList(const StatusSnapshot& snapshot);
std::string FormatStatus(const StatusSnapshot& snapshot);

// One JSON object and a newline. Strings are escaped per RFC 8259; bytes >= 0x80 pass
// through, so non-UTF-8 input gives non-UTF-8 output.
std::string FormatListJson(const StatusSnapshot& snapshot);
std::string FormatStatusJson(const StatusSnapshot& snapshot);

// `s` as a quoted JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace sluice::lb

#endif  // SLUICE_LB_STATUS_FORMAT_H_
