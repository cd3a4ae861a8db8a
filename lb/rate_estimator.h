// Per-second rates of monotonically growing counters (packets, bytes, new flows), in the
// manner of the LVS rate estimator (net/netfilter/ipvs/ip_vs_est.c): the control thread
// samples the totals about once per interval and each rate follows the measured rate
// with an exponentially weighted moving average of weight 1/4, so one busy second moves
// it by a quarter and a steady rate is reached within a few seconds. Keyed by id (a
// service or backend id); the caller keeps one estimator per kind. Control thread only;
// the clock is the caller's (tests drive it).
#ifndef SLUICE_LB_RATE_ESTIMATOR_H_
#define SLUICE_LB_RATE_ESTIMATOR_H_

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"

namespace sluice::lb {

struct RateTotals {
  uint64_t new_flows = 0;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

struct Rates {
  double new_flows_per_s = 0;
  double packets_per_s = 0;
  double bytes_per_s = 0;
};

class RateEstimator {
 public:
  static constexpr double kWeight = 0.25;

  explicit RateEstimator(absl::Duration interval = absl::Seconds(1)) : interval_(interval) {}

  // Whether Sample should run at `now` (an interval since the last sample).
  bool Due(absl::Time now) const { return now - last_ >= interval_; }

  // Takes the current totals of every id to follow. An id seen for the first time starts
  // at rate 0; an id missing from `totals` is forgotten; a total that went down (an id
  // reused after its grace period) restarts that id's measurement.
  void Sample(absl::Time now, const absl::flat_hash_map<uint32_t, RateTotals>& totals);

  // The smoothed rates of `id` (zeros for an id never sampled).
  Rates RateOf(uint32_t id) const;

 private:
  struct Entry {
    RateTotals last;
    Rates rates;
  };
  absl::Duration interval_;
  absl::Time last_ = absl::InfinitePast();
  absl::flat_hash_map<uint32_t, Entry> entries_;
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_RATE_ESTIMATOR_H_
