// NatSessionTable creation and teardown; the per-packet calls are inline in the header.
#include "dataplane/nat_sessions.h"

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace sluice::dataplane {

namespace {
// Fixed so that the hash of a key is the same on every worker (any of them may compute
// it for any other's benefit) and from run to run (reproducible benchmarks).
constexpr uint32_t kNatHashSeed = 0x4a7c0ffe;
}  // namespace

absl::StatusOr<std::unique_ptr<NatSessionTable>> NatSessionTable::Create(const std::string& name,
                                                                         uint32_t capacity,
                                                                         rte_rcu_qsbr* qsbr,
                                                                         int socket_id) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "NAT session table name \"%s\" must have 1 to %u characters", name, kMaxNameLength));
  }
  if (qsbr == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("NAT session table %s needs the readers' RCU state", name));
  }
  rte_hash_parameters params{};
  params.name = name.c_str();
  params.entries = capacity;
  params.key_len = sizeof(NatKey);
  params.hash_func = rte_hash_crc;
  params.hash_func_init_val = kNatHashSeed;
  params.socket_id = socket_id;
  // Why these two and not MULTI_WRITER_ADD: nat_sessions.h.
  params.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* hash = rte_hash_create(&params);
  if (hash == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("cannot create NAT session table %s with %u entries: %s", name, capacity,
                        rte_strerror(rte_errno)));
  }
  rte_hash_rcu_config rcu{};
  rcu.v = qsbr;
  rcu.mode = RTE_HASH_QSBR_MODE_DQ;
  // dq_size 0: the defer queue holds every key slot, so a Remove never finds it full.
  // trigger_reclaim_limit 0: every Remove first frees what has become reclaimable (at most
  // max_reclaim_size, default 16, non-blocking), so freed slots return at the rate
  // sessions go away instead of in bursts when the table runs dry.
  rcu.dq_size = 0;
  rcu.trigger_reclaim_limit = 0;
  rcu.max_reclaim_size = 0;
  if (rte_hash_rcu_qsbr_add(hash, &rcu) != 0) {
    const int error = rte_errno;
    rte_hash_free(hash);
    return absl::InternalError(absl::StrFormat("NAT session table %s: rte_hash_rcu_qsbr_add: %s",
                                               name, rte_strerror(error)));
  }
  return std::unique_ptr<NatSessionTable>(new NatSessionTable(hash, capacity, qsbr));
}

NatSessionTable::~NatSessionTable() {
  // rte_hash_free reclaims the defer queue and leaks it (and its ring's name) if a token
  // is still unacknowledged: wait for the readers first.
  rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
  rte_hash_free(hash_);
}

}  // namespace sluice::dataplane
