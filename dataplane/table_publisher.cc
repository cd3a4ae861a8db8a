#include "dataplane/table_publisher.h"

#include <rte_errno.h>
#include <rte_malloc.h>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace sluice::dataplane {

absl::StatusOr<std::unique_ptr<TablePublisher>> TablePublisher::Create(uint32_t readers) {
  const size_t size = rte_rcu_qsbr_get_memsize(readers);
  auto* qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sluice_rcu", size, RTE_CACHE_LINE_SIZE));
  if (qsbr == nullptr) return absl::ResourceExhaustedError("cannot allocate the RCU state");
  if (rte_rcu_qsbr_init(qsbr, readers) != 0) {
    rte_free(qsbr);
    return absl::InternalError(absl::StrFormat("rte_rcu_qsbr_init: %s", rte_strerror(rte_errno)));
  }
  for (uint32_t i = 0; i < readers; ++i) rte_rcu_qsbr_thread_register(qsbr, i);
  return std::unique_ptr<TablePublisher>(new TablePublisher(qsbr));
}

TablePublisher::~TablePublisher() {
  delete current_.load(std::memory_order_relaxed);
  rte_free(qsbr_);
}

uint64_t TablePublisher::Publish(std::unique_ptr<ForwardingTable> table) {
  table->generation = next_generation_++;
  const uint64_t generation = table->generation;
  const ForwardingTable* old = current_.exchange(table.release(), std::memory_order_acq_rel);
  if (old != nullptr) {
    // Blocks until every online worker has finished the iteration that may still read
    // `old`. Offline (sleeping) workers hold no reference and are not waited for.
    rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    delete old;
  }
  return generation;
}

}  // namespace sluice::dataplane
