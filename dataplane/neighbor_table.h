// The MACs of next hops (backends, gateways) as the workers see them: one 64-bit word
// per neighbour index, written only by the control thread (NeighborCache) and read by
// workers with relaxed loads. A word holds the MAC and two flags, so a reader can never
// see half an update.
#ifndef SLUICE_DATAPLANE_NEIGHBOR_TABLE_H_
#define SLUICE_DATAPLANE_NEIGHBOR_TABLE_H_

#include <rte_ether.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>

namespace sluice::dataplane {

class NeighborTable {
 public:
  enum class State : uint8_t { kUnresolved, kResolved, kFailed };

  explicit NeighborTable(uint32_t capacity)
      : capacity_(capacity), words_(std::make_unique<std::atomic<uint64_t>[]>(capacity)) {
    for (uint32_t i = 0; i < capacity; ++i) words_[i].store(0, std::memory_order_relaxed);
  }

  uint32_t capacity() const { return capacity_; }

  // Fast path. Copies the MAC into *mac when resolved.
  State Lookup(uint32_t index, rte_ether_addr* mac) const {
    const uint64_t word = words_[index].load(std::memory_order_relaxed);
    if ((word & kResolvedBit) != 0) {
      for (int i = 0; i < RTE_ETHER_ADDR_LEN; ++i) {
        mac->addr_bytes[i] = static_cast<uint8_t>(word >> (8 * (5 - i)));
      }
      return State::kResolved;
    }
    return (word & kFailedBit) != 0 ? State::kFailed : State::kUnresolved;
  }

  // Control thread only.
  void SetResolved(uint32_t index, const rte_ether_addr& mac) {
    uint64_t word = kResolvedBit;
    for (int i = 0; i < RTE_ETHER_ADDR_LEN; ++i) {
      word |= static_cast<uint64_t>(mac.addr_bytes[i]) << (8 * (5 - i));
    }
    words_[index].store(word, std::memory_order_relaxed);
  }
  void SetFailed(uint32_t index) { words_[index].store(kFailedBit, std::memory_order_relaxed); }
  void SetUnresolved(uint32_t index) { words_[index].store(0, std::memory_order_relaxed); }

 private:
  static constexpr uint64_t kResolvedBit = uint64_t{1} << 63;
  static constexpr uint64_t kFailedBit = uint64_t{1} << 62;

  uint32_t capacity_;
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
};

}  // namespace sluice::dataplane

#endif  // SLUICE_DATAPLANE_NEIGHBOR_TABLE_H_
