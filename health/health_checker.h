// HealthChecker: the health thread's engine. It ties the check schedule, the prober and
// the rise/fall state machines together and reports state changes to the controller.
//
// Threads:
//   - Poll and Run: the health thread only (one thread owns the prober and the schedule).
//   - SetChecks: any thread. It validates at once and queues the new set under the mutex;
//     the health thread applies it at the start of its next Poll (within kRunPollSlice
//     when driven by Run).
//   - TakeChanges, health, distinct_probes, probe_stats, result_counts: any thread
//     (absl::Mutex).
#ifndef SLUICE_HEALTH_HEALTH_CHECKER_H_
#define SLUICE_HEALTH_HEALTH_CHECKER_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "health/health_state.h"
#include "health/probe_key.h"
#include "health/prober.h"
#include "health/schedule.h"

namespace sluice::health {

// One subscriber's check, as the controller describes it.
struct CheckSpec {
  uint64_t subscriber = 0;  // e.g. a (service, backend) id chosen by the controller; not 0
  ProbeSpec probe;
  absl::Duration interval = absl::Seconds(1);
  RiseFall rise_fall;
  Health initial = Health::kDown;  // the state before any result (config `assume`)
  // Results are counted under this key (CheckResultCounts), e.g. the service the
  // subscriber belongs to. Any value; subscribers may share it.
  uint64_t stats_group = 0;
};

// Upper bounds (seconds) of the probe-duration histogram buckets, +Inf not included:
// 0.5 ms (loopback, a LAN connect) to 5 s (the longest sensible timeout).
inline constexpr std::array<double, 13> kCheckDurationBounds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

// Probe results counted per stats group, one per subscriber that received the result
// (a probe shared by subscribers of two groups counts in both). Never reset: monotonic
// for as long as the checker lives, whatever SetChecks does.
struct CheckResultCounts {
  uint64_t successes = 0;
  uint64_t failures = 0;  // failed before the timeout (refused, reset, bad status, ...)
  uint64_t timeouts = 0;
  // duration_buckets[i]: results that took at most kCheckDurationBounds[i] and more
  // than the bound before (not cumulative); the last slot is above every bound.
  std::array<uint64_t, kCheckDurationBounds.size() + 1> duration_buckets{};
  double duration_sum_seconds = 0;
  uint64_t total() const { return successes + failures + timeouts; }
};

// A state change of one subscriber, in the order they happened.
struct HealthChange {
  uint64_t subscriber = 0;
  Health health = Health::kDown;
  std::string detail;  // the probe result that caused it, or why the check was reset
  friend bool operator==(const HealthChange&, const HealthChange&) = default;
};

// Per distinct probe, for metrics and the admin endpoint.
struct ProbeStats {
  std::string probe;  // ProbeKey::ToString() plus the interval
  size_t subscribers = 0;
  uint64_t started = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  // Due while the previous run was still in flight, so not started a second time.
  uint64_t skipped_in_flight = 0;
  std::string last_detail;
  absl::Duration last_duration;
};

// The identity of a probe built from what it sends and how it judges the answer. Fields
// ProbeKey cannot hold (the HTTP Host header and the upper status bound) are kept beside
// it by the checker's dedup key, so that different probes are never merged.
ProbeKey ProbeKeyOf(const ProbeSpec& spec);

class HealthChecker {
 public:
  // How long Run waits in one Poll at most, which bounds how late a SetChecks applies.
  static constexpr absl::Duration kRunPollSlice = absl::Milliseconds(50);

