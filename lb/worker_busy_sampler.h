// The workers' busy share over the last second, for sluice_worker_busy_ratio. The
// workers count busy and loop TSC cycles (dataplane/counters.h); a ratio needs two
// readings some time apart. Sample() is ticked by the control loop about once a second
// and keeps the ratio over the interval since the previous tick; a scrape reads the
// latest ratios. Why a sampler and not a difference at scrape time: a scrape every 15 s
// would give the 15 s average, and two Prometheus servers scraping would see different
// windows. With the sampler every reader sees "the last ~1 s".
//
// Threads: Sample from one thread (the control thread); ratios from any (a mutex).
#ifndef SLUICE_LB_WORKER_BUSY_SAMPLER_H_
#define SLUICE_LB_WORKER_BUSY_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "dataplane/counters.h"

namespace sluice::lb {

class WorkerBusySampler {
 public:
  // One entry per worker, in worker order; each must outlive the sampler.
  explicit WorkerBusySampler(std::vector<const dataplane::LcoreStats*> workers);

  // Takes a reading: each worker's ratio becomes busy / loop cycles since the previous
  // Sample (0 before the second Sample, or when the worker's loop did not advance).
  void Sample();

  // The ratios of the last Sample, in [0, 1], one per worker.
  std::vector<double> ratios() const;

 private:
  struct Reading {
    uint64_t busy = 0;
    uint64_t loop = 0;
  };
  const std::vector<const dataplane::LcoreStats*> workers_;
  std::vector<Reading> last_;  // Sample's thread only
  bool sampled_ = false;       // Sample's thread only
  mutable absl::Mutex mu_;
  std::vector<double> ratios_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::lb

#endif  // SLUICE_LB_WORKER_BUSY_SAMPLER_H_
