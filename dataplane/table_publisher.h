// Publishes ForwardingTables to the workers with RCU (STYLE.md item 2): the control
// thread release-stores the new pointer, waits until every online worker has reported a
// quiescent state (rte_rcu_qsbr), then frees the old table. Workers load the pointer once
// per loop iteration and report quiescence at the end of it.
#ifndef SLUICE_DATAPLANE_TABLE_PUBLISHER_H_
#define SLUICE_DATAPLANE_TABLE_PUBLISHER_H_

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "dataplane/forwarding_table.h"

namespace sluice::dataplane {

class TablePublisher {
 public:
  // `readers` is the number of worker threads; their ids are 0 .. readers-1.
  static absl::StatusOr<std::unique_ptr<TablePublisher>> Create(uint32_t readers);
  ~TablePublisher();
  TablePublisher(const TablePublisher&) = delete;
  TablePublisher& operator=(const TablePublisher&) = delete;

  // Control thread: makes `table` current, waits for every worker to move on, frees the
  // previous table. Returns the generation now current.
  uint64_t Publish(std::unique_ptr<ForwardingTable> table);

  // Control thread: the current table (the writer needs no RCU protection).
  const ForwardingTable* current() const { return current_.load(std::memory_order_relaxed); }

  // Worker side.
  const ForwardingTable* Acquire() const { return current_.load(std::memory_order_acquire); }
  void Online(uint32_t reader) { rte_rcu_qsbr_thread_online(qsbr_, reader); }
  void Offline(uint32_t reader) { rte_rcu_qsbr_thread_offline(qsbr_, reader); }
  void Quiescent(uint32_t reader) { rte_rcu_qsbr_quiescent(qsbr_, reader); }

  // The workers' RCU state, for other structures whose memory the workers read without
  // locks (NatSessionTable reclaims removed sessions through it).
  rte_rcu_qsbr* qsbr() const { return qsbr_; }

 private:
  explicit TablePublisher(rte_rcu_qsbr* qsbr) : qsbr_(qsbr) {}

  rte_rcu_qsbr* qsbr_;
  std::atomic<const ForwardingTable*> current_{nullptr};
  uint64_t next_generation_ = 1;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_TABLE_PUBLISHER_H_
