#include "lb/rate_estimator.h"

namespace sluice::lb {
namespace {

void Follow(double& rate, uint64_t before, uint64_t now, double seconds) {
  const double measured = static_cast<double>(now - before) / seconds;
  rate += (measured - rate) * RateEstimator::kWeight;
}

}  // namespace

void RateEstimator::Sample(absl::Time now,
                           const absl::flat_hash_map<uint32_t, RateTotals>& totals) {
  const bool first = last_ == absl::InfinitePast();
  const double seconds = first ? 0 : absl::ToDoubleSeconds(now - last_);
  last_ = now;
  absl::flat_hash_map<uint32_t, Entry> next;
  next.reserve(totals.size());
  for (const auto& [id, t] : totals) {
    Entry& e = next[id];
    auto it = entries_.find(id);
    if (it != entries_.end() && seconds > 0 && t.new_flows >= it->second.last.new_flows &&
        t.packets >= it->second.last.packets && t.bytes >= it->second.last.bytes) {
      e.rates = it->second.rates;
      Follow(e.rates.new_flows_per_s, it->second.last.new_flows, t.new_flows, seconds);
      Follow(e.rates.packets_per_s, it->second.last.packets, t.packets, seconds);
      Follow(e.rates.bytes_per_s, it->second.last.bytes, t.bytes, seconds);
    }
    e.last = t;
  }
  entries_ = std::move(next);
}

Rates RateEstimator::RateOf(uint32_t id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? Rates{} : it->second.rates;
}

}  // namespace sluice::lb