  // `seed` spreads first runs over each interval (CheckSchedule). Fails only when the
  // prober cannot start (no epoll instance, libcurl).
  static absl::StatusOr<std::unique_ptr<HealthChecker>> Create(uint64_t seed);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Replaces the whole set of checks. Validates everything first (subscriber 0 or
  // repeated, interval or timeout not positive and finite, address unset, rise or fall
  // 0): on error nothing is queued and the current set keeps running. Applied at the next
  // Poll:
  //   - Subscribers with the same probe (equal ProbeKeyOf, Host header, status range) and
  //     the same interval share one probe; those that also have the same rise/fall share
  //     one HealthState.
  //   - A probe + interval + rise/fall that existed before keeps its HealthState, so a
  //     subscriber whose check is unchanged keeps its state and sees no change.
  //   - A new subscriber, or one whose check changed, starts at its `initial`; a new
  //     HealthState starts at the `initial` of its first subscriber. If the state it lands
  //     in differs from what it was last reported as (its `initial` when new), a
  //     HealthChange says so. So folding TakeChanges over each subscriber's `initial`
  //     always gives health().
  absl::Status SetChecks(std::vector<CheckSpec> checks);

  // One round of the health thread: applies a queued SetChecks, starts every probe due
  // now (absl::Now(); a probe still in flight is not started twice), waits up to
  // `max_wait` (less when a probe is due sooner) for results and records them.
  void Poll(absl::Duration max_wait);

  // Polls until `stop` is true (checked every kRunPollSlice at most).
  void Run(const std::atomic<bool>& stop);

  // Drains the changes reported since the last call, oldest first.
  std::vector<HealthChange> TakeChanges();

  // The subscriber's current state; nullopt if it is not (yet) in the applied set.
  std::optional<Health> health(uint64_t subscriber) const;

  // Distinct probes in the applied set (after deduplication).
  size_t distinct_probes() const;
  std::vector<ProbeStats> probe_stats() const;
  // Every stats group that has counted a result so far.
  absl::flat_hash_map<uint64_t, CheckResultCounts> result_counts() const;

 private:
  // What decides whether two subscribers share a probe.
  struct ProbeIdentity {
    ProbeKey key;
    std::string http_host;
    uint32_t http_status_max = 0;
    absl::Duration interval;
    friend bool operator==(const ProbeIdentity&, const ProbeIdentity&) = default;
    template <typename H>
    friend H AbslHashValue(H h, const ProbeIdentity& p) {
      return H::combine(std::move(h), p.key, p.http_host, p.http_status_max, p.interval);
    }
  };
  // Subscribers that share one probe and one rise/fall share this state.
  struct StateGroup {
    RiseFall rise_fall;
    HealthState state;
    std::vector<uint64_t> subscribers;
  };
  struct ActiveProbe {
    CheckId id = 0;
    ProbeIdentity identity;
    ProbeSpec spec;
    bool in_flight = false;
    std::vector<StateGroup> groups;
  };
  struct Subscriber {
    ProbeIdentity identity;
    RiseFall rise_fall;
    Health reported = Health::kDown;  // last state the controller was told
    uint64_t stats_group = 0;
  };

  explicit HealthChecker(uint64_t seed, std::unique_ptr<Prober> prober);

  void Apply(const std::vector<CheckSpec>& checks);
  void StartDue(absl::Time now);
  void OnResult(CheckId id, const ProbeResult& result);
  // Reports `health` for `subscriber` if it differs from what was reported last.
  void Report(Subscriber& subscriber, uint64_t id, Health health, const std::string& detail)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishStats(const ActiveProbe& probe) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Health thread only.
  std::unique_ptr<Prober> prober_;
  CheckSchedule schedule_;
  CheckId next_probe_id_ = 1;
  absl::flat_hash_map<CheckId, ActiveProbe> probes_;
  absl::flat_hash_map<ProbeIdentity, CheckId> probe_by_identity_;
  absl::flat_hash_map<uint64_t, Subscriber> subscribers_;

  mutable absl::Mutex mu_;
  std::optional<std::vector<CheckSpec>> pending_ ABSL_GUARDED_BY(mu_);
  std::vector<HealthChange> changes_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Health> health_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<CheckId, ProbeStats> stats_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, CheckResultCounts> result_counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_HEALTH_CHECKER_H_
