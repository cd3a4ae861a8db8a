#include "lb/maglev.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace sluice::lb {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

BackendIdentity V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  BackendIdentity identity;
  identity.address = {a, b, c, d};
  identity.port = port;
  return identity;
}

// fd00::<low>, port.
BackendIdentity V6(uint16_t low, uint16_t port) {
  BackendIdentity identity;
  identity.ipv6 = true;
  identity.address = {0xfd, 0x00};
  identity.address[14] = static_cast<uint8_t>(low >> 8);
  identity.address[15] = static_cast<uint8_t>(low & 0xff);
  identity.port = port;
  return identity;
}

// Backends 10.x.y.z:80 with ids 1..n, all of weight `weight`.
std::vector<MaglevBackend> EqualBackends(size_t n, uint32_t weight = 1) {
  std::vector<MaglevBackend> backends;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t host = static_cast<uint32_t>(i) + 1;
    backends.push_back(MaglevBackend{
        .id = static_cast<BackendId>(i + 1),
        .identity = V4(10, static_cast<uint8_t>(host >> 16), static_cast<uint8_t>(host >> 8),
                       static_cast<uint8_t>(host), 80),
        .weight = weight,
    });
  }
  return backends;
}

std::map<BackendId, size_t> CountSlots(std::span<const BackendId> slots) {
  std::map<BackendId, size_t> counts;
  for (BackendId id : slots) {
    ++counts[id];
  }
  return counts;
}

MaglevTable BuildOrDie(std::span<const MaglevBackend> backends, uint32_t table_size) {
  absl::StatusOr<MaglevTable> table = MaglevTable::Build(backends, table_size);
  EXPECT_TRUE(table.ok()) << table.status();
  return *std::move(table);
}

constexpr BackendId kB0 = 1;
constexpr BackendId kB1 = 2;
constexpr BackendId kB2 = 3;

// Table 1 of the Maglev paper (M = 7, three backends), population by hand:
//   B0 offset 3 skip 4 -> permutation 3 0 4 1 5 2 6
//   B1 offset 0 skip 2 -> permutation 0 2 4 6 1 3 5
//   B2 offset 3 skip 1 -> permutation 3 4 5 6 0 1 2
// Round 1: B0 takes 3; B1 takes 0; B2 finds 3 taken, takes 4.
// Round 2: B0 finds 0, 4 taken, takes 1; B1 takes 2; B2 takes 5.
// Round 3: B0 finds 5, 2 taken, takes 6. Seven slots filled.
// Slots 0..6: B1 B0 B1 B0 B2 B2 B0.
TEST(PopulateMaglevTest, PaperTable1) {
  const std::vector<MaglevCandidate> candidates = {
      {.id = kB0, .permutation = {.offset = 3, .skip = 4}, .weight = 1},
      {.id = kB1, .permutation = {.offset = 0, .skip = 2}, .weight = 1},
      {.id = kB2, .permutation = {.offset = 3, .skip = 1}, .weight = 1},
  };
  EXPECT_THAT(PopulateMaglev(candidates, 7), ElementsAre(kB1, kB0, kB1, kB0, kB2, kB2, kB0));
}

// The paper's table after B1 is removed, by hand:
// Round 1: B0 takes 3; B2 finds 3 taken, takes 4.
// Round 2: B0 takes 0; B2 takes 5.
// Round 3: B0 finds 4 taken, takes 1; B2 takes 6.
// Round 4: B0 finds 5 taken, takes 2. Seven slots filled.
// Slots 0..6: B0 B0 B0 B0 B2 B2 B2 (only B1's slots 0 and 2 changed owner).
TEST(PopulateMaglevTest, PaperTable1WithoutB1) {
  const std::vector<MaglevCandidate> candidates = {
      {.id = kB0, .permutation = {.offset = 3, .skip = 4}, .weight = 1},
      {.id = kB2, .permutation = {.offset = 3, .skip = 1}, .weight = 1},
  };
  EXPECT_THAT(PopulateMaglev(candidates, 7), ElementsAre(kB0, kB0, kB0, kB0, kB2, kB2, kB2));
}

