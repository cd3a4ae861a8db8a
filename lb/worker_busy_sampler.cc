// WorkerBusySampler: busy / loop cycle deltas between two control-thread ticks.
#include "lb/worker_busy_sampler.h"

#include <algorithm>
#include <utility>

namespace sluice::lb {

WorkerBusySampler::WorkerBusySampler(std::vector<const dataplane::LcoreStats*> workers)
    : workers_(std::move(workers)), last_(workers_.size()), ratios_(workers_.size(), 0.0) {}

void WorkerBusySampler::Sample() {
  std::vector<double> ratios(workers_.size(), 0.0);
  for (size_t i = 0; i < workers_.size(); ++i) {
    // Plain loads of another lcore's counters, as every reader of LcoreCounters does: at
    // worst one iteration behind. The worker adds an iteration's time to loop and busy
    // one after the other; a reading between the two is off by one iteration, which the
    // clamp and the next Sample absorb.
    const Reading now{.busy = workers_[i]->counters.busy_cycles,
                      .loop = workers_[i]->counters.loop_cycles};
    if (sampled_ && now.loop > last_[i].loop && now.busy >= last_[i].busy) {
      const double busy = static_cast<double>(now.busy - last_[i].busy);
      const double loop = static_cast<double>(now.loop - last_[i].loop);
      ratios[i] = std::clamp(busy / loop, 0.0, 1.0);
    }
    last_[i] = now;
  }
  sampled_ = true;
  absl::MutexLock lock(&mu_);
  ratios_ = std::move(ratios);
}

std::vector<double> WorkerBusySampler::ratios() const {
  absl::MutexLock lock(&mu_);
  return ratios_;
}

}  // namespace sluice::lb
