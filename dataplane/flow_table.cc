#include "dataplane/flow_table.h"

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include <cstddef>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace sluice::dataplane {

namespace {
// Fixed so that every worker and every Sluice host maps a 5-tuple to the same Maglev
// slot (ECMP in front of several hosts relies on it).
constexpr uint32_t kFlowHashSeed = 0x5eed1ce5;
}  // namespace

absl::StatusOr<std::unique_ptr<FlowTable>> FlowTable::Create(const std::string& name,
                                                             uint32_t capacity, int socket_id,
                                                             FlowFamily family) {
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = capacity;
  params.key_len = family == FlowFamily::kIpv4 ? sizeof(FlowKeyV4) : sizeof(FlowKeyV6);
  params.hash_func = rte_hash_crc;
  params.hash_func_init_val = kFlowHashSeed;
  params.socket_id = socket_id;
  // Extendable buckets: `capacity` keys always fit, whatever cuckoo displacement does.
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* hash = rte_hash_create(&params);
  if (hash == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot create flow table %s with %u entries: %s", name, capacity,
                        rte_strerror(rte_errno)));
  }
  // rte_hash positions go up to entries + (per-lcore cache slack); size the side array
  // from the key count the hash reports it can hold.
  const int32_t max_key = rte_hash_max_key_id(hash);
  auto entries = std::make_unique<FlowEntry[]>(static_cast<size_t>(max_key) + 1);
  return std::unique_ptr<FlowTable>(new FlowTable(hash, capacity, family, std::move(entries)));
}

FlowTable::~FlowTable() { rte_hash_free(hash_); }

uint32_t FlowTable::Sweep(uint32_t now_ms, uint32_t budget, uint32_t tcp_timeout_ms,
                          uint32_t udp_timeout_ms, ExpiredCallback on_expired, void* context) {
  const bool v4 = family_ == FlowFamily::kIpv4;
  const size_t key_len = v4 ? sizeof(FlowKeyV4) : sizeof(FlowKeyV6);
  const size_t proto_at = v4 ? offsetof(FlowKeyV4, ip_proto) : offsetof(FlowKeyV6, ip_proto);
  uint32_t removed = 0;
  for (uint32_t i = 0; i < budget; ++i) {
    const void* key = nullptr;
    void* data = nullptr;
    const int32_t pos = rte_hash_iterate(hash_, &key, &data, &sweep_next_);
    if (pos < 0) {  // end of the table: start over next time
      sweep_next_ = 0;
      break;
    }
    const uint8_t ip_proto = static_cast<const uint8_t*>(key)[proto_at];
    if (FlowExpired(ip_proto, entries_[pos], now_ms, tcp_timeout_ms, udp_timeout_ms)) {
      alignas(8) uint8_t copy[sizeof(FlowKeyV6)];  // the key's slot is recycled by the delete
      std::memcpy(copy, key, key_len);
      if (on_expired != nullptr) on_expired(context, copy, entries_[pos]);
      if (rte_hash_del_key(hash_, copy) >= 0) ++removed;
    }
  }
  return removed;
}

}  // namespace sluice::dataplane