// Weights 2:1 in a table of 13, by hand. Max weight 2, so A takes one slot every round
// and B one every second round (B's credit goes 1, 2 -> take, 1, 2 -> take, ...).
//   A offset 2 skip 5 -> permutation 2 7 12 4 9 1 6 11 3 8 0 5 10
//   B offset 4 skip 3 -> permutation 4 7 10 0 3 6 9 12 2 5 8 11 1
// Round 1: A takes 2;               B has credit 1.
// Round 2: A takes 7;               B takes 4.
// Round 3: A takes 12;              B has credit 1.
// Round 4: A finds 4 taken, takes 9; B finds 7 taken, takes 10.
// Round 5: A takes 1;               B has credit 1.
// Round 6: A takes 6;               B takes 0.
// Round 7: A takes 11;              B has credit 1.
// Round 8: A takes 3;               B finds 3 6 9 12 2 taken, takes 5.
// Round 9: A takes 8, the last free slot.
// Slots 0..12: B A A A B B A A A A B A A (A 9 slots, B 4).
TEST(PopulateMaglevTest, WeightedByHand) {
  constexpr BackendId kA = 1;
  constexpr BackendId kB = 2;
  const std::vector<MaglevCandidate> candidates = {
      {.id = kA, .permutation = {.offset = 2, .skip = 5}, .weight = 2},
      {.id = kB, .permutation = {.offset = 4, .skip = 3}, .weight = 1},
  };
  EXPECT_THAT(PopulateMaglev(candidates, 13),
              ElementsAre(kB, kA, kA, kA, kB, kB, kA, kA, kA, kA, kB, kA, kA));
}

// A weight-0 candidate is skipped entirely: the others fill the table exactly as if it
// were absent (here: the paper's table without B1).
TEST(PopulateMaglevTest, ZeroWeightCandidateIsSkipped) {
  const std::vector<MaglevCandidate> candidates = {
      {.id = kB0, .permutation = {.offset = 3, .skip = 4}, .weight = 1},
      {.id = kB1, .permutation = {.offset = 0, .skip = 2}, .weight = 0},
      {.id = kB2, .permutation = {.offset = 3, .skip = 1}, .weight = 1},
  };
  EXPECT_THAT(PopulateMaglev(candidates, 7), ElementsAre(kB0, kB0, kB0, kB0, kB2, kB2, kB2));
}

// Only the ratio of weights matters: scaling every weight gives the same table.
TEST(PopulateMaglevTest, ScalingWeightsKeepsTable) {
  std::vector<MaglevCandidate> candidates = {
      {.id = 1, .permutation = {.offset = 3, .skip = 4}, .weight = 1},
      {.id = 2, .permutation = {.offset = 0, .skip = 2}, .weight = 2},
      {.id = 3, .permutation = {.offset = 3, .skip = 1}, .weight = 7},
  };
  const std::vector<BackendId> small = PopulateMaglev(candidates, 101);
  for (MaglevCandidate& candidate : candidates) {
    candidate.weight *= 100'000'000;
  }
  EXPECT_EQ(PopulateMaglev(candidates, 101), small);
}

TEST(PopulateMaglevTest, NoCandidatesOrNoWeightGivesEmptySlots) {
  EXPECT_THAT(PopulateMaglev({}, 7), ElementsAre(kNoBackend, kNoBackend, kNoBackend, kNoBackend,
                                                 kNoBackend, kNoBackend, kNoBackend));
  const std::vector<MaglevCandidate> zero = {
      {.id = kB0, .permutation = {.offset = 3, .skip = 4}, .weight = 0},
      {.id = kB1, .permutation = {.offset = 0, .skip = 2}, .weight = 0},
  };
  const std::vector<BackendId> slots = PopulateMaglev(zero, 7);
  EXPECT_EQ(slots.size(), 7u);
  EXPECT_THAT(slots, Each(kNoBackend));
}

// A bad permutation (skip 0 visits one slot forever) must not hang the control thread.
TEST(PopulateMaglevTest, DegeneratePermutationTerminates) {
  const std::vector<MaglevCandidate> candidates = {
      {.id = kB0, .permutation = {.offset = 2, .skip = 0}, .weight = 1},
  };
  EXPECT_THAT(PopulateMaglev(candidates, 5),
              ElementsAre(kNoBackend, kNoBackend, kB0, kNoBackend, kNoBackend));
}

