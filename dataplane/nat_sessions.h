// The NAT session table, the one structure SHARED by all worker lcores (an exception to
// STYLE.md item 3, on purpose): RSS hashes the client->VIP direction and the
// backend->client reply independently, so a reply may reach any worker, and it must
// find the session whichever worker created it.
//
// An rte_hash keyed by the reply's 5-tuple, with the whole session packed into the
// entry's 64-bit data word. rte_hash publishes the data word with a release store and
// readers load it with acquire after matching the key, so a lock-free reader sees a key
// only with its complete session (never half of one, never a side-array slot that a
// concurrent add has not written yet).
//
// Flags: RW_CONCURRENCY_LF | EXT_TABLE, writers serialized by this class's spinlock.
// (DPDK 22.11 accepts every combination except RW_CONCURRENCY with RW_CONCURRENCY_LF.)
//  - RW_CONCURRENCY_LF: lookups take no lock and never wait for writers; workers look up
//    every reply packet.
//  - EXT_TABLE: extendable buckets, so `capacity` sessions always fit however the keys
//    hash (without it cuckoo displacement can fail well below capacity).
//  - Not MULTI_WRITER_ADD, although any worker adds (it saw the client's first packet)
//    and removes. That flag serializes writers on rte_hash's own lock anyway (its only
//    parallel part is taking free slots from per-lcore caches), and the caches cost more
//    than they give: (a) they add (RTE_MAX_LCORE - 1) * 63 = 8001 key slots beyond
//    `capacity`, so a full table is limited by its buckets instead, and 22.11 leaks the
//    key slot of every add refused for want of an extendable bucket (measured: 100
//    refused adds on a full 64-entry table left 100 slots that never came back; ~8000
//    of them kill the table for good); (b) they index by rte_lcore_id(), so a non-EAL
//    thread would write out of bounds; (c) rte_hash_count() must sum 128 caches. With
//    one writer at a time (our lock) rte_hash has exactly `capacity` key slots, refuses
//    the next add before touching the buckets, counts in O(1), and any thread may write
//    (a thread that can be preempted while holding the lock, like the control thread,
//    makes writing workers spin meanwhile: keep its writes rare).
//
// Reclamation: with RW_CONCURRENCY_LF a removed key's slot may still be read by a
// lock-free reader, so it is recycled only after every reader has reported a quiescent
// state on the TablePublisher's rte_rcu_qsbr (rte_hash_rcu_qsbr_add). Mode DQ, not SYNC:
// SYNC makes Remove block in rte_rcu_qsbr_synchronize until every online reader has
// passed a quiescent state, which on a worker (itself an online reader that has not yet
// reported) never returns, and on the control thread would stall it. DQ queues the slot
// with a token and frees it non-blockingly from later Add/Remove calls once the token has
// been acknowledged; the queue holds every slot, so it cannot overflow.
//
// Consequences: removed sessions occupy their slots until the readers move on, so
// size() counts them and a reader that stops reporting quiescent states while online
// makes Add fail (the table looks full) until it reports again; the qsbr must outlive
// the table; the table is destroyed on a thread that is not an online reader (the
// destructor waits for a grace period). Residual DPDK risk: the extendable bucket of a
// removed key is recycled with its key slot, so with many removals pending and keys
// piling into the same bucket chains an add could still be refused for want of an
// extendable bucket below capacity (and leak as above); it needs a stalled reader and
// heavy bucket overflow together.
#ifndef SLUICE_DATAPLANE_NAT_SESSIONS_H_
#define SLUICE_DATAPLANE_NAT_SESSIONS_H_

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_rcu_qsbr.h>
#include <rte_spinlock.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "dataplane/forwarding_table.h"

namespace sluice::dataplane {

// The reply's 5-tuple as it arrives from the backend, network byte order.
struct NatKey {
  uint32_t backend_ip;
  uint32_t client_ip;
  uint16_t backend_port;
  uint16_t client_port;
  uint8_t ip_proto;
  uint8_t pad[3];  // always zero: the key is hashed and compared as 16 bytes
};
static_assert(sizeof(NatKey) == 16);

struct NatSession {
  // The MAC the client's packets came from: replies go back to it (like F5's "auto last
  // hop"), whatever the routing table says.
  rte_ether_addr last_hop{};
  uint8_t port_index = 0;  // the port the client's packets came in on, < kNatMaxPorts
  uint16_t service = 0;    // ServiceId, <= kNatMaxService

