// `sluicectl announce`: which VIPs this load balancer should advertise to its routers
// (deploy/bgp/, docs/bgp.md). A VIP is "up" while at least one service on it has a
// serving backend (up, weight > 0, not drained), "down" otherwise; a router that loses
// the route sends the VIP's traffic to the other Sluice hosts (ECMP). Pure functions over
// a StatusSnapshot; the daemon's control thread calls them when it answers the request.
//
// Text, one line per VIP, in the order of the services in the config:
//   VIP up|down
// JSON (--json), one object and a newline:
//   {"vips":[{"vip":"10.0.100.1","prefix":"10.0.100.1/32","up":true,
//             "services":2,"serving_services":1},...]}
#ifndef SLUICE_LB_ANNOUNCE_FORMAT_H_
#define SLUICE_LB_ANNOUNCE_FORMAT_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "lb/status_board.h"

namespace sluice::lb {

struct VipAnnouncement {
  std::string vip;     // "10.0.100.1", "fd00::100"
  std::string prefix;  // "10.0.100.1/32", "fd00::100/128"
  size_t services = 0;
  size_t serving_services = 0;  // services on the VIP with at least one serving backend
  bool up() const { return serving_services > 0; }
};

// The address of a ServiceStatus::vip ("10.0.100.1:80" -> "10.0.100.1",
// "[fd00::1]:53" -> "fd00::1").
std::string VipAddress(std::string_view vip_and_port);

// One entry per distinct VIP address, in the order the VIPs first appear.
std::vector<VipAnnouncement> Announcements(const StatusSnapshot& snapshot);

std::string FormatAnnounce(const StatusSnapshot& snapshot);
std::string FormatAnnounceJson(const StatusSnapshot& snapshot);

}  // namespace sluice::lb

#endif  // SLUICE_LB_ANNOUNCE_FORMAT_H_
