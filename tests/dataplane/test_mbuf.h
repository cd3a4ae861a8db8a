// Moving test frames in and out of mbufs: one segment with a chosen headroom, or split
// over two segments, and the bytes of a (possibly segmented) mbuf back as a vector.
#ifndef SLUICE_TESTS_DATAPLANE_TEST_MBUF_H_
#define SLUICE_TESTS_DATAPLANE_TEST_MBUF_H_

#include <rte_mbuf.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace sluice::dataplane {

// An mbuf from `pool` holding `frame` after `headroom` bytes; nullptr if it does not fit.
inline rte_mbuf* MbufFromBytes(rte_mempool* pool, const std::vector<uint8_t>& frame,
                               uint16_t headroom = RTE_PKTMBUF_HEADROOM) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool);
  if (m == nullptr) return nullptr;
  m->data_off = headroom;
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return nullptr;
  }
  std::memcpy(p, frame.data(), frame.size());
  return m;
}

// `frame` split into two chained segments, the first holding `first_len` bytes.
inline rte_mbuf* SegmentedMbufFromBytes(rte_mempool* pool, const std::vector<uint8_t>& frame,
                                        size_t first_len) {
  rte_mbuf* head =
      MbufFromBytes(pool, std::vector<uint8_t>(frame.begin(), frame.begin() + first_len));
  rte_mbuf* tail =
      MbufFromBytes(pool, std::vector<uint8_t>(frame.begin() + first_len, frame.end()));
  if (head == nullptr || tail == nullptr || rte_pktmbuf_chain(head, tail) != 0) {
    rte_pktmbuf_free(head);
    rte_pktmbuf_free(tail);
    return nullptr;
  }
  return head;
}

// All packet bytes of `m`, across segments.
inline std::vector<uint8_t> MbufBytes(const rte_mbuf* m) {
  std::vector<uint8_t> out(rte_pktmbuf_pkt_len(m));
  for (size_t off = 0; m != nullptr; m = m->next) {
    std::memcpy(out.data() + off, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    off += m->data_len;
  }
  return out;
}

}  // namespace sluice::dataplane

#endif  // SLUICE_TESTS_DATAPLANE_TEST_MBUF_H_