TEST(PermutationForTest, InRangeForManyIdentitiesAndSizes) {
  for (uint32_t size : {2u, 3u, 7u, 13u, 65537u, 655373u, kMaxMaglevTableSize}) {
    for (uint16_t i = 0; i < 500; ++i) {
      for (const BackendIdentity& identity :
           {V4(10, 0, static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i), 80), V6(i, 443)}) {
        const MaglevPermutation p = PermutationFor(identity, size);
        ASSERT_LT(p.offset, size);
        ASSERT_GE(p.skip, 1u);
        ASSERT_LE(p.skip, size - 1);
      }
    }
  }
}

TEST(PermutationForTest, Deterministic) {
  const BackendIdentity identity = V4(192, 168, 1, 20, 8080);
  const MaglevPermutation a = PermutationFor(identity, 65537);
  const MaglevPermutation b = PermutationFor(BackendIdentity(identity), 65537);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_EQ(a.skip, b.skip);
}

// Pinned values: every Sluice host and version must compute these. They were computed
// independently of lb/maglev.cc, by a C program calling XXH64 on the hand-written 19
// bytes {4, 10,0,0,1, 12 x 0, 0x00,0x50} and {6, 0xfd, 14 x 0, 0x01, 0x01,0xbb}. A
// failure here means the hash, the seeds or the encoding changed, which would move
// connections between backends during a rolling upgrade.
TEST(PermutationForTest, PinnedValues) {
  const BackendIdentity v4 = V4(10, 0, 0, 1, 80);
  MaglevPermutation p = PermutationFor(v4, 65537);
  EXPECT_EQ(p.offset, 39694u);
  EXPECT_EQ(p.skip, 12588u);
  p = PermutationFor(v4, 655373);
  EXPECT_EQ(p.offset, 403953u);
  EXPECT_EQ(p.skip, 379212u);
  p = PermutationFor(v4, 7);
  EXPECT_EQ(p.offset, 1u);
  EXPECT_EQ(p.skip, 6u);

  const BackendIdentity v6 = V6(1, 443);  // [fd00::1]:443
  p = PermutationFor(v6, 65537);
  EXPECT_EQ(p.offset, 22793u);
  EXPECT_EQ(p.skip, 27282u);
  p = PermutationFor(v6, 655373);
  EXPECT_EQ(p.offset, 218251u);
  EXPECT_EQ(p.skip, 34550u);
}

TEST(PermutationForTest, FamilyAndPortArePartOfTheIdentity) {
  BackendIdentity v4 = V4(10, 0, 0, 1, 80);
  BackendIdentity v6 = v4;
  v6.ipv6 = true;  // same 16 bytes, other family
  const MaglevPermutation p4 = PermutationFor(v4, 65537);
  const MaglevPermutation p6 = PermutationFor(v6, 65537);
  EXPECT_TRUE(p4.offset != p6.offset || p4.skip != p6.skip);

  BackendIdentity other_port = v4;
  other_port.port = 81;
  const MaglevPermutation p81 = PermutationFor(other_port, 65537);
  EXPECT_TRUE(p4.offset != p81.offset || p4.skip != p81.skip);
}

class EqualWeightsTest : public ::testing::TestWithParam<size_t> {};

