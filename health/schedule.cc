#include "health/schedule.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace sluice::health {
namespace {

// 1/phi: the step whose multiples mod 1 stay most evenly spread for every prefix
// (three-distance theorem), which is what makes the first runs uniform in practice.
constexpr double kGoldenStep = 0.6180339887498949;

}  // namespace

CheckSchedule::CheckSchedule(uint64_t seed) {
  // mt19937_64 is specified exactly by the standard, so a seed means the same schedule
  // on every platform; distributions are not, hence the explicit scaling.
  std::mt19937_64 rng(seed);
  phase_ = static_cast<double>(rng() >> 11) * 0x1.0p-53;  // [0, 1)
}

double CheckSchedule::NextPhase() {
  const double phase = phase_;
  phase_ += kGoldenStep;
  if (phase_ >= 1.0) phase_ -= 1.0;
  return phase;
}

absl::Status CheckSchedule::Add(CheckId id, absl::Duration interval, absl::Time now) {
  if (id == 0) return absl::InvalidArgumentError("check id 0 is reserved");
  if (interval <= absl::ZeroDuration() || interval == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("check ", id,
                                                   ": interval must be positive and finite, got ",
                                                   absl::FormatDuration(interval)));
  }
  if (checks_.contains(id)) {
    return absl::AlreadyExistsError(absl::StrCat("check ", id, " is already scheduled"));
  }
  // Offset in whole nanoseconds, strictly below the interval even after rounding.
  const int64_t interval_ns = absl::ToInt64Nanoseconds(interval);
  auto offset_ns = static_cast<int64_t>(NextPhase() * static_cast<double>(interval_ns));
  if (offset_ns >= interval_ns) offset_ns = interval_ns - 1;
  if (offset_ns < 0) offset_ns = 0;
  const absl::Time due = now + absl::Nanoseconds(offset_ns);
  checks_.emplace(id, Check{.interval = interval, .due = due});
  queue_.emplace(due, id);
  return absl::OkStatus();
}

bool CheckSchedule::Remove(CheckId id) {
  const auto it = checks_.find(id);
  if (it == checks_.end()) return false;
  queue_.erase({it->second.due, id});
  checks_.erase(it);
  return true;
}

std::optional<absl::Time> CheckSchedule::DueTime(CheckId id) const {
  const auto it = checks_.find(id);
  if (it == checks_.end()) return std::nullopt;
  return it->second.due;
}

std::optional<absl::Time> CheckSchedule::NextDue() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

std::vector<CheckId> CheckSchedule::PopDue(absl::Time now) {
  std::vector<CheckId> due_ids;
  // Collect first, reschedule after. Every new due time is after `now`, so no check is
  // returned twice by one call.
  while (!queue_.empty() && queue_.begin()->first <= now) {
    due_ids.push_back(queue_.begin()->second);
    queue_.erase(queue_.begin());
  }
  for (const CheckId id : due_ids) {
    Check& check = checks_.at(id);
    absl::Time next = check.due + check.interval;
    if (next <= now) {
      // More than one interval late: keep the phase, skip the missed runs.
      absl::Duration remainder;
      const int64_t missed = absl::IDivDuration(now - check.due, check.interval, &remainder);
      next = check.due + (missed + 1) * check.interval;
    }
    check.due = next;
    queue_.emplace(next, id);
  }
  return due_ids;
}

}  // namespace sluice::health
