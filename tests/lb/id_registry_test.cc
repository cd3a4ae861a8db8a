#include "lb/id_registry.h"

#include <gtest/gtest.h>

#include "tests/lb/load_config.h"

namespace sluice::lb {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'000'000);
const absl::Duration kGrace = absl::Seconds(100);

config::Service Svc(const std::string& name, const std::string& vip, uint16_t port,
                    std::vector<std::string> backends) {
  config::Service s;
  s.name = name;
  s.vip = *config::IpAddress::Parse(vip);
  s.port = port;
  for (const std::string& b : backends) {
    config::Backend backend;
    backend.address = *config::IpAddress::Parse(b);
    backend.port = port;
    s.backends.push_back(backend);
  }
  return s;
}

TEST(IdPoolTest, ReleasedIdsWaitTheirTurn) {
  IdPool pool(4);  // ids 1..3
  EXPECT_EQ(pool.Allocate(kT0), 1u);
  EXPECT_EQ(pool.Allocate(kT0), 2u);
  pool.Release(1, kT0 + kGrace);
  EXPECT_EQ(pool.Allocate(kT0), 3u);            // 1 still waits
  EXPECT_EQ(pool.Allocate(kT0), std::nullopt);  // all used or waiting
  EXPECT_EQ(pool.Allocate(kT0 + kGrace), 1u);   // its time has come
  EXPECT_EQ(pool.Allocate(kT0 + kGrace), std::nullopt);
}

TEST(IdPoolTest, AShorterGraceNeverOvertakesAnEarlierRelease) {
  IdPool pool(10);
  for (int i = 0; i < 3; ++i) pool.Allocate(kT0);
  pool.Release(1, kT0 + absl::Seconds(100));
  pool.Release(2, kT0 + absl::Seconds(10));  // shorter timeouts since
  EXPECT_EQ(pool.Allocate(kT0 + absl::Seconds(50)), 4u);
  EXPECT_EQ(pool.Allocate(kT0 + absl::Seconds(100)), 1u);
  EXPECT_EQ(pool.Allocate(kT0 + absl::Seconds(100)), 2u);
}

TEST(IdRegistryTest, FirstAssignmentIsConfigOrder) {
  IdRegistry ids(100, 100);
  auto next = ids.Next(
      {Svc("a", "10.0.0.1", 80, {"10.0.1.1", "10.0.1.2"}), Svc("b", "10.0.0.1", 81, {"10.0.1.1"})},
      kT0, kGrace);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->second.service_ids, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(next->second.backend_ids, (std::vector<std::vector<uint32_t>>{{1, 2}, {3}}));
}

TEST(IdRegistryTest, UnchangedIdentitiesKeepTheirIdsWhateverTheOrder) {
  IdRegistry ids(100, 100);
  auto first = ids.Next(
      {Svc("a", "10.0.0.1", 80, {"10.0.1.1", "10.0.1.2"}), Svc("b", "10.0.0.1", 81, {"10.0.1.1"})},
      kT0, kGrace);
  ASSERT_TRUE(first.ok());
  // b moves first and is renamed, a loses 10.0.1.1 and gains 10.0.1.3, c is new.
  config::Service renamed = Svc("b-renamed", "10.0.0.1", 81, {"10.0.1.1"});
  auto second = first->first.Next({renamed, Svc("c", "10.0.0.2", 80, {"10.0.1.1"}),
                                   Svc("a", "10.0.0.1", 80, {"10.0.1.3", "10.0.1.2"})},
                                  kT0 + absl::Seconds(1), kGrace);
  ASSERT_TRUE(second.ok());
  const IdAssignment& got = second->second;
  EXPECT_EQ(got.service_ids, (std::vector<uint32_t>{2, 3, 1}));
  EXPECT_EQ(got.backend_ids[0], (std::vector<uint32_t>{3}));
  EXPECT_EQ(got.backend_ids[2][1], 2u);  // 10.0.1.2 in a
  // New backends get never-used ids: 1 (a's 10.0.1.1) waits out its grace.
  EXPECT_EQ(got.backend_ids[1], (std::vector<uint32_t>{4}));
  EXPECT_EQ(got.backend_ids[2][0], 5u);
  EXPECT_EQ(got.released_backends, (std::vector<uint32_t>{1}));
  EXPECT_TRUE(got.released_services.empty());
  // The original registry is untouched (a failed reload changes nothing).
  EXPECT_EQ(first->first.backend_id(
                {.service = 1, .address = *config::IpAddress::Parse("10.0.1.1"), .port = 80}),
            1u);
}

TEST(IdRegistryTest, ChangingTheModeMakesANewService) {
  IdRegistry ids(100, 100);
  auto first = ids.Next({Svc("a", "10.0.0.1", 80, {"10.0.1.1"})}, kT0, kGrace);
  ASSERT_TRUE(first.ok());
  config::Service nat = Svc("a", "10.0.0.1", 80, {"10.0.1.1"});
  nat.forwarding = config::Forwarding::kNat;
  auto second = first->first.Next({nat}, kT0, kGrace);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->second.service_ids, (std::vector<uint32_t>{2}));
  EXPECT_EQ(second->second.backend_ids[0], (std::vector<uint32_t>{2}));
  EXPECT_EQ(second->second.released_services, (std::vector<uint32_t>{1}));
}

TEST(IdRegistryTest, AddRemoveCyclesReuseIdsOnlyAfterTheGrace) {
  IdRegistry ids(100, 8);  // backend ids 1..7
  const config::Service keep = Svc("keep", "10.0.0.1", 80, {"10.0.1.1"});
  const config::Service extra = Svc("extra", "10.0.0.2", 80, {"10.0.1.1", "10.0.1.2"});
  absl::Time t = kT0;
  auto state = ids.Next({keep}, t, kGrace);
  ASSERT_TRUE(state.ok());
  IdRegistry current = state->first;
  std::vector<uint32_t> extra_ids;
  for (int round = 0; round < 3; ++round) {
    auto added = current.Next({keep, extra}, t, kGrace);
    ASSERT_TRUE(added.ok()) << round;
    EXPECT_EQ(added->second.backend_ids[0], (std::vector<uint32_t>{1}));  // keep's, always
    for (uint32_t id : added->second.backend_ids[1]) extra_ids.push_back(id);
    auto removed = added->first.Next({keep}, t, kGrace);
    ASSERT_TRUE(removed.ok());
    current = removed->first;
  }
  EXPECT_EQ(extra_ids, (std::vector<uint32_t>{2, 3, 4, 5, 6, 7}));  // never reused early
  auto full = current.Next({keep, extra}, t, kGrace);
  EXPECT_FALSE(full.ok());
  EXPECT_NE(full.status().message().find("grace"), std::string::npos);
  auto later = current.Next({keep, extra}, t + kGrace, kGrace);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->second.backend_ids[1], (std::vector<uint32_t>{2, 3}));
}

}  // namespace
}  // namespace sluice::lb