// With equal weights every backend takes one slot per round until the table is full,
// so counts differ by at most one.
TEST_P(EqualWeightsTest, CountsDifferByAtMostOne) {
  const size_t n = GetParam();
  constexpr uint32_t kSize = 65537;
  const MaglevTable table = BuildOrDie(EqualBackends(n), kSize);
  ASSERT_EQ(table.size(), kSize);
  EXPECT_THAT(table.slots(), Each(::testing::Ne(kNoBackend)));
  const std::map<BackendId, size_t> counts = CountSlots(table.slots());
  ASSERT_EQ(counts.size(), n);
  const size_t floor = kSize / n;
  for (const auto& [id, count] : counts) {
    EXPECT_GE(id, 1u);
    EXPECT_LE(id, n);
    EXPECT_TRUE(count == floor || count == floor + 1) << "backend " << id << ": " << count;
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, EqualWeightsTest, ::testing::Values(10, 100, 1000));

TEST(MaglevTableTest, WeightsOneTwoSeven) {
  constexpr uint32_t kSize = 65537;
  std::vector<MaglevBackend> backends = EqualBackends(3);
  backends[0].weight = 1;
  backends[1].weight = 2;
  backends[2].weight = 7;
  const MaglevTable table = BuildOrDie(backends, kSize);
  EXPECT_THAT(table.slots(), Each(::testing::Ne(kNoBackend)));
  std::map<BackendId, size_t> counts = CountSlots(table.slots());
  constexpr std::array<double, 3> kExpected = {0.1, 0.2, 0.7};
  for (size_t i = 0; i < 3; ++i) {
    const double share = static_cast<double>(counts[backends[i].id]) / kSize;
    EXPECT_NEAR(share, kExpected[i], 0.01) << "backend " << backends[i].id;
    // The credit scheme is much tighter than 1%: within a couple of slots of exact.
    EXPECT_NEAR(static_cast<double>(counts[backends[i].id]), kExpected[i] * kSize, 2.0)
        << "backend " << backends[i].id;
  }
}

TEST(MaglevTableTest, RemovingOneOfThousandMovesLittle) {
  constexpr uint32_t kSize = 65537;
  std::vector<MaglevBackend> backends = EqualBackends(1000);
  const MaglevTable before = BuildOrDie(backends, kSize);
  const BackendId removed = backends[500].id;
  backends.erase(backends.begin() + 500);
  const MaglevTable after = BuildOrDie(backends, kSize);

  size_t kept_owner_slots = 0;
  size_t moved = 0;
  for (uint32_t i = 0; i < kSize; ++i) {
    EXPECT_NE(after.slots()[i], removed);
    EXPECT_NE(after.slots()[i], kNoBackend);
    if (before.slots()[i] == removed) {
      continue;
    }
    ++kept_owner_slots;
    if (after.slots()[i] != before.slots()[i]) {
      ++moved;
    }
  }
  EXPECT_LE(static_cast<double>(moved), 0.01 * static_cast<double>(kept_owner_slots))
      << moved << " of " << kept_owner_slots << " slots moved";
}

TEST(MaglevTableTest, InputOrderDoesNotMatter) {
  std::vector<MaglevBackend> backends = EqualBackends(50);
  backends.push_back({.id = 1000, .identity = V6(7, 80), .weight = 3});
  backends.push_back({.id = 1001, .identity = V6(8, 80), .weight = 0});
  backends[3].weight = 5;
  const MaglevTable reference = BuildOrDie(backends, 65537);
  std::mt19937 rng(12345);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(backends.begin(), backends.end(), rng);
    const MaglevTable shuffled = BuildOrDie(backends, 65537);
    EXPECT_TRUE(std::ranges::equal(shuffled.slots(), reference.slots())) << "shuffle " << round;
  }
}

TEST(MaglevTableTest, ZeroWeightGetsNoSlots) {
  std::vector<MaglevBackend> backends = EqualBackends(10);
  backends[4].weight = 0;
  const MaglevTable table = BuildOrDie(backends, 65537);
  const std::map<BackendId, size_t> counts = CountSlots(table.slots());
  EXPECT_EQ(counts.count(backends[4].id), 0u);
  EXPECT_EQ(counts.count(kNoBackend), 0u);
  EXPECT_EQ(counts.size(), 9u);
}

TEST(MaglevTableTest, EmptyAndAllZeroWeightsGiveNoBackend) {
  const MaglevTable empty = BuildOrDie({}, 13);
  EXPECT_EQ(empty.size(), 13u);
  EXPECT_THAT(empty.slots(), Each(kNoBackend));
  EXPECT_EQ(empty.Lookup(0), kNoBackend);
  EXPECT_EQ(empty.Lookup(12345678901234567ULL), kNoBackend);

  const MaglevTable zero = BuildOrDie(EqualBackends(5, /*weight=*/0), 65537);
  EXPECT_EQ(zero.size(), 65537u);
  EXPECT_THAT(zero.slots(), Each(kNoBackend));
  EXPECT_EQ(zero.Lookup(42), kNoBackend);
}

