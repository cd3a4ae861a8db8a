// Weighted Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
// Software Network Load Balancer", NSDI 2016, section 3.4).
//
// Built by the control thread, read by workers through an immutable forwarding table.
// A backend's permutation depends only on its identity (address and port), and
// backends are placed in identity order, so two Sluice hosts given the same backends in
// any order build identical tables.
#ifndef SLUICE_LB_MAGLEV_H_
#define SLUICE_LB_MAGLEV_H_

#include <array>
#include <compare>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sluice::lb {

// Stable small integer id of a backend, owned by lb/. 0 means "no backend".
using BackendId = uint32_t;
inline constexpr BackendId kNoBackend = 0;

inline constexpr uint32_t kDefaultMaglevTableSize = 65537;
// Upper bound on the table size: big enough for 655373 (the paper's large table) and
// small enough that a table is at most 16 MiB of ids.
inline constexpr uint32_t kMaxMaglevTableSize = 4194301;

// Who a backend is, for hashing. IPv4 addresses use the first 4 bytes of `address`
// and leave the rest zero.
struct BackendIdentity {
  bool ipv6 = false;
  std::array<uint8_t, 16> address{};
  uint16_t port = 0;

  friend auto operator<=>(const BackendIdentity&, const BackendIdentity&) = default;
};

struct MaglevBackend {
  BackendId id = kNoBackend;  // what the table's slots hold
  BackendIdentity identity;
  uint32_t weight = 0;  // 0 gives the backend no slots

  friend bool operator==(const MaglevBackend&, const MaglevBackend&) = default;
};

// A backend's preference list: slot j of its permutation is (offset + j * skip) mod M.
struct MaglevPermutation {
  uint32_t offset = 0;
  uint32_t skip = 1;
};

// The permutation the identity hashes to for a table of `table_size` (prime) slots.
// Stable across hosts, builds and versions: XXH64 with fixed seeds over a fixed byte
// encoding of the identity. Gives offset < table_size and skip in [1, table_size - 1]
// for table_size >= 2 (offset 0, skip 1 below that).
MaglevPermutation PermutationFor(const BackendIdentity& identity, uint32_t table_size);

// One backend's input to the population step, in the order backends take turns.
struct MaglevCandidate {
  BackendId id = kNoBackend;
  MaglevPermutation permutation;
  uint32_t weight = 0;
};

// The population loop of the paper, weighted: in every round each candidate earns its
// weight in credit and takes one slot per `max weight` of credit, so slot shares follow
// the weights. Candidates with weight 0 (or id kNoBackend) take no slot. Returns
// `table_size` ids, all kNoBackend when no candidate has a weight. `table_size` must be
// prime and each permutation must have offset < table_size and skip in
// [1, table_size - 1] (as PermutationFor gives); with equal weights this is exactly the
// paper's loop.
std::vector<BackendId> PopulateMaglev(std::span<const MaglevCandidate> candidates,
                                      uint32_t table_size);

class MaglevTable {
 public:
  // Fails with InvalidArgument when the size is not a prime in [2, kMaxMaglevTableSize],
  // when two backends share an identity, or when a backend id is kNoBackend.
  static absl::StatusOr<MaglevTable> Build(std::span<const MaglevBackend> backends,
                                           uint32_t table_size = kDefaultMaglevTableSize);

  // The backend owning `hash`, or kNoBackend for a table with no weighted backend.
  BackendId Lookup(uint64_t hash) const { return slots_[hash % slots_.size()]; }

  std::span<const BackendId> slots() const { return slots_; }
  uint32_t size() const { return static_cast<uint32_t>(slots_.size()); }

 private:
  explicit MaglevTable(std::vector<BackendId> slots) : slots_(std::move(slots)) {}

  std::vector<BackendId> slots_;
};

bool IsPrime(uint32_t n);

}  // namespace sluice::lb

#endif  // SLUICE_LB_MAGLEV_H_
