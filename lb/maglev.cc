#include "lb/maglev.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace sluice::lb {
namespace {

// Seeds of the two XXH64 hashes behind a backend's permutation. Changing either one
// changes every Maglev table on every host: during a rolling upgrade, hosts running the
// old and the new seeds would send the same connection to different backends. Never
// change them.
constexpr uint64_t kOffsetSeed = 0x5eed0ff5e7ULL;
constexpr uint64_t kSkipSeed = 0x5eed05c1bULL;

// [4 or 6][16 address bytes][port, big-endian]: fixed so that the hash does not depend
// on struct layout, padding or host byte order.
constexpr size_t kIdentityEncodingSize = 19;

std::array<uint8_t, kIdentityEncodingSize> EncodeIdentity(const BackendIdentity& identity) {
  std::array<uint8_t, kIdentityEncodingSize> bytes{};
  bytes[0] = identity.ipv6 ? 6 : 4;
  std::copy(identity.address.begin(), identity.address.end(), bytes.begin() + 1);
  bytes[17] = static_cast<uint8_t>(identity.port >> 8);
  bytes[18] = static_cast<uint8_t>(identity.port & 0xff);
  return bytes;
}

// "10.0.0.1:80" or "[fd00::1]:80", for error messages.
std::string FormatIdentity(const BackendIdentity& identity) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (inet_ntop(identity.ipv6 ? AF_INET6 : AF_INET, identity.address.data(), text.data(),
                text.size()) == nullptr) {
    return absl::StrCat("<unprintable address>:", identity.port);
  }
  if (identity.ipv6) {
    return absl::StrCat("[", text.data(), "]:", identity.port);
  }
  return absl::StrCat(text.data(), ":", identity.port);
}

// One candidate's progress through the population loop. `position` is slot
// (offset + next * skip) mod M, advanced by one addition so that no product can overflow
// and no permutation array (N * M entries) is needed.
struct PopulationState {
  uint64_t credit = 0;  // up to 2 * max weight, which does not fit 32 bits
  uint64_t position = 0;
  uint64_t skip = 1;
  uint64_t next = 0;  // how many entries of the permutation have been looked at
  uint32_t weight = 0;
  BackendId id = kNoBackend;
};

}  // namespace

bool IsPrime(uint32_t n) {
  if (n < 2) {
    return false;
  }
  if (n % 2 == 0) {
    return n == 2;
  }
  // 64-bit so that d * d cannot wrap for n close to 2^32.
  for (uint64_t d = 3; d * d <= n; d += 2) {
    if (n % d == 0) {
      return false;
    }
  }
  return true;
}

MaglevPermutation PermutationFor(const BackendIdentity& identity, uint32_t table_size) {
  // Guards the divisions below; Build never asks for a table this small.
  if (table_size < 2) {
    return MaglevPermutation{.offset = 0, .skip = 1};
  }
  const std::array<uint8_t, kIdentityEncodingSize> bytes = EncodeIdentity(identity);
  const uint64_t offset_hash = XXH64(bytes.data(), bytes.size(), kOffsetSeed);
  const uint64_t skip_hash = XXH64(bytes.data(), bytes.size(), kSkipSeed);
  return MaglevPermutation{
      .offset = static_cast<uint32_t>(offset_hash % table_size),
      .skip = static_cast<uint32_t>(skip_hash % (table_size - 1) + 1),
  };
}

// Costs about M ln M slot probes. MaglevTable::Build (sort, permutations and this) was
// measured at 1.1 ms for 1000 backends and M = 65537, 13.5 ms for M = 655373
// (bench/RESULTS.md). Control thread only.
std::vector<BackendId> PopulateMaglev(std::span<const MaglevCandidate> candidates,
                                      uint32_t table_size) {
  std::vector<BackendId> slots(table_size, kNoBackend);
  const uint64_t m = table_size;
  if (m == 0) {
    return slots;
  }

  uint32_t max_weight = 0;
  std::vector<PopulationState> states;
  states.reserve(candidates.size());
  for (const MaglevCandidate& candidate : candidates) {
    // An id of kNoBackend could not be told apart from an empty slot.
    if (candidate.weight == 0 || candidate.id == kNoBackend) {
      continue;
    }
    max_weight = std::max(max_weight, candidate.weight);
    states.push_back(PopulationState{
        .position = candidate.permutation.offset % m,
        .skip = candidate.permutation.skip % m,
        .weight = candidate.weight,
        .id = candidate.id,
    });
  }
  if (states.empty()) {
    return slots;
  }

  uint64_t filled = 0;
  // A candidate whose permutation ran out without finding a free slot. Cannot happen
  // with a valid permutation of a prime-sized table (it visits every slot, so it only
  // runs out once the table is full); the check keeps bad input from looping forever.
  size_t exhausted = 0;
  while (exhausted < states.size()) {
    for (PopulationState& state : states) {
      if (state.next == m) {
        continue;
      }
      // With equal weights every candidate takes exactly one slot per round, which is
      // the paper's loop.
      state.credit += state.weight;
      while (state.credit >= max_weight && state.next < m) {
        state.credit -= max_weight;
        while (state.next < m && slots[state.position] != kNoBackend) {
          state.position += state.skip;
          if (state.position >= m) {
            state.position -= m;
          }
          ++state.next;
        }
        if (state.next == m) {
          break;
        }
        slots[state.position] = state.id;
        state.position += state.skip;
        if (state.position >= m) {
          state.position -= m;
        }
        ++state.next;
        if (++filled == m) {
          return slots;
        }
      }
      if (state.next == m) {
        ++exhausted;
      }
    }
  }
  return slots;
}

absl::StatusOr<MaglevTable> MaglevTable::Build(std::span<const MaglevBackend> backends,
                                               uint32_t table_size) {
  if (table_size < 2 || table_size > kMaxMaglevTableSize) {
    return absl::InvalidArgumentError(absl::StrCat("Maglev table size ", table_size,
                                                   " is outside [2, ", kMaxMaglevTableSize, "]"));
  }
  if (!IsPrime(table_size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("Maglev table size ", table_size,
                     " is not prime (each backend's skip must be coprime with it)"));
  }

  // Identity order, so that the input order never changes the table.
  std::vector<MaglevBackend> sorted(backends.begin(), backends.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const MaglevBackend& a, const MaglevBackend& b) { return a.identity < b.identity; });
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (sorted[i].id == kNoBackend) {
      return absl::InvalidArgumentError(absl::StrCat("backend ", FormatIdentity(sorted[i].identity),
                                                     " has id ", kNoBackend,
                                                     ", which is reserved for \"no backend\""));
    }
    if (i > 0 && sorted[i].identity == sorted[i - 1].identity) {
      return absl::InvalidArgumentError(
          absl::StrCat("backends with ids ", std::min(sorted[i - 1].id, sorted[i].id), " and ",
                       std::max(sorted[i - 1].id, sorted[i].id), " have the same identity ",
                       FormatIdentity(sorted[i].identity)));
    }
  }

  std::vector<MaglevCandidate> candidates;
  candidates.reserve(sorted.size());
  for (const MaglevBackend& backend : sorted) {
    candidates.push_back(MaglevCandidate{
        .id = backend.id,
        .permutation = PermutationFor(backend.identity, table_size),
        .weight = backend.weight,
    });
  }
  return MaglevTable(PopulateMaglev(candidates, table_size));
}

}  // namespace sluice::lb