TEST(MaglevTableTest, LookupIsHashModSize) {
  const MaglevTable table = BuildOrDie(EqualBackends(7), 65537);
  std::mt19937_64 rng(99);
  std::vector<uint64_t> hashes = {0, 1, 65536, 65537, 65538, std::numeric_limits<uint64_t>::max()};
  for (int i = 0; i < 1000; ++i) {
    hashes.push_back(rng());
  }
  for (uint64_t hash : hashes) {
    EXPECT_EQ(table.Lookup(hash), table.slots()[hash % 65537]) << hash;
  }
  // Not a tautology over an all-equal table: neighbouring hashes land on different owners.
  EXPECT_GT(CountSlots(table.slots()).size(), 1u);
}

TEST(MaglevTableTest, RejectsBadSizes) {
  const std::vector<MaglevBackend> backends = EqualBackends(3);
  for (uint32_t size :
       {0u, 1u, 4u, 65536u, 65535u, kMaxMaglevTableSize + 1, 4194319u /* prime above the max */}) {
    absl::StatusOr<MaglevTable> table = MaglevTable::Build(backends, size);
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_THAT(table.status().message(), HasSubstr(absl::StrCat("size ", size))) << size;
  }
  EXPECT_THAT(MaglevTable::Build(backends, 65535).status().message(), HasSubstr("not prime"));
  EXPECT_THAT(MaglevTable::Build(backends, 4194319).status().message(),
              HasSubstr("outside [2, 4194301]"));
  EXPECT_TRUE(MaglevTable::Build(backends, 2).ok());
  EXPECT_TRUE(MaglevTable::Build(backends, kMaxMaglevTableSize).ok());
}

TEST(MaglevTableTest, RejectsDuplicateIdentity) {
  std::vector<MaglevBackend> backends = EqualBackends(3);
  backends[2].identity = backends[0].identity;
  absl::StatusOr<MaglevTable> table = MaglevTable::Build(backends, 13);
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("same identity 10.0.0.1:80"));
  EXPECT_THAT(table.status().message(), HasSubstr("ids 1 and 3"));

  const std::vector<MaglevBackend> v6 = {{.id = 1, .identity = V6(1, 443), .weight = 1},
                                         {.id = 2, .identity = V6(1, 443), .weight = 1}};
  EXPECT_THAT(MaglevTable::Build(v6, 13).status().message(), HasSubstr("[fd00::1]:443"));
}

TEST(MaglevTableTest, RejectsIdZero) {
  std::vector<MaglevBackend> backends = EqualBackends(3);
  backends[1].id = kNoBackend;
  backends[1].weight = 0;  // rejected even when it would get no slot
  absl::StatusOr<MaglevTable> table = MaglevTable::Build(backends, 13);
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("10.0.0.2:80 has id 0"));
}

TEST(MaglevTableTest, SameBytesInOtherFamilyIsAnotherBackend) {
  MaglevBackend v4{.id = 1, .identity = V4(10, 0, 0, 1, 80), .weight = 1};
  MaglevBackend v6 = v4;
  v6.id = 2;
  v6.identity.ipv6 = true;
  const std::vector<MaglevBackend> backends = {v4, v6};
  const MaglevTable table = BuildOrDie(backends, 13);
  const std::map<BackendId, size_t> counts = CountSlots(table.slots());
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts.at(1) + counts.at(2), 13u);
  EXPECT_GE(counts.at(1), 6u);
  EXPECT_GE(counts.at(2), 6u);
}

TEST(IsPrimeTest, SmallAndTableSizes) {
  std::vector<uint32_t> primes;
  for (uint32_t n = 0; n < 30; ++n) {
    if (IsPrime(n)) {
      primes.push_back(n);
    }
  }
  EXPECT_THAT(primes, ElementsAre(2, 3, 5, 7, 11, 13, 17, 19, 23, 29));
  EXPECT_TRUE(IsPrime(65537));
  EXPECT_TRUE(IsPrime(655373));
  EXPECT_TRUE(IsPrime(kMaxMaglevTableSize));
  EXPECT_FALSE(IsPrime(196617));            // 3 * 65539
  EXPECT_FALSE(IsPrime(4294967291u - 2u));  // 4294967289 = 3 * 1431655763
  EXPECT_TRUE(IsPrime(4294967291u));        // largest 32-bit prime
  EXPECT_FALSE(IsPrime(65521u * 65521u));   // square of a prime
}

}  // namespace
}  // namespace sluice::lb
