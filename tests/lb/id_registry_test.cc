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

TEST(IdPoolTest, PeekIsWhatAllocateGives) {
  IdPool pool(10);
  for (int i = 0; i < 3; ++i) pool.Allocate(kT0);
  pool.Release(2, kT0);
  pool.Release(1, kT0 + kGrace);
  EXPECT_EQ(pool.Peek(3, kT0), (std::vector<uint32_t>{2, 4, 5}));  // 1 still waits
  EXPECT_EQ(pool.Peek(3, kT0), (std::vector<uint32_t>{2, 4, 5}));  // nothing taken
  EXPECT_EQ(pool.Allocate(kT0), 2u);
  EXPECT_EQ(pool.Allocate(kT0), 4u);
  EXPECT_EQ(pool.Peek(100, kT0).size(), 5u);  // 5..9
}

IdRegistry::ServiceUpdate Update(const config::Service& s, uint32_t id,
                                 std::vector<uint32_t> backend_ids) {
  IdRegistry::ServiceUpdate u{.key = ServiceKey::Of(s), .id = id};
  for (size_t b = 0; b < s.backends.size(); ++b) {
    u.backends.emplace_back(EndpointKey::Of(s.backends[b]), backend_ids[b]);
  }
  return u;
}

TEST(IdRegistryTest, CommitRegistersAndReleasesInIdOrder) {
  IdRegistry ids(100, 100);
  const config::Service a = Svc("a", "10.0.0.1", 80, {"10.0.1.1", "10.0.1.2", "10.0.1.3"});
  const config::Service b = Svc("b", "10.0.0.1", 81, {"10.0.1.1"});
  absl::StatusOr<std::vector<uint32_t>> sids = ids.PeekServiceIds(2, kT0);
  absl::StatusOr<std::vector<uint32_t>> bids = ids.PeekBackendIds(4, kT0);
  ASSERT_TRUE(sids.ok() && bids.ok());
  EXPECT_EQ(*sids, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(*bids, (std::vector<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(ids.Find(ServiceKey::Of(a)), nullptr);  // peeking registers nothing
  IdRegistry::Released r =
      ids.Commit({Update(a, 1, {1, 2, 3}), Update(b, 2, {4})}, 2, 4, kT0, kGrace);
  EXPECT_TRUE(r.services.empty() && r.backends.empty());
  ASSERT_NE(ids.Find(ServiceKey::Of(a)), nullptr);
  EXPECT_EQ(ids.Find(ServiceKey::Of(a))->id, 1u);
  EXPECT_EQ(ids.Find(ServiceKey::Of(a))->backends.at(EndpointKey::Of(a.backends[2])), 3u);

  // b goes, a loses two backends: released in id order; not reusable before the grace.
  const config::Service a2 = Svc("a", "10.0.0.1", 80, {"10.0.1.2"});
  r = ids.Commit({Update(a2, 1, {2})}, 0, 0, kT0, kGrace);
  EXPECT_EQ(r.services, (std::vector<uint32_t>{2}));
  EXPECT_EQ(r.backends, (std::vector<uint32_t>{1, 3, 4}));
  EXPECT_EQ(ids.Find(ServiceKey::Of(b)), nullptr);
  EXPECT_EQ(*ids.PeekBackendIds(1, kT0), (std::vector<uint32_t>{5}));
  EXPECT_EQ(*ids.PeekBackendIds(2, kT0 + kGrace), (std::vector<uint32_t>{1, 3}));
}

TEST(IdRegistryTest, UnchangedBackendsAreKeptWithoutBeingListed) {
  IdRegistry ids(100, 100);
  const config::Service a = Svc("a", "10.0.0.1", 80, {"10.0.1.1", "10.0.1.2"});
  ids.Commit({Update(a, 1, {1, 2})}, 1, 2, kT0, kGrace);
  IdRegistry::ServiceUpdate same{.key = ServiceKey::Of(a), .id = 1, .backends_unchanged = true};
  const IdRegistry::Released r = ids.Commit({same}, 0, 0, kT0, kGrace);
  EXPECT_TRUE(r.backends.empty());
  EXPECT_EQ(ids.Find(ServiceKey::Of(a))->backends.size(), 2u);
}

TEST(IdRegistryTest, TheIdSpaceRunsOutWhileIdsWaitOutTheirGrace) {
  IdRegistry ids(100, 4);  // backend ids 1..3
  const config::Service a = Svc("a", "10.0.0.1", 80, {"10.0.1.1", "10.0.1.2", "10.0.1.3"});
  ids.Commit({Update(a, 1, {1, 2, 3})}, 1, 3, kT0, kGrace);
  ids.Commit({}, 0, 0, kT0, kGrace);  // everything removed
  absl::StatusOr<std::vector<uint32_t>> none = ids.PeekBackendIds(1, kT0);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("grace"), std::string::npos);
  EXPECT_EQ(*ids.PeekBackendIds(3, kT0 + kGrace), (std::vector<uint32_t>{1, 2, 3}));
}

TEST(ServiceKeyTest, TheModeIsPartOfTheIdentityTheNameIsNot) {
  config::Service a = Svc("a", "10.0.0.1", 80, {});
  config::Service renamed = a;
  renamed.name = "b";
  config::Service nat = a;
  nat.forwarding = config::Forwarding::kNat;
  EXPECT_EQ(ServiceKey::Of(a), ServiceKey::Of(renamed));
  EXPECT_FALSE(ServiceKey::Of(a) == ServiceKey::Of(nat));
}

}  // namespace
}  // namespace sluice::lb
