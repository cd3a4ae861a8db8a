// A worker's flow table (STYLE.md item 3: one per lcore, never shared): IPv4 5-tuple ->
// stable backend id and last-seen time (one table per address family), in an rte_hash with an
// extendable bucket table so that `capacity` entries always fit. Entries age out by an incremental
// sweep that looks at a bounded number of entries per call, so aging never stalls a burst.
#ifndef SLUICE_DATAPLANE_FLOW_TABLE_H_
#define SLUICE_DATAPLANE_FLOW_TABLE_H_

#include <rte_hash.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/forwarding_table.h"

namespace sluice::dataplane {

struct FlowKeyV4 {
  uint32_t src_ip;  // network byte order
  uint32_t dst_ip;
  uint16_t src_port;
  uint16_t dst_port;
  uint8_t ip_proto;
  uint8_t pad[3];  // always zero: the key is hashed and compared as 16 bytes
};
static_assert(sizeof(FlowKeyV4) == 16);

struct FlowKeyV6 {
  uint8_t src_ip[16];
  uint8_t dst_ip[16];
  uint16_t src_port;  // network byte order
  uint16_t dst_port;
  uint8_t ip_proto;
  uint8_t pad[3];  // always zero
};
static_assert(sizeof(FlowKeyV6) == 40);

// Which key a FlowTable holds: each worker has one table per address family, so IPv4
// keys stay 16 bytes (one hash, one compare) whatever IPv6 needs.
enum class FlowFamily : uint8_t { kIpv4, kIpv6 };

struct FlowEntry {
  BackendId backend;
  uint32_t last_seen_ms;  // wraps after 49 days; compared by unsigned difference
};
static_assert(sizeof(FlowEntry) == 8);

class FlowTable {
 public:
  // Positions returned by lookups and inserts index entries(); kMiss marks a miss.
  static constexpr int32_t kMiss = -1;

  static absl::StatusOr<std::unique_ptr<FlowTable>> Create(const std::string& name,
                                                           uint32_t capacity, int socket_id,
                                                           FlowFamily family = FlowFamily::kIpv4);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // The 32-bit hash used both for the table and for the Maglev slot: CRC32 of the key
  // with a fixed seed, identical on every worker and every Sluice host.
  uint32_t Hash(const FlowKeyV4& key) const { return rte_hash_hash(hash_, &key); }
  uint32_t Hash(const FlowKeyV6& key) const { return rte_hash_hash(hash_, &key); }

  // Looks up n <= 64 keys; positions[i] is an entry position or kMiss.
  void LookupBulk(const void** keys, uint32_t* hashes, uint32_t n, int32_t* positions) const {
    rte_hash_lookup_with_hash_bulk(hash_, keys, hashes, n, positions);
  }

  // Adds a key (not present); returns its position, or kMiss when the table is full.
  int32_t Insert(const FlowKeyV4& key, uint32_t hash) { return InsertKey(&key, hash); }
  int32_t Insert(const FlowKeyV6& key, uint32_t hash) { return InsertKey(&key, hash); }

  // The position of `key`, or kMiss.
  int32_t Lookup(const void* key, uint32_t hash) const {
    const int32_t pos = rte_hash_lookup_with_hash(hash_, key, hash);
    return pos < 0 ? kMiss : pos;
  }

  FlowEntry& entry(int32_t position) { return entries_[position]; }
  const FlowEntry& entry(int32_t position) const { return entries_[position]; }

  // Examines up to `budget` entries from where the last call stopped and removes those
  // idle longer than their protocol's timeout. Returns the number removed.
  // `on_expired` (may be null) sees each removed flow first, e.g. to end its NAT session;
  // `key` points at a FlowKeyV4 or FlowKeyV6 as the table's family says.
  using ExpiredCallback = void (*)(void* context, const void* key, const FlowEntry& entry);
  uint32_t Sweep(uint32_t now_ms, uint32_t budget, uint32_t tcp_timeout_ms, uint32_t udp_timeout_ms,
                 ExpiredCallback on_expired = nullptr, void* context = nullptr);

  uint32_t size() const { return static_cast<uint32_t>(rte_hash_count(hash_)); }
  uint32_t capacity() const { return capacity_; }
  FlowFamily family() const { return family_; }

 private:
  FlowTable(rte_hash* hash, uint32_t capacity, FlowFamily family,
            std::unique_ptr<FlowEntry[]> entries)
      : hash_(hash), capacity_(capacity), family_(family), entries_(std::move(entries)) {}

  int32_t InsertKey(const void* key, uint32_t hash) {
    const int32_t pos = rte_hash_add_key_with_hash(hash_, key, hash);
    return pos < 0 ? kMiss : pos;
  }

  rte_hash* hash_;
  uint32_t capacity_;
  FlowFamily family_;
  std::unique_ptr<FlowEntry[]> entries_;
  uint32_t sweep_next_ = 0;
};

inline bool FlowExpired(uint8_t ip_proto, const FlowEntry& entry, uint32_t now_ms,
                        uint32_t tcp_timeout_ms, uint32_t udp_timeout_ms) {
  const uint32_t timeout = ip_proto == 6 /*IPPROTO_TCP*/ ? tcp_timeout_ms : udp_timeout_ms;
  return now_ms - entry.last_seen_ms > timeout;
}

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_FLOW_TABLE_H_
