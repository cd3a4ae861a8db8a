#ifndef SLUICE_HEALTH_SCHEDULE_H_
#define SLUICE_HEALTH_SCHEDULE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace sluice::health {

// Identifies one scheduled check. Chosen by the caller (e.g. a probe id); 0 means none
// and is rejected.
using CheckId = uint32_t;

// When each health check runs. Holds many checks, each with its own interval, and
// answers two questions for the health thread's event loop: which checks are due now
// (PopDue) and how long it may sleep (NextDue).
//
// Time: absl::Time values passed in by the caller. The schedule never reads a clock, so
// the clock seam is the caller's (tests pass a fake `now`; the health thread passes
// absl::Now()). Nothing here sleeps, blocks or starts threads.
//
// First runs: a check added at `now` first becomes due at now + offset, offset in
// [0, interval), so that a thousand checks added together at 1 s are not all due in the
// same millisecond. The offsets are a Weyl sequence (golden-ratio steps) from a start
// point drawn from a PRNG seeded by the constructor: each offset taken alone is uniform
// over the interval, but consecutive adds are spread far more evenly than independent
// draws would be (1000 checks at 1 s put at most 2 first runs in any millisecond, where
// independent uniform draws would often put 6). Same seed and same calls give the same
// schedule.
//
// Rescheduling: a popped check is next due at previous_due + interval, not at
// now + interval, so lateness of the event loop never accumulates into drift. When a
// pop comes more than one interval late, the check skips ahead to the first
// previous_due + k * interval after `now` (keeping its phase) instead of bursting to
// catch up: each PopDue returns a check at most once.
//
// Not thread-safe; owned by the health thread.
class CheckSchedule {
 public:
  explicit CheckSchedule(uint64_t seed);

  // Adds a check first due in [now, now + interval). Errors: id 0, a non-positive or
  // infinite interval, an id already present.
  absl::Status Add(CheckId id, absl::Duration interval, absl::Time now);

  // Removes a check; returns false if it was not present. A removed check is never
  // returned by PopDue again (unless added again).
  bool Remove(CheckId id);

  bool Contains(CheckId id) const { return checks_.contains(id); }
  size_t size() const { return checks_.size(); }
  bool empty() const { return checks_.empty(); }

  // When `id` is next due; nullopt if it is not scheduled.
  std::optional<absl::Time> DueTime(CheckId id) const;

  // The earliest due time of any check (the event loop sleeps until then); nullopt when
  // no checks are scheduled. May be in the past if the caller is late.
  std::optional<absl::Time> NextDue() const;

  // Returns every check due at or before `now`, earliest due first (ties by id), and
  // reschedules each as described above.
  std::vector<CheckId> PopDue(absl::Time now);

 private:
  struct Check {
    absl::Duration interval;
    absl::Time due;
  };

  // Next offset in [0, 1) of the Weyl sequence.
  double NextPhase();

  absl::flat_hash_map<CheckId, Check> checks_;
  // (due, id) of every check in checks_, ordered; begin() is the next one due.
  std::set<std::pair<absl::Time, CheckId>> queue_;
  double phase_;
};

}  // namespace sluice::health

#endif  // SLUICE_HEALTH_SCHEDULE_H_
