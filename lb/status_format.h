// How sluicectl shows a StatusSnapshot (status_board.h): `list` and `status`, as text for
// people and scripts that grep it, or as JSON (--json). Pure functions; the daemon's
// control thread calls them when it answers a control request.
//
// FormatList, one block per service (the spirit of `ipvsadm -L -n`):
//   service NAME VIP PROTOCOL FORWARDING SCHEDULER health=TYPE backends=N serving=M
//     backend ADDRESS weight W active=F up|down[ drained][ drained(runtime)][ (DETAIL)]
// F is the number of flows in the workers' flow tables for the backend; DETAIL is the
// last probe result, shown only for a backend that is down.
// ListView::kStats (`list --stats`, like `ipvsadm -L -n --stats`), totals since start:
//   service NAME VIP PROTOCOL FORWARDING SCHEDULER active=F new_flows=N packets=P bytes=B
//     backend ADDRESS active=F new_flows=N packets=P bytes=B
// ListView::kRate (`list --rate`, like `ipvsadm -L -n --rate`), per second, smoothed:
//   service NAME VIP PROTOCOL FORWARDING SCHEDULER new_flows/s=R packets/s=R bytes/s=R
//     backend ADDRESS new_flows/s=R packets/s=R bytes/s=R
// Packets and bytes are client -> VIP traffic (what the workers forward).
#ifndef SLUICE_LB_STATUS_FORMAT_H_
#define SLUICE_LB_STATUS_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "lb/status_board.h"

namespace sluice::lb {

// The dataplane's numbers for one service or backend, read when the list is asked for.
struct ListTraffic {
  uint64_t active_flows = 0;
  uint64_t new_flows = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  double new_flows_per_s = 0;
  double packets_per_s = 0;
  double bytes_per_s = 0;
};

// By service id and by backend id; an id that is missing reads as zeros.
struct ListTrafficByIds {
  absl::flat_hash_map<uint32_t, ListTraffic> services;
  absl::flat_hash_map<uint32_t, ListTraffic> backends;
};

enum class ListView : uint8_t { kState, kStats, kRate };

std::string FormatList(const StatusSnapshot& snapshot, const ListTrafficByIds& traffic = {},
                       ListView view = ListView::kState);
std::string FormatStatus(const StatusSnapshot& snapshot);

// One JSON object and a newline. Strings are escaped per RFC 8259; bytes >= 0x80 pass
// through, so non-UTF-8 input gives non-UTF-8 output. Every service and backend has
// "active_flows"; kStats adds a "stats" object, kRate a "rate" object.
std::string FormatListJson(const StatusSnapshot& snapshot, const ListTrafficByIds& traffic = {},
                           ListView view = ListView::kState);
std::string FormatStatusJson(const StatusSnapshot& snapshot);

// `s` as a quoted JSON string.
std::string JsonQuote(std::string_view s);

}  // namespace sluice::lb

#endif  // SLUICE_LB_STATUS_FORMAT_H_
