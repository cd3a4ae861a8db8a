// A one-slot mailbox through which the control thread asks one worker about one flow
// (`sluicectl lookup`). The flow tables are rte_hash tables without the lock-free flag:
// only their worker may read them. So the control thread posts a query, the worker
// answers it between bursts (Worker::PollOnce checks the mailbox once per iteration) and
// the control thread waits for the answer, bounded by a timeout.
//
// Protocol: the control thread fills the query and release-stores a new sequence number;
// the worker acquire-loads it, and when it differs from the last one it answered, looks
// the flow up, fills the answer and release-stores the sequence number as answered. The
// control thread posts again only once the previous query is answered, so the two never
// write the same slot at once, even after a timeout (a stopped worker just keeps its
// query unanswered). Cost to the worker when nothing is asked: one load of a cache line
// only the control thread writes (bench/RESULTS.md, "flow mailbox").
#ifndef SLUICE_DATAPLANE_FLOW_MAILBOX_H_
#define SLUICE_DATAPLANE_FLOW_MAILBOX_H_

#include <rte_common.h>

#include <atomic>
#include <cstdint>

#include "dataplane/flow_table.h"
#include "dataplane/forwarding_table.h"

namespace sluice::dataplane {

struct FlowQuery {
  FlowFamily family = FlowFamily::kIpv4;
  // 8-byte aligned: rte_hash_crc reads the key in 8-byte words (UBSan flags a misaligned
  // key6 otherwise, right after the 4-byte family).
  alignas(8) FlowKeyV4 key4{};  // when family is kIpv4
  alignas(8) FlowKeyV6 key6{};  // when family is kIpv6
};

struct FlowAnswer {
  bool found = false;
  BackendId backend = kNoBackend;  // when found
  uint32_t last_seen_ms = 0;       // when found, on the worker's clock
  uint32_t now_ms = 0;             // the worker's clock when it answered
  uint32_t hash = 0;               // the flow hash (also the Maglev hash)
};

class FlowMailbox {
 public:
  // Control thread: posts `query`. False when the previous query is still unanswered
  // (the worker is stopped or has not polled since); nothing is posted then.
  bool Post(const FlowQuery& query) {
    const uint64_t seq = request_seq_.load(std::memory_order_relaxed);
    if (answer_seq_.load(std::memory_order_acquire) != seq) return false;
    query_ = query;
    request_seq_.store(seq + 1, std::memory_order_release);
    return true;
  }
  // Control thread: the answer to the last posted query, once the worker gave it.
  bool TryTake(FlowAnswer* answer) const {
    const uint64_t seq = request_seq_.load(std::memory_order_relaxed);
    if (answer_seq_.load(std::memory_order_acquire) != seq) return false;
    *answer = answer_;
    return true;
  }

  // Worker: answers a pending query, if any, with `lookup(query) -> FlowAnswer`.
  template <typename Lookup>
  void Serve(Lookup&& lookup) {
    const uint64_t seq = request_seq_.load(std::memory_order_acquire);
    if (seq == answered_) [[likely]]
      return;
    answer_ = lookup(query_);
    answered_ = seq;
    answer_seq_.store(seq, std::memory_order_release);
  }

 private:
  // Written by the control thread; read by the worker on every iteration.
  alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint64_t> request_seq_{0};
  FlowQuery query_;
  // Written by the worker.
  alignas(RTE_CACHE_LINE_SIZE) std::atomic<uint64_t> answer_seq_{0};
  uint64_t answered_ = 0;  // worker-private copy of answer_seq_
  FlowAnswer answer_;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_FLOW_MAILBOX_H_
