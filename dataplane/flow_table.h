// A worker's flow table (STYLE.md item 3: one per lcore, never shared): IPv4 5-tuple ->
// stable backend id and last-seen time, in an rte_hash with an extendable bucket table so
// that `capacity` entries always fit. Entries age out by an incremental sweep that looks
// at a bounded number of entries per call, so aging never stalls a burst.
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
                                                           uint32_t capacity, int socket_id);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // The 32-bit hash used both for the table and for the Maglev slot: CRC32 of the key
  // with a fixed seed, identical on every worker and every Sluice host.
  uint32_t Hash(const FlowKeyV4& key) const { return rte_hash_hash(hash_, &key); }

  // Looks up n <= 64 keys; positions[i] is an entry position or kMiss.
  void LookupBulk(const void** keys, uint32_t* hashes, uint32_t n, int32_t* positions) const {
    rte_hash_lookup_with_hash_bulk(hash_, keys, hashes, n, positions);
  }

  // Adds a key (not present); returns its position, or kMiss when the table is full.
  int32_t Insert(const FlowKeyV4& key, uint32_t hash) {
    const int32_t pos = rte_hash_add_key_with_hash(hash_, &key, hash);
    return pos < 0 ? kMiss : pos;
  }

  FlowEntry& entry(int32_t position) { return entries_[position]; }

  // Examines up to `budget` entries from where the last call stopped and removes those
  // idle longer than their protocol's timeout. Returns the number removed.
  uint32_t Sweep(uint32_t now_ms, uint32_t budget, uint32_t tcp_timeout_ms,
                 uint32_t udp_timeout_ms);

  uint32_t size() const { return static_cast<uint32_t>(rte_hash_count(hash_)); }
  uint32_t capacity() const { return capacity_; }

 private:
  FlowTable(rte_hash* hash, uint32_t capacity, std::unique_ptr<FlowEntry[]> entries)
      : hash_(hash), capacity_(capacity), entries_(std::move(entries)) {}

  rte_hash* hash_;
  uint32_t capacity_;
  std::unique_ptr<FlowEntry[]> entries_;
  uint32_t sweep_next_ = 0;
};

inline bool FlowExpired(const FlowKeyV4& key, const FlowEntry& entry, uint32_t now_ms,
                        uint32_t tcp_timeout_ms, uint32_t udp_timeout_ms) {
  const uint32_t timeout = key.ip_proto == 6 /*IPPROTO_TCP*/ ? tcp_timeout_ms : udp_timeout_ms;
  return now_ms - entry.last_seen_ms > timeout;
}

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_FLOW_TABLE_H_
