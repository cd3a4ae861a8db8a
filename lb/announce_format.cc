#include "lb/announce_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lb/status_format.h"

namespace sluice::lb {

std::string VipAddress(std::string_view vip_and_port) {
  if (vip_and_port.starts_with('[')) {
    const size_t close = vip_and_port.find(']');
    return std::string(vip_and_port.substr(1, close == std::string_view::npos ? close : close - 1));
  }
  return std::string(vip_and_port.substr(0, vip_and_port.rfind(':')));
}

std::vector<VipAnnouncement> Announcements(const StatusSnapshot& snapshot) {
  std::vector<VipAnnouncement> out;
  for (const ServiceStatus& service : snapshot.services) {
    const std::string vip = VipAddress(service.vip);
    VipAnnouncement* entry = nullptr;
    for (VipAnnouncement& a : out) {
      if (a.vip == vip) entry = &a;
    }
    if (entry == nullptr) {
      const bool v6 = vip.find(':') != std::string::npos;
      entry = &out.emplace_back(
          VipAnnouncement{.vip = vip, .prefix = absl::StrCat(vip, v6 ? "/128" : "/32")});
    }
    ++entry->services;
    if (service.serving_backends() > 0) ++entry->serving_services;
  }
  return out;
}

std::string FormatAnnounce(const StatusSnapshot& snapshot) {
  std::string out;
  for (const VipAnnouncement& a : Announcements(snapshot)) {
    absl::StrAppend(&out, a.vip, a.up() ? " up\n" : " down\n");
  }
  return out;
}

std::string FormatAnnounceJson(const StatusSnapshot& snapshot) {
  std::vector<std::string> items;
  for (const VipAnnouncement& a : Announcements(snapshot)) {
    items.push_back(absl::StrCat("{\"vip\":", JsonQuote(a.vip), ",\"prefix\":", JsonQuote(a.prefix),
                                 ",\"up\":", a.up() ? "true" : "false", ",\"services\":",
                                 a.services, ",\"serving_services\":", a.serving_services, "}"));
  }
  return absl::StrCat("{\"vips\":[", absl::StrJoin(items, ","), "]}\n");
}

}  // namespace sluice::lb