  bool operator==(const NatSession& other) const {
    return rte_is_same_ether_addr(&last_hop, &other.last_hop) && port_index == other.port_index &&
           service == other.service;
  }
};

// The 64-bit packing: bits 0..47 the MAC (byte i at bits 8i..8i+7), 48..50 the port,
// 51..63 the service.
inline constexpr uint32_t kNatPortBits = 3;
inline constexpr uint32_t kNatServiceBits = 13;
inline constexpr uint32_t kNatMaxPorts = 1u << kNatPortBits;             // 8
inline constexpr uint32_t kNatMaxService = (1u << kNatServiceBits) - 1;  // 8191
static_assert(48 + kNatPortBits + kNatServiceBits == 64);
static_assert(kMaxServiceIds - 1 <= kNatMaxService, "every ServiceId must fit a NAT session");

// False when the session does not fit the packing (port or service out of range).
constexpr bool NatSessionFits(const NatSession& session) {
  return session.port_index < kNatMaxPorts && session.service <= kNatMaxService;
}

constexpr uint64_t PackNatSession(const NatSession& session) {
  uint64_t word = 0;
  for (uint32_t i = 0; i < RTE_ETHER_ADDR_LEN; ++i) {
    word |= uint64_t{session.last_hop.addr_bytes[i]} << (8 * i);
  }
  word |= uint64_t{session.port_index} << 48;
  word |= uint64_t{session.service} << (48 + kNatPortBits);
  return word;
}

constexpr NatSession UnpackNatSession(uint64_t word) {
  NatSession session;
  for (uint32_t i = 0; i < RTE_ETHER_ADDR_LEN; ++i) {
    session.last_hop.addr_bytes[i] = static_cast<uint8_t>(word >> (8 * i));
  }
  session.port_index = static_cast<uint8_t>((word >> 48) & (kNatMaxPorts - 1));
  session.service = static_cast<uint16_t>(word >> (48 + kNatPortBits));
  return session;
}

// The padding is the point: the writers' lock sits alone on its cache line.
class NatSessionTable {  // NOLINT(clang-analyzer-optin.performance.Padding)
 public:
  // rte_hash derives ring names from `name`; the longest ("RG_HASH_RCU_<name>", the
  // defer queue's) must fit a 31-character memzone name, and DPDK would silently truncate
  // a longer one into a name that may collide.
  static constexpr size_t kMaxNameLength = 19;

  // `qsbr`: the readers' RCU state (TablePublisher::qsbr()); it must outlive the table.
  static absl::StatusOr<std::unique_ptr<NatSessionTable>> Create(const std::string& name,
                                                                 uint32_t capacity,
                                                                 rte_rcu_qsbr* qsbr, int socket_id);
  ~NatSessionTable();
  NatSessionTable(const NatSessionTable&) = delete;
  NatSessionTable& operator=(const NatSessionTable&) = delete;

  // CRC32-C of the 16-byte key with a fixed seed; pass it to the *WithHash calls when the
  // hash is already known (computed once per burst, or for prefetching).
  uint32_t Hash(const NatKey& key) const { return rte_hash_hash(hash_, &key); }

  // Any thread. Adds the session or replaces the one the key has. False when the table
  // is full (a replacement still succeeds then) or when the session does not fit the
  // packing.
  bool Add(const NatKey& key, const NatSession& session) { return Add(key, Hash(key), session); }
  bool Add(const NatKey& key, uint32_t hash, const NatSession& session) {
    if (!NatSessionFits(session)) return false;
    // The data word is an integer carried in rte_hash's void* slot; never dereferenced.
    void* data = reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr)
        static_cast<uintptr_t>(PackNatSession(session)));
    rte_spinlock_lock(&writer_lock_);
    const int ret = rte_hash_add_key_with_hash_data(hash_, &key, hash, data);
    rte_spinlock_unlock(&writer_lock_);
    return ret == 0;
  }

  // Any thread that is an online reader of the qsbr (or otherwise knows that no slot is
  // being recycled under it). Lock-free.
  bool Lookup(const NatKey& key, NatSession* session) const {
    return Lookup(key, Hash(key), session);
  }
  bool Lookup(const NatKey& key, uint32_t hash, NatSession* session) const {
    void* data = nullptr;
    if (rte_hash_lookup_with_hash_data(hash_, &key, hash, &data) < 0) return false;
    *session = UnpackNatSession(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data)));
    return true;
  }

  // Looks up n <= 64 keys at once (rte_hash prefetches their buckets); bit i of the
  // returned mask: keys[i] was found, its session in sessions[i].
  uint64_t LookupBulk(const NatKey** keys, uint32_t* hashes, uint32_t n,
                      NatSession* sessions) const {
    uint64_t hits = 0;
    void* data[64];
    rte_hash_lookup_with_hash_bulk_data(hash_, reinterpret_cast<const void**>(keys), hashes, n,
                                        &hits, data);
    for (uint32_t i = 0; i < n; ++i) {
      if ((hits >> i & 1) != 0) {
        sessions[i] = UnpackNatSession(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data[i])));
      }
    }
    return hits;
  }

  // Any thread. Removing an absent key does nothing. The key's slot is recycled once
  // every online reader has passed a quiescent state.
  void Remove(const NatKey& key) { Remove(key, Hash(key)); }
  void Remove(const NatKey& key, uint32_t hash) {
    rte_spinlock_lock(&writer_lock_);
    rte_hash_del_key_with_hash(hash_, &key, hash);
    rte_spinlock_unlock(&writer_lock_);
  }

  // Sessions present plus removed ones awaiting reclamation (see the file comment).
  uint32_t size() const { return static_cast<uint32_t>(rte_hash_count(hash_)); }
  uint32_t capacity() const { return capacity_; }

 private:
  NatSessionTable(rte_hash* hash, uint32_t capacity, rte_rcu_qsbr* qsbr)
      : hash_(hash), capacity_(capacity), qsbr_(qsbr) {}

  rte_hash* hash_;
  uint32_t capacity_;
  rte_rcu_qsbr* qsbr_;
  // Every writer takes it; its own cache line, away from the read-mostly fields above.
  alignas(RTE_CACHE_LINE_SIZE) rte_spinlock_t writer_lock_ = RTE_SPINLOCK_INITIALIZER;
};

static_assert(sizeof(void*) == sizeof(uint64_t), "the session is packed into rte_hash's void*");

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_NAT_SESSIONS_H_
