#include "lb/announce_format.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "lb/status_board.h"

namespace sluice::lb {
namespace {

BackendStatus Backend(uint32_t id, bool up, uint32_t weight = 100, bool drained = false) {
  return BackendStatus{.id = id,
                       .address = absl::StrCat("10.99.0.", 10 + id, ":80"),
                       .weight = weight,
                       .runtime_drain = drained,
                       .up = up};
}

ServiceStatus Service(uint32_t id, std::string vip, std::vector<BackendStatus> backends) {
  ServiceStatus s{.id = id, .name = absl::StrCat("s", id), .vip = std::move(vip)};
  s.backends = std::move(backends);
  return s;
}

TEST(AnnounceFormatTest, VipAddressStripsThePort) {
  EXPECT_EQ(VipAddress("10.0.100.1:80"), "10.0.100.1");
  EXPECT_EQ(VipAddress("[fd00::53]:53"), "fd00::53");
  EXPECT_EQ(VipAddress("[::1]:0"), "::1");
}

TEST(AnnounceFormatTest, AVipIsUpWhileAnyOfItsServicesServes) {
  StatusSnapshot s;
  s.services = {
      // 10.0.100.1: port 80 has nothing serving (down, weight 0, drained), 443 has one.
      Service(1, "10.0.100.1:80",
              {Backend(1, false), Backend(2, true, 0), Backend(3, true, 100, true)}),
      Service(2, "10.0.100.2:80", {Backend(4, false), Backend(5, false)}),
      Service(3, "10.0.100.1:443", {Backend(6, false), Backend(7, true)}),
      Service(4, "[fd00::53]:53", {Backend(8, true)}),
      Service(5, "10.0.100.3:80", {}),  // no backends at all
  };
  const std::vector<VipAnnouncement> a = Announcements(s);
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].vip, "10.0.100.1");
  EXPECT_EQ(a[0].services, 2u);
  EXPECT_EQ(a[0].serving_services, 1u);
  EXPECT_TRUE(a[0].up());
  EXPECT_FALSE(a[1].up());
  EXPECT_EQ(a[2].prefix, "fd00::53/128");
  EXPECT_FALSE(a[3].up());

  EXPECT_EQ(FormatAnnounce(s),
            "10.0.100.1 up\n"
            "10.0.100.2 down\n"
            "fd00::53 up\n"
            "10.0.100.3 down\n");
  EXPECT_EQ(FormatAnnounceJson(s),
            "{\"vips\":["
            "{\"vip\":\"10.0.100.1\",\"prefix\":\"10.0.100.1/32\",\"up\":true,\"services\":2,"
            "\"serving_services\":1},"
            "{\"vip\":\"10.0.100.2\",\"prefix\":\"10.0.100.2/32\",\"up\":false,\"services\":1,"
            "\"serving_services\":0},"
            "{\"vip\":\"fd00::53\",\"prefix\":\"fd00::53/128\",\"up\":true,\"services\":1,"
            "\"serving_services\":1},"
            "{\"vip\":\"10.0.100.3\",\"prefix\":\"10.0.100.3/32\",\"up\":false,\"services\":1,"
            "\"serving_services\":0}]}\n");
}

TEST(AnnounceFormatTest, NoServicesNothingToAnnounce) {
  EXPECT_EQ(FormatAnnounce(StatusSnapshot{}), "");
  EXPECT_EQ(FormatAnnounceJson(StatusSnapshot{}), "{\"vips\":[]}\n");
}

}  // namespace
}  // namespace sluice::lb
