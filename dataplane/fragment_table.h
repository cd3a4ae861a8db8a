// A worker's memory of what it did with the first fragment of each recent datagram, so
// that the later fragments (which carry no L4 header, hence no ports to hash) follow it
// to the same backend. One per worker lcore (STYLE.md item 3): no locks, no atomics.
//
// Direct-mapped: a datagram's key hashes to exactly one slot and a newer datagram that
// hashes to the same slot overwrites it. A later fragment of the evicted datagram then
// misses and is handled like any fragment whose first fragment was never seen (dropped
// and counted by the caller). Associativity would cut those misses but costs a probe per
// way on a path that only fragments take; size the table for the fragment rate instead
// (slots >= datagrams in flight per worker within `lifetime_ms`).
//
// Entries older than `lifetime_ms` never match (RFC 791 / RFC 8200 reassembly gives up
// after 15 s / 60 s; a load balancer wants a much shorter window so that a recycled IP ID
// does not steer an unrelated datagram). Times are uint32_t milliseconds compared by
// unsigned difference, which is wrap-safe except that an entry left untouched for an
// exact multiple of 2^32 ms (49.7 days) looks fresh again; any traffic through its slot
// overwrites it long before that.
#ifndef SLUICE_DATAPLANE_FRAGMENT_TABLE_H_
#define SLUICE_DATAPLANE_FRAGMENT_TABLE_H_

#include <rte_hash_crc.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

namespace sluice::dataplane {

// Identifies a datagram: RFC 791 (src, dst, protocol, id) for IPv4, RFC 8200 (src, dst,
// fragment id) plus the upper-layer protocol for IPv6. IPv4 addresses are in bytes 0..3
// (network order); the other 12 bytes are ignored for IPv4 keys.
struct FragmentKey {
  bool ipv6 = false;
  uint8_t ip_proto = 0;
  uint32_t id = 0;  // IPv4: the 16-bit identification; IPv6: the fragment header's 32 bits
  std::array<uint8_t, 16> src{};
  std::array<uint8_t, 16> dst{};
};

class FragmentTable {
 public:
  // `slots` must be a power of two (it is rounded up to one otherwise, minimum 1).
  explicit FragmentTable(uint32_t slots, uint32_t lifetime_ms = 2000)
      : mask_(RoundUpToPowerOfTwo(slots) - 1), lifetime_ms_(lifetime_ms), entries_(mask_ + 1) {}

  // Records `value` for the datagram, replacing whatever its slot held (the same datagram
  // or another one).
  void Remember(const FragmentKey& key, uint64_t value, uint32_t now_ms) {
    const StoredKey stored = Store(key);
    Entry& entry = entries_[Slot(stored)];
    entry.key = stored;
    entry.value = value;
    entry.stamp_ms = now_ms;
    entry.used = true;
  }

  // True and `*value` set when the datagram was remembered no more than lifetime_ms ago
  // and not overwritten since.
  bool Find(const FragmentKey& key, uint32_t now_ms, uint64_t* value) const {
    const StoredKey stored = Store(key);
    const Entry& entry = entries_[Slot(stored)];
    if (!entry.used || now_ms - entry.stamp_ms > lifetime_ms_) return false;
    if (std::memcmp(&entry.key, &stored, sizeof(stored)) != 0) return false;
    *value = entry.value;
    return true;
  }

  uint32_t slots() const { return mask_ + 1; }
  uint32_t lifetime_ms() const { return lifetime_ms_; }

 private:
  // The key as hashed and compared: a fixed byte layout with no padding holes, IPv4
  // addresses zero-extended, the family included so that an IPv4 key never equals an IPv6
  // key with the same bytes.
  struct StoredKey {
    std::array<uint8_t, 16> src;
    std::array<uint8_t, 16> dst;
    uint32_t id;
    uint8_t ipv6;
    uint8_t ip_proto;
    uint8_t pad[2];
  };
  static_assert(sizeof(StoredKey) == 40);

  // One cache line per slot: a lookup touches exactly one line.
  struct alignas(64) Entry {
    StoredKey key{};
    uint64_t value = 0;
    uint32_t stamp_ms = 0;
    bool used = false;
  };
  static_assert(sizeof(Entry) == 64);

  // Arbitrary but fixed; the table is private to one worker, nothing else needs to agree.
  static constexpr uint32_t kHashSeed = 0xf4a9e47u;

  static uint32_t RoundUpToPowerOfTwo(uint32_t n) {
    uint32_t p = 1;
    while (p < n && p < (1u << 31)) p <<= 1;
    return p;
  }

  static StoredKey Store(const FragmentKey& key) {
    StoredKey stored{};
    const size_t address_bytes = key.ipv6 ? 16 : 4;
    std::memcpy(stored.src.data(), key.src.data(), address_bytes);
    std::memcpy(stored.dst.data(), key.dst.data(), address_bytes);
    stored.id = key.id;
    stored.ipv6 = key.ipv6 ? 1 : 0;
    stored.ip_proto = key.ip_proto;
    return stored;
  }

  uint32_t Slot(const StoredKey& stored) const {
    return rte_hash_crc(&stored, sizeof(stored), kHashSeed) & mask_;
  }

  uint32_t mask_;
  uint32_t lifetime_ms_;
  std::vector<Entry> entries_;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_FRAGMENT_TABLE_H_
